"""Type stub of the compiled extension: the Python face of Quarry's Rust core."""

import os
import pathlib
from collections.abc import Buffer, Sequence
from typing import Literal, TypedDict

__version__: str

class CoreError(Exception):
    """Raised by the core for a bad argument or an unusable buffer."""

Digests = dict[str, str | int]
"""{algorithm name: lowercase hex, ..., "length": bytes hashed}; names are md5, sha1,
sha256, sha512, blake3, crc32."""

WindowRow = tuple[int, int, str, str]
"""(window index, window length, algorithm, hex digest)."""

class Hasher:
    """Digests of one stream, spread over threads, optionally per fixed window too."""

    def __init__(
        self,
        algorithms: Sequence[str] | None = None,
        window: int = 0,
        window_algorithms: Sequence[str] | None = None,
        threads: int = 0,
    ) -> None:
        """algorithms default to md5, sha1, sha256; window 0 = no windows (their digest
        defaults to blake3); threads 0 = one per core."""
    def update(self, data: Buffer) -> None:
        """Feed the next buffer (copied; the GIL is released; hashing runs behind)."""
    def update_from_file(self, fd: int, offset: int, length: int) -> int:
        """Feed length bytes of open file fd from offset; returns bytes fed."""
    @property
    def length(self) -> int: ...
    @property
    def threads(self) -> int: ...
    def digests(self) -> Digests:
        """Digests of everything fed so far; the stream may go on."""
    def finish(self) -> Digests:
        """Final digests, closing the last partial window; no more data after."""
    def take_windows(self) -> list[WindowRow]:
        """Windows closed since the last call, by index."""

def digest(data: Buffer, algorithms: Sequence[str] | None = None) -> Digests:
    """Digests of one buffer (md5, sha1, sha256 unless algorithms names others)."""

Status = Literal["complete", "truncated", "damaged", "need_more"]

class Carve:
    """A file found by the carver; offset is absolute in the image."""

    offset: int
    length: int
    kind: str
    status: Status
    confidence: int
    missing: int | None
    subtype: str | None
    runs: list[tuple[int, int]]

class Carver:
    """Structure-validated carver, built once and reused over many windows."""

    def __init__(
        self, max_sizes: dict[str, int] | None = None, kinds: list[str] | None = None, align: int = 1
    ) -> None: ...
    @staticmethod
    def all_kinds() -> list[str]: ...
    def kinds(self) -> list[str]: ...
    @property
    def align(self) -> int: ...
    def max_size(self, kind: str) -> int: ...
    def scan(self, data: Buffer, base: int, owned_len: int, at_eof: bool, lead: int = 0) -> list[Carve]:
        """Carves whose header starts in data[lead:lead + owned_len]; data[lead] is image
        offset base; data[:lead] is context from before the owned part."""
    def carve_at(self, data: Buffer, base: int, kind: str, at_eof: bool) -> Carve | None:
        """Carve a file of kind whose first byte is data[0] (after a need_more hit)."""
    @staticmethod
    def reassembles(kind: str) -> bool: ...
    def reassemble(
        self, data: Buffer, base: int, kind: str, valid: int, block: int = 4096, max_gap: int = 256 << 10
    ) -> Carve | None:
        """A file whose walk broke after valid bytes, put back from two block-aligned fragments."""

class Feature:
    """One feature: offset absolute in the image, length in image bytes."""

    kind: str
    offset: int
    length: int
    value: str
    valid: bool
    encoding: Literal["ascii", "utf16le"]
    context: str

class FeatureScanner:
    """E-mail, URL, card, IBAN, wallet, seed-phrase and key features in one pass."""

    def __init__(self, kinds: list[str] | None = None, invalid: bool = False) -> None: ...
    @staticmethod
    def all_kinds() -> list[str]: ...
    @staticmethod
    def sensitive_kinds() -> list[str]: ...
    @staticmethod
    def checksummed_kinds() -> list[str]: ...
    def scan(self, data: Buffer, base: int = 0, owned_len: int | None = None, lead: int = 0) -> list[Feature]:
        """Features starting in data[lead:lead + owned_len]; data[lead] is image offset base."""

HashAlgorithm = Literal["md5", "sha1", "sha256"]

class HashSetStats(TypedDict):
    added: int
    count: int
    runs: int

class HashSet:
    """A known-file set file, memory-mapped: sorted unique digests of one algorithm with
    a bucket index (width + at most 1 byte per digest); processes share the mapping."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open the set file; CoreError names the file and the problem if it is damaged."""
    @property
    def algorithm(self) -> HashAlgorithm: ...
    @property
    def count(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def path(self) -> pathlib.Path: ...
    @property
    def file_bytes(self) -> int: ...
    def contains(self, digest: str | Buffer) -> bool:
        """Whether the set holds digest: hex text (either case) or raw bytes."""
    def contains_many(self, digests: Buffer) -> bytes:
        """Raw digests laid end to end -> one byte per digest, 1 where found (GIL released)."""
    def verify(self) -> None:
        """Check every digest's order and bucket in one pass; CoreError if damaged."""
    def __len__(self) -> int: ...

class HashSetBuilder:
    """Builds a set file in bounded memory: sorted runs of run_bytes on disk, merged."""

    def __init__(self, algorithm: HashAlgorithm, run_dir: str | os.PathLike[str], run_bytes: int = ...) -> None: ...
    @property
    def algorithm(self) -> HashAlgorithm: ...
    @property
    def added(self) -> int: ...
    def add(self, digests: Buffer) -> None:
        """Add raw digests laid end to end (GIL released)."""
    def finish(self, path: str | os.PathLike[str]) -> HashSetStats:
        """Write the set file at path (atomically); the builder is spent after."""

class SsdeepHasher:
    """Streaming ssdeep (CTPH) digest, the same string the ssdeep 2.14.1 tool prints."""

    def __init__(self) -> None: ...
    def update(self, data: Buffer) -> None:
        """Feed the next buffer (not copied; the GIL is released)."""
    @property
    def length(self) -> int: ...
    def digest(self) -> str:
        """The digest so far ("blocksize:part1:part2"); more may follow."""

class TlshHasher:
    """Streaming TLSH digest ("T1" + 70 hex digits), the same string py-tlsh gives."""

    def __init__(self) -> None: ...
    def update(self, data: Buffer) -> None:
        """Feed the next buffer (not copied; the GIL is released)."""
    @property
    def length(self) -> int: ...
    def digest(self) -> str | None:
        """The digest so far, or None where TLSH has none (under 50 bytes, too little variety)."""

def ssdeep_digest(data: Buffer) -> str:
    """ssdeep digest of one buffer."""

def ssdeep_compare(a: str, b: str) -> int:
    """Match score 0..100 of two ssdeep digests; CoreError if one is malformed."""

def tlsh_digest(data: Buffer) -> str | None:
    """TLSH digest of one buffer, or None (under 50 bytes, too little variety)."""

def tlsh_diff(a: str, b: str) -> int:
    """TLSH distance (0 = same), length included; CoreError if a digest is malformed."""

PDQ_MIN_QUALITY: int
PDQ_MATCH_DISTANCE: int

def pdq_hash(data: Buffer, *, max_pixels: int = 100_000_000) -> tuple[str, int]: ...
def pdq_hash_rgb(rgb: Buffer, width: int, height: int) -> tuple[str, int]: ...
def phash(data: Buffer, *, max_pixels: int = 100_000_000) -> str: ...
def phash_rgb(rgb: Buffer, width: int, height: int) -> str: ...
def image_hashes(data: Buffer, *, max_pixels: int = 100_000_000) -> tuple[str, int, str]: ...
def decode_rgb(data: Buffer, *, max_pixels: int = 100_000_000) -> tuple[bytes, int, int]: ...
def pdq_quality_reliable(quality: int) -> bool: ...
def hash_distance(a: str, b: str) -> int: ...

class PdqIndex:
    """A known-image list of PDQ hashes, memory-mapped; searched within a Hamming distance by
    multi-index hashing or a linear scan (GIL released)."""

    def __init__(self, path: str | os.PathLike[str]) -> None: ...
    @property
    def count(self) -> int: ...
    @property
    def chunks(self) -> int: ...
    @property
    def label_count(self) -> int: ...
    @property
    def path(self) -> pathlib.Path: ...
    @property
    def file_bytes(self) -> int: ...
    def search(
        self,
        queries: Buffer,
        threshold: int = 31,
        *,
        method: Literal["auto", "mih", "linear"] = "auto",
        threads: int = 0,
    ) -> list[tuple[int, int, int]]: ...
    def hash_hex(self, entry: int) -> str: ...
    def label(self, entry: int) -> str: ...
    def verify(self) -> None: ...
    def __len__(self) -> int: ...

class PdqIndexBuilder:
    def __init__(self) -> None: ...
    @property
    def added(self) -> int: ...
    def add(self, hashes: Buffer, labels: Sequence[str]) -> None: ...
    def finish(self, path: str | os.PathLike[str], chunks: int | None = None) -> dict[str, int]: ...
