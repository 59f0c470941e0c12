"""`quarry forge --profile features`: the features image and its key, checked against the bytes
on disk (each value where the key says, in its encoding), the decoys (each invalid), the forge's
determinism and memory, and the reference scanner, which must find exactly the key."""

from __future__ import annotations

import hashlib
import json
import random
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from bench.feature_reference import escape, scan_image, scan_text
from bench.features import read_features, score
from cluster.cli import main
from cluster.forge import feature_values as fv
from cluster.forge.features import SENTENCE_POOL, forge_features, sentence_pool

SIZE = 2 << 20


@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("features") / "features.img"
    key = forge_features(path, SIZE, seed=5)
    assert json.loads(Path(f"{path}.key.json").read_text()) == key
    return path, key


def raw_text(data: bytes, entry: dict) -> str:
    """The characters the key entry covers, decoded in its encoding."""
    raw = data[entry["offset"] : entry["offset"] + entry["length"]]
    return raw.decode("utf-16-le" if entry["encoding"] == "utf16le" else "ascii")


def test_the_image_is_as_the_key_says(forged):
    path, key = forged
    data = path.read_bytes()
    assert len(data) == key["size"] == SIZE
    assert hashlib.sha256(data).hexdigest() == key["sha256"]
    assert key["profile"] == "features" and sum(key["layout"].values()) == SIZE


def test_every_expected_hit_is_at_its_offset(forged):
    path, key = forged
    data = path.read_bytes()
    for item in key["items"]:
        assert item["length"] % (2 if item["encoding"] == "utf16le" else 1) == 0
        text = raw_text(data, item)
        assert fv.is_valid(item["kind"], text), item
        assert fv.normalise(item["kind"], text) == item["value"], item


def test_every_decoy_is_at_its_offset_and_invalid(forged):
    path, key = forged
    data = path.read_bytes()
    for decoy in key["decoys"]:
        text = raw_text(data, decoy)
        assert text == decoy["value"], decoy
        assert not fv.is_valid(decoy["kind"], text), decoy


def test_every_kind_in_both_encodings_and_every_decoy(forged):
    _, key = forged
    planted = Counter((i["kind"], i["encoding"]) for i in key["items"])
    for kind in fv.KINDS:
        assert planted[(kind, "ascii")] and planted[(kind, "utf16le")], kind
    seen = {(d["kind"], d["why"]) for d in key["decoys"] if d["encoding"] == "ascii"}
    assert seen == {(kind, name) for kind, names in fv.DECOYS.items() for name in names}
    assert {d["kind"] for d in key["decoys"] if d["encoding"] == "utf16le"} == set(fv.PLANTED_KINDS)
    assert sum(c["ascii"] + c["utf16le"] for c in key["counts"].values()) == len(key["items"])


def test_domains_of_emails_and_urls_are_in_the_key(forged):
    path, key = forged
    data = path.read_bytes()
    by_offset = {(i["kind"], i["offset"]): i for i in key["items"]}
    width = {"ascii": 1, "utf16le": 2}
    for item in key["items"]:
        if item["kind"] == "email":
            at = item["offset"] + (item["value"].index("@") + 1) * width[item["encoding"]]
            assert by_offset[("domain", at)]["value"] == item["value"].split("@")[1].lower()
        if item["kind"] == "url":
            host_at, host = fv.url_host(item["value"])
            domain = by_offset[("domain", item["offset"] + host_at * width[item["encoding"]])]
            assert domain["value"] == host.lower() == raw_text(data, domain).lower()


def test_utf16_text_sits_at_even_and_odd_offsets(forged):
    _, key = forged
    parities = {i["offset"] % 2 for i in key["items"] if i["encoding"] == "utf16le"}
    assert parities == {0, 1}


def test_the_reference_scanner_finds_exactly_the_key(forged, tmp_path):
    path, key = forged
    counts = scan_image(path, tmp_path / "ref", chunk=256 << 10)  # many windows: hits across their edges
    found, notes = read_features(tmp_path / "ref")
    assert not notes
    per_kind = score(key, found)
    for kind, s in per_kind.items():
        assert (s["precision_pct"], s["recall_pct"], s["decoys_reported"]) == (100.0, 100.0, 0), (kind, s)
    assert sum(counts.values()) == len(key["items"])


def test_feature_files_escape_values_and_context(tmp_path):
    image = tmp_path / "tiny.img"
    block = "x -----BEGIN EC PRIVATE KEY-----\nAAAA\\\n-----END EC PRIVATE KEY----- and alice@example.org\n"
    image.write_bytes(b"\x00" * 100 + block.encode() + b"\x00" * 100)
    scan_image(image, tmp_path / "out")
    text = (tmp_path / "out" / "ssh_private_key.txt").read_text()
    lines = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    assert len(lines) == 1
    offset, value, context = lines[0]
    assert offset == "102" and "\t" not in value and "\n" not in value
    assert value == escape(block[2 : block.index(" and")].encode())
    assert context.startswith("\\x00" * 14 + "x ")
    found, _ = read_features(tmp_path / "out")
    assert found["ssh_private_key"][0][1] == block[2 : block.index(" and")]
    assert found["email"] == [(100 + block.index("alice"), "alice@example.org")]


def test_the_forge_is_deterministic(tmp_path):
    a = forge_features(tmp_path / "a.img", 1 << 20, seed=9)
    b = forge_features(tmp_path / "b.img", 1 << 20, seed=9)
    c = forge_features(tmp_path / "c.img", 1 << 20, seed=10)
    assert a["sha256"] == b["sha256"] and a["items"] == b["items"] and a["decoys"] == b["decoys"]
    assert (tmp_path / "a.img").read_bytes() == (tmp_path / "b.img").read_bytes()
    assert c["sha256"] != a["sha256"]


def test_the_forge_writes_in_bounded_memory(tmp_path):
    # The image is written block by block: memory follows the key (a few hundred entries
    # per MiB), never the image.
    tracemalloc.start()
    try:
        key = forge_features(tmp_path / "big.img", 8 << 20, seed=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak
    assert len(key["items"]) > 300


def test_filler_sentences_form_no_value():
    pool = sentence_pool(random.Random(1))
    assert len(pool) == SENTENCE_POOL
    text = " ".join(pool)
    assert not any(c in text for c in '@+#<>[]"') and "::" not in text and "0x" not in text
    assert scan_text(text) == []


def test_small_images_are_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 1 MiB"):
        forge_features(tmp_path / "x.img", 1000)


def test_quarry_forge_profile_features(tmp_path, capsys):
    out = tmp_path / "f.img"
    assert main(["forge", str(out), "--size", "1MiB", "--seed", "4", "--profile", "features"]) == 0
    printed = capsys.readouterr().out
    key = json.loads(Path(f"{out}.key.json").read_text())
    assert key["profile"] == "features" and out.stat().st_size == 1 << 20
    assert f"{len(key['items'])} planted items" in printed and "decoys:" in printed


def test_scoring_counts_decoys_wrong_values_and_repeats():
    key = {
        "items": [
            {"kind": "ccn", "offset": 100, "length": 19, "value": "4111111111111111", "encoding": "ascii"},
            {"kind": "ccn", "offset": 900, "length": 32, "value": "5555555555554444", "encoding": "utf16le"},
            {"kind": "ipv6", "offset": 300, "length": 6, "value": "fe80::", "encoding": "utf16le"},
        ],
        "decoys": [{"kind": "ccn", "offset": 500, "length": 20, "value": "4" * 20, "encoding": "ascii", "why": "x"}],
    }
    found = {
        "ccn": [(100, "4111111111111111"), (100, "4111111111111111"), (505, "4444444444444448"), (900, "5555")],
        "ipv6": [(300, "fe80::")],
    }
    s = score(key, found)
    assert (s["ccn"]["planted"], s["ccn"]["found"], s["ccn"]["true"]) == (2, 4, 1)
    assert s["ccn"]["precision_pct"] == 25.0 and s["ccn"]["recall_pct"] == 50.0
    assert s["ccn"]["recall_ascii"] == [1, 1] and s["ccn"]["recall_utf16le"] == [0, 1]
    assert s["ccn"]["decoys_reported"] == 1 and s["ccn"]["wrong_value"] == 1
    assert s["ipv6"]["recall_pct"] == 100.0 and s["email"]["precision_pct"] is None
