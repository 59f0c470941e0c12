"""hashdeep's list format (what `hashdeep -r` prints and `hashdeep -k` reads):

    %%%% HASHDEEP-1.0
    %%%% size,md5,sha256,filename
    ## comments
    1234,<md5>,<sha256>,/path/with, maybe, commas

The second line names the columns; the file name comes last and may hold commas.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cluster.hashsets.digests import STRONGEST_FIRST, Row, decode
from cluster.hashsets.errors import HashSetError

MAGIC = "%%%% HASHDEEP-1.0"


def _columns(header: str, path: Path) -> tuple[list[str], str, int]:
    """The column names, the strongest digest column and its position."""
    if not header.startswith("%%%% "):
        raise HashSetError(path, f"expected the column line '%%%% size,md5,...,filename', found {header[:60]!r}", 2)
    columns = [c.strip().lower() for c in header[5:].split(",")]
    if columns[-1:] != ["filename"]:
        raise HashSetError(path, "the column line must end with 'filename'", 2)
    for algorithm in STRONGEST_FIRST:
        if algorithm in columns:
            return columns, algorithm, columns.index(algorithm)
    raise HashSetError(path, f"no md5, sha1 or sha256 column among {', '.join(columns)}", 2)


def read(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8", errors="replace", newline=None) as lines:
        first = next(lines, "").lstrip("\ufeff").strip()
        if first != MAGIC:
            raise HashSetError(path, f"expected {MAGIC!r} on the first line, found {first[:60]!r}", 1)
        columns, algorithm, at = _columns(next(lines, "").strip(), path)
        size_at = columns.index("size") if "size" in columns else None
        for number, line in enumerate(lines, 3):
            text = line.rstrip("\r\n")
            if not text.strip() or text.startswith("#"):
                continue
            fields = text.split(",", len(columns) - 1)
            if len(fields) != len(columns):
                raise HashSetError(path, f"{len(fields)} fields, the column line names {len(columns)}", number)
            if size_at is not None and not fields[size_at].isdigit():
                raise HashSetError(path, f"size {fields[size_at]!r} is not a whole number", number)
            yield number, algorithm, decode(fields[at], algorithm, path, number)
