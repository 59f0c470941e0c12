"""Volume systems and where their filesystems are: the public DFTT image
imageformat_mmls_1.E01 (a DOS table with two NTFS partitions, whose entries this test reads
itself with struct and which mmls/fdisk list at sectors 128 and 55424), DOS and GPT disks
built here around the public ext2 images at offsets the test chose, and damaged tables."""

from __future__ import annotations

import hashlib
import struct
import uuid
import zlib
from pathlib import Path

import pytest

from tests.unit.test_filesystems import digests, ntfs_geometry, truth_files
from workers.evidence import EvidenceError, RawImage
from workers.filesystems import open_filesystem, walk
from workers.images import open_image
from workers.tsk_image import TskImage
from workers.volumes import Layout, find_filesystems

SECTOR = 512


def layout_of(path: Path) -> Layout:
    with open_image(path) as media:
        return find_filesystems(TskImage(media))


def ext2_small(testdata: Path) -> bytes:
    return (testdata / "sleuthkit/image.dd").read_bytes()  # 100 KiB, 200 sectors


def ext2_large(testdata: Path) -> bytes:
    return b"".join((testdata / f"dfvfs-ext2/ext2.splitraw.00{i}").read_bytes() for i in (0, 1))  # 4 MiB


def mbr_entry(ptype: int, start: int, count: int, boot: int = 0) -> bytes:
    return struct.pack("<B3sB3sII", boot, b"\0\0\0", ptype, b"\0\0\0", start, count)


def boot_record(*entries: bytes) -> bytes:
    table = b"".join(entries).ljust(64, b"\0")
    return bytes(446) + table + b"\x55\xaa"


def disk(path: Path, sectors: int, pieces: dict[int, bytes]) -> Path:
    """A disk image of `sectors` sectors with `pieces` written at their sector numbers."""
    data = bytearray(sectors * SECTOR)
    for sector, piece in pieces.items():
        data[sector * SECTOR : sector * SECTOR + len(piece)] = piece
    path.write_bytes(bytes(data))
    return path


def assert_files_equal_truth(image_path: Path, offset: int, truth_name: str, testdata: Path) -> None:
    want = truth_files(testdata, truth_name)
    with open_image(image_path) as media:
        fs = open_filesystem(TskImage(media), offset)
        files = {e.path: e for e in walk(fs, pytest.fail) if e.kind == "file" and e.meta_allocated is not None}
        assert {p: e.inode for p, e in files.items()} == {p: int(r["inode"]) for p, r in want.items()}
        for path, entry in files.items():
            assert digests(fs, entry)[1]["sha256"] == want[path]["sha256"]


# ---- a public image with a partition table --------------------------------------------------


def test_imageformat_mmls_1_partitions_are_where_its_table_says(testdata):
    path = testdata / "sleuthkit/imageformat_mmls_1.E01"
    with open_image(path) as media:
        mbr = media.read_at(0, SECTOR)
    assert mbr[510:] == b"\x55\xaa"
    entries = [struct.unpack_from("<B3xB3xII", mbr, 446 + 16 * i) for i in range(4)]
    planted = [(start, count) for _, ptype, start, count in entries if ptype]
    assert planted == [(128, 55296), (55424, 61440)]  # as mmls and fdisk list them

    layout = layout_of(path)
    assert layout.warnings == []
    assert (layout.volume_system, layout.sector_size) == ("dos", 512)
    allocated = [p for p in layout.partitions if p.kind == "allocated"]
    assert [(p.slot, p.start, p.length, p.offset, p.description) for p in allocated] == [
        ("000:000", 128, 55296, 128 * SECTOR, "NTFS / exFAT (0x07)"),
        ("000:001", 55424, 61440, 55424 * SECTOR, "NTFS / exFAT (0x07)"),
    ]
    # mmls's rows: the table, the gap before the first partition, the two partitions, the tail
    assert [(p.slot, p.start, p.kind) for p in layout.partitions[:2]] == [
        ("Meta", 0, "meta"),
        ("-------", 0, "unallocated"),
    ]
    assert layout.partitions[1].length == 128
    found = [(f.offset, f.fs_type, f.partition.slot) for f in layout.filesystems]
    assert found == [(128 * SECTOR, "ntfs", "000:000"), (55424 * SECTOR, "ntfs", "000:001")]
    for fs in layout.filesystems:  # the size the NTFS boot sector gives, a little short of the partition
        cluster, clusters = ntfs_geometry(testdata, fs.offset)
        assert (fs.block_size, fs.block_count, fs.length) == (cluster, clusters, cluster * clusters)
        assert fs.length <= fs.partition.size


# ---- disks built here -----------------------------------------------------------------------


def test_dos_table_with_an_extended_partition(testdata, tmp_path):
    small, large = ext2_small(testdata), ext2_large(testdata)
    ebr = boot_record(mbr_entry(0x83, 63, len(large) // SECTOR))  # logical: 63 sectors after its table
    path = disk(
        tmp_path / "mbr.img",
        9000,
        {
            0: boot_record(mbr_entry(0x83, 64, 200, boot=0x80), mbr_entry(0x05, 300, 63 + 8192 + 10)),
            64: small,
            300: ebr,
            363: large,
        },
    )
    layout = layout_of(path)
    assert layout.warnings == [] and layout.volume_system == "dos"
    found = [(f.offset, f.fs_type, f.length, f.partition.slot) for f in layout.filesystems]
    assert found == [(64 * SECTOR, "ext2", len(small), "000:000"), (363 * SECTOR, "ext2", len(large), "001:000")]
    assert_files_equal_truth(path, 64 * SECTOR, "sleuthkit__image.dd", testdata)
    assert_files_equal_truth(path, 363 * SECTOR, "dfvfs__ext2.splitraw", testdata)


def gpt_disk(path: Path, sectors: int, parts: list[tuple[int, bytes, str]]) -> Path:
    """A GPT disk (protective MBR, primary and backup headers and entry arrays, real CRCs)
    with each (first sector, content, name) as a Linux filesystem partition."""
    linux = uuid.UUID("0fc63daf-8483-4772-8e79-3d69d8477de4").bytes_le
    entries = bytearray(128 * 128)
    for i, (first, content, name) in enumerate(parts):
        last = first + len(content) // SECTOR - 1
        unique = uuid.UUID(int=i + 1).bytes_le
        struct.pack_into("<16s16sQQQ72s", entries, 128 * i, linux, unique, first, last, 0, name.encode("utf-16-le"))
    entries_crc = zlib.crc32(entries)

    def header(current: int, backup: int, table: int) -> bytes:
        fields = [b"EFI PART", 0x00010000, 92, 0, 0, current, backup, 34, sectors - 34]
        fields += [uuid.UUID(int=99).bytes_le, table, 128, 128, entries_crc]
        raw = bytearray(struct.pack("<8sIIII QQQQ 16sQIII", *fields))
        struct.pack_into("<I", raw, 16, zlib.crc32(raw))
        return bytes(raw)

    pieces = {0: boot_record(mbr_entry(0xEE, 1, sectors - 1)), 1: header(1, sectors - 1, 2), 2: bytes(entries)}
    pieces |= {sectors - 33: bytes(entries), sectors - 1: header(sectors - 1, 1, sectors - 33)}
    pieces |= {first: content for first, content, _ in parts}
    return disk(path, sectors, pieces)


def test_gpt_partitions(testdata, tmp_path):
    small, large = ext2_small(testdata), ext2_large(testdata)
    path = gpt_disk(tmp_path / "gpt.img", 8600, [(40, small, "evidence one"), (300, large, "evidence two")])
    layout = layout_of(path)
    assert layout.warnings == [] and layout.volume_system == "gpt"
    found = [(f.offset, f.fs_type, f.partition.slot, f.partition.description) for f in layout.filesystems]
    assert found == [(40 * SECTOR, "ext2", "000", "evidence one"), (300 * SECTOR, "ext2", "001", "evidence two")]
    meta = [(p.start, p.length, p.description) for p in layout.partitions if p.kind == "meta"]
    assert meta == [(0, 1, "Safety Table"), (1, 1, "GPT Header"), (2, 32, "Partition Table")]
    assert_files_equal_truth(path, 300 * SECTOR, "dfvfs__ext2.splitraw", testdata)


# ---- damaged tables and partitions ----------------------------------------------------------


def test_a_table_tsk_refuses_is_a_warning_and_its_good_entries_are_still_tried(testdata, tmp_path):
    # the extended entry points far past the end of the image: TSK drops the whole table
    mbr = boot_record(mbr_entry(0x83, 64, 200), mbr_entry(0x05, 100_000, 50))
    path = disk(tmp_path / "bad.img", 400, {0: mbr, 64: ext2_small(testdata)})
    layout = layout_of(path)
    assert layout.volume_system is None
    assert layout.warnings[0].startswith(f"{path}: DOS partition table at offset 0 that TSK cannot read")
    assert "no filesystem TSK can open at offset 0" in layout.warnings[0]
    assert [(f.offset, f.fs_type) for f in layout.filesystems] == [(64 * SECTOR, "ext2")]
    assert_files_equal_truth(path, 64 * SECTOR, "sleuthkit__image.dd", testdata)


def test_a_table_whose_entries_all_lie_past_the_end_gives_warnings_only(tmp_path):
    path = disk(tmp_path / "past.img", 400, {0: boot_record(mbr_entry(0x83, 99_999, 200))})
    layout = layout_of(path)
    assert layout.filesystems == []
    assert len(layout.warnings) == 2
    assert "DOS partition table at offset 0 that TSK cannot read" in layout.warnings[0]
    assert layout.warnings[1] == (
        f"{path}: primary entry 0 (type 0x83) starts at offset {99_999 * SECTOR}, "
        "past the end of the image (204800 bytes)"
    )


def test_an_unreadable_extended_table_is_a_warning_naming_its_offset(testdata, tmp_path):
    mbr = boot_record(mbr_entry(0x83, 64, 200), mbr_entry(0x05, 300, 90))  # no table at sector 300
    path = disk(tmp_path / "ext.img", 400, {0: mbr, 64: ext2_small(testdata)})
    layout = layout_of(path)
    assert [f.offset for f in layout.filesystems] == [64 * SECTOR]
    assert layout.warnings == [
        f"{path}: extended partition table at offset {300 * SECTOR} is unreadable; "
        "logical partitions inside it are not listed"
    ]


def test_a_partition_without_a_filesystem_is_a_warning_and_the_others_are_found(testdata, tmp_path):
    mbr = boot_record(mbr_entry(0x83, 64, 200), mbr_entry(0x07, 300, 100))  # sector 300 on: zeros
    path = disk(tmp_path / "empty.img", 400, {0: mbr, 64: ext2_small(testdata)})
    layout = layout_of(path)
    assert [f.offset for f in layout.filesystems] == [64 * SECTOR]
    assert len(layout.warnings) == 1
    assert layout.warnings[0].startswith(f"{path}: partition 000:001 (NTFS / exFAT (0x07)): ")
    assert f"no filesystem TSK can open at offset {300 * SECTOR}" in layout.warnings[0]


def test_an_image_with_neither_table_nor_filesystem(tmp_path):
    path = disk(tmp_path / "zeros.img", 64, {})
    layout = layout_of(path)
    assert (layout.filesystems, layout.volume_system) == ([], None)
    assert layout.warnings == [
        f"{path}: no partition table recognised, "
        "and no filesystem TSK can open at offset 0: Cannot determine file system type"
    ]


def test_a_reader_error_is_a_warning_not_an_exception(testdata):
    class Failing(RawImage):
        def read_at(self, offset: int, length: int) -> bytes:
            if offset + length > 65536:
                raise EvidenceError(f"{self.path}: read error at offset {offset}: injected")
            return super().read_at(offset, length)

    with Failing(testdata / "sleuthkit/image.dd") as media:
        layout = find_filesystems(TskImage(media))
    assert layout.filesystems == []
    assert layout.warnings and all("read error at offset" in w and "injected" in w for w in layout.warnings)


def test_the_layout_is_small_and_picklable(testdata):
    import pickle

    layout = layout_of(testdata / "sleuthkit/imageformat_mmls_1.E01")
    again = pickle.loads(pickle.dumps(layout))
    assert again == layout
    assert hashlib.sha256(pickle.dumps(layout)).digest()  # plain data, nothing holding TSK handles
