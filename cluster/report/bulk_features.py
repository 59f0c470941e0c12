"""Feature files in bulk_extractor's layout, one folder per image (`features/img0000/`), as
bulk_extractor writes one output folder per image: `<kind>.txt` with `# ` header lines and
then `offset<TAB>feature<TAB>context` per hit in image order, and `<kind>_histogram.txt`
with `n=COUNT<TAB>value` lines, most frequent first. A kind without hits in an image has
no files there. Offsets are plain decimal offsets in the image, as bulk_extractor writes
them for raw data; values are escaped as `quarry scan` writes them (tab, line ends and `\\`
as `\\xNN`); contexts are stored escaped already.

Redaction: these files are the evidence export, the lab's working copy, so values are
written in full, as bulk_extractor and `quarry scan` write them. With `redact` (the
`--redact` option, for a copy handed to someone who must not hold card numbers, seed
phrases or private keys) sensitive kinds are written as `quarry find` shows them: the
value redacted and the context withheld. The HTML report always redacts them.

The job's feature table is in image order (its parts are assembled by key: image, then
segment), so one image's files are open at a time; each image's histogram is counted as
its hits go by (memory grows with its distinct values, as bulk_extractor's does).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, TextIO

from cluster.report.writer import ReportFolder
from cluster.scan_local import escape_value
from workers.features import SENSITIVE, Histogram, redact

REDACTED_CONTEXT = "[redacted]"
PENDING = 4096  # hits counted into a histogram at once


class BulkFeatures:
    """Writes each image's feature files and histograms as the job's hits stream past."""

    def __init__(self, folder: ReportFolder, images: list[dict[str, Any]], heading: list[str], redact: bool) -> None:
        self.folder, self.images, self.heading, self.redact = folder, images, heading, redact
        self.image: int | None = None
        self.done_images: set[int] = set()
        self.open: dict[str, TextIO] = {}
        self.names: dict[str, str] = {}  # kind -> file name in the report
        self.histogram = Histogram()
        self.pending: list[tuple[str, str, str]] = []  # hits not yet counted into the histogram
        self.hits: Counter[tuple[int, str]] = Counter()  # (image, kind) -> hits written

    def _folder(self, image: int) -> str:
        return f"features/img{image:04d}"

    def _header(self, kind: str, what: str) -> str:
        img = self.images[self.image or 0]
        lines = [
            f"Quarry {what} in bulk_extractor's layout",
            f"Feature-Recorder: {kind}",
            f"Filename: {escape_value(img['path'])}",
            f"Image-SHA256: {img.get('digests', {}).get('sha256', '')}",
            *self.heading,
            "Feature-File-Version: 1.1",
            f"Values: {'sensitive kinds redacted' if self.redact else 'in full'}",
        ]
        return "".join(f"# {line}\n" for line in lines)

    def add(self, row: dict[str, Any]) -> None:
        image, kind = row["image_index"], row["kind"]
        if image != self.image:
            self._finish_image()
            if image in self.done_images:
                raise ValueError(f"the job's feature table is not in image order (image {image} came back)")
            self.image = image
        value, context = row["value"], row["context"]
        if self.redact and kind in SENSITIVE:
            value, context = redact(kind, value), REDACTED_CONTEXT
        if kind not in self.open:
            name = f"{self._folder(image)}/{kind}.txt"
            self.open[kind] = self.folder.open_text(name)
            self.names[kind] = name
            self.open[kind].write(self._header(kind, "feature file") + "# offset\tfeature\tcontext\n")
        self.open[kind].write(f"{row['offset']}\t{escape_value(value)}\t{context}\n")
        self.pending.append((kind, value, row["encoding"]))
        if len(self.pending) >= PENDING:
            self._count()
        self.hits[(image, kind)] += 1

    def _count(self) -> None:
        """Count the pending hits into the image's histogram (a batch at a time, in C)."""
        if self.pending:
            self.histogram.add(*(list(column) for column in zip(*self.pending, strict=True)))
            self.pending = []

    def _finish_image(self) -> None:
        if self.image is None:
            return
        self._count()
        for kind, f in self.open.items():
            f.close()
            self.folder.done(self.names[kind], f"{self.hits[(self.image, kind)]} {kind} hits")
        for kind in self.histogram.kinds():
            name = f"{self._folder(self.image)}/{kind}_histogram.txt"
            ranked = self.histogram.ranked(kind)
            with self.folder.text(name) as f:
                f.write(self._header(kind, "histogram"))
                for value, n, utf16 in ranked:
                    f.write(f"n={n}\t{escape_value(value)}" + (f"\t(utf16={utf16})" if utf16 else "") + "\n")
            self.folder.done(name, f"{len(ranked)} distinct {kind} values")
        self.done_images.add(self.image)
        self.open, self.names, self.histogram = {}, {}, Histogram()

    def close(self) -> None:
        self._finish_image()
        self.image = None
