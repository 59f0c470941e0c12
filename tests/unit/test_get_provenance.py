"""`quarry get`'s pieces that need no server: digest parsing, the destination rules, a job's
times, and how a fragmented or nested carve and a filesystem file are described. The rows
are written by hand here, as a manifest would hold them."""

from __future__ import annotations

import pytest

from cluster.commands.get import describe_job, describe_place, destination, utc
from cluster.provenance import ImageProvenance, JobProvenance, job_times, parse_sha256

SHA = "ab" * 32


def test_a_digest_is_taken_in_either_case_and_blanks_are_ignored():
    assert parse_sha256(" " + SHA.upper() + "\n") == SHA


@pytest.mark.parametrize("text", ["", "ab", SHA + "a", "zz" * 32, "ab" * 31 + "a "])
def test_a_malformed_digest_names_itself(text):
    with pytest.raises(ValueError, match=r"^sha256 .*: expected 64 hexadecimal digits"):
        parse_sha256(text)


def test_the_destination(tmp_path):
    assert destination(str(tmp_path), SHA, False) == tmp_path / SHA  # a directory: DIR/SHA256
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(ValueError, match="already exists"):
        destination(str(tmp_path / "f"), SHA, False)
    assert destination(str(tmp_path / "f"), SHA, True) == tmp_path / "f"
    with pytest.raises(ValueError, match="does not exist"):
        destination(str(tmp_path / "nowhere" / "f"), SHA, False)
    (tmp_path / "link").symlink_to(tmp_path / "dangling")
    with pytest.raises(ValueError, match="already exists"):
        destination(str(tmp_path / "link"), SHA, False)


def test_the_start_is_the_finish_less_the_duration():
    record = {"state": "done", "updated": "2026-01-02T03:04:05Z"}
    assert job_times(record, 65.4) == ("2026-01-02T03:04:05Z", "2026-01-02T03:03:00Z")
    assert job_times({**record, "started": "S", "finished": "F"}, 1.0) == ("F", "S")
    assert job_times({"state": "running", "updated": "2026-01-02T03:04:05Z"}, None) == (None, None)


def job() -> JobProvenance:
    j = JobProvenance(
        job="J1",
        case="C",
        state="done",
        hash_sets={"nsrl": "2024.1"},
        rule_sets={"lab": "7"},
        images=[
            ImageProvenance(0, "/ev/other.E01", "ewf", 10, {"sha256": "0" * 64}, {"result": "absent", "checks": []}),
            ImageProvenance(
                1,
                "/ev/disk.E01",
                "ewf",
                1 << 30,
                {"md5": "1" * 32, "sha256": "2" * 64},
                {
                    "result": "match",
                    "checks": [{"algorithm": "md5", "value": "1" * 32, "source": "ewf", "result": "match"}],
                },
            ),
        ],
    )
    return j


def carved(**fields) -> dict:
    row = {
        "case": "C",
        "job": "J1",
        "image_path": "/ev/disk.E01",
        "image_index": 1,
        "image_sha256": "2" * 64,
        "offset": 4096,
        "length": 3000,
        "type": "jpeg",
        "subtype": None,
        "status": "complete",
        "confidence": 90,
        "missing": None,
        "parent_offset": None,
        "parent_sha256": None,
        "runs": None,
        "sha256": SHA,
        "step": "scan_segment",
        "step_version": "4+core0.1.0",
        "known_sets": ["nsrl"],
        "known": "good",
        "yara": ["lab/main.yar/jpeg_exif"],
        "origin": "carved",
        "path": None,
    }
    return {**row, **fields}


def test_a_fragmented_nested_carve_gives_its_runs_and_its_parent():
    j = job()
    row = carved(runs=[[4096, 2048], [10240, 952]], parent_offset=0, parent_sha256="f" * 64)
    j.saw(row)
    text = "\n".join(describe_place(1, row, j))
    assert "[1] case C  job J1" in text and "image 1 /ev/disk.E01" in text and "sha256 " + "2" * 64 in text
    assert "byte runs (offset+length): 4096+2048, 10240+952  (3000 bytes, fragmented)" in text
    assert "inside the carve at offset 0 (sha256 " + "f" * 64 + ")" in text
    assert "found by scan_segment 4 (core 0.1.0)" in text
    assert "known-good: nsrl 2024.1" in text and "yara: lab/main.yar/jpeg_exif (7)" in text


def test_a_contiguous_carve_gives_its_offset_and_length():
    row = carved(status="truncated", missing=500)
    text = "\n".join(describe_place(2, row, job()))
    assert "carved jpeg truncated, confidence 90" in text
    assert "offset 4096, 3000 bytes (image bytes 4096..7095)" in text and "500 bytes missing" in text


def test_a_filesystem_file_gives_its_path_inode_and_times():
    row = carved(
        offset=None,
        type="file",
        status="complete",
        confidence=None,
        origin="deleted",
        fs_offset=1048576,
        path="/Users/x/a.jpg",
        inode=77,
        mtime=0,
        atime=None,
        ctime=253402300800 * 1000,  # past year 9999: evidence can say anything
        crtime=1700000000,
        step="scan_files",
        step_version="2+core0.1.0",
        known=None,
        known_sets=[],
        yara=None,
    )
    text = "\n".join(describe_place(3, row, job()))
    assert "file /Users/x/a.jpg  inode 77  deleted  3000 bytes complete" in text
    assert "in the filesystem at image offset 1048576\n" in text
    assert "mtime 1970-01-01T00:00:00Z  ctime 253402300800000 (not a date)  crtime 2023-11-14T22:13:20Z" in text
    assert "known-" not in text and "yara" not in text


def test_a_job_lists_only_the_images_holding_the_content():
    j = job()
    j.saw(carved())
    j.saw(carved(step="scan_files", step_version="2+core0.1.0"))
    text = "\n".join(describe_job(j))
    assert "/ev/disk.E01" in text and "/ev/other.E01" not in text
    assert "intake verification: match: md5 match (ewf)" in text
    assert "steps: scan_files 2, scan_segment 4; core 0.1.0" in text
    assert "hash sets: nsrl 2024.1" in text and "rule sets: lab 7" in text
    assert [i["index"] for i in j.as_dict()["images"]] == [1] and j.places == 2


def test_times_outside_the_calendar_are_shown_as_numbers():
    assert utc(None) is None
    assert utc(-1) == "1969-12-31T23:59:59Z"
    assert utc(1 << 62).endswith("(not a date)")
