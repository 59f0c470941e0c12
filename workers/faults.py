"""Faults a job asks for on purpose, so that operators (and the fault tests) can watch
Quarry survive them on a real cluster: a task that always fails, or whose first attempt
hangs. They are part of the job record, so a job that had faults injected says so.

A fault is `ACTION:STEP:KEY`: `fail` raises in every attempt, `hang` sleeps through the
first attempt (until the task is cancelled or its worker killed) and lets later ones run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

ACTIONS = ("fail", "hang")


class InjectedFault(RuntimeError):
    """Raised by a task that its job asked to fail."""


def parse_fault(text: str) -> tuple[str, str, str]:
    """(action, step, key) of a fault spec; ValueError naming the spec when it is malformed."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in ACTIONS or not parts[1] or not parts[2]:
        raise ValueError(f"fault {text!r}: write ACTION:STEP:KEY with ACTION one of {', '.join(ACTIONS)}")
    return parts[0], parts[1], parts[2]


def inject(faults: Iterable[str], step: str, key: str, attempt: int) -> None:
    """Act out the faults aimed at this task; `attempt` counts from 1."""
    for spec in faults:
        action, f_step, f_key = parse_fault(spec)
        if (f_step, f_key) != (step, key):
            continue
        if action == "fail":
            raise InjectedFault(f"fault injected into {step} {key} (attempt {attempt})")
        if action == "hang" and attempt == 1:
            while True:
                time.sleep(3600)
