"""Task slots shared by every running job, handed out by priority.

The manager never has more than `capacity` tasks in Ray at once, whatever the number of
jobs or images (a batch of fifty images does not flood the cluster). A free slot goes to
the job with the highest priority that has tasks waiting, the oldest such job first among
equals; a job waits while one above it still has tasks to start.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    priority: int
    order: str  # jobs of one priority go in this order (their creation stamp, then id)


class Slots:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"task slots: capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.used = 0
        self.held: dict[str, int] = {}
        self.wanting: dict[str, Claim] = {}
        self.changed = threading.Condition()

    def want(self, job_id: str, claim: Claim) -> None:
        """The job has tasks to start."""
        with self.changed:
            self.wanting[job_id] = claim

    def done_wanting(self, job_id: str) -> None:
        """The job has nothing left to start (or has ended): those below it may go."""
        with self.changed:
            self.wanting.pop(job_id, None)
            self.changed.notify_all()

    def try_take(self, job_id: str) -> bool:
        """A slot for the job if one is free and no job above it is waiting for one."""
        with self.changed:
            if self.used >= self.capacity or job_id not in self.wanting:
                return False
            first = min(self.wanting, key=lambda j: (-self.wanting[j].priority, self.wanting[j].order, j))
            if first != job_id:
                return False
            self.used += 1
            self.held[job_id] = self.held.get(job_id, 0) + 1
            return True

    def give(self, job_id: str) -> None:
        with self.changed:
            self.used -= 1
            self.held[job_id] -= 1
            if not self.held[job_id]:
                del self.held[job_id]
            self.changed.notify_all()

    def wait(self, timeout: float) -> None:
        """Sleep until a slot is given back or a job stops wanting (or `timeout` passes)."""
        with self.changed:
            self.changed.wait(timeout)

    def waiting_jobs(self) -> int:
        """Jobs with tasks to start and none in flight: queued behind others."""
        with self.changed:
            return sum(1 for j in self.wanting if not self.held.get(j))
