"""Known-image lists through a real MinIO: PDQ lists imported with the CLI are listed,
versioned and removed; bad lines are refused by number and leave the version in use;
a worker matches pictures against the versions a job pinned, from its node cache.

Hashes are random 256-bit integers; the pictures' hashes are listed hashes with a chosen
number of bits flipped, so every expected distance is known without the index.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from cluster.pdqsets import remove_set
from tests.integration.conftest import quarry
from workers.known_images import (
    PDQSETS,
    ImageMatch,
    NodeImageSets,
    current_sets,
    known_images_for_job,
    pin_current,
)
from workers.store import HASHSETS

RNG = random.Random(2026)


def flip(h: int, bits: int) -> int:
    for bit in RNG.sample(range(256), bits):
        h ^= 1 << bit
    return h


def hex64(h: int) -> str:
    return f"{h:064x}"


LISTED_BAD = [RNG.getrandbits(256) for _ in range(3)]
LISTED_GOOD = [RNG.getrandbits(256) for _ in range(2)]
# Pictures: near the first bad hash (distance 4), near the second (31, in), near the third
# (32, out), near a good one (10), and one unrelated.
PICTURES = [flip(LISTED_BAD[0], 4), flip(LISTED_BAD[1], 31), flip(LISTED_BAD[2], 32), flip(LISTED_GOOD[0], 10)]
PICTURES.append(RNG.getrandbits(256))


@pytest.fixture(scope="module")
def lists(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pdqlists")
    bad = d / "bad.txt"
    bad.write_text("# known-bad pictures\n" + "".join(f"{hex64(h)},case-{i}\n" for i, h in enumerate(LISTED_BAD)))
    good = d / "good.csv"  # what pdq-photo-hasher prints
    good.write_text("".join(f"{hex64(h).upper()},{90 - i},/library/stock-{i}.jpg\n" for i, h in enumerate(LISTED_GOOD)))
    broken = d / "broken.txt"
    broken.write_text(f"{hex64(LISTED_BAD[0])},fine\n{hex64(LISTED_BAD[1])[:-2]},short\n\nzz,x\n")
    return {"bad": bad, "good": good, "broken": broken}


@pytest.fixture(scope="module")
def sets(env, store, lists):
    for name, kind, source in (("pics-bad", "known-bad", lists["bad"]), ("pics-good", "known-good", lists["good"])):
        r = quarry(["pdqset", "import", "--name", name, "--kind", kind, "--version", "1", str(source)], env)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"imported {name} 1 ({kind}): ")
    yield
    for info in current_sets(store):
        remove_set(store, info.name)


def test_import_reports_what_it_read(env, sets, lists, tmp_path):
    r = quarry(["pdqset", "import", "--name", "pics-other", "--kind", "known-bad", str(lists["good"])], env)
    assert r.returncode == 0, r.stderr
    assert "2 hashes, 2 labels from 2 lines" in r.stdout and "(threatexchange)" in r.stdout
    r = quarry(["pdqset", "remove", "pics-other"], env)
    assert r.returncode == 0 and "removed PDQ set pics-other" in r.stdout


def test_list_shows_the_sets_in_use_and_not_among_hash_sets(env, sets, store):
    r = quarry(["pdqset", "list"], env)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line.split() for line in r.stdout.splitlines()[1:]}
    assert rows["pics-bad"][1:4] == ["known-bad", "1", "3"]
    assert rows["pics-good"][1:4] == ["known-good", "1", "2"]
    r = quarry(["pdqset", "list", "--json"], env)
    docs = {d["name"]: d for d in map(json.loads, r.stdout.splitlines())}
    assert (
        docs["pics-good"]["format"] == "threatexchange" and docs["pics-good"]["file"]["key"] == "pics-good/1/pdq.qpdq"
    )
    assert store.exists(PDQSETS, "pics-bad/current.json")
    assert not store.list_keys(HASHSETS, "pics-")
    r = quarry(["hashset", "list"], env)
    assert r.returncode == 0 and "pics-" not in r.stdout


def test_bad_lines_are_named_and_the_version_in_use_stays(env, sets, lists):
    args = ["pdqset", "import", "--name", "pics-bad", "--kind", "known-bad", "--version", "2"]
    r = quarry([*args, str(lists["broken"])], env)
    assert r.returncode == 2
    assert f"quarry: error: {lists['broken']}:2: " in r.stderr and "is not a PDQ hash (64 hex digits)" in r.stderr
    assert "2 bad lines in all (lines 2, 4)" in r.stderr
    assert "PDQ set pics-bad still uses version 1" in r.stderr
    r = quarry(["pdqset", "list", "--versions", "pics-bad"], env)
    assert [line.split()[2] for line in r.stdout.splitlines()[1:]] == ["1"]
    r = quarry([*args[:-1], "1", str(lists["bad"])], env)
    assert r.returncode == 2 and "already has version 1" in r.stderr
    r = quarry(["pdqset", "import", "--name", "bad name", "--kind", "known-bad", str(lists["bad"])], env)
    assert r.returncode == 2 and "set name 'bad name'" in r.stderr
    r = quarry(["pdqset", "remove", "no-such-set"], env)
    assert r.returncode == 2 and "no PDQ set named 'no-such-set'" in r.stderr


def test_a_worker_matches_pictures_against_the_pinned_versions(env, sets, store, lists, tmp_path):
    pinned = pin_current(store)
    assert pinned == (("pics-bad", "1"), ("pics-good", "1"))
    node = NodeImageSets(store, tmp_path / "cache")
    known = node.for_job("job-1", pinned)
    pdqs = [hex64(p) for p in PICTURES]
    got = known.match(pdqs)
    assert got == [
        [ImageMatch("pics-bad", "known-bad", "case-0", 4)],
        [ImageMatch("pics-bad", "known-bad", "case-1", 31)],
        [],
        [ImageMatch("pics-good", "known-good", "/library/stock-0.jpg", 10)],
        [],
    ]
    assert [known.verdict(m) for m in got] == ["bad", "bad", None, "good", None]
    assert known.match(pdqs, threshold=32)[2] == [ImageMatch("pics-bad", "known-bad", "case-2", 32)]
    assert known.versions() == {
        "pics-bad": {"kind": "known-bad", "version": "1"},
        "pics-good": {"kind": "known-good", "version": "1"},
    }
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir() if p.suffix == ".qpdq")
    assert cached == sorted(f"{i.sha256}.qpdq" for i in current_sets(store))

    # Version 2 drops case-0: a job pinned before it still matches against version 1.
    v2 = tmp_path / "bad-v2.txt"
    v2.write_text("".join(f"{hex64(h)},case-{i}\n" for i, h in enumerate(LISTED_BAD) if i))
    r = quarry(["pdqset", "import", "--name", "pics-bad", "--kind", "known-bad", "--version", "2", str(v2)], env)
    assert r.returncode == 0, r.stderr
    assert node.for_job("job-2", pinned).match(pdqs[:1]) == [got[0]]
    assert node.for_job("job-3", pin_current(store)).match(pdqs[:1]) == [[]]


def test_known_images_for_job_opens_the_sets_once_per_job(sets, store, tmp_path, monkeypatch):
    monkeypatch.setenv("QUARRY_PDQSET_CACHE", str(tmp_path / "node-cache"))
    known = known_images_for_job(store.config, "job-cache", pin_current(store))
    assert known.match([hex64(PICTURES[3])])[0][0].label == "/library/stock-0.jpg"
    assert known_images_for_job(store.config, "job-cache", pin_current(store)) is known  # opened once per job
