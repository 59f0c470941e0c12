"""Progress of the jobs running now, as gauges: bytes to do, bytes done, and an ETA at the
pace each job has kept so far (the slowest job decides when the batch is finished)."""

from __future__ import annotations

import threading
import time

from cluster.jobs import JobRecord
from cluster.metrics import Metrics


class RunningJobs:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.lock = threading.Lock()
        self.jobs: dict[str, tuple[float, int, int]] = {}  # id -> (started, bytes total, bytes done)

    def begin(self, job: JobRecord) -> None:
        with self.lock:
            self.jobs[job.id] = (time.monotonic(), job.bytes_total, job.bytes_done)
            self._publish()

    def update(self, job: JobRecord) -> None:
        with self.lock:
            if job.id in self.jobs:
                self.jobs[job.id] = (self.jobs[job.id][0], job.bytes_total, job.bytes_done)
                self._publish()

    def end(self, job_id: str) -> None:
        with self.lock:
            self.jobs.pop(job_id, None)
            self._publish()

    def eta(self, now: float) -> float:
        """Seconds until every running job is done at its own pace; NaN before any has a pace."""
        longest = 0.0
        for started, total, done in self.jobs.values():
            if done <= 0 or now <= started:
                return float("nan")
            longest = max(longest, (total - done) / (done / (now - started)))
        return longest

    def _publish(self) -> None:
        m = self.metrics
        m.running_total.set(sum(total for _, total, _ in self.jobs.values()))
        m.running_done.set(sum(done for _, _, done in self.jobs.values()))
        m.running_eta.set(self.eta(time.monotonic()) if self.jobs else 0.0)
