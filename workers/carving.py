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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import ray

import rust_core
from workers.artifacts import ArtifactCounts, artifact_digests
from workers.evidence import ImageRef
from workers.features import Located, SegmentFeatures
from workers.images import MediaImage, open_image
from workers.known_files import known_files_for_job, mark_known
from workers.manifest import PART_SCHEMA, artifact_row
from workers.segments import Segment, read_window
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


FIRST_REREAD = 4 << 20  # a file running past the window is re-read from this much, doubling
BLOCK = 4096  # fragments of a fragmented file begin on multiples of this (a cluster size)
MAX_GAP = 256 << 10  # the farthest a second fragment is looked for after the first ends
SECOND_FRAGMENT = 4 << 20  # the longest second fragment read


@functools.cache
def _carver() -> rust_core.Carver:
    """One carver per worker process, reused by every segment it runs."""
    return rust_core.Carver()


def part_key(ctx: JobContext, seg: Segment) -> str:
    return f"{ctx.case}/{ctx.job_id}/parts/img{seg.image_index:04d}-seg{seg.index:07d}.parquet"


def carve_segment(
    carver: rust_core.Carver,
    img: MediaImage,
    seg: Segment,
    window_scans: Sequence[Callable[[memoryview, int], None] | None] = (),
) -> Iterator[tuple[rust_core.Carve, memoryview]]:
    """Each file whose header lies in the segment, with its bytes, re-reading past the window;
    each of `window_scans` (features, a YARA raw scan) gets the window and its image offset
    first, so the segment is read once for all of them."""
    window, lead = read_window(img, seg)
    view = memoryview(window)
    for scan in window_scans:
        if scan is not None:
            scan(view, seg.start - lead)
    at_eof = seg.start - lead + len(window) == img.size
    for hit in carver.scan(window, seg.start, seg.length, at_eof, lead):
        if hit.status != "need_more":
            rel = lead + hit.offset - seg.start
            found: tuple[rust_core.Carve, memoryview] | None = (hit, view[rel : rel + hit.length])
        else:
            found = reread(carver, img, hit.offset, hit.kind, len(window) - (lead + hit.offset - seg.start))
        if found is not None:
            yield reassembled(carver, img, found[0]) or found


def reassembled(
    carver: rust_core.Carver, img: MediaImage, carve: rust_core.Carve
) -> tuple[rust_core.Carve, memoryview] | None:
    """A truncated JPEG, ZIP or PDF put back together from two fragments, when a
    continuation within MAX_GAP completes it (bifragment gap carving); else None."""
    if carve.status == "complete" or not carver.reassembles(carve.kind):
        return None
    span = min(carver.max_size(carve.kind), carve.length + MAX_GAP + SECOND_FRAGMENT)
    data = img.read_salvaging(carve.offset, span, [])
    whole = carver.reassemble(data, carve.offset, carve.kind, carve.length, BLOCK, MAX_GAP)
    if whole is None:
        return None
    pieces = [memoryview(data)[at - carve.offset : at - carve.offset + n] for at, n in whole.runs]
    return whole, memoryview(b"".join(pieces))


def reread(
    carver: rust_core.Carver, img: MediaImage, offset: int, kind: str, had: int
) -> tuple[rust_core.Carve, memoryview] | None:
    """Carve a file that ran past the window, reading from its header a doubling amount up
    to the type's cap: a chance header near a window's end costs a small read, not the cap."""
    cap = carver.max_size(kind)
    want = min(cap, max(FIRST_REREAD, 2 * had))
    while True:
        data = img.read_salvaging(offset, want, [])
        at_eof = offset + len(data) == img.size
        carve = carver.carve_at(data, offset, kind, at_eof)
        if carve is None:
            return None
        if carve.status != "need_more":
            return carve, memoryview(data)[: carve.length]
        if want >= cap or at_eof:
            return None
        want = min(cap, want * 2)


def carved_path(carve: rust_core.Carve) -> str:
    """A carve's forensic path: where it was carved from, by type and image offset."""
    return f"carved/{carve.kind}/{carve.offset}"


def carve_fields(carve: rust_core.Carve) -> dict[str, object]:
    """What a manifest row says about a carve besides its content's digests."""
    return {
        "offset": carve.offset,
        "length": carve.length,
        "type": carve.kind,
        "subtype": carve.subtype,
        "status": carve.status,
        "confidence": carve.confidence,
        "missing": carve.missing,
        "runs": [list(r) for r in carve.runs] if len(carve.runs) > 1 else None,
        "origin": "carved",
    }


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
