"""What every step does with a piece of content it found (a carved file, a file from a
filesystem): digests for identity and similarity, one stored copy in MinIO under its
SHA-256, and the tallies a step reports. One implementation for carved and extracted files."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import rust_core
from workers.store import ARTIFACTS, ObjectStore, artifact_key

SPOOL = 16 << 20  # content up to this size stays in memory while it is hashed
IDENTITY = ("md5", "sha1", "sha256")


@dataclass(kw_only=True)
class ArtifactCounts:
    """What a step stored and what the hash sets said of it (summed into the job summary)."""

    stored_new: int = 0
    stored_existing: int = 0
    known_good: int = 0
    known_bad: Counter[str] = field(default_factory=Counter)  # artifacts per known-bad set
    known_bad_hits: list[dict[str, Any]] = field(default_factory=list)
    hash_sets: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> kind, version
    yara_matches: int = 0

    def count_stored(self, new: bool) -> None:
        if new:
            self.stored_new += 1
        else:
            self.stored_existing += 1


def artifact_digests(data: memoryview | bytes) -> dict[str, Any]:
    """MD5, SHA-1, SHA-256 to identify content; ssdeep and TLSH to rank similar content
    (TLSH is None under 50 bytes or for too uniform content)."""
    out: dict[str, Any] = rust_core.digest(data)
    out["ssdeep"] = rust_core.ssdeep_digest(data)
    out["tlsh"] = rust_core.tlsh_digest(data)
    return out


def chunk_digests(chunks: Iterable[bytes], similarity: bool = True) -> dict[str, Any]:
    """`artifact_digests` of content given in chunks (bounded memory); without `similarity`
    only the identity digests (MD5, SHA-1, SHA-256) and the length."""
    hasher = rust_core.Hasher(list(IDENTITY), threads=1)
    similar = {"ssdeep": rust_core.SsdeepHasher(), "tlsh": rust_core.TlshHasher()} if similarity else {}
    for chunk in chunks:
        hasher.update(chunk)
        for h in similar.values():
            h.update(chunk)
    out: dict[str, Any] = hasher.finish()
    return out | {name: h.digest() for name, h in similar.items()}


def _copied(chunks: Iterable[bytes], sink: IO[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        sink.write(chunk)
        yield chunk


def store_stream(store: ObjectStore, chunks: Iterable[bytes]) -> tuple[dict[str, Any], bool]:
    """Hash content given in chunks and store it once; returns (digests, newly stored).
    Memory stays bounded: content past SPOOL bytes is spooled to a temporary file."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL, prefix="quarry-content-") as spool:
        digests = chunk_digests(_copied(chunks, spool))
        key = artifact_key(digests["sha256"])
        if store.exists(ARTIFACTS, key):
            return digests, False
        length = spool.tell()
        spool.seek(0)
        store.put_stream(ARTIFACTS, key, spool, length)
    return digests, True
