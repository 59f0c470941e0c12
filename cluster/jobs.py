"""The job journal: one durable JSON record per job in MinIO."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from workers.evidence import ImageRef
from workers.steps import JobContext
from workers.store import JOURNAL, ObjectStore

TERMINAL = ("done", "failed")


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
    ) -> JobRecord:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        return cls(
            id=f"{stamp}-{secrets.token_hex(3)}",
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

    def all(self) -> list[JobRecord]:
        return [
            JobRecord(**self.store.get_json(JOURNAL, key)) for key in self.store.list_keys(JOURNAL, "jobs/", ".json")
        ]
