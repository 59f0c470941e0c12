"""Known-image lists on a worker: which PDQ sets are current, a node-local copy, matching.

MinIO layout (bucket quarry-pdqsets), written by `quarry pdqset import`:

    <name>/<version>/pdq.qpdq    the list as a rust_core PdqIndex file (hashes, labels and
                                 the multi-index tables, ready to map)
    <name>/<version>/meta.json   what was imported, from what, when
    <name>/current.json          the version in use (a copy of its meta.json), written last

The sets have a bucket of their own: a `pdq/` prefix in quarry-hashsets would put their
`current.json` among the known-file hash sets, which that bucket lists by suffix.

As with hash sets, a job pins the current version of every set at submit; a worker reads
those versions' metadata once per job, downloads each index once per node into a
content-addressed cache (checked against its SHA-256, then renamed into place) and maps it,
so every worker process on the node shares one copy through the page cache. An index of
10 M hashes is about 930 MB (93 bytes a hash); a search touches a few thousand pages of it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from rust_core import PdqIndex
from workers.known_files import verdict
from workers.node_cache import cache_root, cached_copy, prune
from workers.published import current_docs, pin, pinned_docs
from workers.store import BUCKETS, FAILURES, PDQSETS, ObjectStore, StoreConfig, StoreUnavailable, shared_store

INDEX_FILE = "pdq.qpdq"
DEFAULT_THRESHOLD = 31  # the PDQ authors' recommended match distance
MAX_THRESHOLD = 256
HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def index_key(name: str, version: str) -> str:
    return f"{name}/{version}/{INDEX_FILE}"


class KnownImagesError(Exception):
    """A published set cannot be used on this node (a download that does not match)."""


@dataclass(frozen=True)
class PdqSetInfo:
    """One version of a PDQ set: its metadata (meta.json, and current.json when in use)."""

    name: str
    kind: str
    version: str
    format: str
    rows: int  # hash lines read
    count: int  # distinct (hash, label) entries in the index
    labels: int
    low_quality: int  # lines whose PDQ quality is under 50 (threatexchange lists say)
    chunks: int
    imported_at: str
    source: dict[str, Any]
    key: str
    bytes: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "format": self.format,
            "rows": self.rows,
            "count": self.count,
            "labels": self.labels,
            "low_quality": self.low_quality,
            "chunks": self.chunks,
            "imported_at": self.imported_at,
            "source": self.source,
            "file": {"key": self.key, "bytes": self.bytes, "sha256": self.sha256},
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> PdqSetInfo:
        fields = ("name", "kind", "version", "format", "rows", "count", "labels", "low_quality", "chunks")
        f = doc["file"]
        return cls(
            *(doc[k] for k in fields),
            imported_at=doc["imported_at"],
            source=doc["source"],
            key=f["key"],
            bytes=f["bytes"],
            sha256=f["sha256"],
        )


def bucket_exists(store: ObjectStore) -> bool:
    """Whether the sets' bucket is there (an installation that never imported one has none)."""
    try:
        return store.client.bucket_exists(PDQSETS)
    except FAILURES as exc:
        raise StoreUnavailable(f"object store at {store.config.url} is unavailable ({type(exc).__name__})") from None


def ensure_bucket(store: ObjectStore) -> None:
    """Create Quarry's buckets and the sets' bucket if missing (the store creates the ones
    it lists; this one is made here while it is not among them)."""
    store.ensure_buckets()
    if PDQSETS in BUCKETS or bucket_exists(store):
        return
    try:
        store.client.make_bucket(PDQSETS)
    except FAILURES as exc:
        raise StoreUnavailable(f"object store at {store.config.url} is unavailable ({type(exc).__name__})") from None


def current_sets(store: ObjectStore) -> list[PdqSetInfo]:
    """The version in use of every set, by name (none before the first import)."""
    if not bucket_exists(store):
        return []
    return [PdqSetInfo.from_dict(doc) for doc in current_docs(store, PDQSETS)]


def pin_current(store: ObjectStore) -> tuple[tuple[str, str], ...]:
    return pin(current_sets(store))


def pinned_sets(store: ObjectStore, pinned: Sequence[tuple[str, str]]) -> list[PdqSetInfo]:
    return [PdqSetInfo.from_dict(doc) for doc in pinned_docs(store, PDQSETS, pinned)]


def cache_dir() -> Path:
    return cache_root("QUARRY_PDQSET_CACHE", "pdqsets")


class ImageMatch(NamedTuple):
    """A listed hash within the threshold of an image's PDQ."""

    set: str
    kind: str
    label: str
    distance: int


def pdq_bytes(pdqs: Sequence[str | None]) -> tuple[bytes, list[int]]:
    """The hashes that are present as raw bytes end to end, and the positions they came
    from (an image without a PDQ, None or "", has none to match)."""
    raw, positions = [], []
    for i, pdq in enumerate(pdqs):
        if not pdq:
            continue
        if not isinstance(pdq, str) or not HEX64.fullmatch(pdq):
            raise ValueError(f"PDQ hash {i}: {str(pdq)[:80]!r} is not 64 hex digits")
        raw.append(bytes.fromhex(pdq))
        positions.append(i)
    return b"".join(raw), positions


def check_threshold(threshold: int) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 0 <= threshold <= MAX_THRESHOLD:
        raise ValueError(f"distance threshold {threshold!r}: use a whole number of bits from 0 to {MAX_THRESHOLD}")
    return threshold


class KnownImages:
    """The PDQ sets a job's images are matched against, each an open index."""

    def __init__(self, loaded: Sequence[tuple[PdqSetInfo, PdqIndex]]) -> None:
        self.loaded = tuple(sorted(loaded, key=lambda s: s[0].name))
        self.kinds = {info.name: info.kind for info, _ in self.loaded}

    def versions(self) -> dict[str, dict[str, str]]:
        """{set name: {"kind", "version"}} of the sets in use (provenance for the summary)."""
        return {info.name: {"kind": info.kind, "version": info.version} for info, _ in self.loaded}

    def match(
        self, pdqs: Sequence[str | None], threshold: int = DEFAULT_THRESHOLD, threads: int = 1
    ) -> list[list[ImageMatch]]:
        """For each image (its PDQ as hex, or None), every listed hash within `threshold`
        bits, nearest first; one batched search per set over `threads` threads (0: every
        core; a Ray task should use no more than the CPUs it declared)."""
        threshold = check_threshold(threshold)
        matched: list[list[ImageMatch]] = [[] for _ in pdqs]
        raw, positions = pdq_bytes(pdqs)
        if not raw:
            return matched
        for info, index in self.loaded:
            for query, entry, dist in index.search(raw, threshold, threads=threads):
                matched[positions[query]].append(ImageMatch(info.name, info.kind, index.label(entry), dist))
        for found in matched:
            found.sort(key=lambda m: (m.distance, m.set, m.label))
        return matched

    def verdict(self, found: Sequence[ImageMatch]) -> str | None:
        """An image's `known`: bad if any known-bad set matched, else good if any matched."""
        return verdict(m.kind for m in found)


class NodeImageSets:
    """The sets one worker process has open, for the job it last served."""

    def __init__(self, store: ObjectStore, cache: Path) -> None:
        self.store, self.cache = store, cache
        self.opened: dict[str, PdqIndex] = {}  # by file SHA-256
        self.job: str | None = None
        self.known = KnownImages([])

    def for_job(self, job_id: str, pinned: Sequence[tuple[str, str]]) -> KnownImages:
        if job_id == self.job:
            return self.known
        loaded, opened = [], {}
        for info in pinned_sets(self.store, pinned):
            index = self.opened.get(info.sha256) or PdqIndex(
                cached_copy(self.store, PDQSETS, info.key, info.sha256, self.cache, ".qpdq", KnownImagesError)
            )
            opened[info.sha256] = index
            loaded.append((info, index))
        prune(self.cache, {index.path for index in opened.values()}, ".qpdq")
        self.opened, self.known, self.job = opened, KnownImages(loaded), job_id
        return self.known


@functools.cache
def _node_sets(config: StoreConfig) -> NodeImageSets:
    return NodeImageSets(shared_store(config), cache_dir())


def known_images_for_job(config: StoreConfig, job_id: str, pinned: Sequence[tuple[str, str]]) -> KnownImages:
    """The set versions a job pinned at submit, opened once per worker process and job."""
    return _node_sets(config).for_job(job_id, pinned)
