"""`quarry forge --profile carving`: the carving corpus and its answer key, checked against
the bytes on disk with hashlib and the standard library's own parsers."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import sqlite3
import struct
import wave
import zipfile
import zlib
from pathlib import Path

import pytest

from cluster.cli import main
from cluster.forge import forge_image
from cluster.forge.corpus import FRAGMENT_KINDS, KIND_WEIGHTS, LEFT_OUT, file_makers, forge_corpus
from cluster.forge.fragments import CLUSTER, read_runs
from cluster.forge.samples import published_samples

SIZE = 24 << 20


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("corpus") / "corpus.img"
    key = forge_corpus(path, SIZE, seed=11, testdata=testdata)
    assert json.loads(Path(f"{path}.key.json").read_text()) == key
    return path, key


def planted(data: bytes, item: dict) -> bytes:
    if item["status"] == "fragmented":
        return read_runs(io.BytesIO(data), item["runs"])
    return data[item["offset"] : item["offset"] + item["length"]]


def test_every_item_is_where_the_key_says(corpus):
    path, key = corpus
    data = path.read_bytes()
    assert len(data) == key["size"] == SIZE
    assert hashlib.sha256(data).hexdigest() == key["sha256"]
    for item in key["items"]:
        got = planted(data, item)
        assert len(got) == item["length"], item
        assert hashlib.sha256(got).hexdigest() == item["sha256"], item
        assert item["aligned"] == (item["offset"] % 512 == 0), item


def test_items_do_not_overlap_and_fit(corpus):
    _, key = corpus
    spans = sorted(
        (run[0], run[0] + run[1])
        for item in key["items"]
        for run in item.get("runs", [[item["offset"], item["length"]]])
    )
    assert all(end <= nxt for (_, end), (nxt, _) in zip(spans, spans[1:], strict=False)), "items overlap"
    assert spans[-1][1] <= key["size"]


def test_variety_of_kinds_sources_and_situations(corpus):
    _, key = corpus
    items = key["items"]
    kinds = {i["kind"] for i in items}
    expected = {"jpeg", "png", "gif", "bmp", "tiff", "riff", "pdf", "zip", "gzip", "7z", "rar", "sqlite"}
    expected |= {"mp4", "mp3", "elf", "pe", "ole", "mbox", "eml", "html"}
    assert kinds <= expected and len(kinds) >= len(expected) - 2, expected - kinds
    assert not kinds & set(LEFT_OUT)
    subtypes = {(i["kind"], i["subtype"]) for i in items}
    assert {("riff", "wav"), ("riff", "avi"), ("jpeg", "exif")} <= subtypes
    assert len({s for k, s in subtypes if k == "zip"}) >= 5, subtypes  # docx, xlsx, jar, apk, ...
    assert any(i["source"].startswith("small/") for i in items)
    assert any(i["source"].startswith("pngsuite/") for i in items)
    assert {i["context"] for i in items} == {"random", "zeros"}
    assert sum(i["context"] == "random" for i in items) > len(items) / 2
    assert any(i["aligned"] for i in items) and any(not i["aligned"] for i in items)
    statuses = {i["status"] for i in items}
    assert statuses == {"intact", "truncated", "fragmented"}
    assert len({i["sha256"] for i in items if i["source"] == "generated"}) == sum(
        i["source"] == "generated" for i in items
    ), "every generated file is unique"


def test_every_kind_can_be_made(testdata):
    producers = file_makers(published_samples(testdata))
    assert set(producers) == set(KIND_WEIGHTS) and not set(producers) & set(LEFT_OUT)
    rng = random.Random(1)
    for kind, ways in producers.items():
        for _, make in ways:
            subtype, data, source = make(rng, 4000)
            assert data and (source == "generated" or source.startswith(("small/", "pngsuite/"))), kind


def test_truncated_items_really_are_cut(corpus):
    path, key = corpus
    data = path.read_bytes()
    cut = [i for i in key["items"] if i["status"] == "truncated"]
    assert len(cut) >= 0.05 * len(key["items"])
    ends = {"jpeg": b"\xff\xd9", "png": b"IEND\xaeB`\x82", "gif": b"\x3b", "html": b"</html>\n"}
    for item in cut:
        prefix = planted(data, item)
        assert item["length"] < item["full_length"], item
        assert hashlib.sha256(prefix).hexdigest() != item["full_sha256"], item
        if item["kind"] in ends and item["source"] == "generated":
            assert not prefix.endswith(ends[item["kind"]]), item
        if item["kind"] == "zip":
            with pytest.raises(zipfile.BadZipFile):
                zipfile.ZipFile(io.BytesIO(prefix)).testzip()
        if item["kind"] == "gzip":
            with pytest.raises(EOFError):
                gzip.decompress(prefix)
        # what follows the cut is random data, not the next file
        after = data[item["offset"] + item["length"] : item["offset"] + item["length"] + 64]
        assert after.count(0) < 16, item


def test_fragmented_items_are_two_runs_on_cluster_boundaries(corpus):
    path, key = corpus
    data = path.read_bytes()
    split = [i for i in key["items"] if i["status"] == "fragmented"]
    assert split and {i["kind"] for i in split} <= FRAGMENT_KINDS
    magic = {"jpeg": b"\xff\xd8\xff", "zip": b"PK\x03\x04", "pdf": b"%PDF-"}
    for item in split:
        (a, a_len), (b, b_len) = item["runs"]
        assert a == item["offset"] and a_len + b_len == item["length"]
        assert a % CLUSTER == 0 and (a + a_len) % CLUSTER == 0 and b % CLUSTER == 0
        assert CLUSTER <= b - (a + a_len) <= 256 * 1024
        assert data[a : a + len(magic[item["kind"]])] == magic[item["kind"]]
        contiguous = data[a : a + item["length"]]
        assert hashlib.sha256(contiguous).hexdigest() != item["sha256"], "the file must really be split"
        whole = planted(data, item)
        if item["kind"] == "zip":
            assert zipfile.ZipFile(io.BytesIO(whole)).testzip() is None
        if item["kind"] == "jpeg":
            assert whole.endswith(b"\xff\xd9")


def png_chunks_ok(blob: bytes) -> bool:
    at = 8
    while at < len(blob):
        (n,) = struct.unpack(">I", blob[at : at + 4])
        kind = blob[at + 4 : at + 8]
        if zlib.crc32(blob[at + 4 : at + 8 + n]) != struct.unpack(">I", blob[at + 8 + n : at + 12 + n])[0]:
            return False
        at += 12 + n
        if kind == b"IEND":
            return at == len(blob)
    return False


def test_intact_files_parse_with_the_standard_library(corpus):
    path, key = corpus
    data = path.read_bytes()
    checked = 0
    for item in key["items"]:
        if item["status"] != "intact" or item["source"] != "generated":
            continue
        blob = planted(data, item)
        kind = item["kind"]
        if kind == "zip":
            assert zipfile.ZipFile(io.BytesIO(blob)).testzip() is None
        elif kind == "gzip":
            gzip.decompress(blob)
        elif kind == "sqlite":
            con = sqlite3.connect(":memory:")
            con.deserialize(blob)
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            con.close()
        elif kind == "riff" and item["subtype"] == "wav":
            assert wave.open(io.BytesIO(blob)).getnframes() > 0
        elif kind == "png":
            assert png_chunks_ok(blob), item
        elif kind == "riff":
            assert struct.unpack("<I", blob[4:8])[0] + 8 == len(blob)
        elif kind == "bmp":
            assert struct.unpack("<I", blob[2:6])[0] == len(blob)
        elif kind == "elf":
            wide = blob[4] == 2
            order = "<" if blob[5] == 1 else ">"
            shoff, shentsize, shnum = (
                struct.unpack(order + "Q", blob[40:48])[0] if wide else struct.unpack(order + "I", blob[32:36])[0],
                *struct.unpack(order + "HH", blob[58:62] if wide else blob[46:50]),
            )
            assert shoff + shentsize * shnum == len(blob)
        elif kind == "pe":
            lfanew = struct.unpack("<I", blob[0x3C:0x40])[0]
            sections, opt_len = struct.unpack("<H", blob[lfanew + 6 : lfanew + 8])[0], blob[lfanew + 20]
            table = lfanew + 24 + opt_len
            ends = [sum(struct.unpack("<II", blob[table + 40 * i + 16 : table + 40 * i + 24])) for i in range(sections)]
            assert max(ends) == len(blob)
        elif kind == "7z":
            next_offset, next_size, next_crc = struct.unpack("<QQI", blob[12:32])
            assert zlib.crc32(blob[12:32]) == struct.unpack("<I", blob[8:12])[0]
            assert 32 + next_offset + next_size == len(blob)
            assert zlib.crc32(blob[32 + next_offset :]) == next_crc
        elif kind == "ole":
            fat_sectors = struct.unpack("<I", blob[44:48])[0]
            fat_at = struct.unpack("<I", blob[76:80])[0]  # first FAT sector, from the DIFAT
            assert len(blob) == 512 * (1 + fat_at + fat_sectors)
        elif kind == "mp4":
            at = 0
            while at < len(blob):
                at += struct.unpack(">I", blob[at : at + 4])[0]
            assert at == len(blob)
        else:
            continue
        checked += 1
    assert checked > 30


def test_same_seed_same_corpus_other_seed_other_corpus(tmp_path, testdata):
    a = forge_corpus(tmp_path / "a.img", 2 << 20, seed=5, testdata=testdata)
    b = forge_corpus(tmp_path / "b.img", 2 << 20, seed=5, testdata=testdata)
    c = forge_corpus(tmp_path / "c.img", 2 << 20, seed=6, testdata=testdata)
    assert a["sha256"] == b["sha256"] == hashlib.sha256((tmp_path / "a.img").read_bytes()).hexdigest()
    assert a["items"] == b["items"]
    assert c["sha256"] != a["sha256"]


def test_spacing_spreads_the_files_out(tmp_path, testdata):
    """More random data between files: fewer files in the same size, the gaps between them
    (on average, from the key's offsets) wider; spacing 1 is the corpus as it always was."""
    dense = forge_corpus(tmp_path / "d.img", 8 << 20, seed=5, testdata=testdata)
    again = forge_corpus(tmp_path / "a.img", 8 << 20, seed=5, testdata=testdata, spacing=1)
    sparse = forge_corpus(tmp_path / "s.img", 8 << 20, seed=5, testdata=testdata, spacing=8)
    assert again["sha256"] == dense["sha256"] and "spacing" not in dense
    assert sparse["spacing"] == 8 and len(sparse["items"]) < len(dense["items"]) / 2

    def mean_gap(key):
        ends = sorted((i["offset"], i["offset"] + i["length"]) for i in key["items"])
        gaps = [b[0] - a[1] for a, b in zip(ends, ends[1:], strict=False)]
        return sum(gaps) / len(gaps)

    assert mean_gap(sparse) > 4 * mean_gap(dense)
    with pytest.raises(ValueError, match="spacing"):
        forge_corpus(tmp_path / "x.img", 2 << 20, seed=5, testdata=testdata, spacing=0)


def test_generated_files_only_when_no_samples(tmp_path):
    key = forge_corpus(tmp_path / "g.img", 4 << 20, seed=3, testdata=None)
    assert key["samples"]["folder"] is None and key["samples"]["files"] == 0
    assert {i["source"] for i in key["items"]} == {"generated"}


# The default profile is what `make sample` and the job tests use: its bytes are pinned to
# what the forge wrote before the carving profile existed.
DEFAULT_2MIB_SEED5 = "caece883fa18e4126a4f41a6b2306063a3c77e8e28cf4d42c539b712f04424e9"
DEFAULT_2MIB_SEED5_KEY = "f36b19a0c0b643dd0b12beb1f1d7dd618307780bffaa5e2bc380cffc924f1bbf"
DEFAULT_4MIB_SEED7 = "03ae369b5cece0c5d121fccd5134a76ae9c1ab3f43780934cf9e7c93d6bb8847"


def test_default_profile_is_unchanged(tmp_path):
    key = forge_image(tmp_path / "a.img", 2 << 20, 5)
    assert key["sha256"] == DEFAULT_2MIB_SEED5
    assert hashlib.sha256((tmp_path / "a.img.key.json").read_bytes()).hexdigest() == DEFAULT_2MIB_SEED5_KEY
    assert main(["forge", str(tmp_path / "e.img"), "--size", "4MiB", "--seed", "7"]) == 0
    assert hashlib.sha256((tmp_path / "e.img").read_bytes()).hexdigest() == DEFAULT_4MIB_SEED7


def test_cli_carving_profile(tmp_path, testdata, capsys):
    out = tmp_path / "c.img"
    args = ["forge", str(out), "--profile", "carving", "--size", "2MiB", "--seed", "9", "--samples", str(testdata)]
    assert main(args) == 0
    key = json.loads(Path(f"{out}.key.json").read_text())
    assert key["profile"] == "carving" and key["size"] == 2 << 20
    assert "not planted: evtx, lnk, regf" in capsys.readouterr().out
    assert main(["forge", str(tmp_path / "x.img"), "--profile", "carving", "--samples", str(tmp_path / "nowhere")]) == 2
    assert "published samples not found" in capsys.readouterr().err
