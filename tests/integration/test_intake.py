"""Intake verification against acquisition digests: given by the operator, or stored in
an E01 by its imager (the dfVFS test image's published media MD5)."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from cluster import api
from cluster.cli import main
from tests.integration.conftest import cli_env

EXT2_MEDIA_MD5 = "196066add11fb71c4c49cf1bb50d6d24"  # testdata/dfvfs-ext2, every container's media


def run(settings, case, paths, **kw):
    job = api.wait(settings, api.submit(settings, case, [str(p) for p in paths], **kw).id)
    assert job.state == "done", job.error
    return job


def test_operator_digests_that_match(settings, forged):
    path, key = forged
    data = path.read_bytes()
    expect = [f"md5:{hashlib.md5(data).hexdigest()}", f"sha512={hashlib.sha512(data).hexdigest()}"]
    job = run(settings, "intake", [path], expect=expect)
    img = job.summary["images"][0]
    assert img["verification"]["result"] == "match" and job.summary["integrity"] == "match"
    assert {c["algorithm"]: c["result"] for c in img["verification"]["checks"]} == {"md5": "match", "sha512": "match"}
    assert img["digests"]["sha512"] == hashlib.sha512(data).hexdigest(), "expected digests widen the plan"


def test_a_mismatch_is_raised_by_the_cli(settings, minio, ray_cluster, forged, tmp_path, monkeypatch, capsys):
    path, key = forged
    wrong = hashlib.sha1(b"another image").hexdigest()
    for name, value in cli_env(minio.config, tmp_path / "home", ray_cluster["gcs_address"]).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # as the test cluster runs; the CLI only sets a default
    status = main(["submit", "--case", "intake", "--expect", f"sha1:{wrong}", str(path)])
    out, err = capsys.readouterr()
    assert status == 3
    assert "INTEGRITY MISMATCH" in err
    assert "intake sha1 from operator: MISMATCH" in out and f"expected {wrong}" in out


def test_digest_list_names_images_by_file_name(settings, forged, tmp_path):
    path, key = forged
    listing = tmp_path / "acquired.sha256"
    listing.write_text(f"# from the imaging log\n{key['sha256']}  {path.name}\n")
    job = run(settings, "intake", [path], expect_lists=[str(listing)])
    assert job.summary["images"][0]["verification"]["checks"][0]["result"] == "match"


def test_e01_stored_md5_matches_its_media(settings, testdata):
    e01 = testdata / "dfvfs-ext2" / "ext2.E01"
    job = run(settings, "intake-e01", [e01])
    img = job.summary["images"][0]
    assert img["format"] == "ewf" and img["size"] == 4 << 20
    assert img["digests"]["md5"] == EXT2_MEDIA_MD5
    assert img["verification"]["result"] == "match"
    assert img["verification"]["checks"][0] == {
        "algorithm": "md5",
        "value": EXT2_MEDIA_MD5,
        "source": "ewf",
        "computed": EXT2_MEDIA_MD5,
        "result": "match",
    }


def test_e01_with_one_altered_media_byte_is_a_mismatch(settings, testdata, tmp_path):
    altered = tmp_path / "altered.E01"
    shutil.copyfile(testdata / "dfvfs-ext2" / "ext2.E01", altered)
    data = bytearray(altered.read_bytes())
    # The 'sectors' section starts at 1871 (its 76-byte descriptor, then chunk data); byte
    # 2000 lies in the first chunk's data.
    assert data[1871:1878] == b"sectors"
    data[2000] ^= 0x01
    altered.write_bytes(bytes(data))
    job = run(settings, "intake-e01", [altered])
    check = job.summary["images"][0]["verification"]
    assert check["result"] == "mismatch" and job.summary["integrity"] == "mismatch"
    assert check["checks"][0]["value"] == EXT2_MEDIA_MD5 and check["checks"][0]["computed"] != EXT2_MEDIA_MD5


def test_malformed_expectations_create_no_job(settings, store, forged, tmp_path):
    path, _ = forged
    before = store.list_keys("quarry-journal")
    with pytest.raises(ValueError, match="not a hex MD5"):
        api.submit(settings, "intake", [str(path)], expect=["md5:xyz"])
    with pytest.raises(ValueError, match="is not a sha1 digest"):
        api.submit(settings, "intake", [str(path)], expect=["sha1:" + "0" * 32])
    bad = tmp_path / "bad.md5"
    bad.write_text("0" * 32 + "  a.dd\nnot a digest line\n")
    with pytest.raises(ValueError, match=rf"{bad}, line 2"):
        api.submit(settings, "intake", [str(path)], expect_lists=[str(bad)])
    assert store.list_keys("quarry-journal") == before


def test_damaged_e01_chunks_are_reported_even_when_the_digest_still_matches(settings, testdata, tmp_path):
    original = (testdata / "dfvfs-ext2" / "ext2.E01").read_bytes()
    raw = b"".join((testdata / f"dfvfs-ext2/ext2.splitraw.00{i}").read_bytes() for i in (0, 1))
    # Byte 9000 lies in a chunk of zeros: libewf hands back zeros for it, so the media MD5
    # still equals the stored one, yet the chunk's zlib stream no longer checks out.
    damaged = bytearray(original)
    damaged[9000] ^= 0x01
    path = tmp_path / "zero-chunk.E01"
    path.write_bytes(bytes(damaged))
    job = run(settings, "intake-e01", [path])
    img = job.summary["images"][0]
    assert img["digests"]["md5"] == EXT2_MEDIA_MD5 == hashlib.md5(raw).hexdigest()
    assert img["verification"]["result"] == "match"
    check = img["container_check"]
    assert check["chunks"] == len(raw) // 32768 and check["damaged"] == 1 == job.summary["damaged_chunks"]
    problem = check["problems"][0]
    assert raw[problem["media_offset"] : problem["media_offset"] + problem["length"]] == bytes(32768)
    assert "does not inflate" in problem["reason"]


def test_an_intact_e01_has_no_damaged_chunks(settings, testdata):
    job = run(settings, "intake-e01", [testdata / "dfvfs-ext2" / "ext2.split.E01"])
    check = job.summary["images"][0]["container_check"]
    assert (check["chunks"], check["damaged"]) == (128, 0)
