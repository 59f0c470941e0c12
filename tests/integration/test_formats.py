"""All six containers of the dfVFS ext2 volume in one job: every image's media MD5 is the
published one, and no container file changed (hashed with hashlib before and after)."""

from __future__ import annotations

import hashlib

from cluster import api

EXT2_MEDIA_MD5 = "196066add11fb71c4c49cf1bb50d6d24"  # testdata/truth/dfvfs__ext2.*/container.txt
VHD_MEDIA_MD5 = "3f0e360a1211f80b3f5633a68dbe98ba"  # the VHD's media is rounded up to its geometry
CONTAINERS = ["ext2.splitraw.000", "ext2.E01", "ext2.split.E01", "ext2.qcow2", "ext2.vmdk", "ext2.vhd"]


def container_files(testdata):
    return sorted(p for p in (testdata / "dfvfs-ext2").iterdir() if p.name.startswith("ext2."))


def test_every_container_gives_the_published_media_digest(settings, testdata):
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in container_files(testdata)}
    paths = [str(testdata / "dfvfs-ext2" / name) for name in CONTAINERS]
    job = api.wait(settings, api.submit(settings, "formats", paths).id)
    assert job.state == "done", job.error
    got = {img["path"].rsplit("/", 1)[1]: (img["format"], img["digests"]["md5"]) for img in job.summary["images"]}
    assert got == {
        "ext2.splitraw.000": ("split-raw", EXT2_MEDIA_MD5),
        "ext2.E01": ("ewf", EXT2_MEDIA_MD5),
        "ext2.split.E01": ("ewf", EXT2_MEDIA_MD5),
        "ext2.qcow2": ("qcow", EXT2_MEDIA_MD5),
        "ext2.vmdk": ("vmdk", EXT2_MEDIA_MD5),
        "ext2.vhd": ("vhd", VHD_MEDIA_MD5),
    }
    assert [i["verification"]["result"] for i in job.summary["images"]] == ["absent", "match", "match"] + ["absent"] * 3
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in container_files(testdata)}
    assert after == before
