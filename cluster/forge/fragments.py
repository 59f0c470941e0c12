"""Fragmented files in a forged image: where the pieces go, and how to read them back.

A bifragmented file is what a filesystem leaves when a file outgrew its first run of
clusters: the first piece ends on a cluster boundary of the image, other data follows, and
the rest of the file starts on a later cluster. Offsets are absolute in the image.
"""

from __future__ import annotations

from pathlib import Path
from random import Random
from typing import BinaryIO

CLUSTER = 4096
MIN_GAP, MAX_GAP = CLUSTER, 256 * 1024  # bytes of other data between the two pieces


def bifragment(rng: Random, start: int, length: int) -> list[tuple[int, int]]:
    """Two runs [(offset, length), (offset, length)] for a file of `length` bytes whose first
    byte is at `start` (a cluster boundary): the split falls on a cluster boundary of the
    image, in the middle half of the file where it can, and 4 KiB..256 KiB of other data lie
    between the pieces."""
    if start % CLUSTER:
        raise ValueError(f"a fragmented file starts on a cluster boundary, not at {start}")
    clusters = (length - 1) // CLUSTER
    if clusters < 1:
        raise ValueError(f"a file of {length} bytes fits in one cluster and cannot be split")
    first = CLUSTER * rng.randint(max(1, clusters // 4), max(1, clusters * 3 // 4))
    gap = CLUSTER * rng.randint(MIN_GAP // CLUSTER, MAX_GAP // CLUSTER)
    return [(start, first), (start + first + gap, length - first)]


def read_runs(image: BinaryIO | str | Path, runs: list[tuple[int, int]] | list[list[int]]) -> bytes:
    """The bytes of a file whose pieces lie at `runs` in the image, joined in order."""
    if isinstance(image, str | Path):
        with open(image, "rb") as f:
            return read_runs(f, runs)
    out = bytearray()
    for offset, length in runs:
        image.seek(offset)
        piece = image.read(length)
        if len(piece) != length:
            raise ValueError(f"run ({offset}, {length}) runs past the end of the image")
        out += piece
    return bytes(out)
