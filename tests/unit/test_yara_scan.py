"""YARA scanning without servers: externals, the owned-range rule for raw windows, timeouts
recorded as errors, spooling large content to disk, and compile errors with file and line.

Rules are compiled by the real yara-python; expected offsets are where the tests planted
the bytes, never what the code under test computed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yara

from cluster.rules import RuleSetError, compile_files, rule_files
from workers.yara_scan import (
    EXTERNAL_DEFAULTS,
    MAX_STRINGS,
    ContentSpool,
    LoadedRuleSet,
    externals,
    labels,
    owned_strings,
    scan_one,
    yara_part_key,
)

PLANT = b"QUARRY-PLANT-5c1e"
RULES = """
rule Plant : marker test {
    meta:
        author = "quarry tests"
        severity = 3
        sure = true
    strings:
        $p = "QUARRY-PLANT-5c1e"
    condition:
        $p
}
rule Named {
    condition:
        filename == "payload.evil" and extension == ".evil" and filepath contains "/secret/"
}
rule Slow {
    condition:
        filename == "slow.bin" and
        for any i in (0..filesize - 1) : ( for any j in (0..filesize - 1) : ( uint8(i) + uint8(j) == 1000 ) )
}
"""


@pytest.fixture(scope="module")
def rules() -> LoadedRuleSet:
    compiled = yara.compile(sources={"main": RULES}, externals=EXTERNAL_DEFAULTS)
    return LoadedRuleSet("plants", "1", compiled, "compiled")


def planted(size: int, offsets: list[int]) -> bytearray:
    data = bytearray(size)
    for at in offsets:
        data[at : at + len(PLANT)] = PLANT
    return data


def test_externals_follow_the_path():
    assert externals("/secret/Payload.EVIL") == {
        "filename": "Payload.EVIL",
        "filepath": "/secret/Payload.EVIL",
        "extension": ".evil",
        "filetype": "",
    }
    assert externals(filetype="JPEG") == {"filename": "", "filepath": "", "extension": "", "filetype": "JPEG"}
    assert externals("/no_extension")["extension"] == ""
    assert set(EXTERNAL_DEFAULTS.values()) == {""}


def test_owned_strings_keep_what_starts_in_the_owned_range():
    instances = [("$b", 30, 4), ("$a", 10, 5), ("$a", 0, 5), ("$a", 40, 5)]
    strings, total = owned_strings(instances, shift=1000, owned=(1010, 1040))
    assert total == 2
    assert strings == [
        {"identifier": "$a", "offset": 1010, "length": 5},
        {"identifier": "$b", "offset": 1030, "length": 4},
    ]
    strings, total = owned_strings(instances)
    assert total == 4 and [s["offset"] for s in strings] == [0, 10, 30, 40]


def test_owned_strings_keep_at_most_max_strings_and_count_all():
    instances = [("$a", i, 1) for i in range(MAX_STRINGS + 5)]
    strings, total = owned_strings(instances)
    assert total == MAX_STRINGS + 5 and len(strings) == MAX_STRINGS


def test_a_file_match_has_rule_namespace_tags_meta_and_relative_offsets(rules):
    data = planted(4096, [100, 2000])
    rows = scan_one(rules, memoryview(data), externals(), timeout=5)
    assert len(rows) == 1
    row = rows[0]
    assert (row["rule_set"], row["rule_set_version"], row["namespace"], row["rule"]) == ("plants", "1", "main", "Plant")
    assert row["tags"] == ["marker", "test"]
    assert json.loads(row["meta"]) == {"author": "quarry tests", "severity": 3, "sure": True}
    assert row["strings"] == [
        {"identifier": "$p", "offset": 100, "length": len(PLANT)},
        {"identifier": "$p", "offset": 2000, "length": len(PLANT)},
    ]
    assert row["strings_total"] == 2 and "offset" not in row
    assert labels(rows) == ["plants/main/Plant"]


def test_externals_reach_the_rules(rules):
    data = b"nothing planted"
    assert labels(scan_one(rules, data, externals("/secret/payload.evil"), timeout=5)) == ["plants/main/Named"]
    assert labels(scan_one(rules, data, externals("/public/payload.evil"), timeout=5)) is None


def test_overlapping_windows_report_each_planted_instance_once(rules):
    """Segments of 1000 bytes reading 100 more, with a look-back lead of 50 bytes, as the
    carving step reads them; plants straddling and touching every boundary."""
    size, segment, overlap, lead = 4000, 1000, 100, 50
    offsets = [5, 983, 1000, 1040, 1995, 2060, 2999, 3500, 4000 - len(PLANT)]  # 983: ends at the boundary
    image = planted(size, offsets)
    found = []
    for start in range(0, size, segment):
        back = min(lead, start)
        window = memoryview(image)[start - back : start + segment + overlap]
        for row in scan_one(rules, window, externals(), 5, shift=start - back, owned=(start, start + segment)):
            assert row["offset"] == row["strings"][0]["offset"]
            found += [s["offset"] for s in row["strings"]]
    assert found == offsets


def test_a_raw_match_outside_the_owned_range_is_not_reported(rules):
    window = planted(600, [550])
    assert scan_one(rules, window, externals(), 5, shift=10_000, owned=(10_000, 10_500)) == []


def test_a_timeout_is_an_error_row_and_other_files_go_on(rules):
    rows = scan_one(rules, bytes(64 << 10), externals("/slow.bin"), timeout=1)
    assert rows == [{"rule_set": "plants", "rule_set_version": "1", "error": "timed out after 1 s"}]
    assert labels(rows) is None
    assert labels(scan_one(rules, planted(64 << 10, [7]), externals("/fast.bin"), timeout=1)) == ["plants/main/Plant"]


@pytest.mark.parametrize("limit", [1 << 20, 1000])
def test_spooled_content_scans_the_same_in_memory_or_on_disk(rules, limit):
    data = planted(300_000, [0, 123_457, 299_000])
    chunks = [bytes(data[i : i + 4096]) for i in range(0, len(data), 4096)]
    with ContentSpool(limit) as spool:
        assert b"".join(spool.tee(chunks)) == data
        target = spool.target()
        assert isinstance(target, Path) == (limit < len(data))
        rows = scan_one(rules, target, externals(), timeout=5)
    assert [s["offset"] for s in rows[0]["strings"]] == [0, 123_457, 299_000]


def test_yara_part_key_sits_beside_the_part():
    assert yara_part_key("c/j/parts/img0000-seg0000001.parquet") == "c/j/parts/img0000-seg0000001-yara.parquet"


def test_a_folder_is_one_namespace_per_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yar").write_text("rule A { condition: true }\n")
    (tmp_path / "sub" / "b.YARA").write_text("rule A { condition: false }\n")  # same name, other namespace
    (tmp_path / "notes.txt").write_text("not a rule")
    files = rule_files(tmp_path)
    assert list(files) == ["a.yar", "sub/b.YARA"]
    compiled = compile_files(files, tmp_path)
    assert sorted(r.identifier for r in compiled) == ["A", "A"]
    assert [(m.namespace, m.rule) for m in compiled.match(data=b"x")] == [("a.yar", "A")]


def test_a_syntax_error_names_its_file_and_line(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "good.yar").write_text("rule Good { condition: true }\n")
    bad = tmp_path / "sub" / "bad.yara"
    bad.write_text('rule Bad {\n  strings:\n    $a = "x"\n  condition:\n    $a and\n}\n')
    with pytest.raises(RuleSetError) as err:
        compile_files(rule_files(tmp_path), tmp_path)
    assert (err.value.path, err.value.line) == (str(bad), 6)
    assert str(err.value) == f"{bad}:6: syntax error, unexpected '}}'"


def test_an_unknown_external_and_an_include_are_refused(tmp_path):
    unknown = tmp_path / "unknown.yar"
    unknown.write_text('rule U {\n  condition: owner == "root"\n}\n')
    with pytest.raises(RuleSetError) as err:
        compile_files(rule_files(unknown), unknown)
    assert err.value.line == 2 and 'undefined identifier "owner"' in err.value.problem
    include = tmp_path / "include.yar"
    include.write_text('include "unknown.yar"\nrule I { condition: true }\n')
    with pytest.raises(RuleSetError) as err:
        compile_files(rule_files(include), include)
    assert err.value.line == 1 and "includes are disabled" in err.value.problem


def test_paths_without_rules_are_refused(tmp_path):
    with pytest.raises(RuleSetError, match="no .yar or .yara files"):
        rule_files(tmp_path)
    other = tmp_path / "rules.txt"
    other.write_text("rule A { condition: true }")
    with pytest.raises(RuleSetError, match="not a .yar or .yara file"):
        rule_files(other)
    with pytest.raises(RuleSetError, match="no such file or folder"):
        rule_files(tmp_path / "missing")
