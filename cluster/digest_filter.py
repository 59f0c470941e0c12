"""A job's digest filter: a Bloom filter over the MD5, SHA-1 and SHA-256 of every artifact in
its manifest, so that a lookup by digest reads only the manifests that may hold it.

Without it, "where else have we seen this file?" scans the digest column of every job ever
run. The filter is derived from the manifest alone, written once beside it when the job is
assembled, and never trusted for a "yes": a job it names is still scanned, and a job without
one is scanned in full. It only ever narrows which manifests are read.

Digests are uniformly distributed already, so the bit positions are slices of the digest
itself (no further hashing): K little-endian 32-bit words, each masked to the filter size.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import pyarrow.parquet as pq

from workers.store import RESULTS, ObjectStore, s3_filesystem

MAGIC = b"QDF1"
K = 4  # bit positions per digest: an MD5 (the shortest) has exactly four 32-bit words
BITS_PER_DIGEST = 16  # about 0.2 % false positives per job with K = 4
MIN_BITS = 1 << 13
DIGEST_COLUMNS = ("md5", "sha1", "sha256")
HEADER = struct.Struct("<4sBBxxQ")  # magic, K, log2(bits), reserved, digests added


def filter_key(case: str, job_id: str) -> str:
    return f"{case}/{job_id}/digest-filter.bin"


class DigestFilter:
    """The bit array and its parameters; `may_contain` never says no for an added digest."""

    def __init__(self, log2_bits: int, bits: bytearray | bytes, count: int = 0) -> None:
        if len(bits) != (1 << log2_bits) >> 3:
            raise ValueError(f"digest filter: {len(bits)} bytes for 2^{log2_bits} bits")
        self.log2_bits, self.bits, self.count = log2_bits, bits, count
        self.mask = (1 << log2_bits) - 1

    @classmethod
    def sized_for(cls, digests: int) -> DigestFilter:
        log2_bits = max(MIN_BITS, BITS_PER_DIGEST * max(digests, 1) - 1).bit_length()
        return cls(log2_bits, bytearray((1 << log2_bits) >> 3))

    def _positions(self, digest: bytes) -> Iterable[int]:
        mask = self.mask
        return (int.from_bytes(digest[4 * i : 4 * i + 4], "little") & mask for i in range(K))

    def add(self, hex_digests: Iterable[str | None]) -> None:
        bits = self.bits
        for value in hex_digests:
            if value is None:
                continue
            for p in self._positions(bytes.fromhex(value)):
                bits[p >> 3] |= 1 << (p & 7)
            self.count += 1

    def may_contain(self, hex_digest: str) -> bool:
        bits = self.bits
        return all(bits[p >> 3] >> (p & 7) & 1 for p in self._positions(bytes.fromhex(hex_digest)))

    def to_bytes(self) -> bytes:
        return HEADER.pack(MAGIC, K, self.log2_bits, self.count) + bytes(self.bits)

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "digest filter") -> DigestFilter:
        """Parse a stored filter; anything malformed is an error naming the object."""
        if len(data) < HEADER.size:
            raise ValueError(f"{name}: {len(data)} bytes, shorter than its header")
        magic, k, log2_bits, count = HEADER.unpack_from(data)
        if magic != MAGIC or k != K or not 3 <= log2_bits <= 40:
            raise ValueError(f"{name}: not a Quarry digest filter (magic {magic!r}, K {k}, 2^{log2_bits} bits)")
        return cls(log2_bits, data[HEADER.size :], count)


def write_digest_filter(store: ObjectStore, case: str, job_id: str, manifest_key: str) -> int:
    """Read the job's manifest digests back, batch by batch, and store the filter beside the
    manifest; returns how many digests it holds."""
    s3 = s3_filesystem(store.config)
    with s3.open_input_file(f"{RESULTS}/{manifest_key}") as f:
        manifest = pq.ParquetFile(f)
        digest_filter = DigestFilter.sized_for(manifest.metadata.num_rows * len(DIGEST_COLUMNS))
        for batch in manifest.iter_batches(batch_size=16384, columns=list(DIGEST_COLUMNS)):
            for column in batch.columns:
                digest_filter.add(column.to_pylist())
    store.put_bytes(RESULTS, filter_key(case, job_id), digest_filter.to_bytes(), "application/octet-stream")
    return digest_filter.count
