"""The Sleuth Kit reading through Quarry's own evidence readers.

TSK gets its bytes from `MediaImage.read_at`, so E01, qcow, VMDK, VHD and split raw media
look to TSK exactly as they look to every other step (one reader per format, one truth
about the media), and TSK never opens an evidence file itself.
"""

from __future__ import annotations

from typing import Any

import pytsk3

from workers.evidence import EvidenceError
from workers.images import MediaImage


class TskImage(pytsk3.Img_Info):
    """A TSK image whose reads go to a `MediaImage`; the caller owns (and closes) the media."""

    def __init__(self, media: MediaImage, salvage: bool = False) -> None:
        self.media = media
        self.path = media.path
        self.last_error: str | None = None  # the latest reader error, which TSK's own message hides
        # With salvage, unreadable ranges read as zeros (recorded here), so a filesystem with a
        # bad range still opens and everything readable in it is still processed.
        self.salvage = salvage
        self.unreadable: list[dict[str, Any]] = []
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        """TSK's read callback: bytes past the media's end are simply absent (a short read),
        as TSK expects from a raw image; a reader error reaches TSK as an IOError that it
        turns into its own error for the structure it was reading (or, with salvage, zeros)."""
        if self.salvage:
            return self.media.read_salvaging(offset, size, self.unreadable)
        try:
            return self.media.read_at(offset, size)
        except EvidenceError as exc:
            self.last_error = str(exc)
            raise OSError(str(exc)) from None

    def get_size(self) -> int:
        return self.media.size
