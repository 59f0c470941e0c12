"""Where one artifact came from: every manifest row that holds its SHA-256 (across jobs and
cases), and for each job the record an examiner must be able to cite: the pinned hash-set
and rule-set versions, the step and core versions that produced the content, when the job
ran, and each image's digests and intake verification.

Rows are streamed from the catalog, never gathered; what is kept is one small record per
job met (a digest is found in few jobs, even when it is found in many places).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cluster.catalog import find_by_sha256
from cluster.jobs import record_key
from workers.store import JOURNAL, ObjectStore, StoreUnavailable

SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_sha256(text: str) -> str:
    """A SHA-256 as typed by a user (either case, surrounding blanks ignored), in lower case."""
    value = text.strip()
    if not SHA256_HEX.fullmatch(value):
        raise ValueError(f"sha256 {text!r}: expected 64 hexadecimal digits, got {len(value)} characters")
    return value.lower()


def split_step_version(step_version: str | None) -> tuple[str | None, str | None]:
    """'4+core0.1.0' -> ('4', '0.1.0'): the step's own version and the Rust core's."""
    if not step_version:
        return None, None
    step, sep, core = step_version.partition("+core")
    return step, (core if sep else None)


@dataclass
class ImageProvenance:
    """One image of a job as its summary recorded it at the end of the job."""

    index: int
    path: str
    format: str | None = None
    size: int | None = None
    digests: dict[str, str] = field(default_factory=dict)
    verification: dict[str, Any] | None = None  # intake: {"result": match|mismatch|absent, "checks": [...]}


@dataclass
class JobProvenance:
    """What a job pinned and recorded, and which step versions produced the content in it."""

    job: str
    case: str
    state: str | None = None
    submitted: str | None = None
    started: str | None = None
    finished: str | None = None
    seconds: float | None = None
    hash_sets: dict[str, str] = field(default_factory=dict)
    rule_sets: dict[str, str] = field(default_factory=dict)
    integrity: str | None = None
    images: list[ImageProvenance] = field(default_factory=list)
    steps: dict[str, list[str]] = field(default_factory=dict)  # step -> its versions among this content's rows
    core: list[str] = field(default_factory=list)  # Rust core versions among this content's rows
    places: int = 0
    found_in: list[int] = field(default_factory=list)  # indexes of the images holding the content
    missing_record: bool = False  # the journal no longer holds the job's record

    def image(self, index: int) -> ImageProvenance | None:
        return next((i for i in self.images if i.index == index), None)

    def images_found(self) -> list[ImageProvenance]:
        """The job's images that hold the content (a job may have many more)."""
        return [i for i in self.images if i.index in self.found_in]

    def saw(self, row: dict[str, Any]) -> None:
        """Count one place of the content in this job and note the versions that produced it."""
        self.places += 1
        if row.get("image_index") is not None and row["image_index"] not in self.found_in:
            self.found_in.append(row["image_index"])
            self.found_in.sort()
        step = row.get("step")
        version, core = split_step_version(row.get("step_version"))
        if step:
            versions = self.steps.setdefault(step, [])
            if version and version not in versions:
                versions.append(version)
                versions.sort()
        if core and core not in self.core:
            self.core.append(core)
            self.core.sort()

    def as_dict(self) -> dict[str, Any]:
        """The job as JSON, with only the images that hold the content."""
        doc = asdict(self)
        doc["images"] = [asdict(i) for i in self.images_found()]
        return doc


def job_times(record: dict[str, Any], seconds: float | None) -> tuple[str | None, str | None]:
    """A job's finish time and start time. The journal saves a record last when the job ends
    (its `updated`), and the summary gives the job's duration, so the start is the finish
    less the duration (to the second). A record that says `started`/`finished` itself wins."""
    finished = record.get("finished") or (record.get("updated") if record.get("state") in ("done", "failed") else None)
    started = record.get("started")
    if started is None and finished and seconds is not None:
        try:
            end = datetime.strptime(finished, TIME_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return finished, None
        started = (end - timedelta(seconds=round(seconds))).strftime(TIME_FORMAT)
    return finished, started


def job_provenance(store: ObjectStore, case: str, job_id: str) -> JobProvenance:
    """A job's record from the journal, reduced to what provenance cites."""
    try:
        record = store.get_json(JOURNAL, record_key(job_id))
    except StoreUnavailable:
        if store.exists(JOURNAL, record_key(job_id)):
            raise
        return JobProvenance(job=job_id, case=case, missing_record=True)
    summary = record.get("summary") or {}
    seconds = summary.get("seconds")
    finished, started = job_times(record, seconds)
    images = []
    for index, img in enumerate(summary.get("images") or record.get("images") or []):
        images.append(
            ImageProvenance(
                index=index,
                path=img.get("path", ""),
                format=img.get("format"),
                size=img.get("size"),
                digests=dict(img.get("digests") or {}),
                verification=img.get("verification"),
            )
        )
    return JobProvenance(
        job=job_id,
        case=record.get("case", case),
        state=record.get("state"),
        submitted=record.get("created"),
        started=started,
        finished=finished,
        seconds=seconds,
        hash_sets=dict(sorted((record.get("hash_sets") or {}).items())),
        rule_sets=dict(sorted((record.get("rule_sets") or {}).items())),
        integrity=summary.get("integrity"),
        images=images,
    )


class Provenance:
    """A digest's places, streamed, and the jobs they lie in, collected as they are met."""

    def __init__(
        self, store: ObjectStore, sha256: str, case: str | None = None, within: tuple[str, ...] | None = None
    ) -> None:
        self.store = store
        self.sha256 = parse_sha256(sha256)
        self.case = case
        self.within = within  # the cases the asker may see (None: every case)
        self.jobs: dict[str, JobProvenance] = {}

    def admits(self, row: dict[str, Any]) -> bool:
        """Whether a row lies in the case asked and the cases the asker may see."""
        case = row.get("case")
        return (self.case is None or case == self.case) and (self.within is None or case in self.within)

    def first(self) -> dict[str, Any] | None:
        """One manifest row holding the digest (in the case asked), or None: whether it is known."""
        rows = find_by_sha256(self.store, self.sha256, self.case, self.within)
        try:
            return next((r for r in rows if self.admits(r)), None)
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()

    def places(self) -> Iterator[dict[str, Any]]:
        """Every manifest row holding the digest (only the case asked, when one was), each as
        the catalog gives it; the row's job is recorded in `jobs` before the row is yielded."""
        for row in find_by_sha256(self.store, self.sha256, self.case, self.within):
            if not self.admits(row):
                continue
            job_id = row["job"]
            job = self.jobs.get(job_id)
            if job is None:
                job = self.jobs[job_id] = job_provenance(self.store, row["case"], job_id)
            job.saw(row)
            yield row
