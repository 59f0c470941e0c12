"""The unallocated space of a filesystem as byte runs in image coordinates, so the carver
can be pointed at exactly the blocks `blkls` would give.

TSK decides what is unallocated (its block walk with the UNALLOC flag: the block bitmap for
ext, the FAT for FAT, $Bitmap for NTFS, and TSK's own reckoning for ISO 9660 and others).
pytsk3 does not wrap `tsk_fs_block_walk`, but its extension carries libtsk and exports the
function, so it is called here through ctypes with the `TSK_FS_INFO` pointer that pytsk3's
wrapper holds. Both the pointer and every block TSK hands back are checked against TSK's
structure tags before use; a mismatch is an error, never a guess.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

import pytsk3

from workers.filesystems import Filesystem, FilesystemError

TSK_FS_INFO_TAG = 0x10101010
TSK_FS_BLOCK_TAG = 0x1B7C3F4A
WALK_CONT, WALK_ERROR = 0, 2
WINDOW = 1 << 20  # blocks per call into TSK: runs are handed on at least this often


class _Block(ctypes.Structure):
    """The head of TSK's TSK_FS_BLOCK (tsk_fs.h): tag, fs_info, buf, addr, flags."""

    _fields_ = [
        ("tag", ctypes.c_int),
        ("fs_info", ctypes.c_void_p),
        ("buf", ctypes.c_void_p),
        ("addr", ctypes.c_uint64),
        ("flags", ctypes.c_int),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_Block), ctypes.c_void_p)
# PyDLL keeps the GIL held through the call: TSK reads the image through TskImage.read, Python code
_LIB = ctypes.PyDLL(pytsk3.__file__)
_block_walk = _LIB.tsk_fs_block_walk
_block_walk.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_int, _CALLBACK, ctypes.c_void_p]
_block_walk.restype = ctypes.c_uint8


def _fs_info_pointer(fs: Filesystem) -> int:
    """The TSK_FS_INFO* behind pytsk3's `FS_Info.info`: its wrapper object keeps the pointer
    right after the Python object header. TSK's tag at that address proves it."""
    info = fs.tsk.info
    pointer = ctypes.c_void_p.from_address(id(info) + object.__basicsize__).value
    if (
        not pointer
        or int(info.tag) != TSK_FS_INFO_TAG
        or ctypes.c_uint32.from_address(pointer).value != TSK_FS_INFO_TAG
    ):
        raise FilesystemError(fs.label, "this pytsk3 build does not expose TSK's filesystem handle; no block walk")
    return pointer


def unallocated_runs(fs: Filesystem, window: int = WINDOW) -> Iterator[tuple[int, int]]:
    """(offset, length) in bytes from the start of the image, for every run of blocks TSK
    counts as unallocated, in block order and merged where blocks touch. Runs are clipped to
    the image's end (a filesystem may claim more blocks than the media holds).

    Memory stays bounded: TSK walks `window` blocks per call and the runs closed in that
    window are yielded before the next call.
    """
    pointer = _fs_info_pointer(fs)
    info = fs.tsk.info
    first, last = int(info.first_block), int(info.last_block)
    block_size, base, end = fs.block_size, fs.offset, fs.image.get_size()
    flags = int(pytsk3.TSK_FS_BLOCK_WALK_FLAG_UNALLOC) | int(pytsk3.TSK_FS_BLOCK_WALK_FLAG_AONLY)
    run: list[int] = []  # [first block, block count] of the run still growing
    closed: list[tuple[int, int]] = []
    bad: list[str] = []

    def visit(block: ctypes._Pointer, _: ctypes.c_void_p) -> int:
        b = block.contents
        if b.tag != TSK_FS_BLOCK_TAG:
            bad.append(f"TSK handed back a block with tag {b.tag:#x}")
            return WALK_ERROR
        if run and b.addr == run[0] + run[1]:
            run[1] += 1
        else:
            if run:
                closed.append((run[0], run[1]))
            run[:] = [b.addr, 1]
        return WALK_CONT

    callback = _CALLBACK(visit)
    start = first
    while start <= last:
        stop = min(last, start + window - 1)
        if _block_walk(pointer, start, stop, flags, callback, None) != 0 or bad:
            why = bad[0] if bad else "TSK's block walk failed"
            raise FilesystemError(fs.label, f"unallocated blocks {start}-{stop}: {why}")
        for blk, count in closed:
            yield from _clip(base + blk * block_size, count * block_size, end)
        closed.clear()
        start = stop + 1
    if run:
        yield from _clip(base + run[0] * block_size, run[1] * block_size, end)


def _clip(offset: int, length: int, end: int) -> Iterator[tuple[int, int]]:
    length = min(length, end - offset)
    if length > 0:
        yield offset, length
