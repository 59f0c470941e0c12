"""Known-image lists: the PDQ index against a pure-Python brute force, and list parsing.

Hashes are random 256-bit integers from a seeded generator; each query gets list
neighbours planted by flipping a chosen number of distinct bits, so their distances are
known without the index. The oracle compares every pair with `int.bit_count`.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from cluster.hashsets.errors import HashSetError
from cluster.pdqsets import build_index
from rust_core import CoreError, PdqIndex, PdqIndexBuilder
from workers.known_images import ImageMatch, KnownImages, PdqSetInfo

Entry = tuple[int, str]  # (hash as a 256-bit integer, label)


def hex64(h: int) -> str:
    return f"{h:064x}"


def flip(rng: random.Random, h: int, bits: int) -> int:
    for bit in rng.sample(range(256), bits):
        h ^= 1 << bit
    return h


def planted(seed: int, list_size: int, queries: int) -> tuple[list[Entry], list[int]]:
    """Random entries, and queries with neighbours planted at distances 0..40 (some twice,
    under two labels; one listed twice under one label)."""
    rng = random.Random(seed)
    entries = [(rng.getrandbits(256), f"random-{i % 5}") for i in range(list_size)]
    qs = [rng.getrandbits(256) for _ in range(queries)]
    for qi, q in enumerate(qs):
        for d in range(qi % 4, 41, 3):
            near = flip(rng, q, d)
            entries.append((near, f"q{qi}-d{d}"))
            if d % 10 == 0:
                entries.append((near, "second-label"))
    entries.append(entries[0])
    return entries, qs


def brute_force(entries: list[Entry], queries: list[int], threshold: int) -> set[tuple[int, str, str, int]]:
    return {
        (qi, hex64(h), label, (q ^ h).bit_count())
        for qi, q in enumerate(queries)
        for h, label in set(entries)
        if (q ^ h).bit_count() <= threshold
    }


def build(entries: list[Entry], path: Path, chunks: int | None = None) -> PdqIndex:
    b = PdqIndexBuilder()
    b.add(b"".join(h.to_bytes(32, "big") for h, _ in entries), [label for _, label in entries])
    stats = b.finish(path, chunks)
    assert stats["added"] == len(entries) and stats["count"] == len(set(entries))
    index = PdqIndex(path)
    index.verify()
    return index


def raw(queries: list[int]) -> bytes:
    return b"".join(q.to_bytes(32, "big") for q in queries)


def found(index: PdqIndex, matches: list[tuple[int, int, int]]) -> set[tuple[int, str, str, int]]:
    out = {(qi, index.hash_hex(e), index.label(e), d) for qi, e, d in matches}
    assert len(out) == len(matches), "an entry reported twice for one query"
    return out


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> tuple[list[Entry], list[int], PdqIndex]:
    entries, queries = planted(2026, 4000, 40)
    return entries, queries, build(entries, tmp_path_factory.mktemp("pdq") / "list.qpdq")


@pytest.mark.parametrize("threshold", [0, 1, 2, 7, 15, 16, 24, 31, 32, 40, 48, 64])
def test_every_method_equals_brute_force(case, threshold):
    entries, queries, index = case
    want = brute_force(entries, queries, threshold)
    if threshold == 31:
        planted_within = sum(
            1 for _, label in set(entries) if label.startswith("q") and int(label.split("-d")[1]) <= 31
        )
        assert len(want) >= planted_within > 0
    for method in ("mih", "linear", "auto"):
        assert found(index, index.search(raw(queries), threshold, method=method)) == want, method


def test_chunk_counts_and_threads_agree(case, tmp_path):
    entries, queries, _ = case
    want = brute_force(entries, queries, 31)
    for chunks in (11, 12, 16, 24, 40, 64):
        index = build(entries, tmp_path / f"m{chunks}.qpdq", chunks)
        assert index.chunks == chunks
        for threads in (1, 3):
            got = index.search(raw(queries), 31, method="mih", threads=threads)
            assert got == sorted(got)
            assert found(index, got) == want, (chunks, threads)


def test_an_empty_list_and_no_queries(tmp_path):
    index = build([], tmp_path / "empty.qpdq")
    assert len(index) == 0 and index.count == 0
    assert index.search(raw([1 << 255]), 256) == []
    full, _ = planted(1, 10, 1)
    assert build(full, tmp_path / "ten.qpdq").search(b"", 31) == []


def test_bad_arguments_raise_core_errors(case, tmp_path):
    _, _, index = case
    with pytest.raises(CoreError, match="not a whole number of 32-byte PDQ hashes"):
        index.search(b"\0" * 33)
    with pytest.raises(CoreError, match='method "fast": use auto, mih or linear'):
        index.search(b"\0" * 32, method="fast")
    with pytest.raises(CoreError, match="past the index"):
        index.label(index.count)
    b = PdqIndexBuilder()
    with pytest.raises(CoreError, match="2 hashes but 1 labels"):
        b.add(b"\0" * 64, ["one"])
    b.finish(tmp_path / "x.qpdq")
    with pytest.raises(CoreError, match="already finished"):
        b.finish(tmp_path / "y.qpdq")
    (tmp_path / "junk.qpdq").write_bytes(b"not an index" * 10)
    with pytest.raises(CoreError, match="junk.qpdq: not a valid PDQ index file: wrong magic"):
        PdqIndex(tmp_path / "junk.qpdq")


def info(name: str, kind: str) -> PdqSetInfo:
    return PdqSetInfo(name, kind, "1", "lines", 0, 0, 0, 0, 12, "", {}, "", 0, "")


def test_known_images_match_per_picture(tmp_path):
    rng = random.Random(7)
    pictures = [rng.getrandbits(256) for _ in range(6)]
    bad = [
        (flip(rng, pictures[0], 5), "bad-5"),
        (flip(rng, pictures[2], 31), "bad-31"),
        (flip(rng, pictures[3], 32), "bad-32"),
    ]
    good = [(flip(rng, pictures[0], 12), "good-12"), (rng.getrandbits(256), "unrelated")]
    known = KnownImages(
        [
            (info("zz-good", "known-good"), build(good, tmp_path / "g.qpdq")),
            (info("aa-bad", "known-bad"), build(bad, tmp_path / "b.qpdq")),
        ]
    )
    pdqs: list[str | None] = [hex64(p) for p in pictures]
    pdqs[4] = None  # a picture without a PDQ
    pdqs[2] = pdqs[2].upper()
    got = known.match(pdqs)
    assert got == [
        [ImageMatch("aa-bad", "known-bad", "bad-5", 5), ImageMatch("zz-good", "known-good", "good-12", 12)],
        [],
        [ImageMatch("aa-bad", "known-bad", "bad-31", 31)],
        [],
        [],
        [],
    ]
    assert [known.verdict(m) for m in got] == ["bad", None, "bad", None, None, None]
    assert known.match(pdqs, threads=0) == known.match(pdqs, threads=3) == got
    assert known.match(pdqs, threshold=32)[3] == [ImageMatch("aa-bad", "known-bad", "bad-32", 32)]
    assert known.match([]) == [] and known.match([None, ""]) == [[], []]
    with pytest.raises(ValueError, match="PDQ hash 1: 'abc' is not 64 hex digits"):
        known.match([hex64(1), "abc"])
    with pytest.raises(ValueError, match="distance threshold 300"):
        known.match(pdqs, threshold=300)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_lists_in_both_shapes_build_the_same_hashes(tmp_path):
    rng = random.Random(3)
    hashes = [hex64(rng.getrandbits(256)) for _ in range(5)]
    lines = write(
        tmp_path,
        "a.txt",
        "# a comment\n\n" + "".join(f"{h},label {i}\n" for i, h in enumerate(hashes)) + hashes[0].upper() + "\n",
    )
    te = write(
        tmp_path,
        "b.csv",
        "hash,quality,filename\n" + "".join(f'{h},{40 + i * 10},"pic, {i}.jpg"\n' for i, h in enumerate(hashes)),
    )
    for sub in "xyz":
        (tmp_path / sub).mkdir()
    a = build_index(lines, "auto", tmp_path / "x")
    assert (a.parsed.format, a.parsed.rows, a.stats["count"], a.stats["labels"]) == ("lines", 6, 6, 6)
    b = build_index(te, "auto", tmp_path / "y")
    assert (b.parsed.format, b.parsed.rows, b.parsed.low_quality) == ("threatexchange", 5, 1)
    index = PdqIndex(b.path)
    assert sorted((index.hash_hex(i), index.label(i)) for i in range(5)) == sorted(
        (h, f"pic, {i}.jpg") for i, h in enumerate(hashes)
    )
    # pdq-photo-hasher's output has no header; the quality column tells it apart
    bare = write(tmp_path, "c.csv", f"{hashes[1]},100,/evidence/x.jpg\n")
    assert build_index(bare, "auto", tmp_path / "z").parsed.format == "threatexchange"


def test_bad_lines_are_named_by_number(tmp_path):
    good = hex64(random.Random(4).getrandbits(256))
    text = f"{good},ok\n{good[:-1]},short\nnot-a-hash\n{good}\n{good}0,long\n"
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(HashSetError) as err:
        build_index(path, "auto", tmp_path)
    message = str(err.value)
    assert message.startswith(f"{path}:2: '{good[:-1]}' is not a PDQ hash (64 hex digits)")
    assert message.endswith("3 bad lines in all (lines 2, 3, 5)")
    assert "\n" not in message
    te = write(tmp_path, "bad.csv", f"{good},90,a\n{good},high,b\n")
    with pytest.raises(HashSetError, match=r"bad.csv:2: quality 'high' is not a whole number from 0 to 100"):
        build_index(te, "auto", tmp_path)
    empty = write(tmp_path, "empty.txt", "# nothing\n")
    with pytest.raises(HashSetError, match="no PDQ hashes found"):
        build_index(empty, "auto", tmp_path)
    many = write(tmp_path, "many.txt", "zz\n" * 25)
    with pytest.raises(HashSetError, match=r"25 bad lines in all \(lines 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, \.\.\.\)"):
        build_index(many, "auto", tmp_path)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(good.encode() + b"\n\xff\xfe\n")
    with pytest.raises(HashSetError, match="binary.txt:2: not UTF-8 text"):
        build_index(binary, "auto", tmp_path)
