"""The Parquet timeline: one row per timestamp a name has, equal to the times of the
published mactime body files, written in bounded batches."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from tests.unit.test_filesystems import MMLS_1, opened, truth_body
from workers.filesystems import walk
from workers.timeline import SCHEMA, TimelineWriter, timeline_rows

BODY_KINDS = {"M": "mtime", "A": "atime", "C": "ctime", "B": "crtime"}


@pytest.mark.parametrize(
    ("rel", "truth"), [("sleuthkit/image.dd", "sleuthkit__image.dd"), ("sleuthkit/image.iso", "sleuthkit__image.iso")]
)
def test_rows_equal_the_body_file_times(testdata, tmp_path, rel, truth):
    body = truth_body(testdata, truth)
    want = sorted(
        (path, kind, datetime.fromtimestamp(fields[name], UTC))
        for path, fields in body.items()
        for kind, name in BODY_KINDS.items()
        if fields[name]
    )
    out = tmp_path / "timeline.parquet"
    with opened(testdata, rel) as fs, TimelineWriter(out, batch_rows=4) as writer:
        writer.write(timeline_rows(walk(fs, pytest.fail), image_index=3, fs_offset=0))
    assert writer.rows == len(want)
    parquet = pq.ParquetFile(out)
    assert parquet.schema_arrow == SCHEMA
    assert parquet.metadata.num_row_groups == -(-len(want) // 4)  # written 4 rows at a time
    table = parquet.read()
    got = sorted(zip(table["path"].to_pylist(), table["kind"].to_pylist(), table["time"].to_pylist(), strict=True))
    assert got == want
    assert set(table["image_index"].to_pylist()) == {3} and set(table["fs_offset"].to_pylist()) == {0}
    by_path = {(r["path"], r["kind"]): r for r in table.to_pylist()}
    for path, fields in body.items():
        for kind, name in BODY_KINDS.items():
            if fields[name]:
                row = by_path[(path, kind)]
                assert (row["inode"], row["size"]) == (fields["inode"], fields["size"])


def test_deleted_names_without_times_give_no_rows(testdata):
    with opened(testdata, "sleuthkit/image.dd") as fs:
        rows = list(timeline_rows(walk(fs, pytest.fail), 0, 0))
    assert not any(r["path"].startswith("/a_directory/another_file~") for r in rows)
    kinds = {r["kind"] for r in rows if r["path"] == "/passwords.txt"}
    assert kinds == {"M", "A", "C"}  # ext2 keeps no birth time
    assert {r["allocation"] for r in rows} == {"allocated"}


def test_ntfs_rows_keep_sub_second_times(testdata, tmp_path):
    out = tmp_path / "ntfs.parquet"
    with opened(testdata, MMLS_1, 65536) as fs, TimelineWriter(out) as writer:
        writer.write(timeline_rows(walk(fs, pytest.fail), image_index=0, fs_offset=65536))
    table = pq.read_table(out)
    assert writer.rows == table.num_rows > 0
    assert set(table["kind"].to_pylist()) == {"M", "A", "C", "B"}
    for row in table.to_pylist():
        assert row["time"].microsecond == row["nanos"] // 1000
    assert any(row["nanos"] for row in table.to_pylist())
    streams = [row for row in table.to_pylist() if row["entry_kind"] == "stream"]
    assert streams and all(row["attr_id"] is not None and ":" in row["path"] for row in streams)
