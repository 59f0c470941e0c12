"""What the one-machine commands (`quarry carve`, `quarry scan`) share: a fresh output
folder, and segments worked by a pool of processes with results taken in image order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

from workers.evidence import EvidenceError

T = TypeVar("T")
R = TypeVar("R")


def prepare_output(out: Path, what: str) -> None:
    """Create `out`, refusing one that holds anything: results are never overwritten."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EvidenceError(f"{out}: output folder exists and is not empty ({what} are never overwritten)")
    out.mkdir(parents=True, exist_ok=True)


def in_order(work: Callable[[T], R], items: Iterable[T], jobs: int) -> Iterator[R]:
    """`work` over `items` in `jobs` processes (here when 1), results in the items' order.
    `work` must be picklable (a module-level function or a partial of one)."""
    if jobs <= 1:
        yield from map(work, items)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(work, items)
