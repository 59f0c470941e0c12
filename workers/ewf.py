"""E01 (Expert Witness Format) images through libewf: media bytes and stored digests.

libewf joins the segment files (.E01, .E02, ...) and inflates chunks; the acquisition
digests the imager stored (MD5, SHA-1) are read so intake can verify the media against
them. Files are opened read-only by libewf.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict
from typing import Any

import pyewf

from workers.evidence import RawImage
from workers.ewf_check import EwfLayoutError, Segment, check_chunks
from workers.libyal import HandleImage

MAGIC = b"EVF\x09\x0d\x0a\xff\x00"


def segment_names(first: str, siblings: Collection[str]) -> list[str]:
    """NAME.E01, NAME.E02, ... as far as they run unbroken among `siblings`."""
    names = [first]
    base, ext = first[:-2], first[-2:]
    if ext.isdigit():
        for n in range(int(ext) + 1, 100):
            if f"{base}{n:02d}" not in siblings:
                break
            names.append(f"{base}{n:02d}")
    return names


class EwfImage(HandleImage):
    """An E01 image set, read by absolute media offsets."""

    format, label = "ewf", "E01"

    def _open(self) -> Any:
        handle = pyewf.handle()
        if self.fileobj:  # segment files in MinIO, as file objects in order
            files = self.fileobj if isinstance(self.fileobj, list) else [self.fileobj]
            self.segments = [f.path for f in files]
            handle.open_file_objects(files)
        else:
            self.segments = [str(s) for s in pyewf.glob(self.path)]
            handle.open(self.segments)
        return handle

    def check_container(self) -> dict[str, Any]:
        """Every chunk against its checksum (libewf zero-fills damaged ones silently)."""
        if self.fileobj is not None:
            files = self.fileobj if isinstance(self.fileobj, list) else [self.fileobj]
            segments: list[tuple[str, Segment]] = [(f.path, f) for f in files]
        else:
            segments = [(name, RawImage(name)) for name in self.segments]
        try:
            check = check_chunks(segments)
        except EwfLayoutError as exc:
            return {"chunks": 0, "damaged": None, "problems": [], "error": str(exc)}
        finally:
            for _, seg in segments:
                if isinstance(seg, RawImage):
                    seg.close()
        return {"chunks": check.chunks, "damaged": check.damaged, "problems": [asdict(p) for p in check.problems]}

    def stored_digests(self) -> dict[str, str]:
        """The acquisition digests recorded in the image ({"md5": hex, "sha1": hex})."""
        out = {}
        for ours, theirs in (("md5", "MD5"), ("sha1", "SHA1")):
            value = self._handle.get_hash_value(theirs)
            if value and value.strip("0"):
                out[ours] = value.strip().lower()
        return out
