"""Feature scanning of a segment's window: what the Rust scanner finds, as rows and histograms.

The window a segment reads for carving (a lead before it, an overlap after it) is scanned
once more for features; a hit belongs to the segment whose owned range holds its first
byte, so overlapping windows never report one twice. Hits inside a carved file carry the
file's digest and their offset in it, so an examiner sees where in which file a value lies.
"""

from __future__ import annotations

import bisect
import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

import rust_core

if TYPE_CHECKING:  # MinIO's client loads only where results are stored, not for `quarry scan`
    from workers.store import ObjectStore

SENSITIVE = frozenset(rust_core.FeatureScanner.sensitive_kinds())
KINDS = tuple(rust_core.FeatureScanner.all_kinds())
# The longest feature (a private-key block) plus its context: the overlap a window needs.
LONGEST = (64 << 10) + 32

FEATURE_SCHEMA = pa.schema(
    [
        ("case", pa.string()),
        ("job", pa.string()),
        ("image_path", pa.string()),
        ("image_index", pa.int32()),
        ("offset", pa.uint64()),  # absolute in the image
        ("length", pa.uint64()),  # bytes in the image (twice the characters for UTF-16LE)
        ("kind", pa.string()),
        ("value", pa.string()),  # in full, sensitive kinds too: views redact (see `redact`)
        ("valid", pa.bool_()),
        ("encoding", pa.string()),  # ascii / utf16le
        ("context", pa.string()),
        ("artifact_sha256", pa.string()),  # the carved file the hit lies in, innermost
        ("artifact_offset", pa.uint64()),  # the hit's offset in that file
        ("artifact_path", pa.string()),  # the file's forensic path: carved/<type>/<offset>
    ]
)

HISTOGRAM_SCHEMA = pa.schema(
    [("kind", pa.string()), ("value", pa.string()), ("count", pa.uint64()), ("utf16_count", pa.uint64())]
)


@functools.cache
def scanner(kinds: tuple[str, ...] | None = None, invalid: bool = False) -> rust_core.FeatureScanner:
    """One scanner per worker process and choice of kinds, reused by every window."""
    return rust_core.FeatureScanner(kinds=list(kinds) if kinds else None, invalid=invalid)


def redact(kind: str, value: str) -> str:
    """What a default view shows of a sensitive value: enough to tell values apart, not to
    use one. Card numbers keep the first six and last four digits, as card receipts do."""
    if kind not in SENSITIVE:
        return value
    if kind == "ccn":
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    if kind == "bip39":
        words = value.split()
        return f"{words[0]} ... [{len(words)} words redacted]"
    first_line = value.split("\n", 1)[0].rstrip("\r")
    return f"{first_line} [{len(value)} bytes redacted]"


def redact_row(row: dict[str, Any]) -> dict[str, Any]:
    """A feature row as a default view shows it: a sensitive value redacted, and its
    context (which holds the value) withheld."""
    if row["kind"] not in SENSITIVE:
        return row
    return {**row, "value": redact(row["kind"], row["value"]), "context": "[redacted]"}


@dataclass(frozen=True)
class Located:
    """A carved file's span in the image, for placing hits inside it."""

    offset: int
    length: int
    sha256: str
    path: str


def locate(hit_offset: int, carves: Sequence[Located]) -> Located | None:
    """The innermost (shortest) carved file containing `hit_offset`, if any."""
    best = None
    for c in carves:
        if c.offset <= hit_offset < c.offset + c.length and (best is None or c.length < best.length):
            best = c
    return best


def feature_rows(
    hits: Iterable[rust_core.Feature], where: dict[str, Any], carves: Sequence[Located] = ()
) -> list[dict[str, Any]]:
    """Rows of FEATURE_SCHEMA for one window's hits; `where` names the case, job and image."""
    rows = []
    ordered = sorted(carves, key=lambda c: c.offset)
    for h in hits:
        inside = locate(h.offset, ordered) if ordered else None
        rows.append(
            {
                **where,
                "offset": h.offset,
                "length": h.length,
                "kind": h.kind,
                "value": h.value,
                "valid": h.valid,
                "encoding": h.encoding,
                "context": h.context,
                "artifact_sha256": inside.sha256 if inside else None,
                "artifact_offset": h.offset - inside.offset if inside else None,
                "artifact_path": inside.path if inside else None,
            }
        )
    return rows


class Histogram:
    """Per-kind counts of each distinct value, the way bulk_extractor's histograms count:
    all hits, and how many of them were UTF-16LE. Memory grows with distinct values, not hits."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}
        self.utf16: dict[str, Counter[str]] = {}
        self._ranked: dict[str, list[tuple[str, int, int]]] = {}

    def add(self, kinds: list[str], values: list[str], encodings: list[str]) -> None:
        """Count a batch of hits, given as columns (counted in C, not hit by hit)."""
        self._ranked.clear()
        pairs = list(zip(kinds, values, strict=True))
        for into, batch in (
            (self.counts, Counter(pairs)),
            (self.utf16, Counter(p for p, e in zip(pairs, encodings, strict=True) if e == "utf16le")),
        ):
            for (kind, value), n in batch.items():
                into.setdefault(kind, Counter())[value] += n

    def add_table(self, table: pa.Table) -> None:
        self.add(*(table.column(name).to_pylist() for name in ("kind", "value", "encoding")))

    def ranked(self, kind: str) -> list[tuple[str, int, int]]:
        """(value, count, utf16 count), most frequent first, then by value (sorted once per
        kind until more hits come: the text histograms and the table both ask)."""
        if kind not in self._ranked:
            utf16 = self.utf16.get(kind, Counter())
            items = sorted(self.counts.get(kind, Counter()).items(), key=lambda kv: (-kv[1], kv[0]))
            self._ranked[kind] = [(value, n, utf16[value]) for value, n in items]
        return self._ranked[kind]

    def kinds(self) -> list[str]:
        return sorted(self.counts)

    def table(self) -> pa.Table:
        columns: dict[str, list[Any]] = {"kind": [], "value": [], "count": [], "utf16_count": []}
        for kind in self.kinds():
            ranked = self.ranked(kind)
            columns["kind"].extend([kind] * len(ranked))
            for name, col in zip(("value", "count", "utf16_count"), zip(*ranked, strict=True), strict=False):
                columns[name].extend(col)
        return pa.table(columns, schema=HISTOGRAM_SCHEMA)


def features_part_key(part_key: str) -> str:
    """Where a task's feature rows go: beside its manifest part."""
    return part_key.removesuffix(".parquet") + "-features.parquet"


class SegmentFeatures:
    """A segment task's feature scan: sees the window carving reads (no second read), keeps
    the hits the segment owns, and writes them once the carves they may lie in are known."""

    def __init__(self, where: dict[str, Any], start: int, length: int) -> None:
        self.where, self.start, self.length = where, start, length
        self.hits: list[rust_core.Feature] = []

    def window(self, data: memoryview, at: int) -> None:
        """Scan the window `data`, whose first byte is at image offset `at`."""
        lead = self.start - at
        self.hits = scanner().scan(data, self.start, self.length, lead)

    def write(self, store: ObjectStore, part_key: str, carves: Sequence[Located]) -> Counter[str]:
        """Store the rows under the task's deterministic key; hits per kind."""
        from workers.store import RESULTS

        rows = feature_rows(self.hits, self.where, carves)
        store.put_rows(RESULTS, features_part_key(part_key), rows, FEATURE_SCHEMA)
        return Counter(h.kind for h in self.hits)


# Where each extracted file's content lies in the image, written beside a files part, so a
# feature hit found by image offset can name the file holding it.
RUNS_SCHEMA = pa.schema(
    [
        ("image_offset", pa.uint64()),
        ("length", pa.uint64()),
        ("file_offset", pa.uint64()),
        ("path", pa.string()),  # forensic path: fs@<filesystem offset>:<path in it>
        ("sha256", pa.string()),
    ]
)


def runs_part_key(part_key: str) -> str:
    return part_key.removesuffix(".parquet") + "-runs.parquet"


def file_path(fs_offset: int, path: str) -> str:
    """An extracted file's forensic path: its filesystem (by offset in the image) and path."""
    return f"fs@{fs_offset}:{path}"


class FileMap:
    """The runs of an image's extracted files, sorted, for placing hits inside files. Memory
    grows with the number of runs of the image's files (not with its bytes or its hits)."""

    def __init__(self, runs: pa.Table) -> None:
        runs = runs.sort_by("image_offset")
        self.starts: list[int] = runs.column("image_offset").to_pylist()
        self.lengths: list[int] = runs.column("length").to_pylist()
        self.file_offsets: list[int] = runs.column("file_offset").to_pylist()
        self.paths: list[str] = runs.column("path").to_pylist()
        self.sha256: list[str] = runs.column("sha256").to_pylist()

    def annotate(self, hits: pa.Table) -> pa.Table:
        """`hits` with artifact columns naming the extracted file a hit starts in (a file's
        path is preferred to a carve's: it is where the examiner will look)."""
        if not self.starts or hits.num_rows == 0:
            return hits
        names = ("artifact_sha256", "artifact_offset", "artifact_path")
        columns = {name: hits.column(name).to_pylist() for name in names}
        changed = False
        for row, offset in enumerate(hits.column("offset").to_pylist()):
            run = bisect.bisect_right(self.starts, offset) - 1
            if run < 0 or offset >= self.starts[run] + self.lengths[run]:
                continue
            columns["artifact_sha256"][row] = self.sha256[run]
            columns["artifact_offset"][row] = offset - self.starts[run] + self.file_offsets[run]
            columns["artifact_path"][row] = self.paths[run]
            changed = True
        if not changed:
            return hits
        for name in names:
            field = FEATURE_SCHEMA.field(name)
            hits = hits.set_column(hits.schema.get_field_index(name), field, pa.array(columns[name], field.type))
        return hits
