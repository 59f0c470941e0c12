"""Type stub of the compiled extension: the Python face of Quarry's Rust core."""

from collections.abc import Buffer
from typing import Literal, TypedDict

__version__: str

class CoreError(Exception):
    """Raised by the core for a bad argument or an unusable buffer."""

class Digests(TypedDict):
    md5: str
    sha1: str
    sha256: str
    length: int

class Hasher:
    """MD5 + SHA-1 + SHA-256 of a stream of buffers, read once."""

    def __init__(self) -> None: ...
    def update(self, data: Buffer) -> None:
        """Feed the next buffer (not copied; the GIL is released)."""
    @property
    def length(self) -> int: ...
    def digests(self) -> Digests: ...

def digest(data: Buffer) -> Digests:
    """Digests of one buffer."""

Kind = Literal["jpeg", "png", "pdf", "zip"]
Status = Literal["complete", "truncated", "need_more"]

class Carve:
    """A file found by the carver; offset is absolute in the image."""

    offset: int
    length: int
    kind: Kind
    status: Status

class Carver:
    """Structure-validated carver, built once and reused over many windows."""

    def __init__(self, max_sizes: dict[str, int] | None = None) -> None: ...
    @staticmethod
    def kinds() -> list[str]: ...
    def max_size(self, kind: str) -> int: ...
    def scan(self, data: Buffer, base: int, owned_len: int, at_eof: bool) -> list[Carve]:
        """Carves whose header starts in data[:owned_len]; data[0] is image offset base."""
    def carve_at(self, data: Buffer, base: int, kind: str, at_eof: bool) -> Carve | None:
        """Carve a file of kind whose header is at data[0] (after a need_more hit)."""
