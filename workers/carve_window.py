"""Carving one segment's window of an image: the files whose headers it owns, re-read past
the window when they run on, and put back together when fragmented. Shared by the
cluster's step (workers/carving.py) and `quarry carve` (cluster/carve_local.py); it needs
neither Ray nor MinIO, so the local tool starts fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import rust_core
from workers.images import MediaImage
from workers.segments import Segment, read_window, read_window_into

FIRST_REREAD = 4 << 20  # a file running past the window is re-read from this much, doubling
BLOCK = 4096  # fragments of a fragmented file begin on multiples of this (a cluster size)
MAX_GAP = 256 << 10  # the farthest a second fragment is looked for after the first ends
SECOND_FRAGMENT = 4 << 20  # the longest second fragment read


def carve_segment(
    carver: rust_core.Carver,
    img: MediaImage,
    seg: Segment,
    window_scans: Sequence[Callable[[memoryview, int], None] | None] = (),
    buffer: bytearray | None = None,
) -> Iterator[tuple[rust_core.Carve, memoryview]]:
    """Each file whose header lies in the segment, with its bytes, re-reading past the window;
    each of `window_scans` (features, a YARA raw scan) gets the window and its image offset
    first, so the segment is read once for all of them. With a `buffer` kept between
    segments, the window is read into it (no fresh pages per segment): the bytes yielded
    are then valid only until the next segment is read into it."""
    if buffer is None:
        window, lead = read_window(img, seg)
        view = memoryview(window)
    else:
        view, lead = read_window_into(img, seg, buffer)
        window = view
    for scan in window_scans:
        if scan is not None:
            scan(view, seg.start - lead)
    at_eof = seg.start - lead + len(window) == img.size
    for hit in carver.scan(window, seg.start, seg.length, at_eof, lead):
        if hit.status != "need_more":
            rel = lead + hit.offset - seg.start
            found: tuple[rust_core.Carve, memoryview] | None = (hit, view[rel : rel + hit.length])
        else:
            found = reread(carver, img, hit.offset, hit.kind, len(window) - (lead + hit.offset - seg.start))
        if found is not None:
            yield reassembled(carver, img, found[0]) or found


def media(img: MediaImage, offset: int, length: int) -> bytes | memoryview:
    """Up to `length` media bytes at `offset`: a view of a mapped raw image, else read
    (unreadable media as zeros)."""
    mapped = img.mapped(offset, length)
    return mapped if mapped is not None else img.read_salvaging(offset, length, [])


def reassembled(
    carver: rust_core.Carver, img: MediaImage, carve: rust_core.Carve
) -> tuple[rust_core.Carve, memoryview] | None:
    """A truncated JPEG, ZIP or PDF put back together from two fragments, when a
    continuation within MAX_GAP completes it (bifragment gap carving); else None."""
    if carve.status == "complete" or not carver.reassembles(carve.kind):
        return None
    span = min(carver.max_size(carve.kind), carve.length + MAX_GAP + SECOND_FRAGMENT)
    data = media(img, carve.offset, span)
    whole = carver.reassemble(data, carve.offset, carve.kind, carve.length, BLOCK, MAX_GAP)
    if whole is None:
        return None
    pieces = [memoryview(data)[at - carve.offset : at - carve.offset + n] for at, n in whole.runs]
    return whole, memoryview(b"".join(pieces))


def reread(
    carver: rust_core.Carver, img: MediaImage, offset: int, kind: str, had: int
) -> tuple[rust_core.Carve, memoryview] | None:
    """Carve a file that ran past the window, reading from its header a doubling amount up
    to the type's cap: a chance header near a window's end costs a small read, not the cap."""
    cap = carver.max_size(kind)
    want = min(cap, max(FIRST_REREAD, 2 * had))
    while True:
        data = media(img, offset, want)
        at_eof = offset + len(data) == img.size
        carve = carver.carve_at(data, offset, kind, at_eof)
        if carve is None:
            return None
        if carve.status != "need_more":
            return carve, memoryview(data)[: carve.length]
        if want >= cap or at_eof:
            return None
        want = min(cap, want * 2)


def carve_fields(carve: rust_core.Carve) -> dict[str, object]:
    """What a manifest row says about a carve besides its content's digests."""
    return {
        "offset": carve.offset,
        "length": carve.length,
        "type": carve.kind,
        "subtype": carve.subtype,
        "status": carve.status,
        "confidence": carve.confidence,
        "missing": carve.missing,
        "runs": [list(r) for r in carve.runs] if len(carve.runs) > 1 else None,
        "origin": "carved",
    }
