"""`quarry scan` on one machine, without MinIO or Ray: the feature scanners over an image,
writing bulk_extractor's layout (a feature file and a histogram per kind) plus Parquet.

Segments are scanned by a pool of processes; the parent takes their hits in image order
and appends them to the open feature files, so memory holds one segment's hits (and the
histograms' distinct values), however large the image.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from cluster.local_pool import in_order, prepare_output
from cluster.planning import plan_segments
from workers.features import FEATURE_SCHEMA, KINDS, LONGEST, Histogram, scanner
from workers.images import open_image
from workers.segments import Segment, read_window_into

FEATURES = "features.parquet"
HISTOGRAMS = "histograms.parquet"
REPORT = "report.json"
COLUMNS = ("offset", "length", "kind", "value", "valid", "encoding", "context")
# The local feature table: the cluster's columns that say what and where, without case/job/artifact.
LOCAL_SCHEMA = pa.schema([FEATURE_SCHEMA.field(name) for name in COLUMNS])


@dataclass(frozen=True)
class ScanOptions:
    kinds: tuple[str, ...] | None = None  # None: every kind
    invalid: bool = False  # also report checksum failures, marked invalid
    jobs: int = os.cpu_count() or 1
    segment_size: int = 32 << 20
    overlap: int = 1 << 20


# One window buffer per pool process, reused segment after segment: the scan keeps nothing
# of the window, and fresh 33 MiB buffers cost more in page faults than the scan itself.
_WINDOW = bytearray()


def _scan_one(image: str, options: ScanOptions, seg: Segment) -> dict[str, list[Any]]:
    """Scan one segment in a pool process; its hits as columns (cheap to send back)."""
    with open_image(image) as img:
        window, lead = read_window_into(img, seg, _WINDOW)
    hits = scanner(options.kinds, options.invalid).scan(window, seg.start, seg.length, lead)
    window.release()
    return {name: [getattr(h, name) for h in hits] for name in COLUMNS}


_SPECIAL = re.compile(r"[\\\t\r\n]")


def escape_value(value: str) -> str:
    """A value on one line of a feature file: tabs, line ends and `\\` escaped as `\\xNN`
    (most values have none: one search, then chained replaces for the few that do)."""
    if not _SPECIAL.search(value):
        return value
    for c in "\\\t\r\n":  # the backslash first, so no escape is escaped again
        value = value.replace(c, f"\\x{ord(c):02X}")
    return value


def _header(f: IO[str], kind: str, image: str) -> None:
    f.write(f"# Quarry feature file: {kind}\n# image: {image}\n# offset\tvalue\tcontext\n")


def scan_image(image: str, out: Path, options: ScanOptions) -> dict[str, Any]:
    """Scan `image` into `out`; returns the report also written to out/report.json."""
    if options.overlap < LONGEST:
        raise ValueError(f"overlap must be at least {LONGEST} bytes (the longest feature), got {options.overlap}")
    started = time.monotonic()
    prepare_output(out, "feature files")
    with open_image(image) as img:
        ref = img.ref()
    segments = plan_segments(ref, 0, options.segment_size, options.overlap)
    kinds = options.kinds or KINDS
    histogram = Histogram()
    counts: Counter[str] = Counter(dict.fromkeys(kinds, 0))
    invalid: Counter[str] = Counter()
    with ExitStack() as stack:
        files = {k: stack.enter_context(open(out / f"{k}.txt", "w", encoding="utf-8")) for k in kinds}
        for kind, f in files.items():
            _header(f, kind, image)
        parquet = stack.enter_context(pq.ParquetWriter(out / FEATURES, LOCAL_SCHEMA, compression="zstd"))
        for cols in in_order(functools.partial(_scan_one, image, options), segments, options.jobs):
            for offset, kind, value, context in zip(
                cols["offset"], cols["kind"], cols["value"], cols["context"], strict=True
            ):
                files[kind].write(f"{offset}\t{escape_value(value)}\t{context}\n")
            histogram.add(cols["kind"], cols["value"], cols["encoding"])
            counts.update(cols["kind"])
            invalid.update(k for k, ok in zip(cols["kind"], cols["valid"], strict=True) if not ok)
            parquet.write_table(pa.table(cols, schema=LOCAL_SCHEMA))
    for kind in kinds:
        with open(out / f"{kind}_histogram.txt", "w", encoding="utf-8") as f:
            f.write(f"# Quarry histogram: {kind}\n")
            for value, n, utf16 in histogram.ranked(kind):
                f.write(f"n={n}\t{escape_value(value)}" + (f"\t(utf16={utf16})" if utf16 else "") + "\n")
    pq.write_table(histogram.table(), out / HISTOGRAMS, compression="zstd")
    seconds = time.monotonic() - started
    report = {
        "image": image,
        "size": ref.size,
        "kinds": list(kinds),
        "invalid_reported": options.invalid,
        "hits": dict(counts),
        "invalid": {k: n for k, n in invalid.items() if n},
        "distinct": {k: len(histogram.counts[k]) for k in histogram.kinds()},
        "seconds": round(seconds, 3),
        "mb_per_s": round(ref.size / 1e6 / seconds, 1) if seconds > 0 else None,
    }
    (out / REPORT).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report
