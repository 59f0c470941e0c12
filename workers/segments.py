"""A segment: the unit of work over an image's bytes, and the window a task reads for it.

Kept free of Ray and MinIO so one-machine commands (`quarry scan`, `quarry carve`) import
only what they use.
"""

from __future__ import annotations

from dataclasses import dataclass

from workers.evidence import EvidenceError
from workers.images import MediaImage

LEAD = 4096  # bytes before a segment a walker may look back into (see Carver.scan)


@dataclass(frozen=True)
class Segment:
    image_index: int
    index: int
    start: int
    length: int
    overlap: int


def window_span(seg: Segment) -> tuple[int, int, int]:
    """Where a segment's window starts, how long it is, and how many look-back bytes come
    first: LEAD bytes before the segment (fewer at the image's start), the segment, and
    its overlap."""
    lead = min(LEAD, seg.start)
    return seg.start - lead, lead + seg.length + seg.overlap, lead


def read_window(img: MediaImage, seg: Segment) -> tuple[bytes, int]:
    """The bytes a segment's task works on, and how many look-back bytes came first.
    Unreadable media comes back as zeros (the hash step records where)."""
    start, length, lead = window_span(seg)
    return img.read_salvaging(start, length, []), lead


def read_window_into(img: MediaImage, seg: Segment, buffer: bytearray) -> tuple[memoryview, int]:
    """`read_window` into a buffer the caller keeps between segments (grown as needed);
    the window is a view of it, valid until the next call with the same buffer. A raw
    image's window is a view of the file mapped in memory instead (no copy at all)."""
    start, length, lead = window_span(seg)
    mapped = img.mapped(start, length)
    if mapped is not None:  # a raw image: its pages as they are, no copy
        return mapped, lead
    if len(buffer) < length:
        buffer.extend(bytes(length - len(buffer)))
    view = memoryview(buffer)[:length]
    try:
        got = img.read_into(start, view)
    except EvidenceError:  # rare: salvage piece by piece, zeros where the media fails
        data = img.read_salvaging(start, length, [])
        got = len(data)
        view[:got] = data
    return view[:got], lead
