"""What every step shares: the job it works for, the node it ran on, and the report the
job manager counts its metrics from.

Metrics leave the workers inside task results (docs/decisions.md, "Metrics"): each Ray
task returns its step's result with a `TaskReport` (where every attempt ran, what it wrote
to MinIO), and the manager counts a task when its final result lands, so a retried task
never counts its bytes twice. Attempts are recorded in the journal as they start, which is
also how a task that failed for good is put on the node that ran it last.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import ray

from workers.faults import inject
from workers.store import JOURNAL, ObjectStore, StoreConfig, StoreStats, shared_store

R = TypeVar("R")


@dataclass(frozen=True)
class JobContext:
    """The job a task works for, passed to every step by reference-sized value."""

    case: str
    job_id: str
    hash_sets: tuple[tuple[str, str], ...] = ()  # (name, version) pinned at submit
    rule_sets: tuple[tuple[str, str], ...] = ()  # YARA rule sets (name, version) pinned at submit
    yara_raw: bool = False  # also scan raw segment windows with the rule sets, not only files
    yara_timeout: int = 10  # seconds one rule set may take over one file or window
    faults: tuple[str, ...] = ()  # faults injected on purpose (workers/faults.py)
    pdq_sets: tuple[tuple[str, str], ...] = ()  # known-image lists (name, version) pinned at submit


def current_node() -> str:
    """The Ray node this task runs on (a bounded label for metrics)."""
    if not ray.is_initialized():  # called directly, outside Ray (a test, a benchmark)
        return "local"
    return ray.get_runtime_context().get_node_id()


@dataclass(frozen=True)
class TaskReport:
    """What the manager counts for a task besides its result."""

    step: str
    key: str  # the task within its job: img0000-seg0000012, img0001-batch00003...
    attempts: tuple[str, ...]  # the node of each attempt, first to last
    store: StoreStats


@dataclass(frozen=True)
class Reported(Generic[R]):
    result: R
    report: TaskReport


def image_key(image: Any, image_index: int, *_: Any) -> str:
    """The key of a task that works a whole image (hashing it, listing its files)."""
    return f"img{image_index:04d}"


def attempts_prefix(case: str, job_id: str, step: str, key: str) -> str:
    return f"{case}/{job_id}/attempts/{step}/{key}/"


def attempt_nodes(store: ObjectStore, case: str, job_id: str, step: str, key: str) -> tuple[str, ...]:
    """The nodes a task's attempts started on, in the order they started."""
    names = store.list_keys(JOURNAL, attempts_prefix(case, job_id, step, key))
    return tuple(name.rsplit("/", 1)[1].split("-", 1)[1] for name in names)


def last_attempt_started(store: ObjectStore, case: str, job_id: str, step: str, key: str) -> float | None:
    """When the task's latest attempt started (seconds since the epoch), None before any has."""
    names = store.list_keys(JOURNAL, attempts_prefix(case, job_id, step, key))
    return int(names[-1].rsplit("/", 1)[1].split("-", 1)[0]) / 1e9 if names else None


def reported(step: str, key_of: Callable[..., str], fn: Callable[..., R]) -> Callable[..., Reported[R]]:
    """A step function `fn(config, ctx, *args)` as a Ray task body: records the attempt in
    the journal before working, and returns the result with its `TaskReport`."""

    @functools.wraps(fn)
    def task(config: StoreConfig, ctx: JobContext, *args: Any) -> Reported[R]:
        store, key = shared_store(config), key_of(*args)
        store.take_stats()  # what an earlier task in this worker process left is not this one's
        marker = f"{attempts_prefix(ctx.case, ctx.job_id, step, key)}{time.time_ns():020d}-{current_node()}"
        # The process id lets an operator (or a fault test) find the worker running the attempt.
        store.put_bytes(JOURNAL, marker, json.dumps({"pid": os.getpid()}).encode(), "application/json")
        if ctx.faults:
            inject(ctx.faults, step, key, len(attempt_nodes(store, ctx.case, ctx.job_id, step, key)))
        result = fn(config, ctx, *args)
        attempts = attempt_nodes(store, ctx.case, ctx.job_id, step, key)
        return Reported(result, TaskReport(step, key, attempts, store.take_stats()))

    return task
