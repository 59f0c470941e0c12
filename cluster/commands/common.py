"""Argument types and output helpers shared by several subcommands."""

from __future__ import annotations

import argparse

UNITS = {"": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30}


def parse_size(text: str) -> int:
    """'64MiB', '1G', '4096' -> bytes."""
    t = text.strip().lower()
    digits = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(digits) :]
    if not digits.isdigit() or unit not in UNITS:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: use a number with K, M or G (e.g. 64MiB)")
    return int(digits) * UNITS[unit]


def counts_line(kind: str, per: dict[str, int]) -> str:
    return f"    {kind:5} " + "  ".join(f"{status} {n}" for status, n in sorted(per.items()))
