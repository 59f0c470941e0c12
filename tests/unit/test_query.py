"""The query parser and the SQL it yields, run by DuckDB over rows written here by hand: each
filter keeps exactly the rows the test planted for it."""

from __future__ import annotations

import hashlib
import random

import duckdb
import pyarrow as pa
import pytest

from cluster.digest_filter import DigestFilter
from cluster.query import QueryError, parse_query, parse_size, parse_time
from cluster.query_engine import order_by, where_clause
from workers.manifest import MANIFEST_SCHEMA


def row(name: str, **values):
    base = {f.name: None for f in MANIFEST_SCHEMA}
    content = name.encode()
    base.update(
        case="c1",
        job="j1",
        image_path="/evidence/disk.E01",
        image_index=0,
        image_sha256="a" * 64,
        offset=0,
        length=100,
        type="jpeg",
        md5=hashlib.md5(content).hexdigest(),
        sha1=hashlib.sha1(content).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
        step="scan_segment",
        path=f"/{name}",
    )
    base.update(values)
    return name, base


ROWS = dict(
    [
        row("plain"),
        row("other-case", case="c2"),
        row("other-job", job="j2"),
        row("pdf", type="pdf"),
        row("docx", type="zip", subtype="docx"),
        row("big", length=5 << 20),
        row("deleted", origin="deleted", path="/Users/bob/Pictures/a.jpg"),
        row("carved", origin="carved", status="truncated", path=None),
        row("good", known="good", known_sets=["nsrl"]),
        row("bad", known="bad", known_sets=["csam"]),
        row("yara", yara=["malware/default/Emotet", "office/default/Macro"]),
        row("old", mtime=946684800),  # 2000-01-01
        row("new", mtime=1704067200, crtime=946684800),  # 2024-01-01, created 2000
        row("image2", image_path="/evidence/phone.dd", image_sha256="b" * 64),
    ]
)


def matching(**params) -> set[str]:
    query = parse_query({k: v if isinstance(v, list) else [v] for k, v in params.items()})
    where, values = where_clause(query)
    table = pa.Table.from_pylist(list(ROWS.values()), schema=MANIFEST_SCHEMA)
    con = duckdb.connect()
    con.register("t", table)
    con.register(
        "yara",
        pa.table(
            {"job": ["j1"], "sha256": [ROWS["yara"]["sha256"]], "error": pa.nulls(1, pa.string()), "tags": [["banker"]]}
        ),
    )
    found = {r[0] for r in con.execute(f"SELECT sha256 FROM t WHERE {where}", values).fetchall()}
    return {name for name, r in ROWS.items() if r["sha256"] in found}


ALL_BUT_GOOD = set(ROWS) - {"good"}


def test_cases_scope_every_query_and_known_good_is_hidden_by_default():
    assert matching(all_cases="1") == ALL_BUT_GOOD
    assert matching(case="c2") == {"other-case"}
    assert matching(case="c1,c2") == ALL_BUT_GOOD
    assert matching(case="c1", job="j2") == {"other-job"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "pdf"}, {"pdf"}),
        ({"type": "docx"}, {"docx"}),
        ({"type": ["pdf", "zip"]}, {"pdf", "docx"}),
        ({"min_size": "1M"}, {"big"}),
        ({"max_size": "99"}, set()),
        ({"origin": "deleted"}, {"deleted"}),
        ({"status": "truncated"}, {"carved"}),
        ({"path": "/Users/*/Pictures/*.jpg"}, {"deleted"}),
        ({"yara_rule": "Emotet"}, {"yara"}),
        ({"yara_rule": "office/default/Macro"}, {"yara"}),
        ({"yara_rule": "Macr"}, set()),
        ({"yara_tag": "banker"}, {"yara"}),
        ({"known": "good"}, {"good"}),
        ({"known": "bad,good"}, {"bad", "good"}),
        ({"known": "unknown"}, set(ROWS) - {"good", "bad"}),
        ({"after": "2020-01-01"}, {"new"}),
        ({"before": "2001-01-01"}, {"old", "new"}),  # "new" was created in 2000
        ({"before": "2001-01-01", "time_field": "mtime"}, {"old"}),
        ({"image": "b" * 64}, {"image2"}),
        ({"image": "*/phone.dd"}, {"image2"}),
        ({"digest": hashlib.md5(b"pdf").hexdigest()}, {"pdf"}),
        ({"digest": hashlib.sha1(b"pdf").hexdigest().upper()}, {"pdf"}),
        ({"digest": hashlib.sha256(b"pdf").hexdigest()}, {"pdf"}),
    ],
)
def test_each_filter_keeps_exactly_its_rows(params, expected):
    assert matching(case=["c1", "c2"], **params) == expected


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"type": "jpeg"}, "no case given"),
        ({"case": "a/b"}, "case 'a/b'"),
        ({"case": "c", "colour": "red"}, "unknown filter 'colour'"),
        ({"case": "c", "digest": "12345"}, "digest '12345'"),
        ({"case": "c", "min_size": "ten"}, "min_size 'ten'"),
        ({"case": "c", "min_size": "2M", "max_size": "1M"}, "larger than max_size"),
        ({"case": "c", "after": "2024-13-01"}, "after '2024-13-01'"),
        ({"case": "c", "after": "2024", "before": "2023"}, "after must be earlier"),
        ({"case": "c", "origin": "lost"}, "origin 'lost'"),
        ({"case": "c", "status": "ok"}, "status 'ok'"),
        ({"case": "c", "time_field": "btime"}, "time_field 'btime'"),
        ({"case": "c", "sort": "colour"}, "sort 'colour'"),
        ({"case": "c", "limit": "ten"}, "limit 'ten'"),
        ({"case": "c", "limit": "100000"}, "limit 100000"),
        ({"case": "c", "offset": "-1"}, "offset -1"),
        ({"case": "c", "value": "x"}, "give the feature kind"),
        ({"case": "c", "limit": ["1", "2"]}, "limit given 2 times"),
    ],
)
def test_malformed_filters_are_named(params, message):
    with pytest.raises(QueryError, match=None) as err:
        parse_query({k: v if isinstance(v, list) else [v] for k, v in params.items()})
    assert message in str(err.value)


def test_sizes_and_times_parse_as_documented():
    assert parse_size("s", "512") == 512 and parse_size("s", "4K") == 4096 and parse_size("s", "2 MiB") == 2 << 20
    assert parse_time("t", "2024-01-01") == 1704067200
    assert parse_time("t", "2024-01-01T01:00:00+01:00") == 1704067200
    assert parse_time("t", "1704067200") == 1704067200


def test_the_order_ends_with_the_rows_place_so_pages_are_stable():
    query = parse_query({"case": ["c"], "sort": ["-length,path"]})
    assert order_by(query) == '"length" DESC NULLS LAST, "path" ASC NULLS LAST, __frag, __row'
    assert order_by(parse_query({"case": ["c"]})) == "__frag, __row"


def test_the_digest_filter_never_forgets_and_rarely_errs():
    rng = random.Random(9)
    added = [rng.randbytes(n).hex() for n in (16, 20, 32) for _ in range(3000)]
    f = DigestFilter.sized_for(len(added))
    f.add(added)
    restored = DigestFilter.from_bytes(f.to_bytes())
    assert restored.count == len(added) and all(restored.may_contain(d) for d in added)
    strangers = [rng.randbytes(32).hex() for _ in range(20000)]
    assert sum(restored.may_contain(d) for d in strangers) < 100  # 0.5 %; about 0.2 % expected


def test_a_damaged_digest_filter_is_refused_by_name():
    with pytest.raises(ValueError, match="c/j digest filter: not a Quarry digest filter"):
        DigestFilter.from_bytes(b"XXXX" + bytes(64), "c/j digest filter")
    with pytest.raises(ValueError, match="shorter than its header"):
        DigestFilter.from_bytes(b"QD", "c/j digest filter")
