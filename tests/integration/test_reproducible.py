"""Reproducible results: the same images run again, with the same profile and the same hash
and rule set versions, give a byte-identical manifest, whatever the job's id. Three jobs in
one case: a submission, the same submission again, and `rerun --whole` of the first. They
carve the forged image and extract the files (with their timestamps) of a public ext2 image,
with two hash sets listing the same files (two names in `known_sets`) and a rule set whose
rules match the same files (several labels in `yara`). The manifests are compared byte for
byte and by hashlib's SHA-256; queries still give every row its case and job, taken from
the job's folder, and a manifest written before (which stores them) still reads.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cluster import api, results
from cluster.catalog import find_by_sha256, iter_manifest
from cluster.hashsets.publish import import_set, remove_set
from cluster.query import KNOWN, Query
from cluster.query_engine import Catalog
from cluster.results import concatenate, manifest_key
from cluster.rules import add_rule_set, remove_rule_set
from workers.manifest import MANIFEST_SCHEMA, STORED_MANIFEST_SCHEMA
from workers.store import PARQUET, RESULTS

CASE = "case-repro"
FS_IMAGE = "sleuthkit/image.dd"  # ext2: three files with their times (truth/sleuthkit__image.dd)
FS_FILE = "/passwords.txt"
RULES = {
    "content.yar": "rule AnyContent : everything { condition: filesize > 0 }\n",
    "kinds/starts.yar": (
        "rule JpegStart : picture { condition: uint16(0) == 0xD8FF }\nrule LongFile { condition: filesize > 1000 }\n"
    ),
}
RULE_SET, HASH_SETS = "repro-rules", ("repro-a", "repro-b")


@pytest.fixture(scope="module")
def listed(forged, testdata) -> dict[str, str]:
    """What the two hash sets list: an intact planted JPEG and a file of the ext2 image, by
    SHA-256 of their bytes (hashlib)."""
    path, key = forged
    item = next(i for i in key["items"] if i["kind"] == "jpeg" and i["status"] == "intact")
    with open(path, "rb") as f:
        f.seek(item["offset"])
        jpeg = hashlib.sha256(f.read(item["length"])).hexdigest()
    truth = (testdata / "truth/sleuthkit__image.dd/fs00_o0/files.tsv").read_text().splitlines()
    passwords = next(line.split("\t")[6] for line in truth if line.endswith(f"\t{FS_FILE}"))
    return {"jpeg": jpeg, "file": passwords}


@pytest.fixture(scope="module")
def sets(store, listed, tmp_path_factory):
    root = tmp_path_factory.mktemp("repro-sets")
    for rel, text in RULES.items():
        (root / "rules" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "rules" / rel).write_text(text)
    add_rule_set(store, root / "rules", RULE_SET, "1")
    listing = root / "listed.sha256"
    listing.write_text("".join(f"{sha}  {name}\n" for name, sha in listed.items()))
    for name in HASH_SETS:
        import_set(store, listing, name, "known-bad", "1")
    yield
    remove_rule_set(store, RULE_SET)  # later modules run without these sets
    for name in HASH_SETS:
        remove_set(store, name)


@pytest.fixture(scope="module")
def jobs(settings, sets, forged, testdata) -> list:
    paths = [str(forged[0]), str(testdata / FS_IMAGE)]
    first = api.wait(settings, api.submit(settings, CASE, paths).id)
    second = api.wait(settings, api.submit(settings, CASE, paths).id)
    again = api.wait(settings, api.rerun(settings, first.id, whole=True))
    for job in (first, second, again):
        assert job.state == "done", job.error
    assert again.rerun_of == first.id and len({first.id, second.id, again.id}) == 3
    assert first.rule_sets == {RULE_SET: "1"} and {n: first.hash_sets[n] for n in HASH_SETS} == dict.fromkeys(
        HASH_SETS, "1"
    )
    return [first, second, again]


def manifest_bytes(store, job) -> bytes:
    return store.get_bytes(RESULTS, manifest_key(job.case, job.id))


def test_the_three_manifests_are_byte_identical(store, jobs):
    data = [manifest_bytes(store, job) for job in jobs]
    assert data[0] == data[1] == data[2]
    assert len({hashlib.sha256(d).hexdigest() for d in data}) == 1
    table = pq.read_table(io.BytesIO(data[0]))
    assert table.schema.equals(STORED_MANIFEST_SCHEMA) and table.num_rows == jobs[0].summary["artifacts"]


def test_what_could_differ_between_runs_is_there_to_differ(store, jobs, listed):
    """The manifest compared holds what a run could put in another order: several sets per
    artifact, several YARA labels per file, filesystem times, carves across segments."""
    rows = pq.read_table(io.BytesIO(manifest_bytes(store, jobs[0]))).to_pylist()
    known = {r["sha256"]: r["known_sets"] for r in rows if r["known"]}
    assert known == {sha: list(HASH_SETS) for sha in listed.values()}
    jpeg = next(r for r in rows if r["sha256"] == listed["jpeg"])
    labels = [f"{RULE_SET}/content.yar/AnyContent", f"{RULE_SET}/kinds/starts.yar/JpegStart"]
    assert jpeg["yara"] in (labels, [*labels, f"{RULE_SET}/kinds/starts.yar/LongFile"])
    files = [r for r in rows if r["origin"] == "allocated"]
    assert FS_FILE in {r["path"] for r in files} and all(r["mtime"] is not None for r in files)
    assert all(r["yara"][0] == f"{RULE_SET}/content.yar/AnyContent" for r in rows if r["length"])
    assert len({r["step_version"] for r in rows}) == 2  # carving and files
    assert jobs[0].segments_total > 2  # carves from many segments' parts, in one order


def test_queries_give_each_row_its_case_and_job(settings, store, jobs):
    catalog = Catalog(settings.store)
    stored = pq.read_table(io.BytesIO(manifest_bytes(store, jobs[0]))).to_pylist()
    for job in jobs:
        rows = list(catalog.rows(Query(cases=(CASE,), jobs=(job.id,), known=KNOWN, limit=0)))
        assert [list(r) for r in rows] == [MANIFEST_SCHEMA.names] * len(stored)
        assert rows == [{"case": CASE, "job": job.id, **r} for r in stored]
        page = catalog.page(Query(cases=(CASE,), jobs=(job.id,), known=KNOWN, sort=(("length", True),), limit=5))
        assert page.total == len(stored) and len(page.rows) == 5
        assert all(list(r) == MANIFEST_SCHEMA.names and (r["case"], r["job"]) == (CASE, job.id) for r in page.rows)


def test_a_lookup_and_a_yara_tag_name_every_job(settings, store, jobs, listed):
    ids = sorted(job.id for job in jobs)
    hits = list(find_by_sha256(store, listed["file"], CASE))
    assert sorted(h["job"] for h in hits) == ids and {(h["case"], h["path"]) for h in hits} == {(CASE, FS_FILE)}
    # The tag's rows are joined to yara.parquet on (job, sha256): the job comes from the folder.
    page = Catalog(settings.store).page(Query(cases=(CASE,), yara_tag="picture", known=KNOWN, limit=1000))
    per_job = {i: sorted(r["sha256"] for r in page.rows if r["job"] == i) for i in ids}
    assert page.total == len(page.rows) and listed["jpeg"] in per_job[ids[0]]
    assert per_job[ids[0]] == per_job[ids[1]] == per_job[ids[2]] and len(page.rows) == 3 * len(per_job[ids[0]])
    assert {r["case"] for r in page.rows} == {CASE}


def test_a_manifest_that_stores_case_and_job_still_reads(settings, store, jobs):
    """Manifests written before this store both columns: readers take them from the key."""
    table = pq.read_table(io.BytesIO(manifest_bytes(store, jobs[0])))
    case, job = "case-repro-old", "job-written-before"
    old = table.add_column(0, "job", pa.array([job] * table.num_rows)).add_column(
        0, "case", pa.array([case] * table.num_rows)
    )
    assert old.schema.equals(MANIFEST_SCHEMA)
    sink = io.BytesIO()
    pq.write_table(old, sink, compression="zstd")
    store.put_bytes(RESULTS, manifest_key(case, job), sink.getvalue(), PARQUET)
    want = [{"case": case, "job": job, **r} for r in table.to_pylist()]
    got = list(Catalog(settings.store).rows(Query(cases=(case,), known=KNOWN, limit=0)))
    assert got == want
    page = Catalog(settings.store).page(Query(cases=(case,), known=KNOWN, limit=3, offset=2))
    assert page.total == len(want) and page.rows == want[2:5]
    assert list(iter_manifest(store, case, job, ["sha256", "case", "job"])) == [
        {"sha256": r["sha256"], "case": case, "job": job} for r in want
    ]


def test_the_rerun_reads_the_same_evidence(jobs, forged, testdata):
    images = [jobs[2].summary["images"][i]["digests"]["sha256"] for i in range(2)]
    data = [Path(forged[0]).read_bytes(), (testdata / FS_IMAGE).read_bytes()]
    assert images == [hashlib.sha256(d).hexdigest() for d in data]


def test_row_groups_do_not_follow_the_parts(store, jobs, monkeypatch):
    """The same rows cut into parts differently (another segment size, other file batches)
    make the same file: full row groups, the rest in the last."""
    monkeypatch.setattr(results, "ROW_GROUP_ROWS", 7)
    table = pq.read_table(io.BytesIO(manifest_bytes(store, jobs[0])))
    n = table.num_rows
    assert n > 40 and table.column("yara").null_count < n  # lists, nulls, strings, numbers
    made = []
    for cut, sizes in enumerate(([n], [1] * n, [3, 0, 5, 11, 2, n - 21], [7] * (n // 7) + [n % 7], [13, n - 13])):
        keys, start = [], 0
        for i, size in enumerate(sizes):
            keys.append(f"repro-groups/cut{cut}/part{i:04d}.parquet")
            store.put_table(RESULTS, keys[-1], table.slice(start, size))
            start += size
        target = f"repro-groups/cut{cut}/whole.parquet"
        assert concatenate(store, keys, table.schema, target, lambda part, key: None) == n
        made.append(store.get_bytes(RESULTS, target))
    assert all(data == made[0] for data in made)
    written = pq.ParquetFile(io.BytesIO(made[0]))
    groups = [written.metadata.row_group(i).num_rows for i in range(written.num_row_groups)]
    assert groups == [7] * (n // 7) + ([n % 7] if n % 7 else [])
    assert written.read().equals(table)
