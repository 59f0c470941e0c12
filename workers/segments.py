"""A segment: the unit of work over an image's bytes, and the window a task reads for it.

Kept free of Ray and MinIO so one-machine commands (`quarry scan`, `quarry carve`) import
only what they use.
"""

from __future__ import annotations

from dataclasses import dataclass

from workers.images import MediaImage

LEAD = 4096  # bytes before a segment a walker may look back into (see Carver.scan)


@dataclass(frozen=True)
class Segment:
    image_index: int
    index: int
    start: int
    length: int
    overlap: int


def read_window(img: MediaImage, seg: Segment) -> tuple[bytes, int]:
    """The bytes a segment's task works on: LEAD bytes of look-back (fewer at the image's
    start), the segment, and its overlap; and how many look-back bytes came first.
    Unreadable media comes back as zeros (the hash step records where)."""
    lead = min(LEAD, seg.start)
    return img.read_salvaging(seg.start - lead, lead + seg.length + seg.overlap, []), lead
