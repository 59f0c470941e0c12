"""One forged image through a real Ray and a real MinIO, checked against its answer key."""

from __future__ import annotations

import hashlib
import io

import blake3
import pyarrow.parquet as pq
import pytest

from cluster import api
from cluster.catalog import find_by_sha256, iter_manifest
from cluster.results import manifest_key
from workers.manifest import STORED_MANIFEST_SCHEMA
from workers.store import ARTIFACTS, RESULTS, artifact_key

FILES = ("jpeg", "png", "pdf", "zip")


@pytest.fixture(scope="module")
def first_job(settings, store, forged):
    path, key = forged
    job = api.wait(settings, api.submit(settings, "case-a", [str(path)]).id)
    assert job.state == "done", job.error
    return job


def manifest_rows(store, job):
    data = store.get_bytes(RESULTS, manifest_key(job.case, job.id))
    table = pq.read_table(io.BytesIO(data))
    assert table.schema.equals(STORED_MANIFEST_SCHEMA)  # no case or job: the key names them
    return table.to_pylist()


def test_image_digests_equal_hashlib(first_job, forged):
    path, _ = forged
    data = path.read_bytes()
    img = first_job.summary["images"][0]
    assert img["digests"] == {
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert img["verification"] == {"result": "absent", "checks": []}


def test_window_digests_are_kept_beside_the_results(first_job, store, forged):
    path, _ = forged
    data = path.read_bytes()
    windows = first_job.summary["images"][0]["windows"]
    rows = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, windows["key"]))).to_pylist()
    window = windows["plan"]["window"]
    assert window == 1 << 20 and len(rows) == windows["count"] == len(data) // window
    for r in rows:
        assert r["offset"] == r["index"] * window
        assert r["blake3"] == blake3.blake3(data[r["offset"] : r["offset"] + r["length"]]).hexdigest()


def test_every_intact_planted_file_is_in_minio_byte_exact(first_job, store, forged):
    path, key = forged
    rows = manifest_rows(store, first_job)
    complete = {(r["offset"], r["length"], r["type"]): r for r in rows if r["status"] == "complete"}
    intact = [i for i in key["items"] if i["kind"] in FILES and i["status"] == "intact"]
    image_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    for item in intact:
        row = complete.get((item["offset"], item["length"], item["kind"]))
        assert row is not None, f"planted {item['kind']} at {item['offset']} not recovered"
        assert row["sha256"] == item["sha256"]
        assert row["image_sha256"] == image_sha
        stored = store.get_bytes(ARTIFACTS, artifact_key(item["sha256"]))
        assert hashlib.sha256(stored).hexdigest() == item["sha256"]
    assert len(complete) == len(intact), "complete carves that were never planted"
    counts = first_job.summary["carved"]
    for kind in FILES:
        expected = sum(1 for i in intact if i["kind"] == kind)
        assert counts[kind]["complete"] == expected


def test_manifest_rows_are_read_with_their_case_and_job(first_job, store):
    rows = list(iter_manifest(store, "case-a", first_job.id, ["job", "sha256", "case"]))
    assert rows and all(list(r) == ["job", "sha256", "case"] for r in rows)
    assert {(r["case"], r["job"]) for r in rows} == {("case-a", first_job.id)}
    assert [r["sha256"] for r in rows] == [r["sha256"] for r in manifest_rows(store, first_job)]


def test_every_stored_object_rehashes_to_its_key(first_job, store):
    keys = store.list_keys(ARTIFACTS, "sha256/")
    assert keys
    for k in keys:
        assert hashlib.sha256(store.get_bytes(ARTIFACTS, k)).hexdigest() == k.rsplit("/", 1)[1]


def test_second_submission_stores_no_second_copy(first_job, settings, store, forged):
    path, _ = forged
    before = store.list_keys(ARTIFACTS)
    versions_before = sum(1 for _ in store.client.list_objects(ARTIFACTS, recursive=True, include_version=True))
    job = api.wait(settings, api.submit(settings, "case-b", [str(path)]).id)
    assert job.state == "done", job.error
    assert store.list_keys(ARTIFACTS) == before
    assert sum(1 for _ in store.client.list_objects(ARTIFACTS, recursive=True, include_version=True)) == versions_before
    assert job.summary["stored_new"] == 0
    assert job.summary["stored_existing"] == first_job.summary["artifacts"]


def test_find_by_sha256_names_every_job_image_and_offset(first_job, store, forged, settings):
    path, key = forged
    item = next(i for i in key["items"] if i["kind"] == "zip" and i["status"] == "intact")
    hits = list(find_by_sha256(store, item["sha256"], "case-a"))
    assert [(h["job"], h["offset"], h["image_path"]) for h in hits] == [(first_job.id, item["offset"], str(path))]


def test_jobs_lists_the_finished_job(first_job, settings):
    jobs = {j.id: j for j in api.list_jobs(settings)}
    assert jobs[first_job.id].state == "done"
    assert jobs[first_job.id].progress == 1.0


def test_evidence_is_unchanged_by_the_job(first_job, forged):
    path, key = forged
    assert hashlib.sha256(path.read_bytes()).hexdigest() == key["sha256"]
