"""One module per `quarry` subcommand; each offers `register(subparsers)`.

Modules are imported by name, so a command that runs on one machine (`quarry scan`) does
not pay for importing Ray and the MinIO client it never uses.
"""

from __future__ import annotations

import importlib
from types import ModuleType

NAMES = (
    "forge",
    "upload",
    "submit",
    "jobs",
    "cancel",
    "rerun",
    "resume",
    "watch",
    "nodes",
    "find",
    "get",
    "report",
    "serve",
    "verify",
    "audit",
    "admin",
    "hashset",
    "pdqset",
    "rules",
    "carve",
    "scan",
)


def load(names: tuple[str, ...] = NAMES) -> list[ModuleType]:
    return [importlib.import_module(f"cluster.commands.{name}") for name in names]
