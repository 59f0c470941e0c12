"""`quarry report` over one real job (real MinIO, real Ray) of four images: a forged image of
carved files (its answer key gives every planted file's offset, length and SHA-256), a forged
features image (its key gives every planted value and offset), an ext4 filesystem built with
e2fsprogs (files with a hostile name, a YARA plant, a known-bad file) and a FAT16 filesystem
built with mtools (a deleted file). The answers come from the keys, from the bytes the test
put there (hashlib, bytes.find), from the manifest read directly with pyarrow, and from the
real tools: hashdeep audits the digest list and case_validate checks the CASE graph.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import rdflib
from lxml import etree

from cluster import api
from cluster.forge import forge_image
from cluster.forge.features import forge_features
from cluster.hashsets.publish import import_set, remove_set
from cluster.jobs import JobRecord, Journal, record_key
from cluster.results import manifest_key, yara_key
from cluster.rules import add_rule_set, remove_rule_set
from tests.conftest import e2fs
from tests.integration.conftest import quarry
from workers.evidence import ImageRef
from workers.store import ARTIFACTS, JOURNAL, RESULTS, artifact_key

DFXML_RULES = Path(__file__).resolve().parents[1] / "data" / "dfxml_rules.xsd"
NS = {"d": "http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML"}
MTIME = 1_500_000_000  # 2017-07-14T02:40:00Z; even, as FAT keeps 2-second steps
PLANT = b"QUARRY-REPORT-PLANT-77"
HOSTILE = '<img src=x onerror=alert(1)>&"q".txt'
EVIL = random.Random(11).randbytes(20_000)
EXT4_FILES = {f"notes/{HOSTILE}": b"lead " + PLANT + b" tail\n", "bin/evil.bin": EVIL,
              "docs/readme.txt": b"nothing to see here\n" * 40}  # fmt: skip
FAT_KEPT, FAT_GONE = b"kept on the stick\n" * 50, b"deleted data\n" * 100
CARVE_TYPES = ("jpeg", "png", "pdf", "zip")
RULE = 'rule ReportPlant : plant {\n strings:\n  $p = "' + PLANT.decode() + '"\n condition:\n  $p\n}\n'


def built_ext4(root: Path) -> Path:
    src = root / "ext4-src"
    for rel, data in EXT4_FILES.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
        os.utime(src / rel, (MTIME, MTIME))
    image = root / "ext4.img"
    e2fs("mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024", "-d", str(src), str(image), "8M")
    return image


def mtools(*argv: str) -> None:
    path = shutil.which(argv[0]) or shutil.which(argv[0], path="/usr/sbin:/sbin")
    assert path, f"{argv[0]} (dosfstools/mtools) is needed to build this test's filesystem"
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    subprocess.run([path, *argv[1:]], check=True, capture_output=True, env=env, stdin=subprocess.DEVNULL)


def built_fat(root: Path) -> Path:
    image = root / "fat16.img"
    mtools("mkfs.fat", "-C", "-F", "16", "-s", "2", "-n", "REPORT", str(image), str(8 << 10))
    for name, data in (("kept.txt", FAT_KEPT), ("gone.txt", FAT_GONE)):
        src = root / name
        src.write_bytes(data)
        os.utime(src, (MTIME, MTIME))
        mtools("mcopy", "-m", "-i", str(image), str(src), f"::/{name}")
    mtools("mdel", "-i", str(image), "::/gone.txt")
    return image


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("report-images")
    carved_key = forge_image(root / "carved.img", 12 << 20, seed=31)
    features_key = forge_features(root / "features.img", 6 << 20, seed=5)
    return {
        "paths": [root / "carved.img", root / "features.img", built_ext4(root), built_fat(root)],
        "carved_key": carved_key,
        "features_key": features_key,
    }


@pytest.fixture(scope="module")
def sets(store, images, tmp_path_factory):
    """A YARA rule set finding the plant and a known-bad hash set listing EVIL and one
    intact planted file of the forged image; removed afterwards (later modules run without)."""
    root = tmp_path_factory.mktemp("report-sets")
    rules = root / "plant.yar"
    rules.write_text(RULE)
    add_rule_set(store, rules, "report-plants", "1")
    planted = next(i for i in images["carved_key"]["items"] if i["kind"] == "png" and i["status"] == "intact")
    listing = root / "report-bad.sha256"
    listing.write_text(f"{hashlib.sha256(EVIL).hexdigest()}  evil.bin\n{planted['sha256']}  planted.png\n")
    import_set(store, listing, "report-bad", "known-bad", "1")
    yield planted
    remove_rule_set(store, "report-plants")
    remove_set(store, "report-bad")


@pytest.fixture(scope="module")
def job(settings, sets, images, tmp_path_factory):
    """The job, with expected digests for two images: the carved image's SHA-256 from its
    key (a match) and a wrong MD5 for the ext4 image (a mismatch)."""
    paths = images["paths"]
    listing = tmp_path_factory.mktemp("report-expect") / "expected.sha"
    listing.write_text(f"{images['carved_key']['sha256']}  {paths[0].name}\n{'0' * 32}  {paths[2].name}\n")
    done = api.wait(
        settings, api.submit(settings, "case-report", [str(p) for p in paths], expect_lists=[str(listing)]).id
    )
    assert done.state == "done", done.error
    return done


@pytest.fixture(scope="module")
def report(job, env, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report") / "out"
    r = quarry(["report", job.id, "--out", str(out), "--reveal", "--reason", "examiner's working copy"], env)
    assert r.returncode == 0, r.stderr
    return out, r.stdout


@pytest.fixture(scope="module")
def manifest(store, job) -> list[dict]:
    return pq.read_table(io.BytesIO(store.get_bytes(RESULTS, manifest_key(job.case, job.id)))).to_pylist()


class Tables(HTMLParser):
    """Every table of a page by id, as rows of cell texts; every tag with its attributes."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.tags: list[tuple[str, dict]] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page(report) -> str:
    return (report[0] / "report.html").read_text(encoding="utf-8")


def test_the_report_is_written_locally_and_to_minio(report, job, store):
    out, stdout = report
    assert f"report of job {job.id} in {out}" in stdout
    listed = [line.split()[0] for line in stdout.splitlines()[1:]]
    expected = {"report.html", "case.jsonld", "hashdeep.txt", *(f"dfxml/img{i:04d}.xml" for i in range(4))}
    assert expected <= set(listed)
    assert "features/img0001/email.txt" in listed and "features/img0001/email_histogram.txt" in listed
    local = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert sorted(listed) == local
    stored = store.list_keys(RESULTS, f"{job.case}/{job.id}/report/")
    assert sorted(k.split("/report/", 1)[1] for k in stored) == local
    for name in local:
        assert store.get_bytes(RESULTS, f"{job.case}/{job.id}/report/{name}") == (out / name).read_bytes(), name
    files = {row[0]: row for row in Tables(page(report)).tables["files"][1:]}
    for name in local:
        if name != "report.html":
            assert files[name][3] == hashlib.sha256((out / name).read_bytes()).hexdigest(), name


def test_intake_verification_shows_each_expected_digest(report, images):
    tables = Tables(page(report)).tables
    assert {row[0]: row[1] for row in tables["summary"]}["Integrity of the media"] == "mismatch"
    assert tables["intake-0"][1:] == [["sha256", images["carved_key"]["sha256"], "operator",
                                       images["carved_key"]["sha256"], "match"]]  # fmt: skip
    ext4_md5 = hashlib.md5(images["paths"][2].read_bytes()).hexdigest()
    assert tables["intake-2"][1:] == [["md5", "0" * 32, "operator", ext4_md5, "mismatch"]]
    assert "intake-1" not in tables and "intake-3" not in tables
    assert {row[0]: row[1] for row in tables["image-3"]}["SHA256 (computed)"] == hashlib.sha256(
        images["paths"][3].read_bytes()
    ).hexdigest()


def test_the_counts_equal_the_manifests(report, manifest, store, job):
    tables = Tables(page(report)).tables
    want = Counter((str(r["image_index"]), r["type"], r["status"] or "-", r["origin"] or "-") for r in manifest)
    got = {tuple(row[:4]): int(row[4]) for row in tables["counts"][1:]}
    assert got == dict(want)
    summary = {row[0]: row[1] for row in tables["summary"]}
    assert summary["Artifacts (manifest rows)"] == str(len(manifest))
    assert summary["Distinct contents"] == str(len({r["sha256"] for r in manifest}))
    assert summary["Known-bad artifacts"] == str(sum(1 for r in manifest if r["known"] == "bad"))
    yara = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, yara_key(job.case, job.id)))).to_pylist()
    assert summary["YARA matches"].startswith(f"{sum(1 for y in yara if y['error'] is None)} ")


def test_the_counts_equal_the_forge_key_and_what_was_put_on_the_filesystems(report, images):
    counts = {tuple(row[:4]): int(row[4]) for row in Tables(page(report)).tables["counts"][1:]}
    intact = Counter(
        i["kind"] for i in images["carved_key"]["items"] if i["status"] == "intact" and i["kind"] in CARVE_TYPES
    )
    for kind in CARVE_TYPES:
        assert counts.get(("0", kind, "complete", "carved"), 0) == intact[kind], kind
    ext4 = sum(n for (image, kind, _, origin), n in counts.items() if image == "2" and origin == "allocated")
    assert ext4 == len(EXT4_FILES)
    assert counts[("3", "file", "complete", "deleted")] == 1


def test_the_page_is_self_contained_escaped_and_redacted(report, images):
    text = page(report)
    parsed = Tables(text)
    assert not [t for t, attrs in parsed.tags if t in ("script", "link", "img", "iframe", "object", "embed")]
    assert not [attrs for _, attrs in parsed.tags if {"src", "href"} & set(attrs) or any("on" == a[:2] for a in attrs)]
    assert "<img src=x" not in text and html.escape(f"/notes/{HOSTILE}") in text  # the YARA match's file
    known_bad = [row[1] for row in parsed.tables["known-bad"][1:]]
    assert "fs@0:/bin/evil.bin" in known_bad and len(known_bad) == 2
    matches = parsed.tables["yara-matches"][1:]
    assert [(m[1], m[2], m[4]) for m in matches] == [
        ("file", f"/notes/{HOSTILE}", "report-plants/plant.yar/ReportPlant")
    ]
    sensitive = [
        i["value"] for i in images["features_key"]["items"] if i["kind"] in ("ccn", "bip39", "pgp_private_key")
    ]
    assert sensitive and not [v for v in sensitive if v in text or html.escape(v) in text]
    cards = parsed.tables["histogram-ccn"][1:]
    assert cards and all("*" in row[0] for row in cards)


def test_a_hostile_file_name_is_text_in_dfxml_and_case(report):
    out = report[0]
    tree = etree.parse(str(out / "dfxml" / "img0002.xml"))
    names = [n.text for n in tree.iterfind(".//d:fileobject/d:filename", NS)]
    assert f"/notes/{HOSTILE}" in names
    assert "<img src=x" not in (out / "dfxml" / "img0002.xml").read_text()
    graph = json.loads((out / "case.jsonld").read_text())
    paths = [f.get("uco-observable:filePath") for n in graph["@graph"] for f in n.get("uco-core:hasFacet", [])]
    assert f"/notes/{HOSTILE}" in paths


def test_dfxml_follows_the_schema_and_places_every_artifact(report, manifest, images):
    schema = etree.XMLSchema(etree.parse(str(DFXML_RULES)))
    out = report[0]
    by_image: dict[int, list] = {}
    for i, path in enumerate(images["paths"]):
        tree = etree.parse(str(out / "dfxml" / f"img{i:04d}.xml"))
        schema.assertValid(tree)
        assert tree.findtext("d:source/d:image_filename", namespaces=NS) == str(path)
        by_image[i] = tree.findall("d:fileobject", NS)
    for i in by_image:
        rows = [r for r in manifest if r["image_index"] == i]
        assert len(by_image[i]) == len(rows), i
        digests = Counter(o.findtext("d:hashdigest[@type='sha256']", namespaces=NS) for o in by_image[i])
        assert digests == Counter(r["sha256"] for r in rows)

    def runs(o):
        return [(int(r.get("img_offset")), int(r.get("len"))) for r in o.iterfind(".//d:byte_run", NS)]

    carved = {(o.findtext("d:filename", namespaces=NS), tuple(runs(o))) for o in by_image[0]}
    for item in images["carved_key"]["items"]:
        if item["status"] == "intact" and item["kind"] in CARVE_TYPES:
            assert (f"carved/{item['kind']}/{item['offset']}", ((item["offset"], item["length"]),)) in carved

    ext4 = images["paths"][2].read_bytes()
    plant = next(o for o in by_image[2] if o.findtext("d:filename", namespaces=NS) == f"/notes/{HOSTILE}")
    content = EXT4_FILES[f"notes/{HOSTILE}"]
    assert runs(plant) == [(ext4.index(content), len(content))]
    assert plant.findtext("d:alloc", namespaces=NS) == "1" and plant.findtext("d:mtime", namespaces=NS) == (
        "2017-07-14T02:40:00Z"
    )
    fat = images["paths"][3].read_bytes()
    (gone,) = [o for o in by_image[3] if o.findtext("d:unalloc", namespaces=NS) == "1"]
    assert runs(gone) == [(fat.index(FAT_GONE), len(FAT_GONE))]
    assert gone.findtext("d:hashdigest[@type='md5']", namespaces=NS) == hashlib.md5(FAT_GONE).hexdigest()
    assert gone.findtext("d:mtime", namespaces=NS) == "2017-07-14T02:40:00Z"


def test_case_uco_validates_and_places_every_artifact(report, manifest, images, job):
    path = report[0] / "case.jsonld"
    validate = Path(sys.executable).parent / "case_validate"
    assert validate.exists(), "case_validate (PyPI package case-utils) is needed"
    done = subprocess.run([str(validate), str(path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "Conforms: True" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]

    uco = "https://ontology.unifiedcyberontology.org/uco/"
    core, obs = rdflib.Namespace(f"{uco}core/"), rdflib.Namespace(f"{uco}observable/")
    g = rdflib.Graph().parse(path, format="json-ld")
    assert len(set(g.subjects(rdflib.RDF.type, obs.File))) == len(manifest)
    images_by_name = {str(g.value(i, core.name)): i for i in g.subjects(rdflib.RDF.type, obs.Image)}
    first = images_by_name["image 0 of job " + job.id]
    ranges = set()
    for rel in g.subjects(core.target, first):
        for facet in g.objects(rel, core.hasFacet):
            ranges.add((g.value(facet, obs.rangeOffset).toPython(), g.value(facet, obs.rangeSize).toPython()))
    for item in images["carved_key"]["items"]:
        if item["status"] == "intact" and item["kind"] in CARVE_TYPES:
            assert (item["offset"], item["length"]) in ranges
    action = rdflib.Namespace(f"{uco}action/")
    investigation = rdflib.URIRef("https://ontology.caseontology.org/case/investigation/InvestigativeAction")
    steps = {str(g.value(a, core.name)): a for a in g.subjects(rdflib.RDF.type, investigation)}
    assert {"hash_image", "list_files", "scan_segment", "scan_files"} <= set(steps)
    versions = {(r["step"], r["step_version"]) for r in manifest}
    for step, version in versions:
        tool = g.value(steps[step], action.instrument)
        assert str(g.value(tool, rdflib.URIRef(f"{uco}tool/version"))) == version
    results = sum(len(set(g.objects(steps[s], action.result))) for s in ("scan_segment", "scan_files"))
    assert results == len(manifest)


def test_hashdeep_audits_the_jobs_artifacts(report, manifest, store, tmp_path):
    hashdeep = shutil.which("hashdeep")
    assert hashdeep, "hashdeep (Debian package hashdeep) is needed: apt-get install hashdeep"
    known = report[0] / "hashdeep.txt"
    distinct = sorted({r["sha256"] for r in manifest})
    assert len([line for line in known.read_text().splitlines() if not line.startswith(("%", "#"))]) == len(distinct)

    def fetch(root: Path, shas: list[str]) -> None:
        for sha in shas:
            target = root / artifact_key(sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(store.get_bytes(ARTIFACTS, artifact_key(sha)))

    few = tmp_path / "few"
    fetch(few, distinct[:3])
    matched = subprocess.run([hashdeep, "-m", "-k", str(known), "-r", "-l", "sha256"], cwd=few, capture_output=True,
                             text=True)  # fmt: skip
    assert sorted(matched.stdout.split()) == sorted(artifact_key(s) for s in distinct[:3])
    everything = tmp_path / "all"
    fetch(everything, distinct)
    audit = subprocess.run([hashdeep, "-a", "-k", str(known), "-r", "-l", "sha256"], cwd=everything,
                           capture_output=True, text=True)  # fmt: skip
    assert audit.returncode == 0 and "Audit passed" in audit.stdout, audit.stdout + audit.stderr


def escaped(value: str) -> str:
    """A value as a feature file line holds it: `\\`, tab and line ends written \\xNN."""
    return "".join(f"\\x{ord(c):02X}" if c in "\\\t\r\n" else c for c in value)


def feature_lines(folder: Path, kind: str) -> list[list[str]]:
    lines = (folder / f"{kind}.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if not line.startswith("#")]


def test_feature_files_hold_the_planted_values_at_their_offsets(report, images):
    folder = report[0] / "features" / "img0001"
    key = images["features_key"]["items"]
    for kind in sorted({i["kind"] for i in key}):
        planted = sorted((i["offset"], escaped(i["value"])) for i in key if i["kind"] == kind)
        lines = feature_lines(folder, kind)
        assert sorted((int(o), v) for o, v, _ in lines) == planted, kind
        histogram = (folder / f"{kind}_histogram.txt").read_text(encoding="utf-8").splitlines()
        counts = {line.split("\t")[1]: int(line.split("\t")[0][2:]) for line in histogram if not line.startswith("#")}
        assert counts == dict(Counter(escaped(i["value"]) for i in key if i["kind"] == kind)), kind
    header = (folder / "email.txt").read_text().splitlines()
    assert "# Feature-Recorder: email" in header and f"# Filename: {images['paths'][1]}" in header


def test_sensitive_kinds_are_redacted_unless_revealed_with_a_reason(job, env, images, tmp_path):
    refused = quarry(["report", job.id, "--out", str(tmp_path / "no-reason"), "--reveal"], env)
    assert refused.returncode == 2 and "--reason" in refused.stderr
    out = tmp_path / "redacted"
    r = quarry(["report", job.id, "--out", str(out)], env)
    assert r.returncode == 0, r.stderr
    folder = out / "features" / "img0001"
    cards = [i["value"] for i in images["features_key"]["items"] if i["kind"] == "ccn"]
    lines = feature_lines(folder, "ccn")
    assert len(lines) == len(cards) and {c for _, _, c in lines} == {"[redacted]"}
    text = (folder / "ccn.txt").read_text() + (folder / "ccn_histogram.txt").read_text()
    assert not [c for c in cards if c in text]
    assert {v for _, v, _ in feature_lines(folder, "email")} == {
        i["value"] for i in images["features_key"]["items"] if i["kind"] == "email"
    }


def test_unknown_and_unfinished_jobs_and_a_used_folder_are_refused(env, store, job, images, tmp_path):
    r = quarry(["report", "no-such-job", "--out", str(tmp_path / "a")], env)
    assert r.returncode == 2 and "quarry: error: no job 'no-such-job'" in r.stderr
    running = JobRecord.new("case-report", [ImageRef(str(images["paths"][0]), 1 << 20)], {}, [[]], {})
    running.state = "running"
    Journal(store).save(running)
    try:
        r = quarry(["report", running.id, "--out", str(tmp_path / "b")], env)
    finally:  # no job that never runs is left in the session's journal
        store.remove(JOURNAL, record_key(running.id))
    assert r.returncode == 2 and f"job {running.id} is not finished (state running)" in r.stderr
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("x")
    r = quarry(["report", job.id, "--out", str(used)], env)
    assert r.returncode == 2 and "not empty" in r.stderr
