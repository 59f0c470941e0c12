"""Step hash_image: whole-image MD5, SHA-1 and SHA-256 in one sequential pass."""

from __future__ import annotations

import time
from dataclasses import dataclass

import ray

import rust_core
from workers.evidence import ImageRef, RawImage
from workers.steps import current_node

STEP = "hash_image"
VERSION = "1"
READ_SIZE = 8 << 20


@dataclass(frozen=True)
class ImageDigests:
    image_index: int
    md5: str
    sha1: str
    sha256: str
    size: int
    node: str
    seconds: float


def hash_image_local(image: ImageRef, image_index: int) -> ImageDigests:
    """Read the image once, in bounded chunks, feeding the Rust hasher."""
    started = time.monotonic()
    hasher = rust_core.Hasher()
    with RawImage(image.path) as img:
        for offset in range(0, img.size, READ_SIZE):
            hasher.update(img.read_at(offset, READ_SIZE))
    d = hasher.digests()
    return ImageDigests(
        image_index=image_index,
        md5=d["md5"],
        sha1=d["sha1"],
        sha256=d["sha256"],
        size=d["length"],
        node=current_node(),
        seconds=time.monotonic() - started,
    )


hash_image = ray.remote(max_retries=3)(hash_image_local)
