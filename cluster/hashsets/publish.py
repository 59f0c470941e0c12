"""Import a hash list as a new version of a set in MinIO, list sets, remove one.

The order of writes is what keeps a failed import harmless: the list is parsed and built
on local disk first (a malformed line stops it there), then the set files go up, then the
version's meta.json, and only then `current.json`, the one object workers follow. Until
that last write, workers keep the previous version. Versions are never overwritten, so
a job's summary naming a version names exactly what it was checked against.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

from cluster.hashsets.build import build_set
from workers.known_files import KINDS, SetFile, SetInfo, current_key, current_sets, file_key, meta_key
from workers.store import HASHSETS, ObjectStore

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _check_label(what: str, value: str) -> None:
    if not NAME.fullmatch(value) or value == "current.json":
        rule = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        raise ValueError(f"{what} {value!r}: use {rule}")


def current_version(store: ObjectStore, name: str) -> SetInfo | None:
    """The version of `name` in use, or None if there is no such set."""
    if not store.exists(HASHSETS, current_key(name)):
        return None
    return SetInfo.from_dict(store.get_json(HASHSETS, current_key(name)))


def import_set(
    store: ObjectStore,
    source: Path,
    name: str,
    kind: str,
    version: str | None = None,
    fmt: str = "auto",
    work_dir: Path | None = None,
) -> SetInfo:
    """Parse, build and publish `source` as version `version` (default: the time now) of set
    `name`, and make it current. Any error leaves the current version as it was."""
    _check_label("set name", name)
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: use {' or '.join(KINDS)}")
    now = dt.datetime.now(dt.UTC)
    version = version or now.strftime("%Y%m%dT%H%M%SZ")
    _check_label("version", version)
    store.ensure_buckets()
    if store.exists(HASHSETS, meta_key(name, version)):
        raise ValueError(f"set {name} already has version {version}; versions are kept as imported: give another")
    with tempfile.TemporaryDirectory(prefix="quarry-hashset-", dir=work_dir) as tmp:
        built = build_set(source, fmt, Path(tmp))
        files = tuple(
            SetFile(f.algorithm, file_key(name, version, f.algorithm), f.count, f.bytes, f.sha256)
            for f in built.files.values()
        )
        info = SetInfo(
            name=name,
            kind=kind,
            version=version,
            format=built.format,
            rows=built.rows,
            imported_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            source={"file": source.name, "bytes": built.source_bytes, "sha256": built.source_sha256},
            files=files,
        )
        for f, local in zip(files, built.files.values(), strict=True):
            store.put_file(HASHSETS, f.key, str(local.path), "application/octet-stream")
    store.put_json(HASHSETS, meta_key(name, version), info.to_dict())
    store.put_json(HASHSETS, current_key(name), info.to_dict())  # the switch: last
    return info


def list_sets(store: ObjectStore) -> list[SetInfo]:
    """Every set's version in use, by name."""
    store.ensure_buckets()
    return current_sets(store)


def versions(store: ObjectStore, name: str) -> list[SetInfo]:
    """Every version of `name` kept in MinIO, oldest first."""
    keys = store.list_keys(HASHSETS, f"{name}/", "/meta.json")
    return sorted((SetInfo.from_dict(store.get_json(HASHSETS, k)) for k in keys), key=lambda i: i.imported_at)


def remove_set(store: ObjectStore, name: str) -> int:
    """Stop using set `name` (its pointer goes first) and delete every version; returns the
    number of objects removed."""
    _check_label("set name", name)
    keys = store.list_keys(HASHSETS, f"{name}/")
    if current_key(name) not in keys:
        raise ValueError(f"no hash set named {name!r}")
    store.remove(HASHSETS, current_key(name))
    for key in keys:
        if key != current_key(name):
            store.remove(HASHSETS, key)
    return len(keys)
