"""Step scan_files: every file of every filesystem of an image (allocated, deleted, orphan,
NTFS streams) hashed, looked up in the hash sets and stored like carved files, with its
path, inode and MACB times in the manifest; every name's times go to a timeline beside it.

Rows are written in parts of PART_ROWS, so memory stays bounded however many files an
image holds; file content is streamed (workers/artifacts.py).
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import ray

import rust_core
from workers.artifacts import store_stream
from workers.carving import mark_known
from workers.evidence import ImageRef
from workers.filesystems import FilesystemError, open_filesystem, read_content, walk
from workers.images import open_image
from workers.known_files import known_files_for_job
from workers.manifest import part_bytes
from workers.steps import JobContext, current_node
from workers.store import RESULTS, ObjectStore, StoreConfig
from workers.timeline import TimelineWriter, timeline_rows
from workers.tsk_image import TskImage
from workers.volumes import find_filesystems

STEP = "scan_files"
VERSION = "1"
PART_ROWS = 2000
CONTENT = ("file", "stream")


@dataclass
class FilesResult:
    image_index: int
    node: str
    seconds: float = 0.0
    bytes: int = 0
    part_keys: list[str] = field(default_factory=list)
    timeline_key: str | None = None
    timeline_rows: int = 0
    filesystems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    found: Counter[str] = field(default_factory=Counter)  # by allocation: allocated / deleted / ...
    stored_new: int = 0
    stored_existing: int = 0
    known_good: int = 0
    known_bad: Counter[str] = field(default_factory=Counter)
    known_bad_hits: list[dict[str, Any]] = field(default_factory=list)
    hash_sets: dict[str, dict[str, str]] = field(default_factory=dict)


@functools.cache
def _store(config: StoreConfig) -> ObjectStore:
    return ObjectStore(config)


def files_part_key(ctx: JobContext, image_index: int, n: int) -> str:
    return f"{ctx.case}/{ctx.job_id}/parts/img{image_index:04d}-files{n:05d}.parquet"


def timeline_key(ctx: JobContext, image_index: int) -> str:
    return f"{ctx.case}/{ctx.job_id}/timeline/img{image_index:04d}.parquet"


def scan_files_local(config: StoreConfig, ctx: JobContext, image: ImageRef, image_index: int) -> FilesResult:
    started = time.monotonic()
    store, known = _store(config), known_files_for_job(config, ctx)
    result = FilesResult(image_index, current_node())
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        mark_known(known, rows, result)
        key = files_part_key(ctx, image_index, len(result.part_keys))
        store.put_bytes(RESULTS, key, part_bytes(rows), "application/vnd.apache.parquet")
        result.part_keys.append(key)
        rows.clear()

    with tempfile.TemporaryDirectory(prefix="quarry-timeline-") as tmp, open_image(image.path, config) as media:
        local_timeline = os.path.join(tmp, "timeline.parquet")
        tsk = TskImage(media)
        layout = find_filesystems(tsk)
        result.warnings += layout.warnings
        with TimelineWriter(local_timeline) as timeline:
            for loc in layout.filesystems:
                try:
                    fs = open_filesystem(tsk, loc.offset)
                except FilesystemError as exc:
                    result.warnings.append(str(exc))
                    continue
                result.filesystems.append(f"{loc.fs_type} at {loc.offset} ({loc.description})")
                for entry in walk(fs, result.warnings.append):
                    timeline.write(timeline_rows([entry], image_index, loc.offset))
                    if entry.kind not in CONTENT or not entry.has_content:
                        continue
                    digests, new = store_stream(store, read_content(fs, entry))
                    result.stored_new += new
                    result.stored_existing += not new
                    result.found[entry.allocation] += 1
                    result.bytes += digests["length"]
                    rows.append(_row(ctx, image, image_index, loc.offset, entry, digests))
                    if len(rows) >= PART_ROWS:
                        flush()
        result.timeline_rows = timeline.rows  # counted as batches are written, the last at close
        if rows or not result.part_keys:
            flush()
        if result.timeline_rows:
            result.timeline_key = timeline_key(ctx, image_index)
            store.put_file(RESULTS, result.timeline_key, local_timeline, "application/vnd.apache.parquet")
    result.seconds = time.monotonic() - started
    return result


def _row(
    ctx: JobContext, image: ImageRef, image_index: int, fs_offset: int, entry: Any, digests: dict[str, Any]
) -> dict[str, Any]:
    complete = digests["length"] == entry.size
    return {
        "case": ctx.case,
        "job": ctx.job_id,
        "image_path": image.path,
        "image_index": image_index,
        "offset": None,
        "length": digests["length"],
        "type": entry.kind,
        "status": "complete" if complete else "truncated",
        "md5": digests["md5"],
        "sha1": digests["sha1"],
        "sha256": digests["sha256"],
        "ssdeep": digests["ssdeep"],
        "tlsh": digests["tlsh"],
        "origin": entry.allocation,
        "fs_offset": fs_offset,
        "path": entry.path,
        "inode": entry.inode,
        "mtime": entry.mtime,
        "atime": entry.atime,
        "ctime": entry.ctime,
        "crtime": entry.crtime,
        "step": STEP,
        "step_version": f"{VERSION}+core{rust_core.__version__}",
    }


scan_files = ray.remote(max_retries=3)(scan_files_local)
