"""Container formats read through the libyal bindings: qcow/qcow2 (libqcow), VMDK
(libvmdk) and VHD/VHDX (libvhdi); E01 (libewf) builds on the same base in workers/ewf.py.

All of them open files read-only, expose the media size and read by absolute media offset;
this base turns that into Quarry's reader interface (read_at, feed, ref).
"""

from __future__ import annotations

import os
from typing import Any

import pyqcow
import pyvhdi
import pyvmdk

from workers.evidence import EvidenceError, MediaReader


def reason(exc: BaseException) -> str:
    """libyal messages carry their call chain; keep the first, most specific line."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class HandleImage(MediaReader):
    """A container whose media a libyal handle reads by offset."""

    format = "container"
    label = "container"

    def __init__(self, path: str | os.PathLike[str], fileobj: Any = None) -> None:
        """Open `path`, or `fileobj` (a read-only file object, e.g. over MinIO) named `path`."""
        self.path = str(path)
        self.fileobj = fileobj
        self._handle: Any = None
        try:
            self._handle = self._open()
            self.size = int(self._handle.get_media_size())
        except (OSError, RuntimeError, ValueError, TypeError) as exc:
            self.close()
            raise EvidenceError(f"{self.path}: not a readable {self.label} image: {reason(exc)}") from None
        if self.size == 0:
            self.close()
            raise EvidenceError(f"{self.path}: {self.label} image holds no media (0 bytes)")
        self._probe()

    def _probe(self) -> None:
        """Read the first and the last media byte, so a container cut short or with a broken
        chunk table is refused at intake rather than halfway through a job."""
        for offset in (0, self.size - 1):
            try:
                self._handle.read_buffer_at_offset(1, offset)
            except (OSError, RuntimeError) as exc:
                self.close()
                raise EvidenceError(
                    f"{self.path}: {self.label} image is truncated or damaged: "
                    f"cannot read media at offset {offset} ({reason(exc)})"
                ) from None

    def _open(self) -> Any:
        raise NotImplementedError

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to `length` media bytes at `offset` (fewer only at the media's end)."""
        length = max(0, min(length, self.size - offset))
        try:
            data = self._handle.read_buffer_at_offset(length, offset)
        except (OSError, RuntimeError) as exc:
            raise EvidenceError(
                f"{self.path}: {self.label} read error at media offset {offset}: {reason(exc)}"
            ) from None
        if len(data) != length:
            raise self.shrank(offset + len(data))
        return data

    def shrank(self, offset: int) -> EvidenceError:
        return EvidenceError(f"{self.path}: {self.label} media ends early: no bytes at offset {offset} of {self.size}")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class QcowImage(HandleImage):
    format, label = "qcow", "QCOW"

    def _open(self) -> Any:
        handle = pyqcow.file()
        handle.open_file_object(self.fileobj) if self.fileobj else handle.open(self.path)
        return handle


class VmdkImage(HandleImage):
    """A VMDK (descriptor and extents, or a monolithic sparse file)."""

    format, label = "vmdk", "VMDK"

    def _open(self) -> Any:
        handle = pyvmdk.handle()
        if self.fileobj:  # a monolithic sparse VMDK: the extent is the same object
            handle.open_file_object(self.fileobj)
            handle.open_extent_data_files_as_file_objects([self.fileobj])
        else:
            handle.open(self.path)
            handle.open_extent_data_files()
        return handle


class VhdImage(HandleImage):
    format, label = "vhd", "VHD"

    def _open(self) -> Any:
        handle = pyvhdi.file()
        handle.open_file_object(self.fileobj) if self.fileobj else handle.open(self.path)
        return handle
