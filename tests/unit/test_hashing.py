"""The Rust hasher against hashlib, for block-edge sizes and megabytes, from any buffer."""

import hashlib
import mmap
import random

import pytest

import rust_core


def reference(data: bytes) -> dict:
    return {
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
        "length": len(data),
    }


@pytest.mark.parametrize("size", [0, 1, 55, 56, 63, 64, 65, 4096, 3 * 1024 * 1024 + 5])
def test_digest_equals_hashlib(size):
    data = random.Random(size).randbytes(size)
    assert rust_core.digest(data) == reference(data)


def test_stream_in_pieces_equals_one_pass():
    data = random.Random(9).randbytes(5 * 1024 * 1024 + 11)
    h = rust_core.Hasher()
    for cut in range(0, len(data), 1_000_003):
        h.update(memoryview(data)[cut : cut + 1_000_003])
    assert h.digests() == reference(data)
    assert h.length == len(data)


def test_accepts_bytearray_memoryview_and_mmap(tmp_path):
    data = random.Random(3).randbytes(100_000)
    path = tmp_path / "blob"
    path.write_bytes(data)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        assert rust_core.digest(m)["sha256"] == hashlib.sha256(data).hexdigest()
    assert rust_core.digest(bytearray(data)) == reference(data)
    assert rust_core.digest(memoryview(data)[10:20]) == reference(data[10:20])


def test_non_contiguous_buffer_is_a_clear_error():
    strided = memoryview(bytes(range(100)))[::2]
    with pytest.raises(rust_core.CoreError, match="contiguous byte buffer"):
        rust_core.digest(strided)
    with pytest.raises(rust_core.CoreError):
        rust_core.digest("text is not bytes")
