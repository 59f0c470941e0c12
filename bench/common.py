"""What every benchmark shares: installing the peers, timing, a warm page cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# tool -> Debian package
PEERS = {
    "hashdeep": "hashdeep",
    "dc3dd": "dc3dd",
    "foremost": "foremost",
    "md5sum": "coreutils",
    "sha256sum": "coreutils",
}


def ensure_peers() -> None:
    missing = sorted({pkg for tool, pkg in PEERS.items() if not shutil.which(tool)})
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def best_of(n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Fastest of n runs (every contender gets the same n): the least disturbed figure."""
    runs = [timed(fn) for _ in range(n)]
    return min(runs, key=lambda r: r[0])


def warm_cache(path: Path) -> None:
    """Read once so every contender starts from the page cache (a fair, repeatable start)."""
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def run_tool(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
