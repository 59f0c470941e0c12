"""Sets published in MinIO as versions with one pointer (known-file hash sets, YARA rule
sets): the keys every such set uses, and reading the versions in use.

    <name>/<version>/meta.json    what a version holds, from what, when
    <name>/current.json           the version in use (a copy of its meta.json), written last
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from workers.store import ObjectStore


class Versioned(Protocol):
    name: str
    version: str


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


def pin(sets: Iterable[Versioned]) -> tuple[tuple[str, str], ...]:
    """(name, version) of the sets in use now: what a job records at submit and uses
    throughout, so a version published mid-job changes nothing for that job."""
    return tuple(sorted((s.name, s.version) for s in sets))


def pinned_docs(store: ObjectStore, bucket: str, pinned: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The meta.json of the pinned versions (a version's meta.json is never rewritten)."""
    return [store.get_json(bucket, meta_key(name, version)) for name, version in pinned]
