"""Import a hash list as a new version of a set in MinIO, list sets, remove one.

The order of writes is what keeps a failed import harmless: the list is parsed and built
on local disk first (a malformed line stops it there), then the set files go up, then the
version's meta.json, and only then `current.json`, the one object workers follow. Until
that last write, workers keep the previous version. Versions are never overwritten, so
a job's summary naming a version names exactly what it was checked against.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from cluster.hashsets.build import build_set
from cluster.published import check_label, publish, remove_versions, version_docs
from workers.known_files import KINDS, SetFile, SetInfo, current_sets, file_key
from workers.published import current_doc, meta_key
from workers.store import HASHSETS, ObjectStore


def current_version(store: ObjectStore, name: str) -> SetInfo | None:
    """The version of `name` in use, or None if there is no such set."""
    doc = current_doc(store, HASHSETS, name)
    return SetInfo.from_dict(doc) if doc else None


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
    check_label("set name", name)
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: use {' or '.join(KINDS)}")
    now = dt.datetime.now(dt.UTC)
    version = version or now.strftime("%Y%m%dT%H%M%SZ")
    check_label("version", version)
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
    publish(store, HASHSETS, name, version, info.to_dict())
    return info


def list_sets(store: ObjectStore) -> list[SetInfo]:
    """Every set's version in use, by name."""
    store.ensure_buckets()
    return current_sets(store)


def versions(store: ObjectStore, name: str) -> list[SetInfo]:
    """Every version of `name` kept in MinIO, oldest first."""
    infos = (SetInfo.from_dict(doc) for doc in version_docs(store, HASHSETS, name))
    return sorted(infos, key=lambda i: i.imported_at)


def remove_set(store: ObjectStore, name: str) -> int:
    """Stop using set `name` (its pointer goes first) and delete every version; returns the
    number of objects removed."""
    return remove_versions(store, HASHSETS, name, "hash set")
