"""Batch manifests (CSV and JSON Lines) written to disk: the entries read back as written,
jobs grouped by case, profile and priority, and every bad line an error naming the manifest
file and the line number."""

import hashlib
import json
from pathlib import Path

import pytest

from cluster.batch import BatchEntry, BatchError, BatchJob, group_jobs, read_manifest
from cluster.profiles import PROFILES_ENV

MD5 = hashlib.md5(b"exhibit").hexdigest()
SHA1 = hashlib.sha1(b"exhibit").hexdigest()
SHA256 = hashlib.sha256(b"exhibit").hexdigest()
SHA512 = hashlib.sha512(b"exhibit").hexdigest()


@pytest.fixture(autouse=True)
def shipped_profiles(monkeypatch):
    monkeypatch.delenv(PROFILES_ENV, raising=False)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_entries_read_back_as_written(tmp_path):
    manifest = write(
        tmp_path,
        "box7.csv",
        "# exhibits received 2026-03-02\n"
        "case,image,expect,profile,priority\n"
        f"C-1,disks/a.raw,md5:{MD5};SHA-256:{SHA256.upper()},triage,5\n"
        "\n"
        f'C-1,"b, copy.E01",sha1:{SHA1},,\n'
        f"C-2,/evidence/c.raw,,full,-1\n"
        "C-2,../d.raw\n",
    )
    assert read_manifest(manifest) == [
        BatchEntry(3, "C-1", str(tmp_path / "disks/a.raw"), (("md5", MD5), ("sha256", SHA256)), "triage", 5),
        BatchEntry(5, "C-1", str(tmp_path / "b, copy.E01"), (("sha1", SHA1),), "standard", None),
        BatchEntry(6, "C-2", "/evidence/c.raw", (), "full", -1),
        BatchEntry(7, "C-2", str(tmp_path.parent / "d.raw"), (), "standard", None),
    ]


def test_the_caller_gives_the_default_profile(tmp_path):
    manifest = write(tmp_path, "m.csv", "image,case\nx.raw,C\n")
    assert [e.profile for e in read_manifest(manifest, default_profile="triage")] == ["triage"]


def test_excel_byte_order_mark_and_capitalised_header(tmp_path):
    manifest = tmp_path / "excel.csv"
    manifest.write_bytes(b"\xef\xbb\xbfCase,Image,Expect\r\nC,x.raw,md5:" + MD5.encode() + b"\r\n")
    [entry] = read_manifest(manifest)
    assert (entry.line, entry.case, entry.expect) == (2, "C", (("md5", MD5),))


def test_a_quoted_cell_over_two_lines_keeps_later_line_numbers(tmp_path):
    manifest = write(tmp_path, "m.csv", 'case,image\nC,"odd\nname.raw"\nC,y.raw\n/bad,z.raw\n')
    with pytest.raises(BatchError, match=f"^{manifest}, line 5: case '/bad' contains '/'$"):
        read_manifest(manifest)
    write(tmp_path, "m.csv", 'case,image\nC,"odd\nname.raw"\nC,y.raw\n')
    assert [e.line for e in read_manifest(manifest)] == [2, 4]


def test_json_lines_by_extension_and_by_sniffing(tmp_path):
    lines = [
        {"case": "C-1", "image": "a.raw", "expect": [f"md5:{MD5}", f"sha512:{SHA512}"], "priority": 3},
        {"case": "C-1", "image": "b.raw", "expect": f"sha1:{SHA1}", "profile": None, "priority": None},
        {"case": "C-2", "image": "/e/c.raw", "profile": "full"},
    ]
    text = "# one object per line\n" + "\n".join(json.dumps(x) for x in lines) + "\n\n"
    want = [
        BatchEntry(2, "C-1", str(tmp_path / "a.raw"), (("md5", MD5), ("sha512", SHA512)), "standard", 3),
        BatchEntry(3, "C-1", str(tmp_path / "b.raw"), (("sha1", SHA1),), "standard", None),
        BatchEntry(4, "C-2", "/e/c.raw", (), "full", None),
    ]
    for name in ("m.jsonl", "m.json", "manifest", "m.list"):
        assert read_manifest(write(tmp_path, name, text)) == want


def test_csv_by_sniffing(tmp_path):
    manifest = write(tmp_path, "manifest", "case,image\nC,x.raw\n")
    assert read_manifest(manifest) == [BatchEntry(2, "C", str(tmp_path / "x.raw"), (), "standard", None)]


def test_a_profile_file_is_found_beside_the_manifest(tmp_path):
    write(tmp_path, "lab.toml", 'description = "lab"\ncarve = "unallocated"\n')
    manifest = write(tmp_path, "m.csv", "case,image,profile\nC,x.raw,./lab.toml\nC,y.raw,lab.toml\n")
    assert [e.profile for e in read_manifest(manifest)] == [str(tmp_path / "lab.toml")] * 2


def test_a_lab_profile_directory_is_used(tmp_path, monkeypatch):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    write(profiles, "quick.toml", 'description = "quick"\n')
    monkeypatch.setenv(PROFILES_ENV, str(profiles))
    manifest = write(tmp_path, "m.csv", "case,image,profile\nC,x.raw,quick\n")
    assert read_manifest(manifest, default_profile="quick")[0].profile == "quick"


def test_expect_args_are_what_submit_takes(tmp_path):
    manifest = write(tmp_path, "m.csv", f"case,image,expect\nC,x.raw,md5:{MD5};sha1:{SHA1}\n")
    assert read_manifest(manifest)[0].expect_args() == [f"md5:{MD5}", f"sha1:{SHA1}"]


def test_fifty_images_in_three_cases_make_a_handful_of_jobs(tmp_path):
    rows = ["case,image,profile,priority"]
    want: dict[tuple, list[str]] = {}
    for i in range(50):
        case = ("A", "B", "C")[i % 3]
        profile = "triage" if i in (7, 8, 9) else ""
        priority = "9" if i == 20 else ""
        rows.append(f"{case},img{i:02d}.raw,{profile},{priority}")
        key = (case, profile or "standard", int(priority) if priority else None)
        want.setdefault(key, []).append(str(tmp_path / f"img{i:02d}.raw"))
    jobs = group_jobs(read_manifest(write(tmp_path, "m.csv", "\n".join(rows) + "\n")))
    assert [(j.case, j.profile, j.priority) for j in jobs] == [
        ("A", "standard", None),
        ("B", "standard", None),
        ("C", "standard", None),
        ("B", "triage", None),
        ("C", "triage", None),
        ("A", "triage", None),
        ("C", "standard", 9),
    ]
    assert {(j.case, j.profile, j.priority): j.images for j in jobs} == want
    assert sum(len(j.entries) for j in jobs) == 50
    assert jobs[0].images[:3] == [str(tmp_path / f"img{i:02d}.raw") for i in (0, 3, 6)]
    assert [e.line for e in jobs[0].entries[:3]] == [2, 5, 8]


def test_group_keeps_each_image_s_expectations(tmp_path):
    manifest = write(tmp_path, "m.csv", f"case,image,expect\nC,x.raw,md5:{MD5}\nC,y.raw,\nC,z.raw,sha1:{SHA1}\n")
    [job] = group_jobs(read_manifest(manifest))
    assert isinstance(job, BatchJob)
    assert [e.expect for e in job.entries] == [(("md5", MD5),), (), (("sha1", SHA1),)]


def test_the_same_image_may_be_in_two_cases(tmp_path):
    manifest = write(tmp_path, "m.csv", "case,image\nA,x.raw\nB,x.raw\n")
    assert [e.case for e in read_manifest(manifest)] == ["A", "B"]


CSV_BAD = [
    ("image,expect\nx.raw,\n", 1, "missing column 'case'"),
    ("case\nC\n", 1, "missing column 'image'"),
    ("case,image,profle\nC,x.raw,full\n", 1, "unknown column 'profle'"),
    ("case,image,case\nC,x.raw,C\n", 1, "column 'case' named twice"),
    ("C-1,x.raw\n", 1, "unknown column 'c-1'"),
    ("case,image\n,x.raw\n", 2, "empty case"),
    ("case,image\nC,x.raw\n  ,y.raw\n", 3, "empty case"),
    ("case,image\nC/2026,x.raw\n", 2, "case 'C/2026' contains '/'"),
    ("case,image\nC,\n", 2, "empty image"),
    ("case,image\nC,x.raw,extra\n", 2, "3 cells, but the header names 2 columns"),
    (f"case,image,expect\nC,x.raw,{MD5}\n", 2, f"bad expect '{MD5}': write ALG:HEX"),
    ("case,image,expect\nC,x.raw,md5:\n", 2, "bad expect 'md5:'"),
    (f"case,image,expect\nC,x.raw,md5={MD5}\n", 2, "bad expect"),
    (f"case,image,expect\nC,x.raw,blake3:{SHA256}\n", 2, "unknown algorithm 'blake3' in expect"),
    (f"case,image,expect\nC,x.raw,sha256:{MD5}\n", 2, "32 hex digits, but a sha256 digest has 64"),
    (f"case,image,expect\nC,x.raw,md5:{MD5}0\n", 2, "33 hex digits, but a md5 digest has 32"),
    (f"case,image,expect\nC,x.raw,md5:{'g' * 32}\n", 2, "not hexadecimal"),
    (f"case,image,expect\nC,x.raw,md5:{MD5};md5:{'0' * 32}\n", 2, "two different md5 digests"),
    ("case,image,priority\nC,x.raw,high\n", 2, "priority must be an integer, got 'high'"),
    ("case,image,profile\nC,x.raw,quick\n", 2, "profile 'quick'"),
    ("case,image\nC,x.raw\nC,y.raw\nC,./x.raw\n", 4, "is already in case 'C' on line 2"),
    ("case,image\nC,sub/../x.raw\nC,x.raw\n", 3, "is already in case 'C' on line 2"),
    ('case,image\nC,"x.raw\n', 2, "not valid CSV: unexpected end of data"),
    ('case,image\nC,y.raw\nC,"x"1.raw\n', 3, "not valid CSV"),
]


@pytest.mark.parametrize(("text", "line", "problem"), CSV_BAD)
def test_a_bad_csv_line_names_manifest_line_and_problem(tmp_path, text, line, problem):
    manifest = write(tmp_path, "box.csv", text)
    with pytest.raises(BatchError) as err:
        read_manifest(manifest)
    msg = str(err.value)
    assert msg.startswith(f"{manifest}, line {line}: ") and problem in msg
    assert "\n" not in msg


def test_unknown_profile_lists_the_available(tmp_path):
    manifest = write(tmp_path, "m.csv", "case,image,profile\nC,x.raw,full\nC,y.raw,quick\n")
    with pytest.raises(BatchError) as err:
        read_manifest(manifest)
    msg = str(err.value)
    assert msg.startswith(f"{manifest}, line 3: profile 'quick': ") and "full, standard, triage" in msg


def test_a_bad_default_profile_says_it_is_the_default(tmp_path):
    manifest = write(tmp_path, "m.csv", "case,image,profile\nC,x.raw,full\nC,y.raw,\n")
    with pytest.raises(BatchError) as err:
        read_manifest(manifest, default_profile="quick")
    assert str(err.value).startswith(f"{manifest}, line 3 (no profile given: the default, 'quick'): profile 'quick'")


def test_a_malformed_profile_names_the_manifest_line_the_profile_file_and_the_key(tmp_path):
    profile = write(tmp_path, "lab.toml", 'description = "lab"\nyara_timeout = 0\n')
    manifest = write(tmp_path, "m.csv", "case,image,profile\nC,x.raw,standard\nC,y.raw,lab.toml\n")
    with pytest.raises(BatchError) as err:
        read_manifest(manifest)
    msg = str(err.value)
    assert msg.startswith(f"{manifest}, line 3: profile file {profile}: key 'yara_timeout': ")


JSON_BAD = [
    ('{"case": "C", "image": "x.raw"}\n{"case": "C"}\n', 2, "missing key 'image'"),
    ('{"image": "x.raw"}\n', 1, "missing key 'case'"),
    ('{"case": "C", "image": "x.raw", "sha256": "00"}\n', 1, "unknown key 'sha256'"),
    ('\n\n{"case": "C", "image": "x.raw",}\n', 3, "not valid JSON"),
    ('"C,x.raw"\n', 1, "expected a JSON object"),
    ('[{"case": "C", "image": "x.raw"}]\n', 1, "a JSON array; write one JSON object per line"),
    ('{"case": 7, "image": "x.raw"}\n', 1, "case must be a string, got int 7"),
    ('{"case": "C", "image": null}\n', 1, "image must be a string, got NoneType None"),
    ('{"case": "C", "image": "x.raw", "expect": {"md5": "00"}}\n', 1, "expect must be 'ALG:HEX;ALG:HEX'"),
    ('{"case": "C", "image": "x.raw", "expect": ["md5:00"]}\n', 1, "2 hex digits, but a md5 digest has 32"),
    ('{"case": "C", "image": "x.raw", "priority": "9x"}\n', 1, "priority must be an integer"),
    ('{"case": "C", "image": "x.raw", "priority": 1.5}\n', 1, "priority must be an integer"),
    ('{"case": "C", "image": "x.raw", "priority": true}\n', 1, "priority must be an integer"),
    ('{"case": "C", "image": "x.raw", "profile": 3}\n', 1, "profile must be a string"),
    ('{"case": "a/b", "image": "x.raw"}\n', 1, "case 'a/b' contains '/'"),
    ('{"case": "C", "image": "x.raw"}\n{"case": "C", "image": "x.raw"}\n', 2, "already in case 'C' on line 1"),
]


@pytest.mark.parametrize(("text", "line", "problem"), JSON_BAD)
def test_a_bad_json_line_names_manifest_line_and_problem(tmp_path, text, line, problem):
    manifest = write(tmp_path, "box.jsonl", text)
    with pytest.raises(BatchError) as err:
        read_manifest(manifest)
    msg = str(err.value)
    assert msg.startswith(f"{manifest}, line {line}: ") and problem in msg


def test_json_priority_given_as_text_is_read(tmp_path):
    manifest = write(tmp_path, "m.jsonl", '{"case": "C", "image": "x.raw", "priority": "4"}\n')
    assert read_manifest(manifest)[0].priority == 4


@pytest.mark.parametrize(("name", "text"), [("m.csv", "# nothing yet\ncase,image\n\n"), ("m.jsonl", "\n"), ("m", "")])
def test_a_manifest_without_images_is_an_error(tmp_path, name, text):
    manifest = write(tmp_path, name, text)
    with pytest.raises(BatchError, match=f"^{manifest}: batch manifest lists no images$"):
        read_manifest(manifest)


def test_a_missing_manifest_is_named(tmp_path):
    with pytest.raises(BatchError, match=f"^{tmp_path / 'nope.csv'}: cannot read batch manifest: "):
        read_manifest(tmp_path / "nope.csv")


def test_a_binary_manifest_is_named(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(b"case,image\nC,\xff\xfe.raw\n")
    with pytest.raises(BatchError, match=f"^{manifest}: batch manifest is not UTF-8 text$"):
        read_manifest(manifest)


def test_images_are_not_opened(tmp_path):
    manifest = write(tmp_path, "m.csv", "case,image\nC,/no/such/disk.raw\n")
    assert read_manifest(manifest)[0].image == "/no/such/disk.raw"


def test_a_batch_error_is_a_value_error():
    assert issubclass(BatchError, ValueError)
