"""A filesystem timeline as Parquet: one row per timestamp an entry has (M, A, C or B), the
rows `mactime` would print from a body file, in a table DuckDB/pyarrow can filter by time.

Rows are written in batches by a streaming writer, so a filesystem of millions of files
never sits in memory as one table.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from workers.filesystems import Entry

# M: content modified, A: accessed, C: metadata changed, B: born (created)
KINDS = (("M", "mtime"), ("A", "atime"), ("C", "ctime"), ("B", "crtime"))
BATCH_ROWS = 65536

SCHEMA = pa.schema(
    [
        # microseconds keep every TSK time in range (NTFS reaches years pytsk3's nanoseconds cannot)
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("nanos", pa.int32(), nullable=False),  # the sub-second part as TSK had it, 0..999999999
        pa.field("kind", pa.string(), nullable=False),  # M, A, C or B
        pa.field("path", pa.string(), nullable=False),
        pa.field("inode", pa.uint64(), nullable=False),
        pa.field("attr_id", pa.int32()),  # the NTFS stream's attribute id; null for a file's own data
        pa.field("size", pa.int64(), nullable=False),
        pa.field("entry_kind", pa.string(), nullable=False),  # file, dir, link, stream, ...
        pa.field("allocation", pa.string(), nullable=False),  # allocated, deleted, reallocated
        pa.field("image_index", pa.int32(), nullable=False),  # which image of the job
        pa.field("fs_offset", pa.int64(), nullable=False),  # the filesystem's byte offset in that image
    ]
)


def timeline_rows(entries: Iterable[Entry], image_index: int, fs_offset: int) -> Iterator[dict[str, Any]]:
    """One row per timestamp kind an entry has; entries without times give no rows."""
    for entry in entries:
        for kind, name in KINDS:
            seconds = getattr(entry, name)
            if seconds is None:
                continue
            nanos = getattr(entry, f"{name}_ns") or 0
            yield {
                "time": seconds * 1_000_000 + nanos // 1000,
                "nanos": nanos,
                "kind": kind,
                "path": entry.path,
                "inode": entry.inode,
                "attr_id": entry.attr_id if entry.stream is not None else None,
                "size": entry.size,
                "entry_kind": entry.kind,
                "allocation": entry.allocation,
                "image_index": image_index,
                "fs_offset": fs_offset,
            }


class TimelineWriter:
    """Rows into one Parquet file, `batch_rows` at a time (memory: one batch)."""

    def __init__(self, where: str | os.PathLike[str] | BinaryIO, batch_rows: int = BATCH_ROWS) -> None:
        self._writer = pq.ParquetWriter(where if not isinstance(where, os.PathLike) else os.fspath(where), SCHEMA)
        self._batch_rows = batch_rows
        self._pending: list[dict[str, Any]] = []
        self.rows = 0

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self._pending.append(row)
            if len(self._pending) >= self._batch_rows:
                self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_batch(pa.RecordBatch.from_pylist(self._pending, schema=SCHEMA))
            self.rows += len(self._pending)
            self._pending = []

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def __enter__(self) -> TimelineWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
