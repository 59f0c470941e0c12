"""Split images into byte-range segments that overlap by a margin."""

from __future__ import annotations

from workers.carving import Segment
from workers.evidence import ImageRef


def plan_segments(image: ImageRef, image_index: int, segment_size: int, overlap: int) -> list[Segment]:
    """Contiguous owned ranges covering the image exactly once, each reading `overlap` more."""
    if segment_size <= 0:
        raise ValueError(f"segment size must be positive, got {segment_size}")
    return [
        Segment(image_index, i, start, min(segment_size, image.size - start), overlap)
        for i, start in enumerate(range(0, image.size, segment_size))
    ]
