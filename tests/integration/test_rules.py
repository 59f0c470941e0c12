"""YARA rule sets through a real MinIO and a real Ray: `quarry rules` refuses a rule set that
does not compile (with its file and line, changing nothing), keeps versions, and a job scans
raw segments, carved files and extracted files with the versions pinned at submit.

The answers are where this test planted bytes: a marker string at chosen absolute offsets
of a raw image (around the 4 MiB segment boundaries and inside the overlap and look-back
regions), inside a stored ZIP at a known offset (its member data starts 30 bytes plus the
name after the local header), and inside files of an ext4 filesystem built with e2fsprogs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import random
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cluster import api
from cluster.results import manifest_key, yara_key
from cluster.rules import add_rule_set, current_version, remove_rule_set
from tests.conftest import e2fs
from tests.integration.conftest import quarry
from workers.store import RESULTS, RULES, ObjectStore
from workers.yara_scan import RuleCache, RuleSetInfo, load_rule_set, meta_key

MiB = 1 << 20
PLANT = b"QUARRY-PLANT-5c1e"
PLANT_RULE = """rule Plant : marker {
    meta:
        description = "the test's planted marker"
    strings:
        $p = "QUARRY-PLANT-5c1e"
    condition:
        $p
}
"""
NAMED_RULE = """rule Named {
    condition:
        filename == "payload.evil" and extension == ".evil" and filepath contains "/secret/"
}
"""
SLOW_RULE = """rule Slow {
    condition:
        filename == "slow.bin" and
        for any i in (0..filesize - 1) : ( for any j in (0..filesize - 1) : ( uint8(i) + uint8(j) == 1000 ) )
}
"""
# Raw image: plants at absolute offsets chosen around the 4 MiB segments (overlap 64 KiB,
# look-back 4 KiB): inside a segment, straddling a boundary, deep in an overlap, in a
# look-back region, at a boundary (inside the previous overlap), near the end.
RAW_SIZE = 12 * MiB
RAW_PLANTS = [1000, 4 * MiB - 8, 4 * MiB + 30_000, 8 * MiB - 2000, 8 * MiB, 10 * MiB + 12_345, RAW_SIZE - 17]
ZIP_AT = 6 * MiB + 512
MEMBER, LEAD_BYTES = "note.txt", 64
PLANT_IN_ZIP = 30 + len(MEMBER) + LEAD_BYTES  # local file header, name, then the member's bytes
PAYLOAD = b"x" * 100 + PLANT + b"y" * 50
FS_FILES = {
    "secret/payload.evil": PAYLOAD,
    "public/payload.evil": PAYLOAD,
    "slow.bin": random.Random(6).randbytes(64 << 10),
    "docs/readme.txt": b"nothing to see\n",
}
TIMEOUT = 2


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("rules")
    plants_v1 = root / "plants-v1"
    plants_v1.mkdir()
    (plants_v1 / "plant.yar").write_text(PLANT_RULE.replace("rule Plant", "rule OldPlant"))
    plants = root / "plants"
    (plants / "names").mkdir(parents=True)
    (plants / "plant.yar").write_text(PLANT_RULE)
    (plants / "names" / "by_name.yara").write_text(NAMED_RULE)
    (root / "slow.yar").write_text(SLOW_RULE)
    broken = root / "broken"
    (broken / "sub").mkdir(parents=True)
    (broken / "good.yar").write_text(PLANT_RULE)
    (broken / "sub" / "bad.yara").write_text('rule Bad {\n  strings:\n    $a = "x"\n  condition:\n    $a and\n}\n')
    return {"plants-v1": plants_v1, "plants": plants, "slow": root / "slow.yar", "broken": broken}


@pytest.fixture(scope="module")
def sets(env, store, folders):
    for name, version, source in (("plants", "1", "plants-v1"), ("plants", "2", "plants"), ("slow", "1", "slow")):
        r = quarry(["rules", "add", name, str(folders[source]), "--version", version], env)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"added rule set {name} {version}: ")
    yield
    for name in ("plants", "slow"):  # later modules run without rule sets
        remove_rule_set(store, name)


def raw_image(path: Path) -> bytes:
    """Zeros with the plants and a stored ZIP holding one more, at the offsets above."""
    image = bytearray(RAW_SIZE)
    for at in RAW_PLANTS:
        image[at : at + len(PLANT)] = PLANT
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo(MEMBER, (2024, 5, 1, 12, 0, 0)), b"a" * LEAD_BYTES + PLANT + b"b" * 64)
    archive = sink.getvalue()
    assert archive[PLANT_IN_ZIP : PLANT_IN_ZIP + len(PLANT)] == PLANT  # the layout the test relies on
    image[ZIP_AT : ZIP_AT + len(archive)] = archive
    path.write_bytes(image)
    return archive


def ext4_image(root: Path) -> Path:
    src = root / "src"
    for rel, data in FS_FILES.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    image = root / "ext4.img"
    e2fs("mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024", "-d", str(src), "-L", "yara", str(image), "8M")
    return image


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("yara-images")
    archive = raw_image(root / "raw.img")
    return {"raw": root / "raw.img", "ext4": ext4_image(root), "zip": archive}


@pytest.fixture(scope="module")
def job(settings, sets, images):
    paths = [str(images["raw"]), str(images["ext4"])]
    job = api.wait(settings, api.submit(settings, "case-yara", paths, yara_raw=True, yara_timeout=TIMEOUT).id)
    assert job.state == "done", job.error
    return job


def table(store: ObjectStore, key: str) -> list[dict]:
    return pq.read_table(io.BytesIO(store.get_bytes(RESULTS, key))).to_pylist()


@pytest.fixture(scope="module")
def details(store, job) -> list[dict]:
    return table(store, yara_key(job.case, job.id))


def test_a_rule_set_that_does_not_compile_is_rejected_and_changes_nothing(env, store, sets, folders):
    before = store.list_keys(RULES)
    bad = folders["broken"] / "sub" / "bad.yara"
    for name in ("broken", "plants"):  # a new set, and a new version of a set in use
        r = quarry(["rules", "add", name, str(folders["broken"]), "--version", "3"], env)
        assert r.returncode == 2
        assert r.stderr.splitlines() == [f"quarry: error: {bad}:6: syntax error, unexpected '}}'"]
        assert r.stdout == ""
    assert store.list_keys(RULES) == before
    assert current_version(store, "plants").version == "2"
    assert current_version(store, "broken") is None


def test_versions_are_kept_and_listed(env, store, sets, folders):
    r = quarry(["rules", "list"], env)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line.split()[1:4] for line in r.stdout.splitlines()[1:]}
    assert rows == {"plants": ["2", "2", "2"], "slow": ["1", "1", "1"]}  # version, rules, files
    r = quarry(["rules", "list", "plants", "--json"], env)
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(d["version"], d["rules"], sorted(d["files"])) for d in docs] == [
        ("1", 1, ["plant.yar"]),
        ("2", 2, ["names/by_name.yara", "plant.yar"]),
    ]
    stored = store.get_bytes(RULES, docs[1]["files"]["names/by_name.yara"]["key"])
    assert stored == (folders["plants"] / "names" / "by_name.yara").read_bytes()
    assert docs[1]["files"]["plant.yar"]["sha256"] == hashlib.sha256(PLANT_RULE.encode()).hexdigest()
    r = quarry(["rules", "list", "plants"], env)
    assert [line.endswith("(in use)") for line in r.stdout.splitlines()[1:]] == [False, True]
    r = quarry(["rules", "add", "plants", str(folders["plants"]), "--version", "2"], env)
    assert r.returncode == 2 and "already has version 2" in r.stderr


def test_the_job_pins_the_versions_in_use(job, details):
    assert job.rule_sets == {"plants": "2", "slow": "1"} and job.yara_raw and job.yara_timeout == TIMEOUT
    assert details and all(d["rule_set_version"] == job.rule_sets[d["rule_set"]] for d in details)
    assert all(d["rule"] != "OldPlant" for d in details)  # version 1's rule


def test_raw_matches_are_at_the_planted_absolute_offsets_once(details, job):
    raw = [d for d in details if d["source"] == "raw" and d["image_index"] == 0]
    assert {(d["rule_set"], d["rule_set_version"], d["namespace"], d["rule"]) for d in raw} == {
        ("plants", "2", "plant.yar", "Plant")
    }
    offsets = [s["offset"] for d in raw for s in d["strings"]]
    assert sorted(offsets) == sorted([*RAW_PLANTS, ZIP_AT + PLANT_IN_ZIP])  # each exactly once
    assert all(s["length"] == len(PLANT) and s["identifier"] == "$p" for d in raw for s in d["strings"])
    assert all(d["sha256"] is None and d["offset"] == d["strings"][0]["offset"] for d in raw)
    assert all(d["tags"] == ["marker"] and json.loads(d["meta"])["description"] for d in raw)


def test_a_carved_file_matches_at_its_relative_offset(details, store, job, images):
    sha = hashlib.sha256(images["zip"]).hexdigest()
    carved = [d for d in details if d["source"] == "carved" and d["offset"] == ZIP_AT]
    assert len(carved) == 1
    d = carved[0]
    assert (d["image_index"], d["sha256"], d["rule_set"], d["rule"]) == (0, sha, "plants", "Plant")
    assert d["strings"] == [{"identifier": "$p", "offset": PLANT_IN_ZIP, "length": len(PLANT)}]
    rows = [r for r in table(store, manifest_key(job.case, job.id)) if r["image_index"] == 0]
    zip_row = next(r for r in rows if r["offset"] == ZIP_AT)
    assert (zip_row["type"], zip_row["sha256"], zip_row["yara"]) == ("zip", sha, ["plants/plant.yar/Plant"])


def test_extracted_files_are_scanned_with_their_names(details, store, job):
    files = [d for d in details if d["source"] == "file" and d["error"] is None]
    by_path: dict[str, set[str]] = {}
    for d in files:
        by_path.setdefault(d["path"], set()).add(f"{d['namespace']}/{d['rule']}")
        assert d["image_index"] == 1 and d["offset"] is None
        assert d["sha256"] == hashlib.sha256(FS_FILES[d["path"].lstrip("/")]).hexdigest()
        if d["rule"] == "Plant":
            assert d["strings"] == [{"identifier": "$p", "offset": 100, "length": len(PLANT)}]
    assert by_path == {
        "/secret/payload.evil": {"plant.yar/Plant", "names/by_name.yara/Named"},
        "/public/payload.evil": {"plant.yar/Plant"},
    }
    manifest = {r["path"]: r["yara"] for r in table(store, manifest_key(job.case, job.id)) if r["path"]}
    assert sorted(manifest["/secret/payload.evil"]) == ["plants/names/by_name.yara/Named", "plants/plant.yar/Plant"]
    assert manifest["/public/payload.evil"] == ["plants/plant.yar/Plant"]
    assert manifest["/docs/readme.txt"] is None and manifest["/slow.bin"] is None


def test_a_pathological_rule_times_out_as_an_error_and_the_job_goes_on(details, job):
    errors = [d for d in details if d["error"] is not None]
    assert [(d["source"], d["path"], d["rule_set"], d["rule_set_version"], d["error"]) for d in errors] == [
        ("file", "/slow.bin", "slow", "1", f"timed out after {TIMEOUT} s")
    ]
    assert errors[0]["sha256"] == hashlib.sha256(FS_FILES["slow.bin"]).hexdigest()
    summary = job.summary["yara"]
    matches = sum(1 for d in details if d["error"] is None)
    assert summary["errors"] == 1 and summary["matches"] == matches
    assert summary["rule_sets"] == {
        "plants": {"version": "2", "matches": matches, "errors": 0},
        "slow": {"version": "1", "matches": 0, "errors": 1},
    }
    assert summary["raw"] is True and summary["timeout"] == TIMEOUT and summary["key"] == yara_key(job.case, job.id)
    assert job.summary["images"][1]["files"]["allocated"] == len(FS_FILES)


def test_a_job_without_raw_scans_only_files(settings, sets, store, images):
    job = api.wait(settings, api.submit(settings, "case-yara-files", [str(images["raw"])]).id)
    assert job.state == "done", job.error
    details = table(store, yara_key(job.case, job.id))
    assert {d["source"] for d in details} == {"carved"}
    assert any(d["offset"] == ZIP_AT and d["rule"] == "Plant" for d in details)
    assert job.summary["yara"]["raw"] is False


def test_a_worker_process_loads_each_version_once(minio, store, sets):
    cache = RuleCache(ObjectStore(minio.config))
    first = cache.get([("plants", "2"), ("slow", "1")])
    again = cache.get([("plants", "2"), ("slow", "1")])
    assert cache.loads == 2 and all(a is b for a, b in zip(first, again, strict=True))
    assert [s.how for s in first] == ["compiled", "compiled"]
    info = RuleSetInfo.from_dict(store.get_json(RULES, meta_key("plants", "2")))
    other = load_rule_set(store, dataclasses.replace(info, yara_version="0.0.0"))  # saved by another yara
    assert other.how == "sources"
    assert [m.rule for m in other.rules.match(data=PLANT)] == ["Plant"]


def test_thousands_of_rules_compile_once_and_load_compiled(store, tmp_path):
    source = tmp_path / "many.yar"
    source.write_text(
        "".join(f'rule R{i:05d} {{ strings: $s = "marker-{i:05d}-q" condition: $s }}\n' for i in range(5000))
    )
    try:
        info = add_rule_set(store, source, "many", "1")
        assert info.rules == 5000
        loaded = load_rule_set(store, info)
        assert loaded.how == "compiled"
        assert [m.rule for m in loaded.rules.match(data=b"..marker-04321-q..")] == ["R04321"]
    finally:
        remove_rule_set(store, "many")
