"""A job asked to start twice at once (the manager's own resume and a submission racing)
runs once: a second thread is never started beside a first that has not begun yet."""

from __future__ import annotations

import threading
import time

from cluster.manager import JobManager


def test_two_starts_at_once_run_the_job_once() -> None:
    manager = JobManager.__new__(JobManager)  # only what start() uses
    manager.lock = threading.Lock()
    manager.running = {}
    runs: list[str] = []

    def slow_run(job_id: str) -> None:
        runs.append(job_id)
        time.sleep(0.3)

    manager._run_guarded = slow_run  # type: ignore[method-assign]
    for attempt in range(20):
        job = f"job-{attempt}"
        barrier = threading.Barrier(4)

        def start(job: str = job, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            manager.start(job)

        threads = [threading.Thread(target=start) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    time.sleep(0.5)
    assert sorted(runs) == sorted(f"job-{a}" for a in range(20))
