"""Known-file hash sets on a worker: which sets are current, a node-local copy, lookups.

MinIO layout (bucket quarry-hashsets), written by `quarry hashset import`:

    <name>/<version>/<algorithm>.qhs   set files (rust_core.HashSet format)
    <name>/<version>/meta.json         what was imported, from what, when
    <name>/current.json                the version in use (a copy of its meta.json),
                                       written last, so a failed import changes nothing

A job pins the current version of every set at submit; a worker reads those versions'
metadata once per job, downloads each set file once per node
into a content-addressed cache (checked against its SHA-256, then renamed into place),
and maps it; every worker process on the node shares the mapping through the page cache.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rust_core
from workers.artifacts import ArtifactCounts
from workers.node_cache import cache_root, cached_copy, prune
from workers.published import current_docs, pin, pinned_docs
from workers.steps import JobContext
from workers.store import HASHSETS, ObjectStore, StoreConfig, shared_store

KNOWN_GOOD = "known-good"
KNOWN_BAD = "known-bad"
KINDS = (KNOWN_GOOD, KNOWN_BAD)
VERDICTS = {KNOWN_BAD: "bad", KNOWN_GOOD: "good"}  # the manifest's `known` column


def file_key(name: str, version: str, algorithm: str) -> str:
    return f"{name}/{version}/{algorithm}.qhs"


class KnownFilesError(Exception):
    """A published set cannot be used on this node (a download that does not match)."""


@dataclass(frozen=True)
class SetFile:
    """One algorithm's set file of a version, as published."""

    algorithm: str
    key: str
    count: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class SetInfo:
    """One version of a set: its metadata (meta.json, and current.json when in use)."""

    name: str
    kind: str
    version: str
    format: str
    rows: int
    imported_at: str
    source: dict[str, Any]
    files: tuple[SetFile, ...]

    @property
    def count(self) -> int:
        return sum(f.count for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "format": self.format,
            "rows": self.rows,
            "imported_at": self.imported_at,
            "source": self.source,
            "files": {
                f.algorithm: {"key": f.key, "count": f.count, "bytes": f.bytes, "sha256": f.sha256} for f in self.files
            },
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> SetInfo:
        files = tuple(SetFile(algorithm, **f) for algorithm, f in sorted(doc["files"].items()))
        fields = ("name", "kind", "version", "format", "rows", "imported_at", "source")
        return cls(*(doc[k] for k in fields), files=files)


def current_sets(store: ObjectStore) -> list[SetInfo]:
    """The version in use of every set, by name."""
    return [SetInfo.from_dict(doc) for doc in current_docs(store, HASHSETS)]


def pin_current(store: ObjectStore) -> tuple[tuple[str, str], ...]:
    return pin(current_sets(store))


def pinned_sets(store: ObjectStore, pinned: Sequence[tuple[str, str]]) -> list[SetInfo]:
    return [SetInfo.from_dict(doc) for doc in pinned_docs(store, HASHSETS, pinned)]


def cache_dir() -> Path:
    return cache_root("QUARRY_HASHSET_CACHE", "hashsets")


def verdict(kinds: Iterable[str]) -> str | None:
    """What `known` says of content matched by sets of these kinds: bad if any is
    known-bad, else good if any matched, else None."""
    kinds = set(kinds)
    return "bad" if KNOWN_BAD in kinds else "good" if kinds else None


@dataclass(frozen=True)
class LoadedSet:
    info: SetInfo
    by_algorithm: dict[str, rust_core.HashSet]


class KnownFiles:
    """The sets a job's artifacts are looked up in."""

    def __init__(self, loaded: Sequence[LoadedSet]) -> None:
        self.loaded = tuple(sorted(loaded, key=lambda s: s.info.name))
        self.kinds = {s.info.name: s.info.kind for s in self.loaded}

    def versions(self) -> dict[str, dict[str, str]]:
        """{set name: {"kind", "version"}} of the sets in use (provenance for the summary)."""
        return {s.info.name: {"kind": s.info.kind, "version": s.info.version} for s in self.loaded}

    def match_many(self, digests: Sequence[Mapping[str, Any]]) -> list[list[str]]:
        """For each artifact (a mapping with md5/sha1/sha256 hex), the names of the sets
        holding it, looked up in one batch per set file."""
        matched: list[list[str]] = [[] for _ in digests]
        if not digests:
            return matched
        for loaded in self.loaded:
            hits: bytes | None = None
            for algorithm, hs in loaded.by_algorithm.items():
                found = hs.contains_many(b"".join(bytes.fromhex(d[algorithm]) for d in digests))
                hits = found if hits is None else bytes(a | b for a, b in zip(hits, found, strict=True))
            for i, hit in enumerate(hits or b""):
                if hit:
                    matched[i].append(loaded.info.name)
        return matched

    def verdict(self, names: Sequence[str]) -> str | None:
        """The manifest's `known`: bad if any matching set is known-bad, else good if any
        matched, else None."""
        return verdict(self.kinds[n] for n in names)


class NodeSets:
    """The sets one worker process has open, for the job it last served."""

    def __init__(self, store: ObjectStore, cache: Path) -> None:
        self.store, self.cache = store, cache
        self.opened: dict[str, rust_core.HashSet] = {}  # by file SHA-256
        self.job: str | None = None
        self.known = KnownFiles([])

    def for_job(self, job_id: str, pinned: Sequence[tuple[str, str]]) -> KnownFiles:
        if job_id == self.job:
            return self.known
        loaded, opened = [], {}
        for info in pinned_sets(self.store, pinned):
            by_algorithm = {}
            for f in info.files:
                hs = self.opened.get(f.sha256) or rust_core.HashSet(
                    cached_copy(self.store, HASHSETS, f.key, f.sha256, self.cache, ".qhs", KnownFilesError)
                )
                by_algorithm[f.algorithm] = opened[f.sha256] = hs
            loaded.append(LoadedSet(info, by_algorithm))
        prune(self.cache, {hs.path for hs in opened.values()}, ".qhs")
        self.opened, self.known, self.job = opened, KnownFiles(loaded), job_id
        return self.known


def mark_known(known: KnownFiles, rows: list[dict[str, Any]], result: ArtifactCounts) -> None:
    """Look every artifact up in the hash sets in use: fill `known_sets` and `known` in
    each row, and count known-good and known-bad hits in the result."""
    result.hash_sets = known.versions()
    for row, names in zip(rows, known.match_many(rows), strict=True):
        row["known_sets"], row["known"] = names, known.verdict(names)
        if row["known"] == "good":
            result.known_good += 1
        elif row["known"] == "bad":
            bad = [n for n in names if known.kinds[n] == KNOWN_BAD]
            result.known_bad.update(bad)
            hit = {k: row.get(k) for k in ("image_index", "offset", "length", "type", "sha256", "origin", "path")}
            result.known_bad_hits.append({**hit, "sets": bad})


@functools.cache
def _node_sets(config: StoreConfig) -> NodeSets:
    return NodeSets(shared_store(config), cache_dir())


def known_files_for_job(config: StoreConfig, ctx: JobContext) -> KnownFiles:
    """The set versions the job pinned at submit, opened once per worker process and job."""
    return _node_sets(config).for_job(ctx.job_id, ctx.hash_sets)
