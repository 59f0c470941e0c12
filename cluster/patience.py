"""The manager's own writes to MinIO wait out an outage instead of failing the job.

A lab's MinIO restarts (an upgrade, a full disk freed); a job that has carved for a day must
not fail because one journal write met a closed port. Writes are retried with growing
pauses until MinIO answers or the patience runs out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from workers.store import StoreUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

PATIENCE = 600.0  # seconds of outage a job waits out before it fails
MAX_PAUSE = 15.0


def patiently(fn: Callable[[], T], patience: float = PATIENCE) -> T:
    """fn(), retried while the object store is unavailable, for up to `patience` seconds."""
    deadline = time.monotonic() + patience
    pause = 0.5
    while True:
        try:
            return fn()
        except StoreUnavailable as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("%s; retrying in %.1f s", exc, pause)
            time.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE)
