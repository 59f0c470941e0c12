"""Hash list import: every format a lab brings, built into set files and looked up.

Fixtures are small lists written here (or by the real sha256sum, md5sum, hashdeep and
md5deep) over files whose digests hashlib computes; lookups must find exactly the listed
files, in any case of hex, whatever the duplicates. Damaged input must be refused with
the file and line named.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

import rust_core
from cluster.catalog import is_known_good
from cluster.hashsets.build import build_set
from cluster.hashsets.errors import HashSetError
from cluster.hashsets.formats import detect
from cluster.results import known_files_summary
from workers.carving import SegmentResult
from workers.known_files import KNOWN_BAD, KNOWN_GOOD, KnownFiles, LoadedSet, SetFile, SetInfo, mark_known
from workers.manifest import PART_SCHEMA, part_bytes, read_part
from workers.node_cache import prune

ALGORITHMS = ("md5", "sha1", "sha256")
NSRL_HEADER = '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"'


def digests_of(data: bytes) -> dict[str, str]:
    return {a: hashlib.new(a, data).hexdigest() for a in ALGORITHMS}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, dict[str, str]]]:
    """Twenty small files on disk with their digests (from hashlib)."""
    root = tmp_path_factory.mktemp("files")
    rng = random.Random(3)
    out = []
    for i in range(20):
        data = rng.randbytes(rng.randrange(1, 5000))
        path = root / f"file, no {i:02d}.bin"  # a comma and a space, as real names have
        path.write_bytes(data)
        out.append((path, digests_of(data)))
    return out


def build(tmp_path: Path, text: str | bytes, name: str = "list.txt", fmt: str = "auto", **kw: int) -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / name
    source.write_bytes(text.encode() if isinstance(text, str) else text)
    built = build_set(source, fmt, tmp_path / "work", **kw)
    return {"built": built, "sets": {a: rust_core.HashSet(f.path) for a, f in built.files.items()}}


def assert_exactly(hs: rust_core.HashSet, files: list, listed: range, algorithm: str) -> None:
    for i, (_, d) in enumerate(files):
        assert hs.contains(d[algorithm]) is (i in listed), (i, algorithm)
        assert hs.contains(d[algorithm].upper()) is (i in listed)
        assert hs.contains(bytes.fromhex(d[algorithm])) is (i in listed)


# md5sum / sha256sum / md5deep


def test_md5sum_list_in_every_line_form(tmp_path, files):
    d = [f[1] for f in files]
    text = "\n".join(
        [
            "# exported from the lab's case system",
            f"{d[0]['md5']}  {files[0][0].name}",  # text mode
            f"{d[1]['md5']} *{files[1][0].name}",  # binary mode
            f"{d[2]['md5'].upper()}  upper case.bin",
            f"\\{d[3]['md5']}  with\\nnewline",  # escaped name
            f"MD5 (tagged.bin) = {d[4]['md5']}",  # BSD / --tag
            d[5]["md5"],  # bare digest
            "",
            f"{d[0]['md5']}  duplicate of line 2",
        ]
    )
    got = build(tmp_path, text + "\r\n")
    assert set(got["sets"]) == {"md5"}
    assert got["built"].rows == 7 and got["built"].format == "md5sum"
    assert got["sets"]["md5"].count == 6
    assert_exactly(got["sets"]["md5"], files, range(6), "md5")


def test_real_sha256sum_and_md5sum_output(tmp_path, files):
    listed = [str(p) for p, _ in files[5:15]]
    for tool, algorithm in (("sha256sum", "sha256"), ("md5sum", "md5")):
        out = subprocess.run([tool, "--binary", *listed], check=True, capture_output=True).stdout
        got = build(tmp_path / tool, out, f"{tool}.txt")
        assert set(got["sets"]) == {algorithm}
        assert_exactly(got["sets"][algorithm], files, range(5, 15), algorithm)
    tagged = subprocess.run(["sha256sum", "--tag", *listed], check=True, capture_output=True).stdout
    assert_exactly(build(tmp_path / "tag", tagged)["sets"]["sha256"], files, range(5, 15), "sha256")


def test_mixed_algorithms_make_one_set_file_each(tmp_path, files):
    d = [f[1] for f in files]
    text = f"{d[0]['md5']}  a\n{d[1]['sha1']}  b\n{d[2]['sha256']}  c\n{d[3]['sha256']}  d\n"
    got = build(tmp_path, text)
    assert {a: s.count for a, s in got["sets"].items()} == {"md5": 1, "sha1": 1, "sha256": 2}
    assert_exactly(got["sets"]["md5"], files, range(0, 1), "md5")
    assert_exactly(got["sets"]["sha1"], files, range(1, 2), "sha1")
    assert_exactly(got["sets"]["sha256"], files, range(2, 4), "sha256")


def test_real_md5deep_output(tmp_path, files):
    assert shutil.which("md5deep"), "md5deep (Debian package hashdeep) is not installed"
    out = subprocess.run(["md5deep", *[str(p) for p, _ in files[:7]]], check=True, capture_output=True).stdout
    got = build(tmp_path, out, "md5deep.txt")
    assert_exactly(got["sets"]["md5"], files, range(7), "md5")


# hashdeep


def test_real_hashdeep_output_keeps_the_strongest_digest(tmp_path, files):
    assert shutil.which("hashdeep"), "hashdeep (Debian package hashdeep) is not installed"
    out = subprocess.run(
        ["hashdeep", "-c", "md5,sha256", *[str(p) for p, _ in files[10:]]], check=True, capture_output=True
    ).stdout
    assert out.startswith(b"%%%% HASHDEEP-1.0\n%%%% size,md5,sha256,filename\n")
    got = build(tmp_path, out, "known.hashdeep")
    assert got["built"].format == "hashdeep"
    assert set(got["sets"]) == {"sha256"}
    assert_exactly(got["sets"]["sha256"], files, range(10, 20), "sha256")


def test_hashdeep_written_by_hand_with_md5_only_and_commas_in_names(tmp_path, files):
    d = [f[1] for f in files]
    text = (
        "%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n## Invoked from: /cases\n## $ hashdeep -c md5 -r .\n##\n"
        + "".join(f"{i + 1},{d[i]['md5']},./a, b, c {i}.jpg\n" for i in range(4))
    )
    got = build(tmp_path, text)
    assert set(got["sets"]) == {"md5"} and got["built"].rows == 4
    assert_exactly(got["sets"]["md5"], files, range(4), "md5")


# NSRL


def nsrl_txt(files: list, rows: range) -> str:
    lines = [NSRL_HEADER]
    for i in rows:
        d = files[i][1]
        lines.append(f'"{d["sha1"].upper()}","{d["md5"].upper()}","0000ABCD","name, with comma {i}.dll",{i},1,"358",""')
    return "\r\n".join(lines) + "\r\n"


def test_nsrl_txt_keeps_sha1(tmp_path, files):
    text = nsrl_txt(files, range(12)) + nsrl_txt(files, range(3)).split("\r\n", 1)[1]  # duplicates
    got = build(tmp_path, text, "NSRLFile.txt")
    assert got["built"].format == "nsrl-txt" and got["built"].rows == 15
    assert set(got["sets"]) == {"sha1"} and got["sets"]["sha1"].count == 12
    assert_exactly(got["sets"]["sha1"], files, range(12), "sha1")


def rds(path: Path, files: list, rows: list[int], view: bool = False) -> Path:
    """An RDSv3-shaped database: FILE(sha256, sha1, md5, crc32, file_name, file_size, package_id)."""
    con = sqlite3.connect(path)
    table = "FILE_ROWS" if view else "FILE"
    con.execute(
        f"CREATE TABLE {table} (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL,"
        " crc32 VARCHAR, file_name VARCHAR, file_size INTEGER, package_id INTEGER)"
    )
    if view:
        con.execute("CREATE VIEW FILE AS SELECT * FROM FILE_ROWS")
    con.executemany(
        f"INSERT INTO {table} VALUES (?, ?, ?, '00000000', ?, ?, 1)",
        [
            (files[i][1]["sha256"].upper(), files[i][1]["sha1"].upper(), files[i][1]["md5"].upper(), f"f{i}", i)
            for i in rows
        ],
    )
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize("view", [False, True])
def test_nsrl_rds_keeps_sha256(tmp_path, files, view):
    source = rds(tmp_path / "RDS_modern_minimal.db", files, [0, 1, 2, 3, 4, 5, 6, 7, 2, 3], view)
    built = build_set(source, "auto", tmp_path / "work")
    assert built.format == "nsrl-rds" and built.rows == 10
    assert set(built.files) == {"sha256"} and built.files["sha256"].count == 8
    assert_exactly(rust_core.HashSet(built.files["sha256"].path), files, range(8), "sha256")


def test_source_and_set_files_are_hashed(tmp_path, files):
    got = build(tmp_path, f"{files[0][1]['sha1']}  x\n")
    built = got["built"]
    assert built.source_sha256 == hashlib.sha256((tmp_path / "list.txt").read_bytes()).hexdigest()
    f = built.files["sha1"]
    assert f.sha256 == hashlib.sha256(f.path.read_bytes()).hexdigest() and f.bytes == f.path.stat().st_size


def test_many_small_runs_give_the_same_set(tmp_path, files):
    text = "".join(f"{d['sha256']}  f\n" for _, d in files[:17])
    got = build(tmp_path, text, run_bytes=64)  # two digests per run
    assert got["sets"]["sha256"].count == 17
    assert_exactly(got["sets"]["sha256"], files, range(17), "sha256")
    assert sorted(os.listdir(tmp_path / "work")) == ["runs", "sha256.qhs"]
    assert os.listdir(tmp_path / "work" / "runs") == []


# Errors: the file and line named, the problem said


@pytest.mark.parametrize(
    ("name", "text", "line", "problem"),
    [
        ("list.md5", "d41d8cd98f00b204e9800998ecf8427e  a\n\nnot-a-digest  b\n", 3, "'not-a-digest' is not an MD5"),
        ("list.md5", "d41d8cd98f00b204e9800998ecf8427e  a\nd41d8cd98f00b204e9800998ecf8427  b\n", 2, "32, 40 or 64"),
        ("list.md5", "d41d8cd98f00b204e9800998ecf8427g  a\n", 1, "is not a MD5 digest (32 hex digits)"),
        ("tag.txt", "SHA256 (x) = abcd\n", 1, "is not a SHA-256 digest (64 hex digits)"),
        ("h.txt", "%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n12,d41d8cd98f00b204e9800998ecf8427e\n", 3, "2 fields"),
        ("h.txt", "%%%% HASHDEEP-1.0\n%%%% size,md5,filename\nx,d41d8cd98f00b204e9800998ecf8427e,a\n", 3, "size"),
        ("h.txt", "%%%% HASHDEEP-1.0\n%%%% size,tiger,filename\n", 2, "no md5, sha1 or sha256 column"),
        ("h.txt", "%%%% HASHDEEP-1.0\nsize,md5,filename\n", 2, "expected the column line"),
        (
            "N.txt",
            NSRL_HEADER + '\n"AB","x"\n',
            2,
            "2 fields",
        ),
        (
            "N.txt",
            NSRL_HEADER + '\n"zz","","","","","","",""\n',
            2,
            "SHA-1",
        ),
    ],
)
def test_a_malformed_line_is_named_with_its_file_and_number(tmp_path, name, text, line, problem):
    with pytest.raises(HashSetError) as err:
        build(tmp_path, text, name)
    assert err.value.line == line
    assert str(err.value).startswith(f"{tmp_path / name}:{line}: ")
    assert problem in str(err.value)


def test_nsrl_txt_without_its_header_is_refused(tmp_path, files):
    with pytest.raises(HashSetError, match=r"N\.txt:1: expected the NSRLFile.txt header"):
        build(tmp_path, nsrl_txt(files, range(2)).split("\r\n", 1)[1], "N.txt", fmt="nsrl-txt")


def test_an_empty_list_is_refused(tmp_path):
    with pytest.raises(HashSetError, match=r"empty\.txt: no digests found"):
        build(tmp_path, "# nothing here\n\n", "empty.txt")


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(HashSetError, match=r"absent\.txt: no such file"):
        build_set(tmp_path / "absent.txt", "auto", tmp_path / "work")


def test_a_corrupt_sqlite_file_is_named(tmp_path, files):
    good = rds(tmp_path / "good.db", files, list(range(20)))
    damaged = tmp_path / "RDS_damaged.db"
    data = bytearray(good.read_bytes())
    data[16:100] = b"\xff" * 84  # the page size and the rest of the header, wrecked
    damaged.write_bytes(bytes(data))
    with pytest.raises(HashSetError) as err:
        build_set(damaged, "auto", tmp_path / "work")
    assert str(err.value).startswith(f"{damaged}: ") and "SQLite" in str(err.value)
    noise = tmp_path / "noise.db"
    noise.write_bytes(random.Random(1).randbytes(8192))
    with pytest.raises(HashSetError, match=r"noise\.db: not an SQLite database"):
        build_set(noise, "auto", tmp_path / "work")


def test_a_truncated_sqlite_file_is_named(tmp_path):
    rng = random.Random(9)
    source = tmp_path / "big.db"
    con = sqlite3.connect(source)
    con.execute("CREATE TABLE FILE (sha256 VARCHAR, sha1 VARCHAR, md5 VARCHAR)")
    rows = [(rng.randbytes(32).hex(), rng.randbytes(20).hex(), rng.randbytes(16).hex()) for _ in range(20000)]
    con.executemany("INSERT INTO FILE VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()
    cut = tmp_path / "cut.db"
    cut.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    with pytest.raises(HashSetError) as err:
        build_set(cut, "nsrl-rds", tmp_path / "work")
    assert str(err.value).startswith(f"{cut}: ") and "malformed" in str(err.value)
    middle = bytearray(source.read_bytes())
    middle[len(middle) // 2 : len(middle) // 2 + 20000] = rng.randbytes(20000)
    wrecked = tmp_path / "wrecked.db"
    wrecked.write_bytes(bytes(middle))
    with pytest.raises(HashSetError) as err:
        build_set(wrecked, "nsrl-rds", tmp_path / "work")
    assert str(err.value).startswith(f"{wrecked}: database damaged at row ") and " of FILE (" in str(err.value)


def test_an_rds_without_a_file_table_or_with_bad_values_is_refused(tmp_path, files):
    source = tmp_path / "other.db"
    con = sqlite3.connect(source)
    con.execute("CREATE TABLE PKG (name VARCHAR)")
    con.commit()
    con.close()
    with pytest.raises(HashSetError, match=r"other\.db: no FILE table or view"):
        build_set(source, "auto", tmp_path / "work")
    bad = rds(tmp_path / "bad.db", files, [0, 1])
    con = sqlite3.connect(bad)
    con.execute("UPDATE FILE SET sha256 = 'XYZ' WHERE file_size = 1")
    con.commit()
    con.close()
    with pytest.raises(HashSetError, match=r"bad\.db: row 2 of FILE: 'XYZ' is not a SHA-256 digest"):
        build_set(bad, "auto", tmp_path / "work")


def test_formats_are_told_apart(tmp_path, files):
    cases = {
        "a.db": rds(tmp_path / "a.db", files, [0]).read_bytes(),
        "b.hashdeep": b"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n",
        "NSRLFile.txt": b"\xef\xbb\xbf" + NSRL_HEADER.encode() + b"\n",
        "c.md5": b"d41d8cd98f00b204e9800998ecf8427e  x\n",
    }
    want = {"a.db": "nsrl-rds", "b.hashdeep": "hashdeep", "NSRLFile.txt": "nsrl-txt", "c.md5": "md5sum"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert detect(tmp_path / name) == want[name]


# Matching artifacts: names, verdicts, the manifest and the summary


def loaded(tmp_path: Path, name: str, kind: str, lines: str) -> LoadedSet:
    built = build(tmp_path / name, lines)["built"]
    files = tuple(SetFile(a, f"{name}/1/{a}.qhs", f.count, f.bytes, f.sha256) for a, f in built.files.items())
    info = SetInfo(name, kind, "1", built.format, built.rows, "2026-01-01T00:00:00Z", {}, files)
    return LoadedSet(info, {a: rust_core.HashSet(f.path) for a, f in built.files.items()})


def test_artifacts_are_marked_with_the_sets_that_hold_them(tmp_path, files):
    d = [f[1] for f in files]
    good = loaded(tmp_path, "nsrl", KNOWN_GOOD, "".join(f"{d[i]['sha1']}  x\n" for i in (0, 1, 2)))
    bad = loaded(tmp_path, "malware", KNOWN_BAD, "".join(f"{d[i]['md5']}  x\n" for i in (2, 3)))
    extra = loaded(tmp_path, "bad-sha256", KNOWN_BAD, f"{d[3]['sha256']}  x\n")
    known = KnownFiles([good, bad, extra])
    rows = [{"image_index": 0, "offset": 100 * i, "length": 1, "type": "jpeg", **d[i]} for i in range(6)]
    result = SegmentResult(0, 0, 0, "n", 0.0, "k")
    mark_known(known, rows, result)
    assert [(r["known_sets"], r["known"]) for r in rows] == [
        (["nsrl"], "good"),
        (["nsrl"], "good"),
        (["malware", "nsrl"], "bad"),
        (["bad-sha256", "malware"], "bad"),
        ([], None),
        ([], None),
    ]
    assert result.known_good == 2
    assert result.known_bad == Counter({"malware": 2, "bad-sha256": 1})
    assert [h["offset"] for h in result.known_bad_hits] == [200, 300]
    assert result.known_bad_hits[1]["sets"] == ["bad-sha256", "malware"]
    assert result.hash_sets["nsrl"] == {"kind": KNOWN_GOOD, "version": "1"}

    table = read_part(part_bytes([{**r, "case": "c", "status": "complete"} for r in rows]))
    assert table.schema == PART_SCHEMA
    assert table.column("known").to_pylist() == ["good", "good", "bad", "bad", None, None]
    assert table.schema.field("known_sets").type == pa.list_(pa.string())
    assert [is_known_good(r) for r in table.to_pylist()] == [True, True, False, False, False, False]
    assert not is_known_good({"sha256": "old manifest row without the column"})

    other = SegmentResult(0, 1, 0, "n", 0.0, "k2")
    mark_known(known, [{"image_index": 0, "offset": 50, "length": 1, "type": "png", **d[3]}], other)
    summary = known_files_summary([result, other])
    assert summary["known_bad"] == 3 and summary["known_good"] == 2
    assert summary["known_bad_by_set"] == {"bad-sha256": 2, "malware": 3}
    assert [h["offset"] for h in summary["known_bad_hits"]] == [50, 200, 300]
    assert summary["sets"]["malware"] == {"kind": KNOWN_BAD, "versions": ["1"]}


def test_no_sets_mark_nothing(files):
    rows = [{"image_index": 0, "offset": 0, "length": 1, "type": "jpeg", **files[0][1]}]
    result = SegmentResult(0, 0, 0, "n", 0.0, "k")
    mark_known(KnownFiles([]), rows, result)
    assert rows[0]["known_sets"] == [] and rows[0]["known"] is None
    assert known_files_summary([result])["known_bad"] == 0


def test_prune_spares_files_in_use_and_recent_ones(tmp_path):
    old, recent, used = (tmp_path / f"{n}.qhs" for n in ("old", "recent", "used"))
    for p in (old, recent, used):
        p.write_bytes(b"x")
    stale = time.time() - 2 * 24 * 3600
    os.utime(old, (stale, stale))
    os.utime(used, (stale, stale))
    prune(tmp_path, {used}, ".qhs")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recent.qhs", "used.qhs"]
