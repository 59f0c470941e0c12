"""Files from filesystems through a real job: every regular file The Sleuth Kit's own tools
listed and hashed for the public test images (testdata/truth/*/fs00_o0/files.tsv) is in the
manifest with its path, inode and digests, stored byte-exact, with a timeline beside it."""

from __future__ import annotations

import csv
import hashlib
import io

import pyarrow.parquet as pq
import pytest

from cluster import api
from cluster.results import manifest_key
from workers import files
from workers.evidence import ImageRef
from workers.steps import JobContext
from workers.store import ARTIFACTS, RESULTS, artifact_key

IMAGES = {"sleuthkit/image.dd": "sleuthkit__image.dd", "dfvfs-ext2/ext2.E01": "dfvfs__ext2.E01"}


def truth_files(testdata, name):
    with open(testdata / "truth" / name / "fs00_o0" / "files.tsv", newline="") as f:
        return {(r["path"], int(r["inode"])): r for r in csv.DictReader(f, delimiter="\t")}


@pytest.fixture(scope="module")
def job(settings, testdata):
    paths = [str(testdata / rel) for rel in IMAGES]
    job = api.wait(settings, api.submit(settings, "files", paths).id)
    assert job.state == "done", job.error
    return job


def test_every_listed_file_is_in_the_manifest_with_its_digests(job, store, testdata):
    table = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, manifest_key(job.case, job.id))))
    rows = [r for r in table.to_pylist() if r["step"] == "scan_files"]
    for index, name in enumerate(IMAGES.values()):
        got = {(r["path"], r["inode"]): r for r in rows if r["image_index"] == index}
        want = truth_files(testdata, name)
        assert set(got) == set(want), name
        for key, t in want.items():
            r = got[key]
            assert (r["md5"], r["sha1"], r["sha256"]) == (t["md5"], t["sha1"], t["sha256"]), key
            assert r["length"] == int(t["icat_bytes"]) and r["origin"] == "allocated" and r["fs_offset"] == 0
            stored = store.get_bytes(ARTIFACTS, artifact_key(r["sha256"]))
            assert hashlib.sha256(stored).hexdigest() == t["sha256"]


def test_summary_and_timeline(job, store, testdata):
    images = job.summary["images"]
    assert [i["filesystems"] for i in images] == [["ext2 at 0 (whole image)"], ["ext2 at 0 (whole image)"]]
    for img, name in zip(images, IMAGES.values(), strict=True):
        assert img["files"]["allocated"] == len(truth_files(testdata, name)) and img["file_batches"] == 1
        body = (testdata / "truth" / name / "fs00_o0" / "bodyfile.txt").read_text().splitlines()
        # bodyfile: md5|name|inode|mode|uid|gid|size|atime|mtime|ctime|crtime; one timeline row per set time
        times = sum(1 for line in body for t in line.split("|")[7:11] if t not in ("", "0"))
        timeline = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, img["timeline"]["key"])))
        assert timeline.num_rows == img["timeline"]["rows"] == times, name


def test_an_images_files_spread_over_batches(settings, store, testdata, monkeypatch):
    monkeypatch.setattr(files, "BATCH_FILES", 1)
    ctx = JobContext("files-batches", "job-batches")
    image = ImageRef(str(testdata / "sleuthkit/image.dd"), 102400)
    listing = files.list_files_local(settings.store, ctx, image, 0)
    want = truth_files(testdata, "sleuthkit__image.dd")
    assert (listing.entries, listing.batches) == (len(want), len(want))
    got = {}
    for batch in range(listing.batches):
        result = files.extract_files_local(settings.store, ctx, image, 0, listing.key, batch)
        assert sum(result.found.values()) == 1
        part = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, result.part_key))).to_pylist()
        got.update({(r["path"], r["inode"]): r["sha256"] for r in part})
    assert got == {key: t["sha256"] for key, t in want.items()}
