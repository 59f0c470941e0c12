"""Evidence intake errors name the image and the problem; reads are exact byte ranges."""

import os

import pytest

from cluster.planning import plan_segments
from workers.evidence import EvidenceError, ImageRef, RawImage
from workers.images import check_images


def test_read_at_returns_the_planted_bytes(tmp_path):
    path = tmp_path / "img.dd"
    data = os.urandom(10_000)
    path.write_bytes(data)
    with RawImage(path) as img:
        assert img.size == 10_000
        assert img.read_at(1234, 100) == data[1234:1334]
        assert img.read_at(9_990, 100) == data[9_990:]


def test_bad_images_are_all_reported_together(tmp_path):
    empty = tmp_path / "empty.dd"
    empty.write_bytes(b"")
    with pytest.raises(EvidenceError) as err:
        check_images([str(tmp_path / "missing.dd"), str(empty), str(tmp_path)])
    msg = str(err.value)
    assert "missing.dd: no such file" in msg
    assert "empty.dd: image is empty (0 bytes)" in msg
    assert f"{tmp_path}: is a directory" in msg


def test_segments_cover_the_image_exactly_once():
    segs = plan_segments(ImageRef("x", 10_000_001), 0, 1_000_000, 4096)
    assert segs[0].start == 0 and segs[-1].start + segs[-1].length == 10_000_001
    assert all(a.start + a.length == b.start for a, b in zip(segs, segs[1:], strict=False))
    assert len(segs) == 11 and segs[-1].length == 1


def test_salvaging_reads_zeros_exactly_where_the_media_fails():
    from workers.evidence import MediaReader

    class Flaky(MediaReader):
        """100 KiB of 0xAA whose bytes 40960..53247 (three 4 KiB pieces) cannot be read."""

        path, size = "flaky.img", 100 * 1024

        def read_at(self, offset: int, length: int) -> bytes:
            if offset < 53248 and offset + length > 40960:
                raise EvidenceError(f"flaky.img: read error at offset {offset}")
            return b"\xaa" * min(length, self.size - offset)

    bad: list[dict] = []
    data = Flaky().read_salvaging(1000, 90_000, bad)
    want = bytearray(b"\xaa" * 90_000)
    want[40960 - 1000 : 53248 - 1000] = bytes(53248 - 40960)
    assert data == bytes(want)
    assert [(b["offset"], b["length"]) for b in bad] == [(40960, 12288)]
