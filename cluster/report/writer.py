"""Where a report's files go: a local folder first (written as they are made, one row at a
time), then the same files to MinIO under `quarry-results/<case>/<job>/report/`.

The local folder is never overwritten (as `quarry carve` and `quarry scan` refuse a folder
that holds anything); MinIO's copies are replaced whole when a job is reported again, under
the same keys, so the latest report of a job is always the one stored beside its results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from cluster.local_pool import prepare_output
from workers.store import RESULTS, ObjectStore

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".jsonld": "application/ld+json",
    ".txt": "text/plain; charset=utf-8",
}


def report_prefix(case: str, job_id: str) -> str:
    return f"{case}/{job_id}/report/"


@dataclass
class Written:
    """One file of the report: its path in the report, what it holds, its size and digest."""

    name: str
    what: str
    size: int = 0
    sha256: str = ""


class ReportFolder:
    """The report's files, made in a local folder and then stored in MinIO."""

    def __init__(self, root: Path) -> None:
        prepare_output(root, "reports")
        self.root = root
        self.files: list[Written] = []

    def open_text(self, name: str) -> TextIO:
        """A new UTF-8 text file `name` (a path inside the report), open for writing."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "x", encoding="utf-8", newline="\n")

    @contextmanager
    def text(self, name: str) -> Iterator[TextIO]:
        """`open_text` as a context: the file is closed when the block ends."""
        with self.open_text(name) as f:
            yield f

    def done(self, name: str, what: str) -> Written:
        """Record a finished file (with its size and SHA-256) under what it holds."""
        path = self.root / name
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        written = Written(name, what, path.stat().st_size, digest.hexdigest())
        self.files.append(written)
        return written

    def upload(self, store: ObjectStore, case: str, job_id: str) -> str:
        """Store every finished file under the job's report prefix; returns the prefix."""
        prefix = report_prefix(case, job_id)
        for w in self.files:
            content_type = CONTENT_TYPES.get(Path(w.name).suffix, "application/octet-stream")
            store.put_file(RESULTS, prefix + w.name, str(self.root / w.name), content_type)
        return prefix
