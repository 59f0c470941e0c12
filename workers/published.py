"""Sets published in MinIO as versions with one pointer (known-file hash sets, YARA rule
sets): the keys every such set uses, and reading the versions in use.

    <name>/<version>/meta.json    what a version holds, from what, when
    <name>/current.json           the version in use (a copy of its meta.json), written last
"""

from __future__ import annotations

from typing import Any

from workers.store import ObjectStore


def current_key(name: str) -> str:
    return f"{name}/current.json"


def meta_key(name: str, version: str) -> str:
    return f"{name}/{version}/meta.json"


def current_doc(store: ObjectStore, bucket: str, name: str) -> dict[str, Any] | None:
    """The meta.json of the version of `name` in use, or None if there is no such set."""
    if not store.exists(bucket, current_key(name)):
        return None
    return store.get_json(bucket, current_key(name))


def current_docs(store: ObjectStore, bucket: str) -> list[dict[str, Any]]:
    """The meta.json of the version in use of every set in `bucket`, by name."""
    return [store.get_json(bucket, key) for key in store.list_keys(bucket, "", "/current.json")]
