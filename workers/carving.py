"""Step scan_segment: carve one byte range of an image and store what it finds.

The segment owns headers in [start, start + length); it reads `overlap` bytes more so
files crossing its end usually need no second read. A file running past the window is
re-read from its header up to its type's maximum size, so memory stays bounded and each
file is reported by exactly one segment. Results go to MinIO under deterministic keys,
so a retried task rewrites the same objects and stores no duplicates.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from dataclasses import dataclass, field

import ray

import rust_core
from workers.artifacts import ArtifactCounts, artifact_digests
from workers.carve_window import carve_fields, carve_segment
from workers.evidence import ImageRef
from workers.features import Located, SegmentFeatures
from workers.images import open_image
from workers.known_files import known_files_for_job, mark_known
from workers.manifest import PART_SCHEMA, artifact_row
from workers.segments import Segment
from workers.steps import JobContext, current_node, reported
from workers.store import RESULTS, StoreConfig, shared_store
from workers.yara_scan import TaskScan

STEP = "scan_segment"
VERSION = "4"


@dataclass
class SegmentResult(ArtifactCounts):
    image_index: int
    index: int
    bytes: int
    node: str
    seconds: float
    part_key: str
    found: Counter[str] = field(default_factory=Counter)
    features: Counter[str] = field(default_factory=Counter)  # feature hits per kind


@functools.cache
def _carver() -> rust_core.Carver:
    """One carver per worker process, reused by every segment it runs."""
    return rust_core.Carver()


def part_key(ctx: JobContext, seg: Segment) -> str:
    return f"{ctx.case}/{ctx.job_id}/parts/img{seg.image_index:04d}-seg{seg.index:07d}.parquet"


def carved_path(carve: rust_core.Carve) -> str:
    """A carve's forensic path: where it was carved from, by type and image offset."""
    return f"carved/{carve.kind}/{carve.offset}"


def scan_segment_local(config: StoreConfig, ctx: JobContext, image: ImageRef, seg: Segment) -> SegmentResult:
    started = time.monotonic()
    carver, store = _carver(), shared_store(config)
    result = SegmentResult(seg.image_index, seg.index, seg.length, current_node(), 0.0, part_key(ctx, seg))
    rows = []
    yara = TaskScan.for_task(config, ctx, seg.image_index, result.part_key)
    where = {"case": ctx.case, "job": ctx.job_id, "image_path": image.path, "image_index": seg.image_index}
    features = SegmentFeatures(where, seg.start, seg.length)
    carved: list[Located] = []
    with open_image(image.path, config) as img:
        scans = (features.window, yara.raw_window(seg.start, seg.length))
        for carve, data in carve_segment(carver, img, seg, scans):
            digests = artifact_digests(data)
            carved.append(Located(carve.offset, carve.length, digests["sha256"], carved_path(carve)))
            result.count_stored(store.put_artifact(digests["sha256"], data))
            result.found[f"{carve.kind}/{carve.status}"] += 1
            rows.append(
                artifact_row(
                    ctx,
                    image.path,
                    seg.image_index,
                    digests,
                    STEP,
                    VERSION,
                    yara=yara.carved(data, carve.offset, carve.kind, digests["sha256"]),
                    **carve_fields(carve),
                )
            )
    mark_known(known_files_for_job(config, ctx), rows, result)
    result.yara_matches = yara.write(store)
    result.features = features.write(store, result.part_key, carved)
    store.put_rows(RESULTS, result.part_key, rows, PART_SCHEMA)
    result.seconds = time.monotonic() - started
    return result


def segment_key(image: ImageRef, seg: Segment) -> str:
    return f"img{seg.image_index:04d}-seg{seg.index:07d}"


scan_segment = ray.remote(max_retries=3)(reported(STEP, segment_key, scan_segment_local))
