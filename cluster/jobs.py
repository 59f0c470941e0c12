"""The job journal: one durable JSON record per job in MinIO."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from workers.evidence import ImageRef
from workers.steps import JobContext
from workers.store import JOURNAL, ObjectStore

# A job is queued, running, cancelling, then done, partial (some segments or file batches
# failed for good; the summary names them), failed or cancelled.
TERMINAL = ("done", "partial", "failed", "cancelled")
UNFINISHED = ("queued", "running", "cancelling")
# How pictures get their perceptual hashes: on GPU nodes when the cluster has any, else by the
# Rust core (auto); always the Rust core (cpu); the GPU's tensor code wherever it runs (tensor:
# on a CPU node it runs on the CPU, for checks); not at all (off).
PERCEPTUAL_MODES = ("auto", "cpu", "tensor", "off")
DEFAULT_TASK_TIMEOUT = 1800
JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # what a job id may look like (new_job_id's are stricter)


def new_job_id() -> str:
    """Sortable by submission time, unique by its random tail."""
    return f"{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class JobRecord:
    id: str
    case: str
    images: list[dict[str, Any]]
    state: str = "queued"
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    started: str | None = None  # when the manager first took it up
    finished: str | None = None  # when it last ended (done, partial, failed or cancelled)
    bytes_total: int = 0
    bytes_done: int = 0
    segments_total: int = 0
    segments_done: int = 0
    error: str | None = None
    summary: dict[str, Any] | None = None
    hashing: dict[str, Any] = field(default_factory=dict)
    hash_sets: dict[str, str] = field(default_factory=dict)  # known-file set name -> version pinned
    carve: str = "all"  # "all" of each image, or only "unallocated" space (and space no filesystem claims)
    rule_sets: dict[str, str] = field(default_factory=dict)  # YARA rule set name -> version pinned
    yara_raw: bool = False  # also scan raw segment windows with the rule sets
    yara_timeout: int = JobContext.yara_timeout  # seconds per rule set and file (or window)
    priority: int = 0  # higher goes first when jobs compete for task slots
    task_timeout: int = DEFAULT_TASK_TIMEOUT  # seconds one attempt may run before it is retried
    profile: str | None = None  # the processing profile it was submitted with
    rerun_of: str | None = None  # the job this one repeats
    faults: list[str] = field(default_factory=list)  # faults injected on purpose (workers/faults.py)
    failed_tasks: list[dict[str, Any]] = field(default_factory=list)  # tasks that failed for good
    image_bytes_done: list[int] = field(default_factory=list)  # carving progress per image
    perceptual: str = "auto"  # pictures' PDQ/pHash: auto (GPU nodes when there are), cpu, tensor, off
    pdq_sets: dict[str, str] = field(default_factory=dict)  # known-image list name -> version pinned

    @classmethod
    def new(
        cls,
        case: str,
        images: list[ImageRef],
        hashing: dict[str, Any],
        expected: list[list[dict[str, str]]],
        hash_sets: dict[str, str],
        carve: str = "all",
        rule_sets: dict[str, str] | None = None,
        yara_raw: bool = False,
        yara_timeout: int = JobContext.yara_timeout,
        priority: int = 0,
        task_timeout: int = DEFAULT_TASK_TIMEOUT,
        profile: str | None = None,
        faults: list[str] | None = None,
        perceptual: str = "auto",
    ) -> JobRecord:
        return cls(
            id=new_job_id(),
            case=case,
            images=[
                {"path": i.path, "size": i.size, "format": i.format, "expected": e}
                for i, e in zip(images, expected, strict=True)
            ],
            bytes_total=sum(i.size for i in images),
            hashing=hashing,
            hash_sets=hash_sets,
            carve=carve,
            rule_sets=rule_sets or {},
            yara_raw=yara_raw,
            yara_timeout=yara_timeout,
            priority=priority,
            task_timeout=task_timeout,
            profile=profile,
            faults=list(faults or []),
            perceptual=perceptual,
        )

    def repeated(self) -> JobRecord:
        """A new job that does this one's work again from the start: the same images, pinned
        hash and rule set versions, and options."""
        now = _now()
        return replace(
            self,
            id=new_job_id(),
            state="queued",
            created=now,
            updated=now,
            started=None,
            finished=None,
            bytes_done=0,
            segments_total=0,
            segments_done=0,
            error=None,
            summary=None,
            failed_tasks=[],
            image_bytes_done=[],
            rerun_of=self.id,
        )

    def context(self) -> JobContext:
        """What every task of the job is told: the case, the job, the pinned sets, options."""
        return JobContext(
            case=self.case,
            job_id=self.id,
            hash_sets=tuple(sorted(self.hash_sets.items())),
            rule_sets=tuple(sorted(self.rule_sets.items())),
            yara_raw=self.yara_raw,
            yara_timeout=self.yara_timeout,
            faults=tuple(self.faults),
            pdq_sets=tuple(sorted(self.pdq_sets.items())),
        )

    def image_refs(self) -> list[ImageRef]:
        return [ImageRef(path=i["path"], size=i["size"], format=i.get("format", "raw")) for i in self.images]

    @property
    def progress(self) -> float:
        return self.bytes_done / self.bytes_total if self.bytes_total else 0.0


def record_key(job_id: str) -> str:
    return f"jobs/{job_id}.json"


class Journal:
    """Reads and writes job records; each save replaces the record whole."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def save(self, job: JobRecord) -> None:
        job.updated = _now()
        self.store.put_json(JOURNAL, record_key(job.id), asdict(job))

    def load(self, job_id: str) -> JobRecord:
        return JobRecord(**self.store.get_json(JOURNAL, record_key(job_id)))

    def find(self, job_id: str) -> JobRecord:
        """A job an operator named: ValueError naming it when there is no such job."""
        if not JOB_ID.fullmatch(job_id) or not self.store.exists(JOURNAL, record_key(job_id)):
            raise ValueError(f"no job {job_id[:80]!r} (see `quarry jobs`)")
        return self.load(job_id)

    def all(self) -> list[JobRecord]:
        return [
            JobRecord(**self.store.get_json(JOURNAL, key)) for key in self.store.list_keys(JOURNAL, "jobs/", ".json")
        ]
