"""Opening evidence by what it is, not by its name: raw (dd) or E01, told by magic bytes."""

from __future__ import annotations

import os

from workers.evidence import EvidenceError, ImageRef, RawImage
from workers.ewf import MAGIC as EWF_MAGIC
from workers.ewf import EwfImage

MediaImage = RawImage | EwfImage


def open_image(path: str | os.PathLike[str]) -> MediaImage:
    """The image at `path` opened read-only for its media bytes."""
    with RawImage(path) as raw:
        head = raw.read_at(0, len(EWF_MAGIC))
    if head == EWF_MAGIC:
        return EwfImage(path)
    return RawImage(path)


def check_images(paths: list[str]) -> list[ImageRef]:
    """Open every image once to prove it is usable; all problems are reported together."""
    refs, problems = [], []
    for path in paths:
        try:
            with open_image(os.path.abspath(path)) as img:
                refs.append(img.ref())
        except EvidenceError as exc:
            problems.append(str(exc))
    if problems:
        raise EvidenceError("; ".join(problems))
    return refs
