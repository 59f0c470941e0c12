"""One job's tasks driven to the end, whatever dies on the way.

Every task has a key within its job. A task's result is kept in the journal (task_results)
before it is used, so a job taken up again starts only tasks without one. Tasks take slots
from the shared pool (scheduler), so in-flight work stays capped and goes by priority.

What goes wrong, and what is done about it:
- a worker process or a node dies: Ray runs the task again (its own retries);
- a task raises: it is started again, up to MAX_FAILURES attempts in all;
- MinIO is down: the task is started again after a pause, for up to PATIENCE seconds,
  without using up its attempts;
- a task runs past the job's task timeout (counted from when its attempt started): it is
  cancelled, its worker stopped, and it counts as a failed attempt;
- a task fails for good: an image's hashing or listing fails the job (its results would
  have no identity); a segment or a batch of files is recorded as failed, with its error,
  and the rest of the job goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import ray

from cluster.jobs import JobRecord
from cluster.metrics import Metrics
from cluster.patience import PATIENCE, patiently
from cluster.scheduler import Claim, Slots
from cluster.task_results import TaskResults
from workers.steps import Reported, attempt_nodes, last_attempt_started
from workers.store import ObjectStore, StoreUnavailable

log = logging.getLogger(__name__)

MAX_FAILURES = 3  # attempts that raised or timed out before a task is given up
TIMEOUT_CHECK = 5.0  # seconds between looks at one overdue task's start time
POLL = 0.5  # seconds the loop waits for a result before it looks at timeouts and slots


class Cancelled(Exception):
    """The job was cancelled; what finished before is kept."""


class TaskFailed(Exception):
    """A task the job cannot do without failed for good."""


@dataclass
class TaskSpec:
    """A task to run: how to start it and what to do with its result."""

    step: str
    key: str
    launch: Callable[[], ray.ObjectRef]
    on_result: Callable[[Any], None]
    count: Callable[[Any], None] | None = None  # metrics of a fresh result (a kept one was counted)
    fatal: bool = False
    about: dict[str, Any] = field(default_factory=dict)  # what a failure record says (image, offset...)


@dataclass
class Flight:
    spec: TaskSpec
    launched: float
    checked: float = 0.0


def error_text(exc: BaseException) -> str:
    """One line: the task's own exception when Ray wraps it."""
    cause = getattr(exc, "cause", None) or exc
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[-1] if text else ''}".rstrip(": ")


class JobRun:
    def __init__(
        self,
        job: JobRecord,
        store: ObjectStore,
        metrics: Metrics,
        slots: Slots,
        cancel: threading.Event,
        tick: Callable[[], None] | None = None,
    ) -> None:
        self.job, self.store, self.metrics, self.slots, self.cancel = job, store, metrics, slots, cancel
        self.tick = tick  # called every turn of the loop (the manager writes progress it held back)
        self.results = TaskResults(store, job.case, job.id)
        self.kept = patiently(self.results.load)
        self.queue: deque[TaskSpec] = deque()
        self.retries: list[tuple[float, TaskSpec]] = []
        self.pending: dict[ray.ObjectRef, Flight] = {}
        self.failures: Counter[tuple[str, str]] = Counter()
        self.outage_since: dict[tuple[str, str], float] = {}
        self.outage_tries: Counter[tuple[str, str]] = Counter()
        self.failed: list[dict[str, Any]] = []
        self.claim = Claim(job.priority, f"{job.created}-{job.id}")

    def add(self, spec: TaskSpec) -> None:
        """Queue a task; one whose result is kept from before hands it over at once."""
        kept = self.kept.get((spec.step, spec.key))
        if kept is not None:
            spec.on_result(kept)
            return
        self.metrics.tasks_pending.labels(spec.step).inc()
        self.queue.append(spec)

    def drive(self, specs: Iterable[TaskSpec]) -> None:
        """Run the tasks (and those their results add) until none is left."""
        for spec in specs:
            self.add(spec)
        try:
            while self.queue or self.pending or self.retries:
                if self.cancel.is_set():
                    raise Cancelled(f"job {self.job.id} cancelled")
                if self.tick is not None:
                    self.tick()
                self._launch()
                if self.pending:
                    ready, _ = ray.wait(list(self.pending), num_returns=1, timeout=POLL)
                    for ref in ready:
                        self._land(ref, self.pending.pop(ref))
                    self._check_timeouts()
                elif self.queue or self.retries:
                    self.slots.wait(POLL)
        finally:
            self._stop_all()

    def _launch(self) -> None:
        now = time.monotonic()
        due = [spec for at, spec in self.retries if at <= now]
        self.retries = [(at, spec) for at, spec in self.retries if at > now]
        self.queue.extendleft(reversed(due))
        if not self.queue:
            self.slots.done_wanting(self.job.id)
            return
        self.slots.want(self.job.id, self.claim)
        while self.queue and self.slots.try_take(self.job.id):
            spec = self.queue.popleft()
            try:
                ref = spec.launch()
            except Exception:
                self.slots.give(self.job.id)
                raise
            self.pending[ref] = Flight(spec, time.monotonic())
        if not self.queue:
            self.slots.done_wanting(self.job.id)

    def _land(self, ref: ray.ObjectRef, flight: Flight) -> None:
        self.slots.give(self.job.id)
        spec = flight.spec
        try:
            done: Reported[Any] = ray.get(ref)
        except Exception as exc:
            self._failed(spec, exc)
            return
        patiently(lambda: self.results.save(spec.step, spec.key, done.result))
        self.metrics.tasks_pending.labels(spec.step).dec()
        self.metrics.count_report(done.report)
        if spec.count:
            spec.count(done.result)
        spec.on_result(done.result)

    def _failed(self, spec: TaskSpec, exc: BaseException) -> None:
        task = (spec.step, spec.key)
        now = time.monotonic()
        if isinstance(exc, StoreUnavailable):
            since = self.outage_since.setdefault(task, now)
            if now - since < PATIENCE:
                self.outage_tries[task] += 1
                pause = min(2.0 ** self.outage_tries[task], 15.0)
                log.warning("job %s: %s %s: %s; again in %.0f s", self.job.id, *task, error_text(exc), pause)
                self.retries.append((now + pause, spec))
                return
        self.outage_since.pop(task, None)
        self.outage_tries.pop(task, None)
        self.failures[task] += 1
        if self.failures[task] < MAX_FAILURES:
            log.warning("job %s: %s %s failed (%s); starting it again", self.job.id, *task, error_text(exc))
            self.retries.append((now, spec))
            return
        self.metrics.tasks_pending.labels(spec.step).dec()
        try:
            attempts = attempt_nodes(self.store, self.job.case, self.job.id, *task)
        except StoreUnavailable:
            attempts = ()
        self.metrics.count_failure(spec.step, attempts)
        message = f"{spec.step} {spec.key} failed {self.failures[task]} times: {error_text(exc)}"
        if spec.fatal:
            raise TaskFailed(message)
        log.error("job %s: %s; the rest of the job goes on", self.job.id, message)
        self.failed.append(
            {**spec.about, "step": spec.step, "key": spec.key, "attempts": len(attempts), "error": error_text(exc)}
        )

    def _check_timeouts(self) -> None:
        """Cancel tasks whose attempt has run past the job's limit; they count as failed."""
        limit = self.job.task_timeout
        now = time.monotonic()
        for ref, flight in list(self.pending.items()):
            if now - flight.launched < limit or now - flight.checked < TIMEOUT_CHECK:
                continue
            flight.checked = now
            try:
                spec = flight.spec
                started = last_attempt_started(self.store, self.job.case, self.job.id, spec.step, spec.key)
            except StoreUnavailable:
                continue
            if started is None or time.time() - started < limit:
                continue  # still waiting for a worker, or started late: its own clock runs
            ray.cancel(ref, force=True)
            del self.pending[ref]
            self.slots.give(self.job.id)
            self._failed(flight.spec, TimeoutError(f"ran past the job's task timeout of {limit} s"))

    def _stop_all(self) -> None:
        """Nothing of this run stays in Ray or holds a slot once it ends, however it ends."""
        for ref, flight in self.pending.items():
            ray.cancel(ref, force=True)
            self.slots.give(self.job.id)
            self.metrics.tasks_pending.labels(flight.spec.step).dec()
        for spec in [*self.queue, *(s for _, s in self.retries)]:
            self.metrics.tasks_pending.labels(spec.step).dec()
        self.pending.clear()
        self.queue.clear()
        self.retries.clear()
        self.slots.done_wanting(self.job.id)
