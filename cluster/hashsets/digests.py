"""Hex digests as the lists spell them, checked and turned into raw bytes.

Every parser yields one `Row` per entry: the strongest digest the entry gives. Quarry
hashes every artifact with MD5, SHA-1 and SHA-256, so matching on the strongest digest
alone finds everything the weaker ones would, without their collisions.
"""

from __future__ import annotations

from pathlib import Path

from cluster.hashsets.errors import HashSetError

# (line or row number, algorithm, raw digest)
Row = tuple[int, str, bytes]

WIDTHS = {"md5": 16, "sha1": 20, "sha256": 32}
BY_HEX_LENGTH = {2 * width: algorithm for algorithm, width in WIDTHS.items()}
STRONGEST_FIRST = ("sha256", "sha1", "md5")
NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def decode(text: str, algorithm: str, path: Path, line: int) -> bytes:
    """The raw digest `text` spells in hex (either case), or an error naming the line."""
    width = WIDTHS[algorithm]
    if len(text) == 2 * width:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = b""
        if len(raw) == width:  # fromhex skips spaces: a shorter result means there were some
            return raw
    raise HashSetError(path, f"{_shown(text)} is not a {NAMES[algorithm]} digest ({2 * width} hex digits)", line)


def decode_any(text: str, path: Path, line: int) -> tuple[str, bytes]:
    """An MD5, SHA-1 or SHA-256 digest told apart by its length, or an error naming the line."""
    algorithm = BY_HEX_LENGTH.get(len(text))
    if algorithm is None:
        problem = f"{_shown(text)} is not an MD5, SHA-1 or SHA-256 digest (32, 40 or 64 hex digits)"
        raise HashSetError(path, problem, line)
    return algorithm, decode(text, algorithm, path, line)
