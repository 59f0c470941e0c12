"""Step perceptual: PDQ (256 bits and a quality score) and a 64-bit pHash of every picture a
part found, carved or extracted, for known-image matching that survives resizing and
re-encoding (MD5 and SHA-256 do not).

One task per part (a segment's or a file batch's), run after the part is written: it reads
the part's rows, fetches each distinct picture from MinIO and writes a sidecar table beside
the part (`...-perceptual.parquet`), which the manifest writer joins in. Two paths, one
answer: on a node with a GPU the pictures are decoded and hashed in batches on it
(workers/pdq_tensor.py); elsewhere the Rust core hashes them one by one. A picture that does
not decode gets a warning in its row, never a failed task.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import ray

import rust_core
from workers.known_images import known_images_for_job
from workers.steps import JobContext, current_node, reported
from workers.store import ARTIFACTS, RESULTS, ObjectStore, StoreConfig, artifact_key, shared_store

STEP = "perceptual"
VERSION = "1"
PICTURE_TYPES = frozenset({"jpeg", "png", "gif", "bmp", "tiff", "webp"})
MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
MAX_PICTURE = 64 << 20  # a larger "picture" is not decoded (a warning says so)
BATCH_BYTES = 64 << 20  # compressed picture bytes held at once by the GPU path
SCHEMA = pa.schema(
    [
        ("sha256", pa.string()),
        ("pdq", pa.string()),  # 64 hex digits, bit 255 first (as the reference writes it)
        ("pdq_quality", pa.uint8()),  # 0..100; under 50 the hash is unreliable
        ("phash", pa.string()),  # 16 hex digits
        ("known_images", pa.list_(pa.string())),  # "set/label@distance" of each listed hash within the threshold
        ("perceptual_warning", pa.string()),  # why a picture was not hashed
    ]
)


@dataclass
class PerceptualResult:
    part_key: str
    node: str
    seconds: float = 0.0
    device: str = "rust"  # what hashed: the Rust core, or the tensor path on "cuda" or "cpu"
    pictures: int = 0
    warnings: int = 0
    known: dict[str, int] = field(default_factory=dict)  # pictures near a listed hash, per set


def sidecar_key(part_key: str) -> str:
    return part_key.removesuffix(".parquet") + "-perceptual.parquet"


def perceptual_key(part_key: str, *_: Any) -> str:
    """The task's key within its job: its part's name."""
    return part_key.rsplit("/", 1)[1].removesuffix(".parquet")


def is_picture(head: bytes) -> bool:
    return head.startswith(MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def pictures(store: ObjectStore, part_key: str) -> list[tuple[str, int]]:
    """(sha256, length) of each distinct picture in the part: carved ones by their type,
    extracted ones by their first bytes."""
    table = pq.read_table(
        pa.BufferReader(store.get_bytes(RESULTS, part_key)), columns=["sha256", "type", "subtype", "origin", "length"]
    )
    seen: dict[str, int] = {}
    for row in table.to_pylist():
        sha, length = row["sha256"], row["length"] or 0
        if sha in seen or not sha:
            continue
        if row["origin"] == "carved":
            if row["type"] in PICTURE_TYPES or row["subtype"] in PICTURE_TYPES:
                seen[sha] = length
        elif length >= 12 and is_picture(store.get_range(ARTIFACTS, artifact_key(sha), 0, 12)):
            seen[sha] = length
    return list(seen.items())


def _cpu_hash(data: bytes) -> tuple[str | None, int | None, str | None, str | None]:
    """(pdq, quality, phash, warning) through the Rust core, from one decode."""
    try:
        pdq, quality, phash = rust_core.image_hashes(data)
        return pdq, quality, phash, None
    except rust_core.CoreError as exc:
        return None, None, None, str(exc)


def _tensor_hashes(blobs: list[bytes], device: str) -> Iterator[tuple[str | None, int | None, str | None, str | None]]:
    """The same answers through the batched tensor path (the GPU's; on the CPU in tests)."""
    from workers.pdq_tensor import Undecodable, pdq_blobs

    for blob, got in zip(blobs, pdq_blobs(blobs, device), strict=True):
        if isinstance(got, Undecodable):
            yield None, None, None, got.why
            continue
        try:
            phash = rust_core.phash(blob)
        except rust_core.CoreError:
            phash = None
        yield got.hex, got.quality, phash, None


def _batches(items: list[tuple[str, int]]) -> Iterator[list[tuple[str, int]]]:
    batch: list[tuple[str, int]] = []
    held = 0
    for sha, length in items:
        if batch and held + length > BATCH_BYTES:
            yield batch
            batch, held = [], 0
        batch.append((sha, length))
        held += length
    if batch:
        yield batch


ENGINES = ("rust", "tensor")


def hash_part_local(config: StoreConfig, ctx: JobContext, part_key: str, engine: str) -> PerceptualResult:
    """Hash the part's pictures with the Rust core, or (`engine` "tensor") with the batched
    tensor code on this node's GPU if it has one (else on its CPU), and write the sidecar."""
    started = time.monotonic()
    store = shared_store(config)
    device = None
    if engine == "tensor":
        from workers.pdq_tensor import device_for_node

        device = device_for_node()
    result = PerceptualResult(part_key, current_node(), device=device or "rust")
    items = pictures(store, part_key)
    rows: list[dict[str, Any]] = []
    for batch in _batches([i for i in items if i[1] <= MAX_PICTURE]):
        blobs = [store.get_bytes(ARTIFACTS, artifact_key(sha)) for sha, _ in batch]
        answers = _tensor_hashes(blobs, device) if device else map(_cpu_hash, blobs)
        for (sha, _), (pdq, quality, phash, warning) in zip(batch, answers, strict=True):
            rows.append(
                {"sha256": sha, "pdq": pdq, "pdq_quality": quality, "phash": phash, "perceptual_warning": warning}
            )
    for sha, length in items:
        if length > MAX_PICTURE:
            rows.append(
                {"sha256": sha, "perceptual_warning": f"{length} bytes: larger than {MAX_PICTURE}, not decoded"}
            )
    hashed = [r for r in rows if r.get("pdq")]
    if ctx.pdq_sets and hashed:
        known = known_images_for_job(config, ctx.job_id, ctx.pdq_sets)
        for row, found in zip(hashed, known.match([r["pdq"] for r in hashed]), strict=True):
            row["known_images"] = [f"{m.set}/{m.label}@{m.distance}" for m in found] or None
            for m in found:
                result.known[m.set] = result.known.get(m.set, 0) + 1
    result.pictures = len(hashed)
    result.warnings = sum(1 for r in rows if r.get("perceptual_warning"))
    if rows:
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
        store.put_table(RESULTS, sidecar_key(part_key), table)
    result.seconds = time.monotonic() - started
    return result


@functools.cache
def _remote(gpus: float) -> Any:
    return ray.remote(max_retries=3, num_gpus=gpus)(reported(STEP, perceptual_key, hash_part_local))


def hash_part(gpu: bool) -> Any:
    """The step as a Ray task: one that asks for a GPU (and runs only on GPU nodes) or not."""
    return _remote(1.0 if gpu else 0.0)
