"""What publishing a versioned set (known-file hash sets, YARA rule sets) needs on the
admin's side: names and labels safe as keys, the pointer switched last, every version's
record, and removing a set pointer first."""

from __future__ import annotations

import re
from typing import Any

from workers.published import current_key, meta_key
from workers.store import ObjectStore

LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_label(what: str, value: str) -> None:
    """Refuse a set name or version label that is not safe as one part of a key."""
    if not LABEL.fullmatch(value) or value == "current.json":
        rule = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        raise ValueError(f"{what} {value!r}: use {rule}")


def publish(store: ObjectStore, bucket: str, name: str, version: str, doc: dict[str, Any]) -> None:
    """Record a version whose files are stored, then make it the one in use (the pointer is
    written last, so a job never pins a version half written)."""
    store.put_json(bucket, meta_key(name, version), doc)
    store.put_json(bucket, current_key(name), doc)


def version_docs(store: ObjectStore, bucket: str, name: str) -> list[dict[str, Any]]:
    """The meta.json of every version of `name` kept in `bucket`."""
    keys = [k for k in store.list_keys(bucket, f"{name}/", "/meta.json") if k.count("/") == 2]
    return [store.get_json(bucket, k) for k in keys]


def remove_versions(store: ObjectStore, bucket: str, name: str, what: str) -> int:
    """Stop using set `name` (its pointer goes first, so no job picks it up half removed) and
    delete every version; returns the number of objects removed."""
    check_label(f"{what} name", name)
    keys = store.list_keys(bucket, f"{name}/")
    if current_key(name) not in keys:
        raise ValueError(f"no {what} named {name!r}")
    store.remove(bucket, current_key(name))
    for key in keys:
        if key != current_key(name):
            store.remove(bucket, key)
    return len(keys)
