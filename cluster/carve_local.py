"""`quarry carve` on one machine, without MinIO or Ray: the cluster's carver over an
image, writing carved files to a folder with a manifest, as PhotoRec and foremost do.

Segments are carved by a pool of processes (one per core by default) with the same
`carve_segment` the cluster runs; the parent process takes their results in image order,
links nested carves to their parents and appends to the manifest, so memory stays one
segment's results however large the image. Output files are created exclusively: an
existing file is never overwritten.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rust_core
from cluster.local_pool import in_order, prepare_output
from cluster.planning import plan_segments
from workers.carve_links import ParentLinker, carve_order
from workers.carve_window import carve_fields, carve_segment
from workers.images import open_image
from workers.segments import Segment

MANIFEST = "manifest.jsonl"
SUMMARY = "summary.json"
# File name extension per carved type, unless the subtype names a better one.
EXTENSIONS = {"jpeg": "jpg", "tiff": "tif", "gzip": "gz", "sqlite": "sqlite", "regf": "hive", "ole": "ole"}


@dataclass(frozen=True)
class CarveOptions:
    kinds: tuple[str, ...] | None = None  # None: every type
    align: int = 1
    jobs: int = os.cpu_count() or 1
    segment_size: int = 32 << 20
    overlap: int = 1 << 20
    unallocated: bool = False

    def carver(self) -> rust_core.Carver:
        return rust_core.Carver(kinds=list(self.kinds) if self.kinds else None, align=self.align)


def file_name(carve: rust_core.Carve) -> str:
    """`<kind>/<offset>[-status].<ext>`: offset first so a listing sorts in image order."""
    ext = carve.subtype or EXTENSIONS.get(carve.kind, carve.kind)
    status = "" if carve.status == "complete" else f"-{carve.status}"
    if len(carve.runs) > 1:
        status += "-reassembled"
    return f"{carve.kind}/{carve.offset:012d}{status}.{ext}"


@functools.cache
def _worker_carver(options: CarveOptions) -> rust_core.Carver:
    return options.carver()


@functools.cache
def _worker_buffer() -> bytearray:
    """One window buffer per pool process, reused by every segment it carves."""
    return bytearray()


def _carve_one(image: str, out: str, options: CarveOptions, seg: Segment) -> list[dict[str, Any]]:
    """Carve one segment in a pool process: write each file, return its manifest rows."""
    rows = []
    with open_image(image) as img:
        for carve, data in carve_segment(_worker_carver(options), img, seg, buffer=_worker_buffer()):
            # SHA-256 names the content (as in the cluster's store); MD5 and SHA-1 are left to
            # the cluster's artifacts, where they are computed once per stored file.
            digests = rust_core.digest(data, ["sha256"])
            name = file_name(carve)
            target = Path(out, name)
            target.parent.mkdir(exist_ok=True)
            with open(target, "xb") as f:
                f.write(data)
            fields = carve_fields(carve)
            rows.append(
                {
                    "offset": carve.offset,
                    "length": carve.length,
                    "kind": carve.kind,
                    **{k: fields[k] for k in ("subtype", "status", "confidence", "missing")},
                    "sha256": digests["sha256"],
                    "path": name,
                    "runs": [list(r) for r in carve.runs],
                    "fragmented": len(carve.runs) > 1,
                }
            )
    return rows


def _segments(image: str, options: CarveOptions, warnings: list[str]) -> tuple[list[Segment], int]:
    with open_image(image) as img:
        ref = img.ref()
        ranges = None
        if options.unallocated:
            from workers.files import unallocated_ranges  # the filesystem readers (and Ray): only when asked

            ranges, found_warnings = unallocated_ranges(img)
            warnings += found_warnings
    return plan_segments(ref, 0, options.segment_size, options.overlap, ranges), ref.size


def _results(image: str, out: Path, options: CarveOptions, segments: list[Segment]) -> Iterator[list[dict[str, Any]]]:
    """Each segment's rows, in image order, carved by `options.jobs` processes."""
    yield from in_order(functools.partial(_carve_one, image, str(out), options), segments, options.jobs)


def carve_image(image: str, out: Path, options: CarveOptions) -> dict[str, Any]:
    """Carve `image` into `out`; returns the summary also written to out/summary.json."""
    started = time.monotonic()
    prepare_output(out, "carved files")
    warnings: list[str] = []
    segments, size = _segments(image, options, warnings)
    linker = ParentLinker()
    counts: Counter[tuple[str, str]] = Counter()
    nested = 0
    with open(out / MANIFEST, "w", encoding="utf-8") as manifest:
        for rows in _results(image, out, options, segments):
            for row in sorted(rows, key=lambda r: carve_order(r["offset"], r["length"])):
                # A reassembled file contains only what lies in its first run.
                parent = linker.parent(row["offset"], row["runs"][0][1], row["sha256"])
                row["parent_offset"] = parent.offset if parent else None
                nested += parent is not None
                counts[(row["kind"], row["status"])] += 1
                manifest.write(json.dumps(row, sort_keys=True) + "\n")
    seconds = time.monotonic() - started
    carved_bytes = sum(s.length for s in segments)
    summary = {
        "image": image,
        "size": size,
        "carved_bytes": carved_bytes,
        "unallocated_only": options.unallocated,
        "align": options.align,
        "kinds": list(options.kinds) if options.kinds else rust_core.Carver.all_kinds(),
        "carves": sum(counts.values()),
        "nested": nested,
        "by_type": {
            k: dict(sorted((s, n) for (kk, s), n in counts.items() if kk == k)) for k in sorted({k for k, _ in counts})
        },
        "seconds": round(seconds, 3),
        "mb_per_s": round(carved_bytes / 1e6 / seconds, 1) if seconds > 0 else None,
        "warnings": warnings,
    }
    (out / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _by_type(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (kind, status), n in sorted(counts.items()):
        out.setdefault(kind, {})[status] = n
    return out
