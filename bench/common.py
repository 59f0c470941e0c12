"""What every benchmark shares: installing the peers, timing, a warm page cache."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
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


def tail(text: str | bytes | None) -> str:
    """The last non-empty line of a tool's output (what says why it failed)."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1].strip()[:300] if lines else "(no output)"


def quarry_command() -> list[str]:
    """How to run this checkout's `quarry` (the venv's script, or the module)."""
    quarry = Path(sys.executable).with_name("quarry")
    return [str(quarry)] if quarry.exists() else [sys.executable, "-m", "cluster.cli"]


def run_warm(
    cmd: list[str], image: Path, cwd: Path | None = None, cores: set[int] | None = None
) -> tuple[float, str | None]:
    """Run a contender from a warm page cache (pinned to `cores` when given), timed
    wall-clock: (seconds, None), or (seconds, why it failed)."""
    warm_cache(image)

    def pin() -> None:
        if cores:
            os.sched_setaffinity(0, cores)

    seconds, done = timed(
        lambda: subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, preexec_fn=pin)
    )
    if done.returncode != 0:
        return seconds, f"exit {done.returncode}: {tail(done.stderr) or tail(done.stdout)}"
    return seconds, None


def bench_main(doc: str | None, what: str, bench: Callable[..., dict[str, Any]], jobs_help: str) -> None:
    """The command line of a benchmark run on its own: forge (or take) its image, run it in
    a temporary folder, print the figures as JSON."""
    ap = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024, help="image size (default 1024)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--jobs", type=int, default=2, help=f"{jobs_help} (default 2)")
    ap.add_argument("--image", type=Path, help=f"an existing {what} image (with IMAGE.key.json) instead of forging")
    ap.add_argument("--work-dir", help="where the image and the contenders' output go (default: a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix=f"quarry-bench-{what}-", dir=args.work_dir) as tmp:
        figures = bench(Path(tmp), args.size_mib << 20, args.seed, args.jobs, args.image)
    print(json.dumps(figures))


def run_tool(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
