"""`quarry get` through a real MinIO and a real Ray: the bytes written hash (hashlib) to the
digest asked for, and the provenance names every place the content was planted.

The answers are the forge's key (a planted file's offset, length and SHA-256), where this
test planted the same bytes again in a second image (an offset it chose), the public test
image's file list and bodyfile made by The Sleuth Kit's own tools, and the hash set and rule
set this test publishes. The content is forged with a seed of this module's, so no other
module's job holds it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os

import pytest

from cluster import api
from cluster.forge import forge_image
from cluster.hashsets.publish import remove_set
from cluster.rules import remove_rule_set
from tests.integration.conftest import quarry
from workers.store import ARTIFACTS, artifact_key

MiB = 1 << 20
SEED = 7301
B_AT = MiB + 77  # where this test plants the chosen file again, in zeros (unaligned)
FS_IMAGE = "sleuthkit/image.dd"
FS_TRUTH = "sleuthkit__image.dd"
RULE = """rule get_jpeg {
    strings:
        $soi = { FF D8 FF }
    condition:
        $soi at 0 and filetype == "JPEG"
}
"""


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict:
    """Image A, forged with its key, and image B: zeros with A's first intact JPEG at B_AT."""
    root = tmp_path_factory.mktemp("get-images")
    a = root / "get-a.img"
    key = forge_image(a, 4 * MiB, seed=SEED)
    item = next(i for i in key["items"] if i["kind"] == "jpeg" and i["status"] == "intact")
    data = a.read_bytes()[item["offset"] : item["offset"] + item["length"]]
    assert hashlib.sha256(data).hexdigest() == item["sha256"]
    b = root / "get-b.img"
    image = bytearray(2 * MiB)
    image[B_AT : B_AT + len(data)] = data
    b.write_bytes(image)
    return {"a": a, "b": b, "item": item, "bytes": data}


@pytest.fixture(scope="module")
def sets(env, store, images, tmp_path_factory):
    """A known-bad hash set listing the chosen file and a rule set matching JPEG carves."""
    root = tmp_path_factory.mktemp("get-sets")
    listed = root / "get-bad.sha256"
    listed.write_text(f"{images['item']['sha256']}  chosen.jpg\n")
    rules = root / "get.yar"
    rules.write_text(RULE)
    r = quarry(["hashset", "import", "--name", "get-bad", "--kind", "known-bad", "--version", "1", str(listed)], env)
    assert r.returncode == 0, r.stderr
    r = quarry(["rules", "add", "get-rules", str(rules), "--version", "1"], env)
    assert r.returncode == 0, r.stderr
    yield
    remove_set(store, "get-bad")  # later modules run without them
    remove_rule_set(store, "get-rules")


@pytest.fixture(scope="module")
def jobs(settings, sets, images, testdata) -> dict:
    """Job 1 in case get-a over A; job 2 in case get-b over A, B and a public ext2 image."""
    first = api.submit(settings, "get-a", [str(images["a"])])
    second = api.submit(settings, "get-b", [str(images["a"]), str(images["b"]), str(testdata / FS_IMAGE)])
    done = {name: api.wait(settings, job.id) for name, job in (("one", first), ("two", second))}
    for job in done.values():
        assert job.state == "done", job.error
    return done


def get(env, *args):
    return quarry(["get", *map(str, args)], env)


def test_get_writes_the_verified_bytes_and_names_the_planted_offset(env, jobs, images, tmp_path):
    item, a = images["item"], images["a"]
    out = tmp_path / "chosen.jpg"
    r = get(env, item["sha256"].upper(), "--out", out, "--case", "get-a")
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(out.read_bytes()).hexdigest() == item["sha256"]
    assert os.listdir(tmp_path) == ["chosen.jpg"]  # no temporary file left beside it
    text = r.stdout
    assert f"wrote {out} ({item['length']} bytes)" in text
    assert f"sha256 {item['sha256']}" in text and f"md5    {hashlib.md5(images['bytes']).hexdigest()}" in text
    assert f"case get-a  job {jobs['one'].id}" in text
    assert f"image 0 {a}" in text and f"sha256 {hashlib.sha256(a.read_bytes()).hexdigest()}" in text
    assert "carved jpeg complete" in text
    assert f"offset {item['offset']}, {item['length']} bytes" in text
    assert "found by scan_segment " in text
    assert "known-bad: get-bad 1" in text and "yara: get-rules/" in text and "/get_jpeg (1)" in text
    assert "hash sets: get-bad 1" in text and "rule sets: get-rules 1" in text
    assert "intake verification: absent" in text
    assert "case get-b" not in text and "1 place in 1 job, 1 case" in text


def test_every_place_in_every_job_and_case_and_only_the_case_asked(env, jobs, images, tmp_path):
    item, a, b = images["item"], images["a"], images["b"]
    r = get(env, item["sha256"], "--out", tmp_path, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    written = tmp_path / item["sha256"]
    data = written.read_bytes()
    assert doc["file"] == {
        "path": str(written),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "verified": True,
    }
    assert doc["file"]["sha256"] == item["sha256"]
    one, two = jobs["one"].id, jobs["two"].id
    places = {(p["case"], p["job"], p["image_path"], p["offset"], p["length"]) for p in doc["places"]}
    assert places == {
        ("get-a", one, str(a), item["offset"], item["length"]),
        ("get-b", two, str(a), item["offset"], item["length"]),
        ("get-b", two, str(b), B_AT, item["length"]),
    }
    digest_of = {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b)}
    for p in doc["places"]:
        assert p["image_sha256"] == digest_of[p["image_path"]]
        assert p["origin"] == "carved" and p["type"] == "jpeg" and p["status"] == "complete"
        assert p["step"] == "scan_segment" and p["step_version"]
        assert p["known"] == "bad" and p["known_sets"] == ["get-bad"]
        assert any(m.startswith("get-rules/") and m.endswith("/get_jpeg") for m in p["yara"])
    jobs_doc = {j["job"]: j for j in doc["jobs"]}
    assert set(jobs_doc) == {one, two}
    for job_id, case, paths in ((one, "get-a", [a]), (two, "get-b", [a, b])):
        j = jobs_doc[job_id]
        assert j["case"] == case and j["state"] == "done"
        assert j["hash_sets"] == {"get-bad": "1"} and j["rule_sets"] == {"get-rules": "1"}
        assert list(j["steps"]) == ["scan_segment"] and j["core"]
        assert j["submitted"] <= j["started"] <= j["finished"]
        for img, path in zip(j["images"], paths, strict=True):
            assert img["path"] == str(path) and img["size"] == path.stat().st_size
            assert img["digests"]["sha256"] == digest_of[str(path)]
            assert img["digests"]["md5"] == hashlib.md5(path.read_bytes()).hexdigest()
            assert img["verification"] == {"result": "absent", "checks": []}

    r = get(env, item["sha256"], "--out", tmp_path / "scoped", "--json", "--case", "get-b")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {(p["case"], p["image_path"], p["offset"]) for p in doc["places"]} == {
        ("get-b", str(a), item["offset"]),
        ("get-b", str(b), B_AT),
    }
    assert [j["job"] for j in doc["jobs"]] == [two]


def test_a_filesystem_file_is_placed_by_path_inode_and_times(env, jobs, testdata, tmp_path):
    truth = testdata / "truth" / FS_TRUTH / "fs00_o0"
    with open(truth / "files.tsv", newline="") as f:
        listed = next(r for r in csv.DictReader(f, delimiter="\t") if r["path"] == "/passwords.txt")
    body = next(line for line in (truth / "bodyfile.txt").read_text().splitlines() if "|/passwords.txt|" in line)
    # bodyfile: md5|name|inode|mode|uid|gid|size|atime|mtime|ctime|crtime
    atime, mtime, ctime = (int(t) for t in body.split("|")[7:10])
    out = tmp_path / "passwords.txt"
    r = get(env, listed["sha256"], "--out", out, "--case", "get-b", "--json")
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(out.read_bytes()).hexdigest() == listed["sha256"]
    doc = json.loads(r.stdout)
    (place,) = doc["places"]
    assert place["image_path"] == str(testdata / FS_IMAGE) and place["image_index"] == 2
    assert (place["path"], place["inode"], place["fs_offset"], place["origin"]) == (
        "/passwords.txt",
        int(listed["inode"]),
        0,
        "allocated",
    )
    assert (place["atime"], place["mtime"], place["ctime"]) == (atime, mtime, ctime)
    assert place["step"] == "scan_files" and place["offset"] is None
    (job,) = doc["jobs"]
    assert [(i["index"], i["path"]) for i in job["images"]] == [(2, str(testdata / FS_IMAGE))]  # only where found
    r = get(env, listed["sha256"], "--out", out, "--case", "get-b", "--force")
    assert r.returncode == 0, r.stderr
    assert f"file /passwords.txt  inode {listed['inode']}  allocated  {listed['icat_bytes']} bytes" in r.stdout
    assert "in the filesystem at image offset 0" in r.stdout
    assert "mtime 2012-05-25T" in r.stdout  # 1337961653


def test_a_tampered_artifact_is_refused_and_nothing_is_written(env, jobs, store, images, tmp_path):
    item = images["item"]
    key = artifact_key(item["sha256"])
    original = store.get_bytes(ARTIFACTS, key)
    assert original == images["bytes"]
    altered = bytearray(original)
    altered[len(altered) // 2] ^= 0xFF
    store.put_bytes(ARTIFACTS, key, bytes(altered), "application/octet-stream")
    try:
        out = tmp_path / "tampered.jpg"
        r = get(env, item["sha256"], "--out", out)
        assert r.returncode == 3, r.stdout + r.stderr
        line = r.stderr.strip()
        assert line.startswith(f"quarry: error: DIGEST MISMATCH: stored artifact {item['sha256']} ")
        assert f"sha256 {item['sha256']} asked for, {hashlib.sha256(altered).hexdigest()} read" in line
        assert r.stdout == "" and os.listdir(tmp_path) == []

        store.remove(ARTIFACTS, key)
        r = get(env, item["sha256"], "--out", out)
        assert r.returncode == 3 and "MISSING: artifact" in r.stderr and os.listdir(tmp_path) == []
    finally:
        store.put_bytes(ARTIFACTS, key, original, "application/octet-stream")  # later tests see it whole
    assert hashlib.sha256(store.get_bytes(ARTIFACTS, key)).hexdigest() == item["sha256"]


def test_an_unknown_digest_or_one_outside_the_case_writes_nothing(env, jobs, images, tmp_path):
    unknown = hashlib.sha256(b"never planted anywhere " + str(SEED).encode()).hexdigest()
    r = get(env, unknown, "--out", tmp_path / "x")
    assert r.returncode == 1
    assert r.stderr.strip() == f"quarry: error: no artifact with sha256 {unknown}; nothing written"
    r = get(env, images["item"]["sha256"], "--out", tmp_path / "x", "--case", "no-such-case")
    assert r.returncode == 1 and "in case 'no-such-case'" in r.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("digest", ["xyz", "a" * 63, "g" * 64, "a" * 65, ""])
def test_a_malformed_digest_is_a_clear_error(env, digest, tmp_path):
    r = get(env, digest, "--out", tmp_path / "x")
    assert r.returncode == 2
    assert r.stderr.strip().startswith(f"quarry: error: sha256 {digest!r}: expected 64 hexadecimal digits")
    assert os.listdir(tmp_path) == []


def test_an_existing_file_is_replaced_only_with_force(env, jobs, images, tmp_path):
    out = tmp_path / "exists.jpg"
    out.write_bytes(b"keep me")
    r = get(env, images["item"]["sha256"], "--out", out)
    assert r.returncode == 2
    assert r.stderr.strip() == f"quarry: error: {out} already exists (--force replaces it)"
    assert out.read_bytes() == b"keep me" and os.listdir(tmp_path) == ["exists.jpg"]
    r = get(env, images["item"]["sha256"], "--out", out, "--force")
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(out.read_bytes()).hexdigest() == images["item"]["sha256"]
    assert os.listdir(tmp_path) == ["exists.jpg"]
    r = get(env, images["item"]["sha256"], "--out", tmp_path / "no-such-dir" / "x")
    assert r.returncode == 2 and "does not exist" in r.stderr
