"""Split images into byte-range segments that overlap by a margin."""

from __future__ import annotations

from collections.abc import Sequence

from workers.evidence import ImageRef
from workers.segments import Segment


def plan_segments(
    image: ImageRef,
    image_index: int,
    segment_size: int,
    overlap: int,
    ranges: Sequence[tuple[int, int]] | None = None,
) -> list[Segment]:
    """Owned ranges covering the image (or only `ranges`, (offset, length) pairs such as a
    filesystem's unallocated space) exactly once, each reading `overlap` more."""
    if segment_size <= 0:
        raise ValueError(f"segment size must be positive, got {segment_size}")
    spans = [(0, image.size)] if ranges is None else ranges
    out: list[Segment] = []
    for offset, length in spans:
        end = min(offset + length, image.size)
        for start in range(offset, end, segment_size):
            out.append(Segment(image_index, len(out), start, min(segment_size, end - start), overlap))
    return out
