"""Each finished task's result, kept in the journal so that a job picks up where it was.

When a task's result lands, the job manager writes it here before using it. A manager that
was killed or restarted, a cancelled job taken up again, or a re-run of a job's failed
parts reads these back and starts only the tasks that have none: no finished segment is
carved twice. Results are JSON (readable by an examiner, never executed on load).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields, is_dataclass
from typing import Any

from workers.carving import SegmentResult
from workers.files import FilesResult, Listing
from workers.hashing import ImageDigests
from workers.perceptual import PerceptualResult
from workers.store import JOURNAL, ObjectStore

TYPES: dict[str, type] = {t.__name__: t for t in (SegmentResult, FilesResult, Listing, ImageDigests, PerceptualResult)}


def done_prefix(case: str, job_id: str) -> str:
    return f"{case}/{job_id}/done/"


def done_key(case: str, job_id: str, step: str, key: str) -> str:
    return f"{done_prefix(case, job_id)}{step}/{key}.json"


def encode(result: Any) -> bytes:
    if not is_dataclass(result) or type(result).__name__ not in TYPES:
        raise TypeError(f"a task result of type {type(result).__name__} cannot be kept")
    # Not dataclasses.asdict: it rebuilds a Counter from (key, count) pairs and so mangles it.
    values = {f.name: _plain(getattr(result, f.name)) for f in fields(result)}
    return json.dumps({"type": type(result).__name__, "fields": values}, sort_keys=True).encode()


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Counter) else value


def decode(data: bytes) -> Any:
    """A result as the task returned it (counters as Counters, ranges as tuples)."""
    doc = json.loads(data)
    cls = TYPES[doc["type"]]
    values = doc["fields"]
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in values:
            continue
        value = values[f.name]
        if f.default_factory is Counter:  # type: ignore[comparison-overlap]
            value = Counter(value)
        elif f.name == "unallocated" and value is not None:
            value = [tuple(r) for r in value]
        kwargs[f.name] = value
    return cls(**kwargs)


class TaskResults:
    """The finished tasks of one job: (step, key) -> result."""

    def __init__(self, store: ObjectStore, case: str, job_id: str) -> None:
        self.store, self.case, self.job_id = store, case, job_id

    def save(self, step: str, key: str, result: Any) -> None:
        self.store.put_bytes(JOURNAL, done_key(self.case, self.job_id, step, key), encode(result), "application/json")

    def load(self) -> dict[tuple[str, str], Any]:
        """Every result kept so far (one small JSON per task: a job has thousands at most)."""
        prefix = done_prefix(self.case, self.job_id)
        out: dict[tuple[str, str], Any] = {}
        for name in self.store.list_keys(JOURNAL, prefix, ".json"):
            step, _, key = name[len(prefix) : -len(".json")].partition("/")
            out[(step, key)] = decode(self.store.get_bytes(JOURNAL, name))
        return out
