"""`quarry find` over several forged images in several jobs and cases: every filter returns
exactly the planted items (from the forge's answer keys), paging is stable, an unknown case
is an empty answer and a malformed filter a clear error."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random

import pyarrow.parquet as pq
import pytest

from cluster import api
from cluster.digest_filter import DigestFilter, filter_key
from cluster.forge import forge_image
from cluster.results import manifest_key
from tests.integration.conftest import quarry
from workers.store import ARTIFACTS, RESULTS, artifact_key

CARVED = ("jpeg", "png", "pdf", "zip")


@pytest.fixture(scope="module")
def jobs(settings, forged, tmp_path_factory):
    """The session's forged image in two cases, a second forged image beside it in the first."""
    path, key = forged
    other = tmp_path_factory.mktemp("query") / "second.img"
    other_key = forge_image(other, 16 << 20, seed=77)
    runs = {
        "one-a": api.submit(settings, "q-one", [str(path)]),
        "one-b": api.submit(settings, "q-one", [str(other)]),
        "two": api.submit(settings, "q-two", [str(path)]),
    }
    done = {name: api.wait(settings, job.id) for name, job in runs.items()}
    for job in done.values():
        assert job.state == "done", job.error
    return done, {"one-a": key, "one-b": other_key, "two": key}


def intact(key, kinds=CARVED):
    return [i for i in key["items"] if i["kind"] in kinds and i["status"] == "intact"]


def find(env, *args):
    r = quarry(["find", *args], env)
    return r


def find_json(env, *args):
    r = find(env, *args, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_a_digest_is_found_in_every_job_and_case_that_holds_it(env, jobs):
    done, keys = jobs
    item = intact(keys["one-a"], ("jpeg",))[0]
    rows = find_json(env, "--digest", item["sha256"], "--all-cases")
    # Other modules' jobs in this session's MinIO carved the same forged image: every place
    # found is this item's, and both of this module's cases are among them.
    assert rows and all((r["sha256"], r["offset"]) == (item["sha256"], item["offset"]) for r in rows)
    places = {(r["case"], r["job"]) for r in rows if r["case"].startswith("q-")}
    assert places == {("q-one", done["one-a"].id), ("q-two", done["two"].id)}
    only_one = find_json(env, "--digest", item["sha256"], "--case", "q-one")
    assert {(r["case"], r["job"]) for r in only_one} == {("q-one", done["one-a"].id)}


def test_md5_and_sha1_find_the_same_artifact(env, store, jobs):
    _, keys = jobs
    item = intact(keys["one-b"], ("pdf",))[0]
    content = store.get_bytes(ARTIFACTS, artifact_key(item["sha256"]))
    assert hashlib.sha256(content).hexdigest() == item["sha256"]
    for digest in (hashlib.md5(content).hexdigest(), hashlib.sha1(content).hexdigest().upper()):
        rows = find_json(env, "--digest", digest, "--case", "q-one")
        assert [(r["offset"], r["sha256"]) for r in rows] == [(item["offset"], item["sha256"])]


def test_type_status_and_origin_return_exactly_the_planted_files(env, jobs):
    done, keys = jobs
    for kind in CARVED:
        rows = find_json(
            env,
            "--case",
            "q-one",
            "--job",
            done["one-a"].id,
            "--type",
            kind,
            "--status",
            "complete",
            "--origin",
            "carved",
            "--limit",
            "0",
        )
        assert sorted((r["offset"], r["length"], r["sha256"]) for r in rows) == sorted(
            (i["offset"], i["length"], i["sha256"]) for i in intact(keys["one-a"], (kind,))
        ), kind


def test_size_range_and_image_filters(env, jobs):
    done, keys = jobs
    planted = intact(keys["one-a"]) + intact(keys["one-b"])
    lengths = sorted(i["length"] for i in planted)
    low, high = lengths[len(lengths) // 4], lengths[3 * len(lengths) // 4]
    rows = find_json(
        env, "--case", "q-one", "--status", "complete", "--min-size", str(low), "--max-size", str(high), "--limit", "0"
    )
    assert sorted(r["sha256"] for r in rows) == sorted(i["sha256"] for i in planted if low <= i["length"] <= high)
    second = done["one-b"].summary["images"][0]["digests"]["sha256"]
    rows = find_json(env, "--case", "q-one", "--image", second, "--status", "complete", "--limit", "0")
    assert sorted(r["sha256"] for r in rows) == sorted(i["sha256"] for i in intact(keys["one-b"]))
    rows = find_json(env, "--case", "q-one", "--image", "*/second.img", "--status", "complete", "--limit", "0")
    assert sorted(r["sha256"] for r in rows) == sorted(i["sha256"] for i in intact(keys["one-b"]))


def test_pages_cover_the_result_once_in_order(env, jobs):
    full = find_json(env, "--case", "q-one", "--limit", "0")
    assert len(full) > 10
    pages, page = [], 1
    while True:
        r = find(env, "--case", "q-one", "--limit", "7", "--page", str(page), "--format", "json")
        rows = [json.loads(line) for line in r.stdout.splitlines()]
        if not rows:
            assert r.returncode == 0 or "no artifact matches" in r.stderr
            break
        assert f"rows {(page - 1) * 7 + 1}-{(page - 1) * 7 + len(rows)} of {len(full)}" in r.stderr
        pages += rows
        page += 1
    assert pages == full
    biggest = find_json(env, "--case", "q-one", "--sort=-length", "--limit", "5")
    assert [r["length"] for r in biggest] == sorted((r["length"] for r in full), reverse=True)[:5]


def test_csv_holds_the_same_rows_as_json(env, jobs):
    rows = find_json(env, "--case", "q-two", "--status", "complete", "--limit", "0")
    r = find(env, "--case", "q-two", "--status", "complete", "--limit", "0", "--format", "csv")
    assert r.returncode == 0, r.stderr
    table = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [t["sha256"] for t in table] == [row["sha256"] for row in rows]
    assert [int(t["offset"]) for t in table] == [row["offset"] for row in rows]


def test_an_unknown_case_is_an_empty_answer_not_an_error(env, jobs):
    r = find(env, "--case", "no-such-case", "--type", "jpeg")
    assert r.returncode == 1 and r.stdout == ""
    assert "no artifact matches" in r.stderr and "error" not in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min-size", "12Q"], "min_size '12Q'"),
        (["--digest", "xyz"], "digest 'xyz'"),
        (["--origin", "lost"], "origin 'lost'"),
        (["--sort", "colour"], "sort 'colour'"),
        (["--after", "yesterday"], "after 'yesterday'"),
        (["--known", "maybe"], "known 'maybe'"),
    ],
)
def test_a_malformed_filter_is_named(env, jobs, args, message):
    r = find(env, "--case", "q-one", *args)
    assert r.returncode == 2 and r.stderr.startswith("quarry: error: ") and message in r.stderr, r.stderr


def test_every_query_names_its_cases(env, jobs):
    r = find(env, "--type", "jpeg")
    assert r.returncode == 2 and "no case given" in r.stderr


def test_the_digest_filter_holds_every_manifest_digest(store, jobs):
    done, _ = jobs
    job = done["one-a"]
    manifest = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, manifest_key(job.case, job.id))))
    digests = [d for c in ("md5", "sha1", "sha256") for d in manifest.column(c).to_pylist()]
    f = DigestFilter.from_bytes(store.get_bytes(RESULTS, filter_key(job.case, job.id)))
    assert f.count == len(digests) and all(f.may_contain(d) for d in digests)
    rng = random.Random(5)
    strangers = [rng.randbytes(32).hex() for _ in range(2000)]
    assert sum(f.may_contain(d) for d in strangers) < 20
