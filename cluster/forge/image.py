"""Lay out a raw image: gaps of zeros or random bytes, files and text planted between them.

Written front to back in bounded chunks (never the whole image in memory). The answer
key lists every planted item with kind, offset, length, SHA-256 and whether it is intact
or truncated, plus where it sits (sector-aligned or not; after random data or zeros).
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any, BinaryIO

from cluster.forge.files import FILE_KINDS, TEXT_KINDS

SECTOR = 512
KEY_VERSION = 1
# Target file sizes per kind (bytes); the generators land near these.
SIZES = {"jpeg": (3_000, 400_000), "png": (2_000, 300_000), "pdf": (1_500, 200_000), "zip": (1_500, 300_000)}
KIND_WEIGHTS = {"jpeg": 4, "png": 3, "pdf": 2, "zip": 2, "email": 2, "url": 2}
TRUNCATE_RATE = 0.12


class Writer:
    """Sequential writer that hashes what it writes and fills gaps in bounded chunks."""

    def __init__(self, out: BinaryIO, rng: random.Random) -> None:
        self.out, self.rng, self.pos, self.sha256 = out, rng, 0, hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.sha256.update(data)
        self.pos += len(data)

    def fill(self, n: int, context: str) -> None:
        while n > 0:
            step = min(n, 1 << 20)
            self.write(self.rng.randbytes(step) if context == "random" else bytes(step))
            n -= step


def key_head(w: Writer, path: Path, size: int, seed: int, version: int, profile: str | None = None) -> dict[str, Any]:
    """What every forge's answer key starts with: what it is, how it was made, and the
    SHA-256 of the image as written."""
    head: dict[str, Any] = {"format": "quarry-forge-answer-key"}
    if profile is not None:
        head["profile"] = profile
    head.update(version=version, seed=seed, image=path.name, size=size, sha256=w.sha256.hexdigest())
    return head


def forge_image(path: str | Path, size: int, seed: int = 1) -> dict[str, Any]:
    """Write the image at `path` and its answer key at `path`.key.json; returns the key."""
    if size < 1 << 20:
        raise ValueError(f"image size must be at least 1 MiB, got {size} bytes")
    rng = random.Random(seed)
    path = Path(path)
    items: list[dict[str, Any]] = []
    kinds, weights = zip(*KIND_WEIGHTS.items(), strict=True)
    with open(path, "wb") as out:
        w = Writer(out, rng)
        w.fill(64 * 1024, "zeros")  # where a partition table would be
        while True:
            kind = rng.choices(kinds, weights)[0]
            context = rng.choice(["random", "zeros"])
            gap = rng.choice([rng.randrange(1, 4096), rng.randrange(4096, 256 * 1024)])
            aligned = rng.random() < 0.5
            start = w.pos + gap
            if aligned:
                start += -start % SECTOR
            elif start % SECTOR == 0:
                start += rng.randrange(1, SECTOR)
            if kind in FILE_KINDS:
                data = FILE_KINDS[kind](rng, rng.randrange(*SIZES[kind]))
            else:
                data = TEXT_KINDS[kind](rng)
            status = "intact"
            planted = data
            if kind in FILE_KINDS and rng.random() < TRUNCATE_RATE:
                status = "truncated"
                planted = data[: rng.randrange(len(data) // 4, len(data) * 3 // 4)]
            if start + len(planted) > size - SECTOR:
                break
            w.fill(start - w.pos, context)
            w.write(planted)
            item = {
                "id": len(items),
                "kind": kind,
                "offset": start,
                "length": len(planted),
                "sha256": hashlib.sha256(planted).hexdigest(),
                "status": status,
                "aligned": start % SECTOR == 0,
                "after": context,
            }
            if status == "truncated":
                item["original_length"] = len(data)
                item["original_sha256"] = hashlib.sha256(data).hexdigest()
            if kind in TEXT_KINDS:
                item["value"] = data.decode()
            items.append(item)
        w.fill(size - w.pos, "random")
    key = {**key_head(w, path, size, seed, KEY_VERSION), "counts": count_by_status(items), "items": items}
    Path(f"{path}.key.json").write_text(json.dumps(key, indent=1))
    return key


def count_by_status(items: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Planted items per kind and status, for the key's summary."""
    counts: dict[str, dict[str, int]] = {}
    for item in items:
        per = counts.setdefault(item["kind"], {})
        per[item["status"]] = per.get(item["status"], 0) + 1
    return counts
