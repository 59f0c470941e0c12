"""NSRL RDSv3: an SQLite database whose FILE table (or view) has sha256, sha1 and md5
columns. Each row's strongest digest column is read, streamed in batches, so a set of
tens of millions of rows never sits in memory.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from cluster.hashsets.digests import STRONGEST_FIRST, Row, decode
from cluster.hashsets.errors import HashSetError

SQLITE_MAGIC = b"SQLite format 3\x00"


def _reason(exc: sqlite3.Error) -> str:
    """SQLite's words, without the undecodable bytes some of its messages quote."""
    return str(exc).split(" with text ", 1)[0][:120]


def _open(path: Path) -> sqlite3.Connection:
    """Read-only and immutable: the evidence-grade promise that the source is never written."""
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro&immutable=1"
    try:
        return sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise HashSetError(path, f"cannot open as SQLite ({_reason(exc)})") from None


def _file_table(con: sqlite3.Connection, path: Path) -> tuple[str, str]:
    """The FILE table's name as spelled in the database, and its strongest digest column."""
    try:
        names = con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").fetchall()
        table = next((n for (n,) in names if n.lower() == "file"), None)
        if table is None:
            raise HashSetError(path, "no FILE table or view (is this an NSRL RDSv3 database?)")
        columns = {row[1].lower(): row[1] for row in con.execute(f'PRAGMA table_info("{table}")')}
    except sqlite3.DatabaseError as exc:
        raise HashSetError(path, f"not a readable SQLite database ({_reason(exc)})") from None
    for algorithm in STRONGEST_FIRST:
        if algorithm in columns:
            return table, columns[algorithm]
    raise HashSetError(path, f"table {table} has no sha256, sha1 or md5 column")


def read(path: Path) -> Iterator[Row]:
    with open(path, "rb") as f:
        if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise HashSetError(path, "not an SQLite database (no 'SQLite format 3' header)")
    con = _open(path)
    try:
        table, column = _file_table(con, path)
        algorithm = column.lower()
        number = 0
        try:
            for (value,) in con.execute(f'SELECT "{column}" FROM "{table}"'):
                number += 1
                if not isinstance(value, str):
                    raise HashSetError(path, f"row {number} of {table}: {column} is {value!r}, not hex text")
                try:
                    raw = decode(value, algorithm, path, number)
                except HashSetError as exc:
                    raise HashSetError(path, f"row {number} of {table}: {exc.problem}") from None
                yield number, algorithm, raw
        except sqlite3.DatabaseError as exc:
            raise HashSetError(path, f"database damaged at row {number + 1} of {table} ({_reason(exc)})") from None
    finally:
        con.close()
