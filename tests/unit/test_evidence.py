"""Evidence intake errors name the image and the problem; reads are exact byte ranges."""

import os

import pytest

from cluster.planning import plan_segments
from workers.evidence import EvidenceError, ImageRef, MediaReader, RawImage
from workers.images import check_images
from workers.segments import LEAD, Segment, read_window_into
from workers.split_raw import SplitRawImage


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


class Flaky(MediaReader):
    """100 KiB of 0xAA whose bytes 40960..53247 (three 4 KiB pieces) cannot be read."""

    path, size = "flaky.img", 100 * 1024

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 53248 and offset + length > 40960:
            raise EvidenceError(f"flaky.img: read error at offset {offset}")
        return b"\xaa" * min(length, self.size - offset)


def test_salvaging_reads_zeros_exactly_where_the_media_fails():
    bad: list[dict] = []
    data = Flaky().read_salvaging(1000, 90_000, bad)
    want = bytearray(b"\xaa" * 90_000)
    want[40960 - 1000 : 53248 - 1000] = bytes(53248 - 40960)
    assert data == bytes(want)
    assert [(b["offset"], b["length"]) for b in bad] == [(40960, 12288)]


@pytest.mark.parametrize("split", [False, True])
def test_windows_hold_the_file_bytes_mapped_or_read_into_one_reused_buffer(tmp_path, split):
    """A raw image's windows are views of the file mapped in memory (the buffer is never
    touched); media that cannot be mapped (a split raw image) is read into the one buffer,
    grown once and reused."""
    data = os.urandom(300_000)
    if split:
        parts = [tmp_path / f"img.{i:03d}" for i in range(1, 4)]
        for i, part in enumerate(parts):
            part.write_bytes(data[i * 100_000 : (i + 1) * 100_000])
        img: MediaReader = SplitRawImage([str(p) for p in parts])
    else:
        (tmp_path / "img.dd").write_bytes(data)
        img = RawImage(tmp_path / "img.dd")
    buffer = bytearray()
    with img:
        for seg in plan_segments(img.ref(), 0, 100_000, 10_000):
            view, lead = read_window_into(img, seg, buffer)
            start = seg.start - lead
            assert lead == min(LEAD, seg.start)
            assert bytes(view) == data[start : seg.start + seg.length + seg.overlap]
            assert view.readonly is not split
            view.release()
    assert len(buffer) == (LEAD + 100_000 + 10_000 if split else 0)


def test_a_window_over_failing_media_is_salvaged_into_the_buffer():
    view, lead = read_window_into(Flaky(), Segment(0, 0, 8192, 60_000, 4096), bytearray(b"\x55" * 10))
    assert lead == LEAD and len(view) == LEAD + 60_000 + 4096
    want = bytearray(b"\xaa" * len(view))
    want[40960 - 4096 : 53248 - 4096] = bytes(53248 - 40960)
    assert bytes(view) == bytes(want)
