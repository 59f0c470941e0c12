"""What every step does with a piece of content it found (a carved file, a file from a
filesystem): digests for identity and similarity, and one stored copy in MinIO under its
SHA-256. One implementation for carved and extracted files."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import Any

import rust_core
from workers.store import ARTIFACTS, ObjectStore, artifact_key

SPOOL = 16 << 20  # content up to this size stays in memory while it is hashed


def artifact_digests(data: memoryview | bytes) -> dict[str, Any]:
    """MD5, SHA-1, SHA-256 to identify content; ssdeep and TLSH to rank similar content
    (TLSH is None under 50 bytes or for too uniform content)."""
    out: dict[str, Any] = rust_core.digest(data)
    out["ssdeep"] = rust_core.ssdeep_digest(data)
    out["tlsh"] = rust_core.tlsh_digest(data)
    return out


def store_stream(store: ObjectStore, chunks: Iterable[bytes]) -> tuple[dict[str, Any], bool]:
    """Hash content given in chunks and store it once; returns (digests, newly stored).
    Memory stays bounded: content past SPOOL bytes is spooled to a temporary file."""
    hasher = rust_core.Hasher(["md5", "sha1", "sha256"], threads=1)
    fuzzy, tlsh = rust_core.SsdeepHasher(), rust_core.TlshHasher()
    with tempfile.SpooledTemporaryFile(max_size=SPOOL, prefix="quarry-content-") as spool:
        for chunk in chunks:
            hasher.update(chunk)
            fuzzy.update(chunk)
            tlsh.update(chunk)
            spool.write(chunk)
        digests: dict[str, Any] = hasher.finish()
        digests["ssdeep"], digests["tlsh"] = fuzzy.digest(), tlsh.digest()
        key = artifact_key(digests["sha256"])
        if store.exists(ARTIFACTS, key):
            return digests, False
        length = spool.tell()
        spool.seek(0)
        store.put_stream(ARTIFACTS, key, spool, length)
    return digests, True
