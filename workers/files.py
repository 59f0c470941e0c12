"""Steps list_files and extract_files: every file of every filesystem of an image
(allocated, deleted, orphan, NTFS streams) hashed, looked up in the hash sets and stored
like carved files, with its path, inode and MACB times in the manifest.

`list_files` walks each filesystem once: every name's times go to the image's timeline,
and every entry with content to a listing whose row groups are the extraction batches
(at most BATCH_FILES files or BATCH_BYTES of content each). `extract_files` then runs per
batch, so one image's files spread over many tasks. Memory stays bounded throughout:
entries stream, content streams (workers/artifacts.py), a batch is one row group.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import ray

from workers.artifacts import ArtifactCounts
from workers.evidence import EvidenceError, ImageRef
from workers.features import RUNS_SCHEMA, file_path, runs_part_key
from workers.filesystems import Entry, FilesystemError, data_runs, open_filesystem, read_content, walk
from workers.images import MediaImage, open_image
from workers.known_files import known_files_for_job, mark_known
from workers.manifest import PART_SCHEMA, artifact_row
from workers.steps import JobContext, current_node, image_key, reported
from workers.store import PARQUET, RESULTS, StoreConfig, s3_filesystem, shared_store
from workers.timeline import TimelineWriter, timeline_rows
from workers.tsk_image import TskImage
from workers.unallocated import unallocated_runs
from workers.volumes import find_filesystems
from workers.yara_scan import TaskScan

STEP = "scan_files"  # the manifest rows' step
LIST_STEP, EXTRACT_STEP = "list_files", "extract_files"  # the tasks, as metrics name them
VERSION = "2"
BATCH_FILES = 500
BATCH_BYTES = 256 << 20
CONTENT = ("file", "stream")


def _unallocated(fs: Any, warnings: list[str]) -> list[tuple[int, int]] | None:
    """The filesystem's unallocated runs, or None (carve all of it) when TSK cannot walk it."""
    try:
        return list(unallocated_runs(fs))
    except FilesystemError as exc:
        warnings.append(f"{exc}; carving all of this filesystem instead")
        return None


def carve_ranges(size: int, claimed: list[tuple[int, int, list[tuple[int, int]] | None]]) -> list[tuple[int, int]]:
    """What to carve when only unallocated space is wanted: every byte no filesystem claims
    (gaps between partitions, space after the last) plus each filesystem's unallocated runs
    (or the whole filesystem when its runs are unknown), merged, in offset order."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for offset, length, runs in sorted(claimed, key=lambda c: c[0]):
        if offset > cursor:
            spans.append((cursor, offset - cursor))
        spans.extend(runs if runs is not None else [(offset, length)])
        cursor = max(cursor, offset + length)
    if cursor < size:
        spans.append((cursor, size - cursor))
    merged: list[tuple[int, int]] = []
    for offset, length in sorted(spans):
        if merged and offset <= merged[-1][0] + merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], offset + length - last[0]))
        elif length > 0:
            merged.append((offset, length))
    return merged


def unallocated_ranges(media: MediaImage) -> tuple[list[tuple[int, int]], list[str]]:
    """The byte ranges of `media` that no filesystem uses (for carving only those, on one
    machine; the cluster gets the same map from list_files), and warnings."""
    warnings: list[str] = []
    tsk = TskImage(media, salvage=True)
    layout = find_filesystems(tsk)
    warnings += layout.warnings
    claimed: list[tuple[int, int, list[tuple[int, int]] | None]] = []
    for loc in layout.filesystems:
        try:
            fs = open_filesystem(tsk, loc.offset)
        except FilesystemError as exc:
            warnings.append(str(exc))
            continue
        claimed.append((loc.offset, loc.length, _unallocated(fs, warnings)))
    return carve_ranges(media.size, claimed), warnings


# The listing: one row per entry with content, the Entry's fields plus its filesystem.
_TEXT = ("path", "name_hex", "kind", "name_kind", "allocation", "stream", "link_target")
_FLAGS = ("name_allocated", "meta_allocated", "orphan")
LISTING_SCHEMA = pa.schema(
    [pa.field("fs_offset", pa.int64(), nullable=False)]
    + [
        pa.field(f.name, pa.string() if f.name in _TEXT else pa.bool_() if f.name in _FLAGS else pa.int64())
        for f in dataclasses.fields(Entry)
    ]
)


@dataclass
class Listing:
    image_index: int
    node: str
    seconds: float = 0.0
    key: str | None = None
    batches: int = 0
    entries: int = 0
    timeline_key: str | None = None
    timeline_rows: int = 0
    filesystems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unallocated: list[tuple[int, int]] | None = None  # asked for: (offset, length) to carve


@dataclass
class FilesResult(ArtifactCounts):
    image_index: int
    batch: int
    node: str
    seconds: float = 0.0
    part_key: str = ""
    warnings: list[str] = field(default_factory=list)
    found: Counter[str] = field(default_factory=Counter)  # by allocation: allocated / deleted / ...


def listing_key(ctx: JobContext, image_index: int) -> str:
    return f"{ctx.case}/{ctx.job_id}/files/img{image_index:04d}-listing.parquet"


def timeline_key(ctx: JobContext, image_index: int) -> str:
    return f"{ctx.case}/{ctx.job_id}/timeline/img{image_index:04d}.parquet"


def files_part_key(ctx: JobContext, image_index: int, batch: int) -> str:
    return f"{ctx.case}/{ctx.job_id}/parts/img{image_index:04d}-files{batch:05d}.parquet"


class BatchWriter:
    """Listing rows into Parquet, one row group per extraction batch."""

    def __init__(self, path: str) -> None:
        self.writer = pq.ParquetWriter(path, LISTING_SCHEMA)
        self.rows: list[dict[str, Any]] = []
        self.bytes = self.batches = self.entries = 0

    def add(self, fs_offset: int, entry: Entry) -> None:
        self.rows.append({"fs_offset": fs_offset, **dataclasses.asdict(entry)})
        self.bytes += entry.size
        if len(self.rows) >= BATCH_FILES or self.bytes >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=LISTING_SCHEMA))
            self.batches, self.entries = self.batches + 1, self.entries + len(self.rows)
            self.rows, self.bytes = [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()


def list_files_local(
    config: StoreConfig, ctx: JobContext, image: ImageRef, image_index: int, unallocated: bool = False
) -> Listing:
    """Walk every filesystem once: the timeline, and the listing of what to extract; with
    `unallocated`, also the byte runs no filesystem uses (for carving only those)."""
    started = time.monotonic()
    store = shared_store(config)
    out = Listing(image_index, current_node())
    with tempfile.TemporaryDirectory(prefix="quarry-listing-") as tmp, open_image(image.path, config) as media:
        tsk = TskImage(media, salvage=True)
        layout = find_filesystems(tsk)
        out.warnings += layout.warnings
        batches = BatchWriter(os.path.join(tmp, "listing.parquet"))
        claimed: list[tuple[int, int, list[tuple[int, int]]]] = []
        with TimelineWriter(os.path.join(tmp, "timeline.parquet")) as timeline:
            for loc in layout.filesystems:
                try:
                    fs = open_filesystem(tsk, loc.offset)
                except FilesystemError as exc:
                    out.warnings.append(str(exc))
                    continue
                out.filesystems.append(f"{loc.fs_type} at {loc.offset} ({loc.description})")
                if unallocated:
                    runs = _unallocated(fs, out.warnings)
                    claimed.append((loc.offset, loc.length, runs))
                for entry in walk(fs, out.warnings.append):
                    timeline.write(timeline_rows([entry], image_index, loc.offset))
                    if entry.kind in CONTENT and entry.has_content:
                        batches.add(loc.offset, entry)
        batches.close()
        out.warnings += [
            f"{image.path}: media {u['offset']}+{u['length']} unreadable, read as zeros: {u['reason']}"
            for u in tsk.unreadable
        ]
        if unallocated:
            out.unallocated = carve_ranges(media.size, claimed)
        out.timeline_rows, out.batches, out.entries = timeline.rows, batches.batches, batches.entries
        if out.timeline_rows:
            out.timeline_key = timeline_key(ctx, image_index)
            store.put_file(RESULTS, out.timeline_key, os.path.join(tmp, "timeline.parquet"), PARQUET)
        if out.batches:
            out.key = listing_key(ctx, image_index)
            store.put_file(RESULTS, out.key, os.path.join(tmp, "listing.parquet"), PARQUET)
    out.seconds = time.monotonic() - started
    return out


def _batch_entries(config: StoreConfig, key: str, batch: int) -> Iterator[tuple[int, Entry]]:
    """One batch of the listing: its row group only, read in place in MinIO (every batch
    task reads its own part, never the whole listing)."""
    with s3_filesystem(config).open_input_file(f"{RESULTS}/{key}") as f:
        rows = pq.ParquetFile(f).read_row_group(batch).to_pylist()
    for row in rows:
        fs_offset = row.pop("fs_offset")
        yield fs_offset, Entry(**row)


def extract_files_local(
    config: StoreConfig, ctx: JobContext, image: ImageRef, image_index: int, key: str, batch: int
) -> FilesResult:
    """Extract one batch of the listing through the shared artifact code."""
    started = time.monotonic()
    store, known = shared_store(config), known_files_for_job(config, ctx)
    result = FilesResult(image_index, batch, current_node(), part_key=files_part_key(ctx, image_index, batch))
    yara = TaskScan.for_task(config, ctx, image_index, result.part_key)
    rows: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []  # where each file lies, for naming the file a feature is in
    with open_image(image.path, config) as media:
        tsk, opened = TskImage(media, salvage=True), {}
        for fs_offset, entry in _batch_entries(config, key, batch):
            if fs_offset not in opened:
                opened[fs_offset] = open_filesystem(tsk, fs_offset)
            try:  # stored, and scanned with the YARA rule sets on the way
                digests, new, matched = yara.stored_file(store, read_content(opened[fs_offset], entry), entry.path)
            except (FilesystemError, EvidenceError) as exc:  # one unreadable file, not the batch
                result.warnings.append(f"{image.path}: {entry.path} (inode {entry.inode}) not extracted: {exc}")
                continue
            result.count_stored(new)
            result.found[entry.allocation] += 1
            rows.append(_row(ctx, image, image_index, fs_offset, entry, digests) | {"yara": matched})
            where = file_path(fs_offset, entry.path)
            runs += [
                {"image_offset": at, "length": n, "file_offset": f, "path": where, "sha256": digests["sha256"]}
                for at, n, f in data_runs(opened[fs_offset], entry)
            ]
    mark_known(known, rows, result)
    result.yara_matches = yara.write(store)
    store.put_rows(RESULTS, runs_part_key(result.part_key), runs, RUNS_SCHEMA)
    store.put_rows(RESULTS, result.part_key, rows, PART_SCHEMA)
    result.seconds = time.monotonic() - started
    return result


def _row(
    ctx: JobContext, image: ImageRef, image_index: int, fs_offset: int, entry: Entry, digests: dict[str, Any]
) -> dict[str, Any]:
    return artifact_row(
        ctx,
        image.path,
        image_index,
        digests,
        STEP,
        VERSION,
        offset=None,
        length=digests["length"],
        type=entry.kind,
        status="complete" if digests["length"] == entry.size else "truncated",
        origin=entry.allocation,
        fs_offset=fs_offset,
        path=entry.path,
        inode=entry.inode,
        mtime=entry.mtime,
        atime=entry.atime,
        ctime=entry.ctime,
        crtime=entry.crtime,
    )


def batch_key(image: ImageRef, image_index: int, key: str, batch: int) -> str:
    return f"img{image_index:04d}-batch{batch:05d}"


list_files = ray.remote(max_retries=3)(reported(LIST_STEP, image_key, list_files_local))
extract_files = ray.remote(max_retries=3)(reported(EXTRACT_STEP, batch_key, extract_files_local))
