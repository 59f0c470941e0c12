"""Checking every chunk of an E01 against its own checksum, as ewfverify does.

libewf hands back zeros for a chunk whose data is damaged (a zlib stream that does not
inflate, or an uncompressed chunk whose Adler-32 does not match) without telling the
caller, so a damaged chunk of zeros would change no digest. This walks the segment files'
sections, reads each chunk once and reports every damaged one with its media offset.
Memory: one chunk at a time.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

DESCRIPTOR = 76  # type[16], next u64, size u64, padding[40], Adler-32 u32
FILE_HEADER = 13
TABLE_HEADER = 24  # entries u32, padding u32, base offset u64, padding u32, Adler-32 u32
COMPRESSED = 0x8000_0000


class Segment(Protocol):
    """A segment file: its size and bytes by offset (a local file or a MinIO object)."""

    size: int

    def read_at(self, offset: int, length: int) -> bytes: ...


@dataclass(frozen=True)
class ChunkProblem:
    chunk: int
    media_offset: int
    length: int
    segment: str
    reason: str


class EwfLayoutError(Exception):
    """The sections of a segment file cannot be walked; names the file and the offset."""


def _sections(name: str, seg: Segment) -> Iterator[tuple[str, int, int]]:
    """(type, offset, size) of each section descriptor, in the order they chain."""
    offset = FILE_HEADER
    while offset + DESCRIPTOR <= seg.size:
        raw = seg.read_at(offset, DESCRIPTOR)
        kind = raw[:16].rstrip(b"\0").decode("ascii", "replace")
        nxt, size = struct.unpack_from("<QQ", raw, 16)
        if zlib.adler32(raw[:72]) != struct.unpack_from("<I", raw, 72)[0]:
            raise EwfLayoutError(f"{name}: section descriptor at offset {offset} is damaged (checksum)")
        yield kind, offset, size
        if kind in ("done", "next") or nxt <= offset:
            return
        offset = nxt
    raise EwfLayoutError(f"{name}: sections end at offset {offset} without a done/next section (truncated?)")


def _media_geometry(name: str, seg: Segment) -> tuple[int, int]:
    """(chunk size, media size) from the first segment's volume/disk section."""
    for kind, offset, _ in _sections(name, seg):
        if kind in ("volume", "disk"):
            _, sectors_per_chunk, bytes_per_sector, sectors = struct.unpack_from(
                "<4xIIIQ", seg.read_at(offset + DESCRIPTOR, 24)
            )
            return sectors_per_chunk * bytes_per_sector, sectors * bytes_per_sector
    raise EwfLayoutError(f"{name}: no volume section")


@dataclass
class ChunkCheck:
    """The outcome of checking an E01 set: chunks checked, damaged ones (the first LISTED)."""

    chunks: int = 0
    damaged: int = 0
    problems: list[ChunkProblem] = field(default_factory=list)


LISTED = 1000


def check_chunks(segments: Sequence[tuple[str, Segment]]) -> ChunkCheck:
    """Every chunk of an E01 set checked; damaged ones listed with where their media lies."""
    chunk_size, media_size = _media_geometry(*segments[0])
    out = ChunkCheck()
    for name, seg in segments:
        sectors_end = 0
        for kind, offset, size in _sections(name, seg):
            if kind == "sectors":
                sectors_end = offset + size
            elif kind == "table":
                for start, end, compressed in _table(name, seg, offset, sectors_end):
                    index = out.chunks
                    want = min(chunk_size, media_size - index * chunk_size)
                    reason = _damage(seg.read_at(start, end - start), compressed, want)
                    if reason:
                        out.damaged += 1
                        if len(out.problems) < LISTED:
                            where = f"{reason} (file offset {start})"
                            out.problems.append(ChunkProblem(index, index * chunk_size, want, name, where))
                    out.chunks += 1
    return out


def _table(name: str, seg: Segment, offset: int, sectors_end: int) -> Iterator[tuple[int, int, bool]]:
    head = seg.read_at(offset + DESCRIPTOR, TABLE_HEADER)
    count, base = struct.unpack_from("<I4xQ", head, 0)
    if zlib.adler32(head[:20]) != struct.unpack_from("<I", head, 20)[0]:
        raise EwfLayoutError(f"{name}: chunk table at offset {offset} is damaged (checksum)")
    entries = struct.unpack(f"<{count}I", seg.read_at(offset + DESCRIPTOR + TABLE_HEADER, 4 * count))
    starts = [base + (e & ~COMPRESSED) for e in entries]
    for i, e in enumerate(entries):
        end = starts[i + 1] if i + 1 < count else sectors_end
        yield starts[i], end, bool(e & COMPRESSED)


def _damage(data: bytes, compressed: bool, want: int) -> str | None:
    """Why a chunk's stored bytes are not the chunk, or None when they check out."""
    if compressed:
        try:
            inflated = zlib.decompressobj().decompress(data)
        except zlib.error as exc:
            return f"compressed chunk does not inflate: {exc}"
        return None if len(inflated) == want else f"inflates to {len(inflated)} bytes, not {want}"
    body, stored = data[:want], data[want : want + 4]
    if len(stored) != 4:
        return "uncompressed chunk cut short"
    return None if zlib.adler32(body) == int.from_bytes(stored, "little") else "checksum mismatch"
