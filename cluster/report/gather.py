"""What a report reads about a finished job, read the way the rest of Quarry reads results:
the job record from the journal, and the job's Parquet tables in MinIO streamed batch by
batch (never a whole table in memory).

Where an artifact lies in its image: a carved file's byte runs are in its manifest row (one
run when it is whole, several when it was reassembled); an extracted filesystem file's runs
were written by its files task beside its part (`parts/...-runs.parquet`), and are read here
one image at a time, as the job's own feature assembly reads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cluster.jobs import JobRecord, Journal
from cluster.results import summary_key
from workers import files
from workers.features import file_path
from workers.store import JOURNAL, RESULTS, ObjectStore, s3_filesystem

BATCH_ROWS = 4096


def load_finished_job(store: ObjectStore, job_id: str) -> tuple[JobRecord, dict[str, Any]]:
    """The job's record and summary; a clear error for an unknown job or one not done."""
    job = Journal(store).find(job_id)
    if job.state == "failed":
        raise ValueError(f"job {job_id} failed ({job.error}); there is nothing to report")
    if job.state not in ("done", "partial"):
        raise ValueError(f"job {job_id} is not finished (state {job.state}); report it once it is done")
    summary = job.summary or store.get_json(RESULTS, summary_key(job.case, job.id))
    return job, summary


def iter_rows(store: ObjectStore, key: str, columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Rows of a Parquet object in RESULTS, one batch in memory at a time; nothing when the
    object is absent (a job written before that table existed)."""
    if store.size(RESULTS, key) is None:
        return
    with s3_filesystem(store.config).open_input_file(f"{RESULTS}/{key}") as f:
        parquet = pq.ParquetFile(f)
        wanted = [c for c in columns if c in parquet.schema_arrow.names] if columns else None
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=wanted):
            yield from batch.to_pylist()


@dataclass(frozen=True)
class Run:
    """Bytes of an artifact in its image: `length` bytes at `img_offset`, which are the
    artifact's bytes from `file_offset` on."""

    img_offset: int
    length: int
    file_offset: int


def carved_runs(row: dict[str, Any]) -> list[Run]:
    """A carved file's runs: its manifest runs (reassembled from fragments), else one run."""
    if row.get("runs"):
        runs, at = [], 0
        for offset, length in row["runs"]:
            runs.append(Run(offset, length, at))
            at += length
        return runs
    return [Run(row["offset"], row["length"], 0)]


def forensic_path(row: dict[str, Any]) -> str:
    """Where an artifact was found, as features name it: `fs@<fs offset>:<path>` for a
    filesystem file, `carved/<type>/<offset>` for a carve."""
    if row.get("path") is not None:
        return file_path(row["fs_offset"] or 0, row["path"])
    return f"carved/{row['type']}/{row['offset']}"


class FileRuns:
    """The data runs of one image's extracted files at a time, by forensic path and digest.
    Memory grows with the runs of one image's files, not with its bytes."""

    def __init__(self, store: ObjectStore, case: str, job_id: str) -> None:
        self.store, self.prefix = store, f"{case}/{job_id}/parts/"
        self.image: int | None = None
        self.runs: dict[tuple[str, str], list[Run]] = {}

    def _load(self, image: int) -> None:
        self.image, self.runs = image, {}
        for key in self.store.list_keys(RESULTS, f"{self.prefix}img{image:04d}-files", "-runs.parquet"):
            for r in iter_rows(self.store, key):
                run = Run(r["image_offset"], r["length"], r["file_offset"])
                self.runs.setdefault((r["path"], r["sha256"]), []).append(run)
        for runs in self.runs.values():
            runs.sort(key=lambda r: r.file_offset)

    def of(self, row: dict[str, Any]) -> list[Run]:
        """Where the artifact of a manifest row lies in its image (empty when unknown, as for
        data resident in NTFS metadata)."""
        if row.get("path") is None:
            return carved_runs(row)
        if row["image_index"] != self.image:
            self._load(row["image_index"])
        return self.runs.get((forensic_path(row), row["sha256"]), [])


@dataclass
class StepRun:
    """One step of a job as its attempt markers in the journal tell it."""

    step: str
    tasks: set[str] = field(default_factory=set)
    attempts: int = 0
    nodes: set[str] = field(default_factory=set)
    first_start: int | None = None  # nanoseconds since the epoch
    last_start: int | None = None

    @property
    def retries(self) -> int:
        return self.attempts - len(self.tasks)


def step_runs(store: ObjectStore, case: str, job_id: str) -> list[StepRun]:
    """Every step's tasks, attempts, nodes and first/last start, from the journal's markers
    (`<case>/<job>/attempts/<step>/<task>/<time ns>-<node>`), in order of first start."""
    prefix = f"{case}/{job_id}/attempts/"
    steps: dict[str, StepRun] = {}
    for key in store.list_keys(JOURNAL, prefix):
        parts = key[len(prefix) :].split("/")
        if len(parts) != 3 or "-" not in parts[2]:
            continue
        step, task, marker = parts
        stamp, node = marker.split("-", 1)
        if not stamp.isdigit():
            continue
        s = steps.setdefault(step, StepRun(step))
        s.tasks.add(task)
        s.attempts += 1
        s.nodes.add(node)
        ns = int(stamp)
        s.first_start = ns if s.first_start is None else min(s.first_start, ns)
        s.last_start = ns if s.last_start is None else max(s.last_start, ns)
    return sorted(steps.values(), key=lambda s: (s.first_start or 0, s.step))


def iso_utc(seconds: float | None) -> str | None:
    """Seconds since the epoch as ISO-8601 UTC (`2017-07-14T02:40:00Z`); None for none or a
    time no calendar year 1..9999 holds."""
    if seconds is None:
        return None
    try:
        moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def timeline_range(store: ObjectStore, key: str | None) -> tuple[int, str | None, str | None]:
    """Rows of an image's timeline and its earliest and latest time (ISO-8601 UTC), read a
    batch at a time."""
    rows, low, high = 0, None, None
    if not key or store.size(RESULTS, key) is None:
        return 0, None, None
    with s3_filesystem(store.config).open_input_file(f"{RESULTS}/{key}") as f:
        for batch in pq.ParquetFile(f).iter_batches(batch_size=65536, columns=["time"]):
            if batch.num_rows == 0:
                continue
            rows += batch.num_rows
            span = pc.min_max(batch.column(0).cast(pa.int64())).as_py()  # microseconds since the epoch
            low = span["min"] if low is None else min(low, span["min"])
            high = span["max"] if high is None else max(high, span["max"])
    return rows, *(None if t is None else iso_utc(t / 1e6) for t in (low, high))


# A manifest row names the step that wrote it; its attempts are recorded under the task's
# step, which differs for extracted files (rows `scan_files`, tasks `extract_files`).
TASK_STEPS = {files.STEP: files.EXTRACT_STEP}


def task_step(manifest_step: str) -> str:
    """The journal's step name for the tasks that wrote rows of `manifest_step`."""
    return TASK_STEPS.get(manifest_step, manifest_step)
