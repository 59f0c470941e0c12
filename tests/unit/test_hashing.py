"""The Rust hasher against reference implementations: hashlib, zlib's CRC-32 and the
blake3 package (the BLAKE3 team's own binding), for block-edge sizes and megabytes."""

import hashlib
import mmap
import os
import random
import zlib

import blake3
import pytest

import rust_core
from workers.hashing import HashPlan, hash_stream
from workers.images import open_image

ALL = ["md5", "sha1", "sha256", "sha512", "blake3", "crc32"]


def reference(data: bytes, names: list[str] = ALL) -> dict:
    table = {
        "md5": lambda d: hashlib.md5(d).hexdigest(),
        "sha1": lambda d: hashlib.sha1(d).hexdigest(),
        "sha256": lambda d: hashlib.sha256(d).hexdigest(),
        "sha512": lambda d: hashlib.sha512(d).hexdigest(),
        "blake3": lambda d: blake3.blake3(d).hexdigest(),
        "crc32": lambda d: f"{zlib.crc32(d):08x}",
    }
    return {**{n: table[n](data) for n in names}, "length": len(data)}


SIZES = [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1023, 1024, 1025, 4096, 65537, 3 * 1024 * 1024 + 5]


@pytest.mark.parametrize("size", SIZES)
def test_every_digest_equals_the_reference(size):
    data = random.Random(size).randbytes(size)
    assert rust_core.digest(data, ALL) == reference(data)


def test_default_digests_are_md5_sha1_sha256():
    data = b"quarry" * 1000
    assert rust_core.digest(data) == reference(data, ["md5", "sha1", "sha256"])


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_stream_over_threads_in_odd_pieces_equals_one_pass(threads):
    data = random.Random(9).randbytes(9 * 1024 * 1024 + 11)
    h = rust_core.Hasher(ALL, threads=threads)
    assert h.threads == min(threads, len(ALL))
    for cut in range(0, len(data), 1_000_003):
        h.update(memoryview(data)[cut : cut + 1_000_003])
    assert h.digests() == reference(data), "snapshot mid-stream"
    h.update(b"tail")
    assert h.finish() == reference(data + b"tail")
    assert h.length == len(data) + 4


@pytest.mark.parametrize("window", [4096, 1 << 20])
def test_windows_equal_hashing_each_slice(window):
    data = random.Random(window).randbytes(5 * window + 123)
    h = rust_core.Hasher(["md5"], window=window, window_algorithms=["sha256", "md5", "crc32"])
    h.update(data)
    h.finish()
    rows = h.take_windows()
    assert len(rows) == 6 * 3
    for index, length, name, hexdigest in rows:
        piece = data[index * window : (index + 1) * window]
        assert length == len(piece)
        assert hexdigest == reference(piece, [name])[name], (index, name)


def test_the_core_reads_the_file_itself(tmp_path):
    data = random.Random(5).randbytes(6 * 1024 * 1024 + 77)
    path = tmp_path / "image.dd"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        h = rust_core.Hasher(["sha256", "md5"])
        assert h.update_from_file(fd, 100, 1 << 30) == len(data) - 100
        assert h.finish() == reference(data[100:], ["md5", "sha256"])
    finally:
        os.close(fd)


def test_hash_stream_of_an_image_with_windows(tmp_path):
    data = random.Random(6).randbytes(3 * 1024 * 1024 + 5)
    path = tmp_path / "image.dd"
    path.write_bytes(data)

    class Rows:
        def __init__(self) -> None:
            self.rows: list[dict] = []

        def write_table(self, table) -> None:
            self.rows += table.to_pylist()

    sink = Rows()
    plan = HashPlan(("md5", "sha256", "sha512"), 1 << 20, ("sha256", "blake3"))
    with open_image(path) as img:
        digests, written = hash_stream(img, plan, sink)
    assert digests == {k: v for k, v in reference(data, ["md5", "sha256", "sha512"]).items() if k != "length"}
    assert written == 4 and [r["index"] for r in sink.rows] == [0, 1, 2, 3]
    for r in sink.rows:
        piece = data[r["offset"] : r["offset"] + r["length"]]
        assert r["sha256"] == hashlib.sha256(piece).hexdigest()
        assert r["blake3"] == blake3.blake3(piece).hexdigest()


def test_accepts_bytearray_memoryview_and_mmap(tmp_path):
    data = random.Random(3).randbytes(100_000)
    path = tmp_path / "blob"
    path.write_bytes(data)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        assert rust_core.digest(m)["sha256"] == hashlib.sha256(data).hexdigest()
    assert rust_core.digest(bytearray(data)) == reference(data, ["md5", "sha1", "sha256"])
    assert rust_core.digest(memoryview(data)[10:20]) == reference(data[10:20], ["md5", "sha1", "sha256"])


def test_bad_requests_are_clear_errors():
    strided = memoryview(bytes(range(100)))[::2]
    with pytest.raises(rust_core.CoreError, match="contiguous byte buffer"):
        rust_core.digest(strided)
    with pytest.raises(rust_core.CoreError):
        rust_core.digest("text is not bytes")
    with pytest.raises(rust_core.CoreError, match='unknown digest "sha3"'):
        rust_core.Hasher(["sha3"])
    with pytest.raises(rust_core.CoreError, match="no digest"):
        rust_core.Hasher([])
    h = rust_core.Hasher()
    h.finish()
    with pytest.raises(rust_core.CoreError, match="finished"):
        h.update(b"late")
