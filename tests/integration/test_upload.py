"""`quarry upload`: evidence into MinIO, verified after upload, then processed by tasks that
read byte ranges of the object (raw and E01), with answers from hashlib and the key."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from cluster import api
from tests.integration.conftest import quarry
from workers.evidence import EvidenceError
from workers.store import EVIDENCE

FILES = ("jpeg", "png", "pdf", "zip")
EXT2_MEDIA_MD5 = "196066add11fb71c4c49cf1bb50d6d24"


def test_upload_verifies_and_a_job_reads_the_object(env, settings, store, forged):
    path, key = forged
    data = path.read_bytes()
    r = quarry(["upload", "--case", "remote", str(path)], env)
    assert r.returncode == 0, r.stderr
    url = f"s3://{EVIDENCE}/remote/{path.name}"
    assert f"uploaded to {url} ({len(data)} bytes)" in r.stdout
    assert f"sha256 {hashlib.sha256(data).hexdigest()}" in r.stdout
    again = quarry(["upload", "--case", "remote", str(path)], env)
    assert again.returncode == 0 and f"already in MinIO as {url}" in again.stdout

    job = api.wait(settings, api.submit(settings, "remote", [url]).id)
    assert job.state == "done", job.error
    img = job.summary["images"][0]
    assert img["path"] == url and img["digests"]["sha256"] == hashlib.sha256(data).hexdigest()
    intact = [i for i in key["items"] if i["kind"] in FILES and i["status"] == "intact"]
    for kind in FILES:
        assert job.summary["carved"][kind]["complete"] == sum(1 for i in intact if i["kind"] == kind)


def test_a_different_file_under_the_same_name_is_refused(env, forged, tmp_path):
    path, _ = forged
    other = tmp_path / path.name
    other.write_bytes(b"not the same evidence" * 100)
    r = quarry(["upload", "--case", "remote", str(other)], env)
    assert r.returncode == 2
    assert f"{other}: s3://{EVIDENCE}/remote/{path.name} already holds a different file" in r.stderr


def test_an_uploaded_e01_is_verified_against_its_stored_md5(env, settings, testdata, tmp_path):
    e01 = tmp_path / "ext2.E01"
    shutil.copyfile(testdata / "dfvfs-ext2" / "ext2.E01", e01)
    r = quarry(["upload", "--case", "remote-e01", str(e01)], env)
    assert r.returncode == 0, r.stderr
    job = api.wait(settings, api.submit(settings, "remote-e01", [f"s3://{EVIDENCE}/remote-e01/ext2.E01"]).id)
    assert job.state == "done", job.error
    img = job.summary["images"][0]
    assert img["format"] == "ewf" and img["digests"]["md5"] == EXT2_MEDIA_MD5
    assert img["verification"]["result"] == "match"


def test_a_missing_object_is_a_clear_error(settings):
    with pytest.raises(EvidenceError, match="no such object"):
        api.submit(settings, "remote", [f"s3://{EVIDENCE}/remote/nothing-here.dd"])


@pytest.mark.parametrize("first", ["ext2.splitraw.000", "ext2.split.E01"])
def test_split_images_upload_every_part_and_read_as_one(env, settings, testdata, tmp_path, first):
    folder = tmp_path / "evidence"
    folder.mkdir()
    for part in (testdata / "dfvfs-ext2").glob(first.rsplit(".", 1)[0] + ".*"):
        shutil.copyfile(part, folder / part.name)
    r = quarry(["upload", "--case", "remote-split", str(folder / first)], env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("verified: the object in MinIO hashes to the same digests") == 2
    url = f"s3://{EVIDENCE}/remote-split/{first}"
    job = api.wait(settings, api.submit(settings, "remote-split", [url]).id)
    assert job.state == "done", job.error
    img = job.summary["images"][0]
    assert img["size"] == 4 << 20 and img["digests"]["md5"] == EXT2_MEDIA_MD5
