"""One way to open evidence: the format is told by magic bytes (and, for split raw, by
the part names), never by the file's extension alone.

Every reader offers the same interface (`MediaImage`): `size`, `format`, `path`,
`read_at(offset, length)`, `feed(hasher, offset, length)`, `stored_digests()`, `ref()`,
`close()`; every step uses only that.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from workers.evidence import EvidenceError, ImageRef, MediaReader, RawImage, is_remote
from workers.ewf import MAGIC as EWF_MAGIC
from workers.ewf import EwfImage, segment_names
from workers.libyal import QcowImage, VhdImage, VmdkImage
from workers.split_raw import SplitRawImage, split_parts

if TYPE_CHECKING:  # the MinIO client loads only for evidence kept in MinIO
    from workers.remote import RemoteFile
    from workers.store import StoreConfig

MediaImage = MediaReader  # RawImage, SplitRawImage, HandleImage (E01, qcow, VMDK, VHD), RemoteRawImage

VHD_FOOTER = b"conectix"
LOGICAL_EWF = (b"LVF\x09\x0d\x0a\xff\x00", b"EVF2\r\n\x81\x00", b"LEF2\r\n\x81\x00")


def detect(raw: RawImage | RemoteFile) -> str:
    """The container format of a single file: ewf, qcow, vmdk, vhd or raw."""
    head = raw.read_at(0, 64)
    if head.startswith(EWF_MAGIC):
        return "ewf"
    if head.startswith(LOGICAL_EWF):
        raise EvidenceError(f"{raw.path}: L01/Ex01 evidence files are not supported (only E01 physical images)")
    if head.startswith(b"QFI\xfb"):
        return "qcow"
    if head.startswith((b"KDMV", b"COWD", b"# Disk DescriptorFile")):
        return "vmdk"
    if head.startswith((VHD_FOOTER, b"vhdxfile")) or (raw.size >= 512 and raw.read_at(raw.size - 512, 8) == VHD_FOOTER):
        return "vhd"
    return "raw"


OPENERS = {"ewf": EwfImage, "qcow": QcowImage, "vmdk": VmdkImage, "vhd": VhdImage}


def open_image(path: str | os.PathLike[str], store: StoreConfig | None = None) -> MediaImage:
    """The image at `path` (for split raw: its first part; for evidence in MinIO its
    s3:// URL, read with `store`) opened read-only for its media."""
    path = str(path)
    if is_remote(path):
        from workers.remote import RemoteRawImage, open_remote, remote_siblings

        remote = open_remote(path, store)
        kind = detect(remote)
        if kind == "ewf":
            names = segment_names(path, remote_siblings(path, store))
            return EwfImage(path, [remote] + [open_remote(n, store) for n in names[1:]])
        if kind in OPENERS:
            return OPENERS[kind](path, remote)
        parts = split_parts(path, remote_siblings(path, store))
        if parts:
            return SplitRawImage(parts, lambda url: RemoteRawImage(open_remote(url, store)))
        return RemoteRawImage(remote)
    with RawImage(path) as raw:
        kind = detect(raw)
    if kind in OPENERS:
        return OPENERS[kind](path)
    parts = split_parts(path)
    return SplitRawImage(parts) if parts else RawImage(path)


def check_images(paths: list[str], store: StoreConfig | None = None) -> list[tuple[ImageRef, dict[str, str]]]:
    """Open every image once to prove it is usable, taking its reference and the acquisition
    digests it stores (E01) on the way; all problems are reported together."""
    refs, problems = [], []
    for path in paths:
        try:
            with open_image(path if is_remote(path) else os.path.abspath(path), store) as img:
                refs.append((img.ref(), img.stored_digests()))
        except EvidenceError as exc:
            problems.append(str(exc))
    if problems:
        raise EvidenceError("; ".join(problems))
    return refs
