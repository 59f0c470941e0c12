"""Turn one hash list into set files on local disk, in bounded memory.

Rows stream from the parser into one Rust builder per algorithm, a batch at a time; the
builder keeps at most `run_bytes` of digests in memory, sorting and spilling runs to
`work_dir` and merging them at the end. Each finished file is verified in one pass and
hashed, so what is published is known good and workers can check their download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import rust_core
from cluster.hashsets.digests import WIDTHS
from cluster.hashsets.errors import HashSetError
from cluster.hashsets.formats import reader
from workers.node_cache import file_sha256

BATCH = 65536  # digests handed to the builder at once
RUN_BYTES = 128 << 20  # per algorithm; a list rarely holds more than one


@dataclass(frozen=True)
class BuiltFile:
    algorithm: str
    path: Path
    count: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class BuiltSet:
    format: str
    rows: int
    files: dict[str, BuiltFile]
    source_bytes: int
    source_sha256: str

    @property
    def count(self) -> int:
        return sum(f.count for f in self.files.values())


def build_set(source: Path, fmt: str, work_dir: Path, run_bytes: int = RUN_BYTES) -> BuiltSet:
    """Parse `source` (format name or "auto") and write `<algorithm>.qhs` files in `work_dir`."""
    if not source.is_file():
        raise HashSetError(source, "no such file")
    name, parse = reader(source, fmt)
    runs = work_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    builders: dict[str, rust_core.HashSetBuilder] = {}
    pending: dict[str, list[bytes]] = {algorithm: [] for algorithm in WIDTHS}

    def flush(algorithm: str) -> None:
        if algorithm not in builders:
            builders[algorithm] = rust_core.HashSetBuilder(algorithm, runs, run_bytes)
        try:
            builders[algorithm].add(b"".join(pending[algorithm]))
        except rust_core.CoreError as exc:
            raise HashSetError(source, f"building the {algorithm} set failed: {exc}") from None
        pending[algorithm].clear()

    rows = 0
    for _, algorithm, raw in parse(source):
        pending[algorithm].append(raw)
        rows += 1
        if len(pending[algorithm]) == BATCH:
            flush(algorithm)
    for algorithm, batch in pending.items():
        if batch:
            flush(algorithm)
    if rows == 0:
        raise HashSetError(source, f"no digests found (read as {name})")
    files = {}
    for algorithm, builder in sorted(builders.items()):
        path = work_dir / f"{algorithm}.qhs"
        try:
            builder.finish(path)
            built = rust_core.HashSet(path)
            built.verify()
        except rust_core.CoreError as exc:
            raise HashSetError(source, f"building the {algorithm} set failed: {exc}") from None
        files[algorithm] = BuiltFile(algorithm, path, built.count, built.file_bytes, file_sha256(path))
    return BuiltSet(name, rows, files, source.stat().st_size, file_sha256(source))
