"""`--carve unallocated`: an ext4 built with e2fsprogs holding a JPEG as a file, and a PNG
planted by the test in blocks dumpe2fs lists as free. Carving only unallocated space finds
the planted PNG and not the allocated JPEG; carving everything finds both."""

from __future__ import annotations

import hashlib
import io
import re

import pyarrow.parquet as pq
import pytest

from cluster import api
from cluster.results import manifest_key
from tests.conftest import e2fs
from workers.store import RESULTS

BLOCK = 4096


@pytest.fixture(scope="module")
def planted(testdata, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unalloc")
    src = tmp / "src"
    src.mkdir()
    jpeg = (testdata / "small/jpeg.jpg").read_bytes()
    (src / "photo.jpg").write_bytes(jpeg)
    image = tmp / "ext4.img"
    e2fs("mke2fs", "-q", "-F", "-t", "ext4", "-b", str(BLOCK), "-d", str(src), str(image), "8M")
    free = re.findall(r"Free blocks: ([\d\-, ]+)", e2fs("dumpe2fs", str(image)))
    runs = [tuple(map(int, r.split("-"))) for group in free for r in group.split(",") if "-" in r]
    first, last = max(runs, key=lambda r: r[1] - r[0])
    png = next((testdata / "pngsuite/png").glob("basn2c08.png")).read_bytes()
    offset = (first + 2) * BLOCK + 1000  # inside the largest free run, not block-aligned
    assert offset + len(png) < (last + 1) * BLOCK
    data = bytearray(image.read_bytes())
    data[offset : offset + len(png)] = png
    image.write_bytes(bytes(data))
    return image, offset, hashlib.sha256(png).hexdigest(), hashlib.sha256(jpeg).hexdigest()


def carved(store, job):
    rows = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, manifest_key(job.case, job.id)))).to_pylist()
    return [r for r in rows if r["origin"] == "carved" and r["status"] == "complete"]


def test_only_unallocated_space_is_carved(settings, store, planted):
    image, offset, png_sha, jpeg_sha = planted
    job = api.wait(settings, api.submit(settings, "unalloc", [str(image)], carve="unallocated").id)
    assert job.state == "done", job.error
    rows = carved(store, job)
    assert [(r["type"], r["offset"], r["sha256"]) for r in rows] == [("png", offset, png_sha)]
    assert 0 < job.summary["carve"]["bytes"] < image.stat().st_size
    extracted = [
        r
        for r in pq.read_table(io.BytesIO(store.get_bytes(RESULTS, manifest_key(job.case, job.id)))).to_pylist()
        if r["origin"] == "allocated"
    ]
    assert [(r["path"], r["sha256"]) for r in extracted] == [("/photo.jpg", jpeg_sha)]


def test_carving_everything_also_finds_the_allocated_jpeg(settings, store, planted):
    image, offset, png_sha, jpeg_sha = planted
    job = api.wait(settings, api.submit(settings, "unalloc", [str(image)]).id)
    assert job.state == "done", job.error
    found = {(r["type"], r["sha256"]) for r in carved(store, job)}
    assert found == {("png", png_sha), ("jpeg", jpeg_sha)}
    assert job.summary["carve"] == {"profile": "all", "bytes": image.stat().st_size}
