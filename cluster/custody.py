"""Audit entries for what is done from the command line on the control plane.

The HTTP API enters its own requests (cluster/http_api.py). Commands run with the
cluster's MinIO credentials act as the system account of whoever runs them: their
submissions, reads, downloads, exports and reveals are entered here, under that name.
"""

from __future__ import annotations

import getpass
from typing import Any

from cluster.audit import AuditLog
from workers.store import ObjectStore


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def record(
    store: ObjectStore,
    action: str,
    case: str | None = None,
    target: str | None = None,
    reason: str | None = None,
    outcome: str = "allowed",
    role: str = "system",
    **details: Any,
) -> None:
    """One entry for a command-line action; raises if the log cannot be written, so that
    nothing is done unrecorded (callers record before they act)."""
    AuditLog(store).append(
        actor=cli_actor(),
        role=role,
        action=action,
        outcome=outcome,
        case=case,
        target=target,
        reason=reason,
        details=details,
    )
