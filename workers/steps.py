"""What every step shares: the job it works for and the node it ran on."""

from __future__ import annotations

from dataclasses import dataclass

import ray


@dataclass(frozen=True)
class JobContext:
    """The job a task works for, passed to every step by reference-sized value."""

    case: str
    job_id: str
    hash_sets: tuple[tuple[str, str], ...] = ()  # (name, version) pinned at submit
    rule_sets: tuple[tuple[str, str], ...] = ()  # YARA rule sets (name, version) pinned at submit
    yara_raw: bool = False  # also scan raw segment windows with the rule sets, not only files
    yara_timeout: int = 10  # seconds one rule set may take over one file or window


def current_node() -> str:
    """The Ray node this task runs on (a bounded label for metrics)."""
    if not ray.is_initialized():  # called directly, outside Ray (a test, a benchmark)
        return "local"
    return ray.get_runtime_context().get_node_id()
