"""A node's cache of published set files (hash sets, known-image lists): each downloaded once
per node, checked against its SHA-256 and named by it, so a copy is never stale and never
half-written; files no current set uses are removed once idle a while."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from pathlib import Path

from workers.store import ObjectStore

STALE_SECONDS = 24 * 3600  # cached files no current set uses are removed after this long


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def cached_copy(
    store: ObjectStore, bucket: str, key: str, sha256: str, cache: Path, suffix: str, error: type[Exception]
) -> Path:
    """The node's copy of `bucket/key` (whose content has `sha256`), downloaded once (one
    process at a time per node); `error` is raised when the download is not that content."""
    path = cache / f"{sha256}{suffix}"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with open(cache / ".download.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                partial = cache / f"{sha256}.{os.getpid()}.partial"
                try:
                    store.get_file(bucket, key, str(partial))
                    got = file_sha256(partial)
                    if got != sha256:
                        raise error(f"{bucket}/{key}: downloaded copy has sha256 {got}, expected {sha256}")
                    os.replace(partial, path)
                finally:
                    partial.unlink(missing_ok=True)
    os.utime(path)  # in use: spared by prune()
    return path


def prune(cache: Path, keep: set[Path], suffix: str, stale_seconds: float = STALE_SECONDS) -> None:
    """Remove cached `suffix` files (and leftover partial downloads) outside `keep` once idle
    a while (a process still mapping one keeps its mapping; the next job fetches a current one)."""
    if not cache.is_dir():
        return
    cutoff = time.time() - stale_seconds
    for path in cache.iterdir():
        if path.suffix in (suffix, ".partial") and path not in keep:
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except FileNotFoundError:
                pass


def cache_root(variable: str, name: str) -> Path:
    """This node's folder of cached copies of one kind of set file: $`variable`, else
    ~/.cache/quarry/`name`."""
    return Path(os.environ.get(variable) or Path.home() / ".cache" / "quarry" / name)
