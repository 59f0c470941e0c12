"""Known-file hash sets through a real MinIO and a real Ray: sets imported with the CLI
mark exactly the planted files they list, known-good ones are hidden from `quarry find`,
known-bad ones are counted in the summary and the metric, and a failed re-import leaves
the previous version in use.

The lists are made here from the forged image's bytes at the answer key's offsets, hashed
with hashlib.
"""

from __future__ import annotations

import hashlib
import io
import json
import urllib.request

import pyarrow.parquet as pq
import pytest
import ray

from cluster import api
from cluster.hashsets.publish import current_version, remove_set
from cluster.results import manifest_key
from tests.integration.conftest import quarry
from workers.known_files import known_files_for_job
from workers.steps import JobContext
from workers.store import HASHSETS, RESULTS

FILES = ("jpeg", "png", "pdf", "zip")


@pytest.fixture(scope="module")
def planted(forged):
    """Three intact planted files for the known-bad list, two others for the known-good one,
    each with digests of its bytes in the image."""
    path, key = forged
    image = path.read_bytes()
    intact = [i for i in key["items"] if i["kind"] in FILES and i["status"] == "intact"]
    chosen = {"bad": intact[0:6:2], "good": intact[1:4:2]}
    out = {}
    for role, items in chosen.items():
        out[role] = []
        for item in items:
            data = image[item["offset"] : item["offset"] + item["length"]]
            out[role].append(
                {
                    "offset": item["offset"],
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "md5": hashlib.md5(data).hexdigest(),
                }
            )
    return out


@pytest.fixture(scope="module")
def sets(env, store, planted, tmp_path_factory):
    lists = tmp_path_factory.mktemp("lists")
    bad = lists / "planted-bad.sha256"
    bad.write_text("".join(f"{p['sha256'].upper()} *planted-{p['offset']}\n" for p in planted["bad"]))
    good = lists / "planted-good.md5"
    good.write_text("".join(f"{p['md5']}  planted-{p['offset']}\n" for p in planted["good"]))
    for name, kind, source in (("planted-bad", "known-bad", bad), ("planted-good", "known-good", good)):
        r = quarry(["hashset", "import", "--name", name, "--kind", kind, "--version", "1", str(source)], env)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"imported {name} 1 ({kind})")
    yield
    for name in ("planted-bad", "planted-good"):  # later modules run without sets
        remove_set(store, name)


def run_job(settings, forged, case):
    path, _ = forged
    job = api.wait(settings, api.submit(settings, case, [str(path)]).id)
    assert job.state == "done", job.error
    return job


@pytest.fixture(scope="module")
def job(settings, sets, forged):
    return run_job(settings, forged, "case-known")


def manifest_rows(store, job):
    return pq.read_table(io.BytesIO(store.get_bytes(RESULTS, manifest_key(job.case, job.id)))).to_pylist()


def assert_marks_exactly(rows, planted):
    bad = {p["offset"] for p in planted["bad"]}
    good = {p["offset"] for p in planted["good"]}
    marks = {r["offset"]: (r["known"], r["known_sets"]) for r in rows if r["known"]}
    assert marks == {**{o: ("bad", ["planted-bad"]) for o in bad}, **{o: ("good", ["planted-good"]) for o in good}}
    assert all(r["known_sets"] == [] for r in rows if not r["known"])


def test_the_manifest_marks_exactly_the_listed_files(job, store, planted):
    assert_marks_exactly(manifest_rows(store, job), planted)


def test_hashset_list_shows_the_sets_in_use(env, sets):
    r = quarry(["hashset", "list"], env)
    assert r.returncode == 0, r.stderr
    lines = {line.split()[0]: line.split() for line in r.stdout.splitlines()[1:]}
    assert lines["planted-bad"][1:4] == ["known-bad", "1", "3"]
    assert lines["planted-good"][1:4] == ["known-good", "1", "2"]


def test_find_hides_known_good_unless_asked(env, job, planted):
    good = planted["good"][0]["sha256"]
    r = quarry(["find", "--sha256", good, "--case", job.case], env)
    assert r.returncode == 1 and "1 known-good artifact(s) hidden" in r.stderr
    r = quarry(["find", "--sha256", good, "--case", job.case, "--include-known"], env)
    assert r.returncode == 0, r.stderr
    assert f"offset {planted['good'][0]['offset']} " in r.stdout and "known-good (planted-good)" in r.stdout
    r = quarry(["find", "--sha256", planted["bad"][0]["sha256"], "--case", job.case], env)
    assert r.returncode == 0 and "known-bad (planted-bad)" in r.stdout


def test_the_summary_and_the_metric_count_known_bad_hits(job, settings, planted):
    known = job.summary["known_files"]
    assert known["known_bad"] == 3 and known["known_good"] == 2
    assert known["known_bad_by_set"] == {"planted-bad": 3}
    assert [h["offset"] for h in known["known_bad_hits"]] == sorted(p["offset"] for p in planted["bad"])
    assert [h["sha256"] for h in known["known_bad_hits"]] == [
        p["sha256"] for p in sorted(planted["bad"], key=lambda p: p["offset"])
    ]
    assert known["sets"] == {
        "planted-bad": {"kind": "known-bad", "versions": ["1"]},
        "planted-good": {"kind": "known-good", "versions": ["1"]},
    }
    expected = sum(
        j.summary.get("known_files", {}).get("known_bad_by_set", {}).get("planted-bad", 0)
        for j in api.list_jobs(settings)
        if j.state == "done" and j.summary
    )
    node = ray.nodes()[0]["NodeID"]
    with urllib.request.urlopen(f"http://127.0.0.1:{settings.metrics_port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    assert f'quarry_known_bad_hits_total{{node="{node}",set="planted-bad"}} {float(expected)}' in text


def test_a_failed_reimport_leaves_the_previous_version_in_use(env, store, settings, forged, planted, job, tmp_path):
    broken = tmp_path / "planted-bad-v2.sha256"
    broken.write_text(f"{planted['bad'][0]['sha256']}  ok\nthis line is not a digest\n")
    r = quarry(
        ["hashset", "import", "--name", "planted-bad", "--kind", "known-bad", "--version", "2", str(broken)], env
    )
    assert r.returncode == 2
    assert f"quarry: error: {broken}:2: 'this' is not an MD5, SHA-1 or SHA-256 digest" in r.stderr
    assert "hash set planted-bad still uses version 1" in r.stderr
    damaged = tmp_path / "RDS_v3.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4080)
    r = quarry(
        ["hashset", "import", "--name", "planted-bad", "--kind", "known-bad", "--version", "3", str(damaged)], env
    )
    assert r.returncode == 2 and f"quarry: error: {damaged}: not a readable SQLite database" in r.stderr
    assert current_version(store, "planted-bad").version == "1"
    assert store.list_keys(HASHSETS, "planted-bad/") == [
        "planted-bad/1/meta.json",
        "planted-bad/1/sha256.qhs",
        "planted-bad/current.json",
    ]
    again = run_job(settings, forged, "case-known-again")
    assert_marks_exactly(manifest_rows(store, again), planted)
    assert again.summary["known_files"]["sets"]["planted-bad"]["versions"] == ["1"]


def test_remove_stops_using_a_set_and_deletes_its_versions(env, store, planted, tmp_path):
    source = tmp_path / "scratch.md5"
    source.write_text(f"{planted['good'][0]['md5']}  x\n")
    for version in ("a", "b"):
        r = quarry(
            ["hashset", "import", "--name", "scratch", "--kind", "known-good", "--version", version, str(source)], env
        )
        assert r.returncode == 0, r.stderr
    r = quarry(["hashset", "list", "--versions", "scratch", "--json"], env)
    assert [json.loads(line)["version"] for line in r.stdout.splitlines()] == ["a", "b"]
    assert current_version(store, "scratch").version == "b"
    r = quarry(["hashset", "import", "--name", "scratch", "--kind", "known-good", "--version", "b", str(source)], env)
    assert r.returncode == 2 and "already has version b" in r.stderr
    r = quarry(["hashset", "remove", "scratch"], env)
    assert r.returncode == 0, r.stderr
    assert store.list_keys(HASHSETS, "scratch/") == []
    r = quarry(["hashset", "remove", "scratch"], env)
    assert r.returncode == 2 and "no hash set named 'scratch'" in r.stderr


def test_a_job_uses_the_versions_pinned_at_submit(env, store, minio, planted, job, tmp_path):
    assert job.hash_sets == {"planted-bad": "1", "planted-good": "1"}
    first, second = planted["bad"][0], planted["bad"][1]
    for version, item in (("1", first), ("2", second)):
        source = tmp_path / f"pin-{version}.sha256"
        source.write_text(f"{item['sha256']}  x\n")
        r = quarry(
            ["hashset", "import", "--name", "pinning", "--kind", "known-bad", "--version", version, str(source)], env
        )
        assert r.returncode == 0, r.stderr
    try:
        wanted = [{"sha256": first["sha256"]}, {"sha256": second["sha256"]}]
        for version, expect in (("1", [["pinning"], []]), ("2", [[], ["pinning"]])):
            ctx = JobContext("case-pin", f"job-pinned-{version}", (("pinning", version),))
            assert known_files_for_job(minio.config, ctx).match_many(wanted) == expect
    finally:
        remove_set(store, "pinning")
