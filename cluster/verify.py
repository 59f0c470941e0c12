"""`quarry verify`: re-hash a job's images (and, if asked, its stored artifacts), check the
seals on its result tables, and report every difference from what the job recorded, down
to the piecewise window."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cluster.catalog import iter_manifest
from cluster.jobs import Journal
from cluster.seals import SealCheck, check_seals
from workers.artifacts import IDENTITY, chunk_digests
from workers.evidence import EvidenceError
from workers.hashing import HashPlan, hash_stream
from workers.images import open_image
from workers.store import ARTIFACTS, RESULTS, ObjectStore, artifact_key

DETAIL_LIMIT = 20  # changed windows listed one by one; the rest are counted


@dataclass
class ImageCheck:
    path: str
    result: str = "unchanged"  # unchanged | changed | unreadable
    digests: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (recorded, now), differing only
    size: tuple[int, int] | None = None  # (recorded, now) when different
    windows_changed: int = 0
    windows_checked: int = 0
    changed_ranges: list[tuple[int, int]] = field(default_factory=list)  # (offset, length), first DETAIL_LIMIT
    message: str = ""


class WindowComparer:
    """Receives window rows as the image is re-hashed and compares them with the rows
    the job stored, reading both in step (bounded memory)."""

    def __init__(self, stored: pq.ParquetFile, plan: HashPlan, check: ImageCheck) -> None:
        self.rows = self._rows(stored)
        self.columns = plan.window_algorithms
        self.check = check

    @staticmethod
    def _rows(stored: pq.ParquetFile) -> Iterator[dict[str, Any]]:
        for batch in stored.iter_batches(batch_size=4096):
            yield from batch.to_pylist()

    def write_table(self, table: pa.Table) -> None:
        for row in table.to_pylist():
            before = next(self.rows, None)
            self.check.windows_checked += 1
            if before is None or any(before[c] != row[c] for c in self.columns) or before["length"] != row["length"]:
                self.check.windows_changed += 1
                if len(self.check.changed_ranges) < DETAIL_LIMIT:
                    self.check.changed_ranges.append((row["offset"], row["length"]))


def verify_image(store: ObjectStore, image: dict[str, Any]) -> ImageCheck:
    """Re-hash one image of a job summary and compare digests and windows."""
    check = ImageCheck(path=image["path"])
    plan = HashPlan.from_dict(image["windows"]["plan"])
    key = image["windows"]["key"]
    with tempfile.TemporaryDirectory(prefix="quarry-verify-") as tmp:
        comparer = None
        if key:
            local = os.path.join(tmp, "windows.parquet")
            store.get_file(RESULTS, key, local)
            comparer = WindowComparer(pq.ParquetFile(local), plan, check)
        try:
            with open_image(image["path"], store.config) as media:
                if media.size != image["size"]:
                    check.size = (image["size"], media.size)
                now, _ = hash_stream(media, plan, comparer)
        except EvidenceError as exc:
            check.result, check.message = "unreadable", str(exc)
            return check
    for name, recorded in image["digests"].items():
        if now.get(name) != recorded:
            check.digests[name] = (recorded, now.get(name, ""))
    if check.digests or check.size or check.windows_changed:
        check.result = "changed"
    return check


@dataclass
class ArtifactReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)


def verify_artifacts(store: ObjectStore, case: str, job_id: str, report: ArtifactReport) -> None:
    """Re-hash every stored artifact the job's manifest lists against its recorded digests."""
    for row in iter_manifest(store, case, job_id, ["sha256", "md5", "sha1"]):
        report.checked += 1
        key = artifact_key(row["sha256"])
        if not store.exists(ARTIFACTS, key):
            report.missing.append(row["sha256"])
            continue
        now = chunk_digests(store.iter_chunks(ARTIFACTS, key), similarity=False)
        if any(now[name] != row[name] for name in IDENTITY):
            report.altered.append(row["sha256"])


def verify_job(
    store: ObjectStore, job_id: str, artifacts: bool
) -> tuple[list[ImageCheck], ArtifactReport | None, list[SealCheck]]:
    job = Journal(store).find(job_id)
    if job.summary is None:
        raise ValueError(f"job {job_id} has no results to verify (state {job.state})")
    images = [verify_image(store, image) for image in job.summary["images"]]
    report = None
    if artifacts:
        report = ArtifactReport()
        verify_artifacts(store, job.case, job.id, report)
    return images, report, check_seals(store, job.summary.get("seals", []))
