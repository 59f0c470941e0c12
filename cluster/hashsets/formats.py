"""The input formats an import reads, by name, and how `auto` tells them apart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from cluster.hashsets import hashdeep, nsrl_rds, nsrl_txt, sumlist
from cluster.hashsets.digests import Row
from cluster.hashsets.errors import HashSetError

FORMATS: dict[str, Callable[[Path], Iterator[Row]]] = {
    "nsrl-rds": nsrl_rds.read,
    "nsrl-txt": nsrl_txt.read,
    "hashdeep": hashdeep.read,
    "md5sum": sumlist.read,
}
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def detect(path: Path) -> str:
    """The format of `path` by its first bytes (and an SQLite file name, so a damaged
    database is reported as one rather than as a bad list)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise HashSetError(path, f"cannot read ({exc.strerror or exc})") from None
    first_line = head.split(b"\n", 1)[0].lstrip(b"\xef\xbb\xbf").strip()
    if head.startswith(nsrl_rds.SQLITE_MAGIC) or path.suffix.lower() in SQLITE_SUFFIXES:
        return "nsrl-rds"
    if first_line.startswith(b"%%%% HASHDEEP"):
        return "hashdeep"
    if first_line.startswith(b'"SHA-1"'):
        return "nsrl-txt"
    return "md5sum"


def reader(path: Path, fmt: str) -> tuple[str, Callable[[Path], Iterator[Row]]]:
    """The format's name (resolved if `auto`) and its parser."""
    name = detect(path) if fmt == "auto" else fmt
    if name not in FORMATS:
        raise ValueError(f"unknown hash list format {fmt!r}; known: auto, {', '.join(FORMATS)}")
    return name, FORMATS[name]
