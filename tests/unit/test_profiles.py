"""Processing profiles: the shipped files give the plans the issue states (checked by hashing a
file with each and comparing with hashlib and the blake3 package), and every malformed profile
is an error naming its file, its key and the problem."""

import hashlib
import random
from pathlib import Path

import blake3
import pytest

from cluster import api
from cluster.commands import submit
from cluster.profiles import (
    CARVE_SCOPES,
    PROFILES_ENV,
    SHIPPED_DIR,
    Profile,
    ProfileError,
    list_profiles,
    load_profile,
)
from workers.hashing import HashPlan, hash_stream
from workers.images import open_image
from workers.steps import JobContext

MiB = 1 << 20


@pytest.fixture(autouse=True)
def shipped_profiles(monkeypatch):
    """Tests see the shipped directory unless they set their own."""
    monkeypatch.delenv(PROFILES_ENV, raising=False)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_shipped_profiles_are_listed():
    assert list_profiles() == ["full", "standard", "triage"]
    assert SHIPPED_DIR.name == "profiles" and SHIPPED_DIR.parent.name == "deploy"


def test_triage_is_a_fast_look():
    p = load_profile("triage")
    assert p.hash_plan() == HashPlan(("md5", "sha256"), 0, ())
    assert (p.carve, p.yara_raw, p.priority, p.task_timeout) == ("unallocated", False, 10, 1800)
    assert p.name == "triage" and p.description


def test_full_is_everything():
    p = load_profile("full")
    assert p.hash_plan() == HashPlan(("md5", "sha1", "sha256", "sha512"), 1 << 20, ("sha256", "blake3"))
    assert (p.carve, p.yara_raw, p.priority, p.task_timeout) == ("all", True, 0, 1800)
    assert p.description


def test_standard_is_what_quarry_submit_does_unasked():
    """`quarry submit --case c image` takes the standard profile, and the standard profile
    is the job defaults (HashPlan's and JobContext's own)."""
    import argparse

    parser = argparse.ArgumentParser()
    submit.register(parser.add_subparsers())
    args = parser.parse_args(["submit", "--case", "c", "image.raw"])
    assert args.profile == "standard"
    options = submit.job_options(load_profile(args.profile), args)
    assert options["plan"] == HashPlan() == HashPlan(("md5", "sha1", "sha256"), 1 << 20, ("blake3",))
    assert (options["carve"], options["yara_raw"], options["yara_timeout"]) == ("all", False, JobContext.yara_timeout)
    assert (options["priority"], options["task_timeout"], options["profile"]) == (0, 1800, "standard")


def test_what_the_command_line_gives_takes_the_profiles_place():
    import argparse

    parser = argparse.ArgumentParser()
    submit.register(parser.add_subparsers())
    args = parser.parse_args(["submit", "--case", "c", "--priority", "3", "--window", "0", "--carve", "all", "i.raw"])
    options = submit.job_options(load_profile("triage"), args)
    assert options["plan"] == HashPlan(("md5", "sha256"), 0, ())
    assert (options["carve"], options["priority"], options["profile"]) == ("all", 3, "triage")


def test_carve_scopes_are_the_api_s():
    assert api.CARVE_SCOPES is CARVE_SCOPES


@pytest.mark.parametrize("name", ["triage", "standard", "full"])
def test_each_shipped_plan_hashes_a_file_as_the_reference_does(tmp_path, name):
    data = random.Random(9).randbytes(3 * MiB + 5)
    path = tmp_path / "image.raw"
    path.write_bytes(data)
    plan = load_profile(name).hash_plan()

    class Rows:
        def __init__(self) -> None:
            self.rows: list[dict] = []

        def write_table(self, table) -> None:
            self.rows += table.to_pylist()

    sink = Rows()
    with open_image(path) as img:
        digests, written = hash_stream(img, plan, sink)
    wanted = {"triage": ["md5", "sha256"], "standard": ["md5", "sha1", "sha256"]}.get(
        name, ["md5", "sha1", "sha256", "sha512"]
    )
    assert digests == {a: hashlib.new(a, data).hexdigest() for a in wanted}
    if name == "triage":
        assert written == 0 and sink.rows == []
        return
    pieces = [data[i : i + MiB] for i in range(0, len(data), MiB)]
    assert written == len(pieces) == 4
    assert [r["length"] for r in sink.rows] == [MiB, MiB, MiB, 5]
    assert [r["blake3"] for r in sink.rows] == [blake3.blake3(p).hexdigest() for p in pieces]
    if name == "full":
        assert [r["sha256"] for r in sink.rows] == [hashlib.sha256(p).hexdigest() for p in pieces]


def test_a_lab_directory_replaces_the_shipped_one(tmp_path, monkeypatch):
    write(tmp_path, "quick.toml", 'description = "ours"\ndigests = ["SHA-256"]\nwindow = "64KiB"\npriority = -5\n')
    write(tmp_path, "notes.txt", "not a profile")
    monkeypatch.setenv(PROFILES_ENV, str(tmp_path))
    assert list_profiles() == ["quick"]
    p = load_profile("quick")
    assert p == Profile(
        name="quick",
        description="ours",
        digests=("sha256",),
        window=64 * 1024,
        window_digests=("blake3",),
        carve="all",
        yara_raw=False,
        yara_timeout=10,
        priority=-5,
        task_timeout=1800,
    )
    with pytest.raises(ProfileError) as err:
        load_profile("triage")
    assert str(tmp_path / "triage.toml") in str(err.value) and "available profiles" in str(err.value)
    assert "quick" in str(err.value)


def test_a_profile_file_is_loaded_by_path(tmp_path):
    path = write(tmp_path, "case-42.toml", 'description = "for case 42"\ncarve = "unallocated"\nwindow = 8192\n')
    for given in (path, str(path)):
        p = load_profile(given)
        assert (p.name, p.carve, p.window, p.window_digests) == ("case-42", "unallocated", 8192, ("blake3",))


def test_as_dict_is_plain_json_values():
    d = load_profile("full").as_dict()
    assert d["digests"] == ["md5", "sha1", "sha256", "sha512"] and d["window_digests"] == ["sha256", "blake3"]
    assert d["name"] == "full" and d["yara_raw"] is True


def test_missing_profile_names_the_file_and_lists_the_available():
    with pytest.raises(ProfileError) as err:
        load_profile("quick")
    msg = str(err.value)
    assert str(SHIPPED_DIR / "quick.toml") in msg
    assert "full, standard, triage" in msg


def test_missing_profile_file_lists_the_available(tmp_path):
    with pytest.raises(ProfileError) as err:
        load_profile(str(tmp_path / "nope.toml"))
    assert str(tmp_path / "nope.toml") in str(err.value) and "full, standard, triage" in str(err.value)


def test_an_empty_profile_directory_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv(PROFILES_ENV, str(tmp_path / "absent"))
    assert list_profiles() == []
    with pytest.raises(ProfileError, match=f"no profiles in {tmp_path / 'absent'} \\(set by {PROFILES_ENV}\\)"):
        load_profile("standard")


def test_a_bare_name_cannot_climb_out_of_the_directory():
    with pytest.raises(ProfileError, match="profile name '..'"):
        load_profile("..")


BAD = [
    ('description = "x"\nthreads = 4\n', "threads", "unknown key"),
    ('digests = ["md5"]\n', "description", "missing"),
    ("description = 3\n", "description", "expected a string, got int 3"),
    ('description = "x"\ndigests = "md5"\n', "digests", "expected a list of digest names"),
    ('description = "x"\ndigests = ["md5", "sha3"]\n', "digests", "unknown digest 'sha3'"),
    ('description = "x"\ndigests = []\n', "digests", "empty"),
    ('description = "x"\nwindow_digests = ["whirlpool"]\n', "window_digests", "unknown digest 'whirlpool'"),
    ('description = "x"\nwindow = "big"\n', "window", "bad size 'big'"),
    ('description = "x"\nwindow = "1TiB"\n', "window", "bad size '1TiB'"),
    ('description = "x"\nwindow = 1.5\n', "window", "expected a size"),
    ('description = "x"\nwindow = true\n', "window", "expected a size"),
    ('description = "x"\nwindow = 100\n', "window", "at least 4096"),
    ('description = "x"\nwindow = -4096\n', "window", "at least 4096"),
    ('description = "x"\nwindow = 0\nwindow_digests = ["blake3"]\n', "window_digests", "window is 0"),
    ('description = "x"\nwindow_digests = []\n', "window_digests", "empty for windows of 1048576 bytes"),
    ('description = "x"\ncarve = "free"\n', "carve", "'free': use one of all, unallocated"),
    ('description = "x"\ncarve = 1\n', "carve", "expected a string"),
    ('description = "x"\nyara_raw = "yes"\n', "yara_raw", "expected true or false, got str 'yes'"),
    ('description = "x"\nyara_timeout = 0\n', "yara_timeout", "0 seconds: give at least 1"),
    ('description = "x"\nyara_timeout = "10"\n', "yara_timeout", "expected an integer, got str '10'"),
    ('description = "x"\ntask_timeout = -1\n', "task_timeout", "-1 seconds: give at least 1"),
    ('description = "x"\ntask_timeout = true\n', "task_timeout", "expected an integer, got bool True"),
    ('description = "x"\npriority = 1.0\n', "priority", "expected an integer, got float 1.0"),
    ('description = "x"\n[hashing]\nwindow = 0\n', "hashing", "unknown key"),
]


@pytest.mark.parametrize(("text", "key", "problem"), BAD)
def test_a_bad_profile_names_file_key_and_problem(tmp_path, monkeypatch, text, key, problem):
    path = write(tmp_path, "lab.toml", text)
    monkeypatch.setenv(PROFILES_ENV, str(tmp_path))
    with pytest.raises(ProfileError) as err:
        load_profile("lab")
    msg = str(err.value)
    assert msg.startswith(f"profile file {path}: ")
    assert repr(key) in msg and problem in msg
    assert "\n" not in msg


def test_not_toml_names_the_file_and_the_place(tmp_path):
    path = write(tmp_path, "broken.toml", 'description = "x"\ncarve = \n')
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert str(err.value).startswith(f"profile file {path}: not valid TOML: ") and "line 2" in str(err.value)


def test_not_text_names_the_file(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b'description = "\xff\xfe"\n')
    with pytest.raises(ProfileError, match="not UTF-8 text"):
        load_profile(path)


def test_a_profile_error_is_a_value_error():
    assert issubclass(ProfileError, ValueError)
