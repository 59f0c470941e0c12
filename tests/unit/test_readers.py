"""Every evidence reader against published answers: the media digests that
../shared/testdata/truth lists for each container (computed there with qemu-img, ewfinfo
and the raw streams), and clear errors for damaged containers."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from workers.evidence import EvidenceError
from workers.hashing import HashPlan, hash_stream
from workers.images import check_images, open_image

CONTAINERS = {
    "dfvfs__ext2.splitraw": ("dfvfs-ext2/ext2.splitraw.000", "split-raw"),
    "dfvfs__ext2.E01": ("dfvfs-ext2/ext2.E01", "ewf"),
    "dfvfs__ext2.split.E01": ("dfvfs-ext2/ext2.split.E01", "ewf"),
    "dfvfs__ext2.qcow2": ("dfvfs-ext2/ext2.qcow2", "qcow"),
    "dfvfs__ext2.vmdk": ("dfvfs-ext2/ext2.vmdk", "vmdk"),
    "dfvfs__ext2.vhd": ("dfvfs-ext2/ext2.vhd", "vhd"),
    "sleuthkit__image.dd": ("sleuthkit/image.dd", "raw"),
    "sleuthkit__image.E01": ("sleuthkit/image.E01", "ewf"),
    "sleuthkit__image.qcow": ("sleuthkit/image.qcow", "qcow"),
    "sleuthkit__image.vmdk": ("sleuthkit/image.vmdk", "vmdk"),
    "sleuthkit__image.vhd": ("sleuthkit/image.vhd", "vhd"),
    "sleuthkit__image.iso": ("sleuthkit/image.iso", "raw"),
}


def truth_media(testdata: Path, name: str) -> dict[str, str]:
    text = (testdata / "truth" / name / "container.txt").read_text()
    media = text[text.index("# media (raw stream)") :]
    out = {"size": re.search(r"size=(\d+)", media).group(1)}
    for algorithm in ("md5", "sha1", "sha256"):
        out[algorithm] = re.search(rf"^{algorithm}=([0-9a-f]+)$", media, re.M).group(1)
    return out


@pytest.mark.parametrize("name", sorted(CONTAINERS))
def test_media_digests_equal_the_published_ones(testdata, name):
    rel, fmt = CONTAINERS[name]
    want = truth_media(testdata, name)
    with open_image(testdata / rel) as img:
        assert img.format == fmt
        assert img.size == int(want["size"])
        digests, _ = hash_stream(img, HashPlan(("md5", "sha1", "sha256"), 0))
        head = img.read_at(0, 4096)
        tail = img.read_at(img.size - 1000, 5000)
    assert digests == {k: want[k] for k in ("md5", "sha1", "sha256")}
    assert len(head) == 4096 and len(tail) == 1000


def test_ranges_across_split_parts_equal_the_joined_bytes(testdata):
    joined = b"".join((testdata / f"dfvfs-ext2/ext2.splitraw.00{i}").read_bytes() for i in (0, 1))
    with open_image(testdata / "dfvfs-ext2/ext2.splitraw.000") as img:
        for offset, length in ((0, 10), ((2 << 20) - 7, 20), ((2 << 20) - 1, 1), ((4 << 20) - 5, 100)):
            assert img.read_at(offset, length) == joined[offset : offset + length]


def test_e01_media_digest_equals_hashing_the_split_raw(testdata):
    raw = b"".join((testdata / f"dfvfs-ext2/ext2.splitraw.00{i}").read_bytes() for i in (0, 1))
    with open_image(testdata / "dfvfs-ext2/ext2.split.E01") as img:
        assert img.stored_digests()["md5"] == hashlib.md5(raw).hexdigest()
        assert img.read_at(1 << 20, 1 << 20) == raw[1 << 20 : 2 << 20]


def test_split_raw_with_a_missing_part_names_it(tmp_path):
    for n in (0, 1, 3):
        (tmp_path / f"disk.00{n}").write_bytes(bytes([n]) * 4096)
    with pytest.raises(EvidenceError, match=r"disk\.000: split image part .*disk\.002 is missing \(found disk\.003"):
        open_image(tmp_path / "disk.000")


def test_alphabetic_split_parts_are_joined(tmp_path):
    for i, suffix in enumerate(("aa", "ab", "ac")):
        (tmp_path / f"disk.{suffix}").write_bytes(bytes([i + 1]) * 1000)
    with open_image(tmp_path / "disk.aa") as img:
        assert img.format == "split-raw" and img.size == 3000
        assert img.read_at(990, 20) == b"\x01" * 10 + b"\x02" * 10


def test_truncated_and_damaged_containers_are_clear_errors(testdata, tmp_path):
    e01 = tmp_path / "cut.E01"
    data = (testdata / "dfvfs-ext2/ext2.E01").read_bytes()
    e01.write_bytes(data[: len(data) // 2])
    qcow = tmp_path / "cut.qcow2"
    qcow.write_bytes((testdata / "dfvfs-ext2/ext2.qcow2").read_bytes()[:200])
    with pytest.raises(EvidenceError) as err:
        check_images([str(e01), str(qcow)])
    message = str(err.value)
    assert f"{e01}: E01 image is truncated or damaged: cannot read media at offset 0" in message
    assert f"{qcow}: not a readable QCOW image" in message


def test_a_second_split_part_alone_is_read_as_raw(testdata, tmp_path):
    part = tmp_path / "ext2.splitraw.001"
    shutil.copyfile(testdata / "dfvfs-ext2/ext2.splitraw.001", part)
    with open_image(part) as img:
        assert img.format == "raw" and img.size == 2 << 20


def test_e01_chunk_check_names_the_damaged_chunk(testdata, tmp_path):
    raw = b"".join((testdata / f"dfvfs-ext2/ext2.splitraw.00{i}").read_bytes() for i in (0, 1))
    damaged = bytearray((testdata / "dfvfs-ext2/ext2.E01").read_bytes())
    damaged[2000] ^= 0x01  # inside the first chunk's compressed data
    path = tmp_path / "damaged.E01"
    path.write_bytes(bytes(damaged))
    with open_image(path) as img:
        check = img.check_container()
        media = img.read_at(0, img.size)
    # Where libewf's media differs from the raw media is the damaged chunk (32 KiB chunks).
    differing = {i // 32768 for i in range(0, len(raw), 512) if media[i : i + 512] != raw[i : i + 512]}
    assert differing == {0}
    assert (check["chunks"], check["damaged"]) == (128, 1)
    assert check["problems"][0]["chunk"] == 0 and check["problems"][0]["media_offset"] == 0
