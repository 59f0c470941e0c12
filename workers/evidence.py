"""Read-only access to evidence images by byte range.

Every step opens the image itself from a reference (a path every node sees), so image
bytes never travel through Ray's object store. Images are opened O_RDONLY: evidence is
never written to.
"""

from __future__ import annotations

import mmap
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rust_core


class EvidenceError(Exception):
    """An image that cannot be processed; the message names the image and the problem."""


@dataclass(frozen=True)
class ImageRef:
    """Where an image is and how big it was at intake."""

    path: str
    size: int
    format: str = "raw"


SALVAGE_PIECE = 4096  # the smallest range a read error is narrowed down to
SCHEME = "s3://"  # evidence kept in MinIO (workers/remote.py reads it)


def is_remote(path: str) -> bool:
    return path.startswith(SCHEME)


class MediaReader:
    """What every evidence reader shares. A reader sets `path`, `size` and `format` and
    implements `read_at`; feeding the hasher goes through `read_at` in bounded pieces
    unless the reader can hand the core a file to read itself."""

    format = "raw"
    path: str
    size: int
    PIECE = 4 << 20

    def read_at(self, offset: int, length: int) -> bytes:
        raise NotImplementedError

    def read_into(self, offset: int, view: memoryview) -> int:
        """Fill `view` from `offset` (less only at the image's end); returns the bytes read.
        Readers that can read straight into a caller's buffer override this, so a worker
        reuses one window buffer instead of faulting in fresh pages for every segment."""
        data = self.read_at(offset, len(view))
        view[: len(data)] = data
        return len(data)

    def feed(self, hasher: rust_core.Hasher, offset: int, length: int) -> int:
        """Hand `length` media bytes from `offset` to the hasher; returns the bytes fed."""
        done = 0
        while done < length:
            data = self.read_at(offset + done, min(self.PIECE, length - done))
            if not data:
                break
            hasher.update(data)
            done += len(data)
        return done

    def shrank(self, offset: int) -> EvidenceError:
        return EvidenceError(f"{self.path}: media ends early: no bytes at offset {offset} of {self.size}")

    def read_salvaging(self, offset: int, length: int, unreadable: list[dict[str, Any]]) -> bytes:
        """Like `read_at`, but what cannot be read comes back as zeros and is recorded in
        `unreadable` ({offset, length, reason}, narrowed by halving down to SALVAGE_PIECE
        bytes and merged), so everything readable around a bad range is still processed."""
        length = max(0, min(length, self.size - offset))
        try:
            return self.read_at(offset, length)
        except EvidenceError as exc:
            end = offset + length
            if offset // SALVAGE_PIECE == (end - 1) // SALVAGE_PIECE:  # within one aligned piece
                last = unreadable[-1] if unreadable else None
                if last and last["offset"] + last["length"] == offset:
                    last["length"] += length
                else:
                    unreadable.append({"offset": offset, "length": length, "reason": str(exc)})
                return bytes(length)
        # Split at an aligned boundary inside the range, so bad ranges resolve to whole pieces.
        mid = (offset + length // 2) // SALVAGE_PIECE * SALVAGE_PIECE
        if mid <= offset:
            mid = (offset // SALVAGE_PIECE + 1) * SALVAGE_PIECE
        return self.read_salvaging(offset, mid - offset, unreadable) + self.read_salvaging(
            mid, offset + length - mid, unreadable
        )

    def stored_digests(self) -> dict[str, str]:
        """Acquisition digests the container records (only E01 has any)."""
        return {}

    def check_container(self) -> dict[str, Any] | None:
        """The container's own integrity check (E01 chunk checksums), or None where the
        format has none."""
        return None

    def ref(self) -> ImageRef:
        return ImageRef(path=self.path, size=self.size, format=self.format)

    def mapped(self, offset: int, length: int) -> memoryview | None:
        """Up to `length` media bytes at `offset` as a read-only view of the file mapped in
        memory (no copy), where the reader can map its media (a raw image); else None."""
        return None

    def close(self) -> None:
        pass

    def __enter__(self) -> MediaReader:  # noqa: PYI034 (subclasses return themselves)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RawImage(MediaReader):
    """A raw (dd) image or block device, read by absolute byte ranges."""

    format = "raw"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self._map: mmap.mmap | None = None
        self._fd = _open_readonly(self.path)
        try:
            self.size = os.lseek(self._fd, 0, os.SEEK_END)
            if self.size == 0:
                raise EvidenceError(f"{self.path}: image is empty (0 bytes)")
            os.pread(self._fd, 1, 0)
        except OSError as exc:
            os.close(self._fd)
            raise EvidenceError(f"{self.path}: cannot read: {exc.strerror}") from exc
        except EvidenceError:
            os.close(self._fd)
            raise

    def mapped(self, offset: int, length: int) -> memoryview | None:
        if self._map is None:
            try:
                self._map = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError, OverflowError):
                return None  # media that cannot be mapped is read instead
        length = max(0, min(length, self.size - offset))
        return memoryview(self._map)[offset : offset + length]

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset` (fewer only at the image's end)."""
        length = max(0, min(length, self.size - offset))
        chunks = []
        while length > 0:
            try:
                chunk = os.pread(self._fd, length, offset)
            except OSError as exc:
                raise EvidenceError(f"{self.path}: read error at offset {offset}: {exc.strerror}") from exc
            if not chunk:
                raise self.shrank(offset)
            chunks.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def read_into(self, offset: int, view: memoryview) -> int:
        length = max(0, min(len(view), self.size - offset))
        done = 0
        while done < length:
            try:
                got = os.preadv(self._fd, [view[done:length]], offset + done)
            except OSError as exc:
                raise EvidenceError(f"{self.path}: read error at offset {offset + done}: {exc.strerror}") from exc
            if not got:
                raise self.shrank(offset + done)
            done += got
        return done

    def feed(self, hasher: rust_core.Hasher, offset: int, length: int) -> int:
        """Hand `length` media bytes from `offset` to the core's hasher, which reads them
        itself (no copy through Python); returns the bytes fed."""
        try:
            return hasher.update_from_file(self._fd, offset, length)
        except OSError as exc:
            raise EvidenceError(f"{self.path}: read error at offset {offset}: {exc.strerror or exc}") from exc

    def shrank(self, offset: int) -> EvidenceError:
        return EvidenceError(f"{self.path}: image shrank: no bytes at offset {offset} of {self.size}")

    def close(self) -> None:
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:
                pass  # a view of it is still held: the mapping goes when the last view does
            self._map = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _open_readonly(path: str) -> int:
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise EvidenceError(f"{path}: no such file") from None
    except PermissionError:
        raise EvidenceError(f"{path}: not readable (permission denied)") from None
    if stat.S_ISDIR(mode):
        raise EvidenceError(f"{path}: is a directory, not an image file")
    if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode)):
        raise EvidenceError(f"{path}: not a regular file or block device")
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        raise EvidenceError(f"{path}: not readable (permission denied)") from None
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot open: {exc.strerror}") from None
