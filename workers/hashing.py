"""Step hash_image: the image's digests in one sequential pass, with piecewise digests.

The Rust core reads the image itself and spreads the digests over threads; the step only
streams the window digests (one row per window) into a Parquet object beside the job's
results, so `quarry verify` can later say which part of an image changed.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
import ray

import rust_core
from workers.evidence import EvidenceError, ImageRef
from workers.images import MediaImage, open_image
from workers.steps import JobContext, current_node, image_key, reported
from workers.store import PARQUET, RESULTS, StoreConfig, shared_store

STEP = "hash_image"
VERSION = "2"
DIGESTS = ("md5", "sha1", "sha256", "sha512", "blake3", "crc32")
READ_SIZE = 64 << 20


@dataclass(frozen=True)
class HashPlan:
    """Which digests a job computes over each image, and the piecewise window."""

    algorithms: tuple[str, ...] = ("md5", "sha1", "sha256")
    window: int = 1 << 20
    window_algorithms: tuple[str, ...] = ("blake3",)

    def __post_init__(self) -> None:
        for name in (*self.algorithms, *self.window_algorithms):
            if name not in DIGESTS:
                raise ValueError(f"unknown digest {name!r}: use some of {', '.join(DIGESTS)}")
        if not self.algorithms:
            raise ValueError("no image digest asked for")
        if self.window < 0 or (self.window and self.window < 4096):
            raise ValueError(f"hash window {self.window} bytes: use 0 (none) or at least 4096")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any] | None) -> HashPlan:
        if not doc:
            return cls()
        return cls(tuple(doc["algorithms"]), int(doc["window"]), tuple(doc["window_algorithms"]))


@dataclass(frozen=True)
class ImageDigests:
    image_index: int
    digests: dict[str, str]
    size: int
    node: str
    seconds: float
    windows_key: str | None = None
    windows: int = 0
    plan: dict[str, Any] = field(default_factory=dict)
    container_check: dict[str, Any] | None = None  # E01: chunks checked and damaged ones
    unreadable: list[dict[str, Any]] = field(default_factory=list)  # ranges hashed as zeros


def windows_key(ctx: JobContext, image_index: int) -> str:
    return f"{ctx.case}/{ctx.job_id}/hashes/img{image_index:04d}-windows.parquet"


def window_schema(plan: HashPlan) -> pa.Schema:
    fields = [("index", pa.uint64()), ("offset", pa.uint64()), ("length", pa.uint64())]
    return pa.schema(fields + [(name, pa.string()) for name in plan.window_algorithms])


def window_table(rows: Iterable[tuple[int, int, str, str]], plan: HashPlan) -> pa.Table:
    """Rows (index, length, algorithm, hex) from the core as one row per window."""
    by_index: dict[int, dict[str, Any]] = {}
    for index, length, algorithm, hexdigest in rows:
        row = by_index.setdefault(index, {"index": index, "offset": index * plan.window, "length": length})
        row[algorithm] = hexdigest
    return pa.Table.from_pylist([by_index[i] for i in sorted(by_index)], schema=window_schema(plan))


class WindowSink(Protocol):
    """Where window rows go as they close: a Parquet writer, or `quarry verify`'s comparer."""

    def write_table(self, table: pa.Table) -> None: ...


def hash_stream(
    img: MediaImage,
    plan: HashPlan,
    sink: WindowSink | None = None,
    unreadable: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, str], int]:
    """Digests of the whole image, feeding window rows to `sink` as they close; returns
    (digests, windows written). Memory stays bounded: the core holds a few buffers.

    With `unreadable`, a range that cannot be read is hashed as zeros and recorded there
    (what imagers do with bad sectors); without it, a read error stops the pass."""
    hasher = rust_core.Hasher(list(plan.algorithms), plan.window, list(plan.window_algorithms))
    written = 0

    def drain() -> None:
        nonlocal written
        rows = hasher.take_windows()
        if rows and sink is not None:
            table = window_table(rows, plan)
            sink.write_table(table)
            written += table.num_rows

    for offset in range(0, img.size, READ_SIZE):
        want = min(READ_SIZE, img.size - offset)
        before = hasher.length
        try:
            fed = img.feed(hasher, offset, want)
        except EvidenceError:
            if unreadable is None:
                raise
            done = hasher.length - before  # what the reader handed over before it failed
            hasher.update(img.read_salvaging(offset + done, want - done, unreadable))
            fed = want
        if fed != want:
            raise img.shrank(offset)
        if plan.window:
            drain()
    d = hasher.finish()
    if plan.window:
        drain()
    length = int(d.pop("length"))
    if length != img.size:
        raise img.shrank(length)
    return {k: str(v) for k, v in d.items()}, written


def hash_image_local(
    config: StoreConfig | None, ctx: JobContext | None, image: ImageRef, image_index: int, plan: HashPlan
) -> ImageDigests:
    """Hash one image; with a store and a job, keep its window digests beside the results."""
    started = time.monotonic()
    key = windows_key(ctx, image_index) if (config and ctx and plan.window) else None
    unreadable: list[dict[str, Any]] = []
    with open_image(image.path, config) as img:
        if key is None:
            digests, written = hash_stream(img, plan, None, unreadable)
        else:
            assert config is not None
            with tempfile.TemporaryDirectory(prefix="quarry-windows-") as tmp:
                path = os.path.join(tmp, "windows.parquet")
                with pq.ParquetWriter(path, window_schema(plan), compression="zstd") as sink:
                    digests, written = hash_stream(img, plan, sink, unreadable)
                shared_store(config).put_file(RESULTS, key, path, PARQUET)
        container_check = img.check_container()
    return ImageDigests(
        image_index=image_index,
        digests=digests,
        size=img.size,
        node=current_node(),
        seconds=time.monotonic() - started,
        windows_key=key,
        windows=written,
        plan=plan.as_dict(),
        container_check=container_check,
        unreadable=unreadable,
    )


hash_image = ray.remote(max_retries=3)(reported(STEP, image_key, hash_image_local))
