"""E01 (Expert Witness Format) images through libewf: media bytes and stored digests.

libewf joins the segment files (.E01, .E02, ...) and inflates chunks; the acquisition
digests the imager stored (MD5, SHA-1) are read so intake can verify the media against
them. Files are opened read-only by libewf.
"""

from __future__ import annotations

import os

import pyewf

import rust_core
from workers.evidence import EvidenceError, ImageRef

MAGIC = b"EVF\x09\x0d\x0a\xff\x00"
PIECE = 4 << 20


class EwfImage:
    """An E01 image set, read by absolute media offsets."""

    format = "ewf"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        try:
            segments = pyewf.glob(self.path)
            self._handle = pyewf.handle()
            self._handle.open(segments)
        except (OSError, RuntimeError, ValueError) as exc:
            raise EvidenceError(f"{self.path}: not a readable E01 image set: {_reason(exc)}") from None
        self.segments = [str(s) for s in segments]
        self.size = int(self._handle.get_media_size())
        if self.size == 0:
            self.close()
            raise EvidenceError(f"{self.path}: E01 image holds no media (0 bytes)")

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to `length` media bytes at `offset` (fewer only at the media's end)."""
        length = max(0, min(length, self.size - offset))
        try:
            data = self._handle.read_buffer_at_offset(length, offset)
        except (OSError, RuntimeError) as exc:
            raise EvidenceError(f"{self.path}: E01 read error at media offset {offset}: {_reason(exc)}") from None
        if len(data) != length:
            raise self.shrank(offset + len(data))
        return data

    def feed(self, hasher: rust_core.Hasher, offset: int, length: int) -> int:
        """Hand `length` media bytes from `offset` to the hasher; returns the bytes fed."""
        done = 0
        while done < length:
            data = self.read_at(offset + done, min(PIECE, length - done))
            if not data:
                break
            hasher.update(data)
            done += len(data)
        return done

    def shrank(self, offset: int) -> EvidenceError:
        return EvidenceError(f"{self.path}: E01 media ends early: no bytes at offset {offset} of {self.size}")

    def stored_digests(self) -> dict[str, str]:
        """The acquisition digests recorded in the image ({"md5": hex, "sha1": hex})."""
        out = {}
        for ours, theirs in (("md5", "MD5"), ("sha1", "SHA1")):
            value = self._handle.get_hash_value(theirs)
            if value and value.strip("0"):
                out[ours] = value.strip().lower()
        return out

    def ref(self) -> ImageRef:
        return ImageRef(path=self.path, size=self.size, format=self.format)

    def close(self) -> None:
        if getattr(self, "_handle", None) is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> EwfImage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(exc: BaseException) -> str:
    """libewf's messages carry its call chain; keep the first, most specific line."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
