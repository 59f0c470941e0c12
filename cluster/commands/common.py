"""Argument types and output helpers shared by several subcommands."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence

UNITS = {"": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30}


def parse_size(text: str) -> int:
    """'64MiB', '1G', '4096' -> bytes."""
    t = text.strip().lower()
    digits = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(digits) :]
    if not digits.isdigit() or unit not in UNITS:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: use a number with K, M or G (e.g. 64MiB)")
    return int(digits) * UNITS[unit]


def comma_list(known: Sequence[str], what: str) -> Callable[[str], tuple[str, ...]]:
    """An argument type: a comma-separated choice among `known` (each one named `what`)."""

    def parse(text: str) -> tuple[str, ...]:
        chosen = tuple(k.strip() for k in text.split(",") if k.strip())
        unknown = [k for k in chosen if k not in known]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(
                f"unknown {what}(s) {', '.join(unknown) or '(none)'}; known: {', '.join(known)}"
            )
        return chosen

    return parse


def add_pool_arguments(parser: argparse.ArgumentParser, doing: str) -> None:
    """--jobs and --segment-size of the one-machine commands (`quarry carve`, `quarry scan`)."""
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help=f"processes {doing} in parallel (default: cores)"
    )
    parser.add_argument(
        "--segment-size", type=parse_size, default=32 << 20, help="bytes per unit of work (default 32MiB)"
    )


def counts_line(kind: str, per: dict[str, int]) -> str:
    return f"    {kind:5} " + "  ".join(f"{status} {n}" for status, n in sorted(per.items()))
