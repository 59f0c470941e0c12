"""FAT16 and FAT32 filesystems built here with dosfstools (mkfs.fat) and filled with mtools
(mmd, mcopy, mdel), and an empty exFAT built with exfatprogs (mkfs.exfat); the answers come
from what the test put there, from mtools' own listing (mdir), from the boot sector read with
struct and from exfatprogs' dump.exfat, not from TSK.

What TSK does with a deleted FAT name (asserted below): deleting overwrites the first byte of
the 8.3 entry with 0xE5, so that character is gone from the disk. A name stored only as 8.3
(mtools keeps "gone.txt" as `GONE    TXT` with the lower-case flags, no long name) comes back
from TSK with `_` in place of the lost character: "_one.txt". A long name survives whole:
only the first byte (the sequence number) of each long-name entry becomes 0xE5, the
characters stay, and TSK reports the original long name. FAT keeps a deleted file's first
cluster and size, so TSK recovers the content of a file that was contiguous (every file on a
freshly built filesystem is).

exFAT gets no files: mtools does not write exFAT and exfatprogs has no tool that adds files
(only a kernel mount does), so the exFAT check covers detection, the label and TSK's
metadata files, against dump.exfat.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from workers.filesystems import open_filesystem, read_content, walk
from workers.images import open_image
from workers.tsk_image import TskImage
from workers.unallocated import unallocated_runs
from workers.volumes import find_filesystems

LABEL = "QUARRY"
MTIME = 1_500_000_000  # even: FAT keeps modification times in 2-second steps
LONG = "/sub/A rather long file name.txt"
CONTENTS = {
    "/hello.txt": b"hello\n",
    "/sub/empty.txt": b"",
    LONG: b"a long name\n",
    "/sub/deeper/big.bin": random.Random(20240501).randbytes(300 << 10),
}
DELETED = {  # deleted path -> the path TSK reports for it (see the module docstring)
    "/gone.txt": "/_one.txt",
    "/sub/Deleted long name.txt": "/sub/Deleted long name.txt",
}
DELETED_CONTENTS = {
    "/gone.txt": b"gone data\n" * 100,
    "/sub/Deleted long name.txt": random.Random(7).randbytes(40 << 10),
}
# mkfs.fat arguments and size in KiB: small images, cluster counts inside each FAT type's range
FORMATS = {"fat16": (["-F", "16", "-s", "2"], 8 << 10), "fat32": (["-F", "32", "-s", "1"], 40 << 10)}
TSK_VIRTUAL = {"/$MBR", "/$FAT1", "/$FAT2", "/$OrphanFiles"}


def tool(*argv: str) -> str:
    path = shutil.which(argv[0]) or shutil.which(argv[0], path="/usr/sbin:/sbin")
    package = {"mkfs.fat": "dosfstools", "mkfs.exfat": "exfatprogs", "dump.exfat": "exfatprogs"}.get(argv[0], "mtools")
    assert path, f"{argv[0]} ({package}) is needed to build this test's filesystem: apt-get install {package}"
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    done = subprocess.run(
        [path, *argv[1:]], check=True, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL
    )
    return done.stdout


@pytest.fixture(scope="module", params=sorted(FORMATS))
def fat(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    fs_type = request.param
    options, kib = FORMATS[fs_type]
    root = tmp_path_factory.mktemp(fs_type)
    image = root / f"{fs_type}.img"
    tool("mkfs.fat", "-C", *options, "-n", LABEL, str(image), str(kib))
    tool("mmd", "-i", str(image), "::/sub", "::/sub/deeper")
    for n, (path, data) in enumerate({**CONTENTS, **DELETED_CONTENTS}.items()):
        src = root / f"src{n}"
        src.write_bytes(data)
        os.utime(src, (MTIME, MTIME))
        tool("mcopy", "-m", "-i", str(image), str(src), f"::{path}")  # -m keeps the modification time
    tool("mdel", "-i", str(image), *(f"::{path}" for path in DELETED))
    return fs_type, image


def mdir_files(image: Path) -> dict[str, int | None]:
    """Every path mtools lists under the root, with its size (None for a directory), from
    `mdir -/` (the short name in columns 0-12, then size or <DIR>, date, time, long name)."""
    listing: dict[str, int | None] = {}
    folder = None
    for line in tool("mdir", "-/", "-a", "-i", str(image), "::/").splitlines():
        if m := re.fullmatch(r"Directory for ::(/.*)", line):
            folder = m.group(1).rstrip("/")
            continue
        m = re.fullmatch(r"(.{8}) (.{3}) +(<DIR>|\d+) +\d{4}-\d\d-\d\d +\d+:\d\d(?:  (.+)| ?)", line)
        if folder is None or not m:
            continue
        short, ext, size, long = m.groups()
        name = long or (short.rstrip() + ("." + ext.rstrip() if ext.strip() else ""))
        if name not in (".", ".."):
            listing[f"{folder}/{name}"] = None if size == "<DIR>" else int(size)
    return listing


def test_fat_entries_content_and_deleted_files(fat: tuple[str, Path]) -> None:
    fs_type, image = fat
    want = {path: len(data) for path, data in CONTENTS.items()} | {"/sub": None, "/sub/deeper": None}
    assert mdir_files(image) == want  # mtools' own view of what was put there

    boot = image.read_bytes()[:512]
    reserved, fat_sectors = struct.unpack_from("<H", boot, 14)[0], struct.unpack_from("<H", boot, 22)[0]
    fat_sectors = fat_sectors or struct.unpack_from("<I", boot, 36)[0]  # 0 in FAT32's BPB: its size is at 36
    with image.open("rb") as f:
        f.seek(reserved * 512)
        fat_table = f.read(fat_sectors * 512)

    with open_image(image) as media:
        tsk = TskImage(media)
        layout = find_filesystems(tsk)
        assert [(f.offset, f.fs_type, f.length) for f in layout.filesystems] == [(0, fs_type, image.stat().st_size)]
        assert layout.warnings == [] and layout.volume_system is None
        fs = open_filesystem(tsk, 0)
        entries = {e.path: e for e in walk(fs, pytest.fail)}

        label = f"/{LABEL:<11} (Volume Label Entry)"  # TSK lists the 11-byte label entry as a name
        allocated = {p: e for p, e in entries.items() if e.allocation == "allocated"}
        assert set(allocated) == set(want) | TSK_VIRTUAL | {label}
        assert {p: e.size for p, e in allocated.items() if p in CONTENTS} == {p: len(d) for p, d in CONTENTS.items()}
        assert {p for p, e in allocated.items() if e.kind == "dir"} == {"/sub", "/sub/deeper"}
        for path, data in CONTENTS.items():
            e = entries[path]
            assert (e.kind, e.mtime) == ("file", MTIME), path
            got = hashlib.sha256(b"".join(read_content(fs, e))).hexdigest()
            assert got == hashlib.sha256(data).hexdigest(), path
        assert bytes.fromhex(entries[LONG].name_hex) == b"A rather long file name.txt"
        fat1, fat2 = (b"".join(read_content(fs, entries[p])) for p in ("/$FAT1", "/$FAT2"))
        assert fat1 == fat2 == fat_table

        deleted = {p: e for p, e in entries.items() if e.allocation != "allocated"}
        assert set(deleted) == set(DELETED.values())
        for original, reported in DELETED.items():
            e = deleted[reported]
            assert (e.allocation, e.name_allocated, e.meta_allocated, e.kind) == ("deleted", False, False, "file")
            assert e.size == len(DELETED_CONTENTS[original]) and e.mtime == MTIME
            assert b"".join(read_content(fs, e)) == DELETED_CONTENTS[original], original
        # on the disk: the 8.3 entry of gone.txt starts with 0xE5, lower-case flags (0x18) set
        assert image.read_bytes().count(b"\xe5ONE    TXT\x20\x18") == 1


def test_fat_unallocated_equals_mtools_free_bytes(fat: tuple[str, Path]) -> None:
    _, image = fat
    free = int(re.search(r"([\d ]+) bytes free", tool("mdir", "-i", str(image), "::/")).group(1).replace(" ", ""))
    with open_image(image) as media:
        runs = list(unallocated_runs(open_filesystem(TskImage(media), 0)))
    assert free > 0 and sum(length for _, length in runs) == free
    assert all(a + n < b for (a, n), (b, _) in zip(runs, runs[1:], strict=False))  # sorted, apart


def test_empty_exfat_against_dump_exfat(tmp_path: Path) -> None:
    image = tmp_path / "exfat.img"
    with image.open("wb") as f:
        f.truncate(8 << 20)
    tool("mkfs.exfat", "-L", LABEL, "-c", "4096", str(image))
    dump = dict(re.findall(r"^([^:\n]+):\s+(\S+)", tool("dump.exfat", str(image)), re.M))
    cluster, total, free = int(dump["Cluster size"]), int(dump["Total Clusters"]), int(dump["Free Clusters"])
    with open_image(image) as media:
        tsk = TskImage(media)
        layout = find_filesystems(tsk)
        length = int(dump["Volume Length(sectors)"]) * 512
        assert [(f.offset, f.fs_type, f.length) for f in layout.filesystems] == [(0, "exfat", length)]
        fs = open_filesystem(tsk, 0)
        entries = {e.path: e for e in walk(fs, pytest.fail)}
        names = {f"/{LABEL} (Volume Label Entry)", "/$ALLOC_BITMAP", "/$UPCASE_TABLE"} | (TSK_VIRTUAL - {"/$FAT2"})
        assert set(entries) == names  # the exFAT label is not padded; one FAT, no $FAT2
        assert all(e.allocation == "allocated" for e in entries.values())
        bitmap = entries["/$ALLOC_BITMAP"]
        assert bitmap.size == int(dump["Bitmap size"]) == (total + 7) // 8
        used = sum(bin(b).count("1") for b in b"".join(read_content(fs, bitmap)))
        assert used == total - free
        assert entries["/$UPCASE_TABLE"].size == int(dump["Upcase table size"])
        runs = list(unallocated_runs(fs))
    assert sum(n for _, n in runs) == free * cluster
