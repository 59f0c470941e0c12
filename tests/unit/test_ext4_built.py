"""An ext4 filesystem built here with e2fsprogs (mke2fs -d from a folder this test fills), a
file deleted and a nanosecond time set with debugfs; the answers come from what the test put
there and from e2fsprogs' own readers (debugfs stat, dumpe2fs), not from TSK."""

from __future__ import annotations

import hashlib
import os
import re
import struct
from pathlib import Path

import pytest

from tests.conftest import e2fs
from workers.filesystems import open_filesystem, read_content, walk
from workers.images import open_image
from workers.tsk_image import TskImage
from workers.unallocated import unallocated_runs
from workers.volumes import find_filesystems

ODD_NAME = b"bad\xff\x01name \xe2\x80\xae"  # invalid UTF-8, a control character, a bidi override
NANOS = 123_456_789


@pytest.fixture(scope="module")
def ext4(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    root = tmp_path_factory.mktemp("ext4")
    src = root / "src"
    (src / "sub").mkdir(parents=True)
    contents = {
        "/plain.txt": b"hello\n",
        "/sub/big.bin": hashlib.shake_256(b"quarry").digest(3 << 20),  # three 1 MiB chunks
        "/gone.txt": b"to be deleted\n",
    }
    for path, data in contents.items():
        (src / path.lstrip("/")).write_bytes(data)
    with open(os.fsencode(src) + b"/" + ODD_NAME, "wb") as f:
        f.write(b"odd")
    os.symlink("sub/big.bin", src / "link")
    os.utime(src / "plain.txt", (1_600_000_000, 1_500_000_000))
    image = root / "ext4.img"
    e2fs("mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024", "-d", str(src), "-L", "quarry", str(image), "16M")
    e2fs("debugfs", "-w", "-R", "rm /gone.txt", str(image))
    e2fs("debugfs", "-w", "-R", f"sif /plain.txt mtime_extra {NANOS << 2}", str(image))  # ns in bits 2..31
    return image, contents


def debugfs_times(image: Path, path: str) -> dict[str, tuple[int, int]]:
    """The four times as debugfs prints them: `atime: 0xSECONDS:EXTRA -- ...`."""
    out = e2fs("debugfs", "-R", f"stat {path}", str(image))
    times = {}
    for kind, seconds, extra in re.findall(r"^\s*(\w+time): 0x([0-9a-f]+):([0-9a-f]+)", out, re.M):
        times[kind] = (int(seconds, 16), int(extra, 16) >> 2)
    return times


def test_ext4_entries_times_and_content(ext4):
    image, contents = ext4
    with open_image(image) as media:
        tsk = TskImage(media)
        layout = find_filesystems(tsk)
        assert [(f.offset, f.fs_type) for f in layout.filesystems] == [(0, "ext4")] and layout.warnings == []
        fs = open_filesystem(tsk, 0)
        entries = {e.path: e for e in walk(fs, pytest.fail)}
        odd = "/bad\\xff\\x01name \\u202e"
        assert set(entries) == {"/lost+found", "/sub", "/link", "/$OrphanFiles", odd, *contents}
        assert bytes.fromhex(entries[odd].name_hex) == ODD_NAME
        assert b"".join(read_content(fs, entries[odd])) == b"odd"
        assert entries["/link"].link_target == "sub/big.bin"

        gone = entries["/gone.txt"]
        assert (gone.allocation, gone.name_allocated, gone.meta_allocated) == ("deleted", False, False)
        for path in ("/plain.txt", "/sub/big.bin"):
            e = entries[path]
            assert e.allocation == "allocated" and e.size == len(contents[path])
            chunks = list(read_content(fs, e))
            assert max(len(c) for c in chunks) <= 1 << 20
            assert hashlib.sha256(b"".join(chunks)).digest() == hashlib.sha256(contents[path]).digest()

        for path in ("/plain.txt", "/sub/big.bin", "/sub", "/link"):
            want = debugfs_times(image, path)
            e = entries[path]
            got = {t: (getattr(e, t) or 0, getattr(e, f"{t}_ns") or 0) for t in ("atime", "mtime", "ctime", "crtime")}
            assert got == want, path
        assert (entries["/plain.txt"].mtime, entries["/plain.txt"].mtime_ns) == (1_500_000_000, NANOS)
        assert entries["/plain.txt"].atime == 1_600_000_000


def test_ext4_unallocated_runs_equal_dumpe2fs_free_blocks(ext4):
    image, _ = ext4
    free = []
    for line in re.findall(r"^\s+Free blocks: (.*)$", e2fs("dumpe2fs", str(image)), re.M):
        for item in filter(None, (s.strip() for s in line.split(","))):
            first, _, last = item.partition("-")
            free.append([int(first), int(last or first)])
    merged: list[list[int]] = []
    for first, last in sorted(free):
        if merged and first == merged[-1][1] + 1:
            merged[-1][1] = last
        else:
            merged.append([first, last])
    with open_image(image) as media:
        runs = list(unallocated_runs(open_filesystem(TskImage(media), 0)))
    assert merged and runs == [(first * 1024, (last - first + 1) * 1024) for first, last in merged]


def test_an_orphan_inode_is_listed_under_orphanfiles_with_its_content(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "keep.txt").write_bytes(b"keep\n")
    (src / "orph.txt").write_bytes(b"orphan data\n")
    image = tmp_path / "orphan.img"
    e2fs("mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024", "-d", str(src), str(image), "4M")
    inode = int(re.search(r"Inode: (\d+)", e2fs("debugfs", "-R", "stat /orph.txt", str(image))).group(1))
    e2fs("debugfs", "-w", "-R", "unlink /orph.txt", str(image))  # the name goes, the inode stays
    data = bytearray(image.read_bytes())
    at = data.index(b"\x08\x01orph.txt") - 6  # the directory entry: inode, record length, name length, type
    assert data[at : at + 4] == struct.pack("<I", inode)
    data[at : at + 4] = bytes(4)  # nothing names the inode any more
    image.write_bytes(bytes(data))
    e2fs("debugfs", "-w", "-R", f"freei <{inode}>", str(image))  # and it is free: an orphan
    with open_image(image) as media:
        fs = open_filesystem(TskImage(media), 0)
        entries = {e.path: e for e in walk(fs, pytest.fail)}
        orphans = [e for e in entries.values() if e.orphan]
        assert [(e.path, e.inode, e.kind, e.allocation, e.meta_allocated) for e in orphans] == [
            (f"/$OrphanFiles/OrphanFile-{inode}", inode, "file", "deleted", False)
        ]
        assert b"".join(read_content(fs, orphans[0])) == b"orphan data\n"
        assert not entries["/keep.txt"].orphan and entries["/orph.txt"].inode == 0
