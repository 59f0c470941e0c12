"""Similarity digests (ssdeep, TLSH) checked against the reference tools.

The references are the ``ssdeep`` command-line tool (Debian package ssdeep 2.14.1) and
py-tlsh (module ``tlsh``). Both must be installed: a missing reference fails the tests
rather than skipping them, so a green run always means "checked".
"""

from __future__ import annotations

import csv
import importlib
import mmap
import random
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from rust_core import (
    CoreError,
    SsdeepHasher,
    TlshHasher,
    ssdeep_compare,
    ssdeep_digest,
    tlsh_diff,
    tlsh_digest,
)

SSDEEP_HEADER = ["ssdeep", "1.1--blocksize:hash:hash", "filename"]


@pytest.fixture(scope="module")
def ssdeep_tool() -> str:
    path = shutil.which("ssdeep")
    assert path, "the ssdeep command-line tool is missing: install the Debian package ssdeep (deploy/install.sh does)"
    return path


@pytest.fixture(scope="module")
def ref_tlsh() -> ModuleType:
    try:
        return importlib.import_module("tlsh")
    except ImportError:
        pytest.fail("py-tlsh (module tlsh) is missing: install the dev extra, pip install -e '.[dev]'")


def ref_tlsh_digest(tlsh: ModuleType, data: bytes) -> str | None:
    digest = tlsh.hash(data)
    return None if digest == "TNULL" else digest


def ssdeep_of_files(tool: str, paths: list[Path]) -> dict[Path, str]:
    """The tool's digest of each file, by resolved path (one run for all of them)."""
    resolved = [p.resolve() for p in paths]
    out = subprocess.run([tool, "-s", "-c", *map(str, resolved)], check=True, capture_output=True, text=True).stdout
    rows = list(csv.reader(out.splitlines()))
    assert rows[0] == SSDEEP_HEADER, out[:200]
    digests = {Path(name): digest for digest, name in rows[1:]}
    missing = [p for p in resolved if p not in digests]
    assert not missing, f"ssdeep printed no digest for {missing[:3]}"
    return digests


def ssdeep_scores(tool: str, tmp: Path, left: list[str], right: list[str]) -> dict[tuple[int, int], int]:
    """The tool's score of every (left[i], right[j]) pair, from its signature matching mode."""
    files = []
    for side, sigs in (("left", left), ("right", right)):
        path = tmp / f"{side}.ssdeep"
        lines = [",".join(SSDEEP_HEADER)] + [f'{sig},"{side[0]}{i}"' for i, sig in enumerate(sigs)]
        path.write_text("\n".join(lines) + "\n")
        files.append(path)
    out = subprocess.run(
        [tool, "-s", "-a", "-c", "-k", str(files[0]), str(files[1])], check=True, capture_output=True, text=True
    ).stdout
    scores = {(int(a[1:]), int(b[1:])): int(score) for b, a, score in csv.reader(out.splitlines())}
    assert len(scores) == len(left) * len(right), f"expected every pair scored, got {len(scores)}"
    return scores


def public_files(testdata: Path) -> list[Path]:
    files = sorted(p for p in testdata.rglob("*") if p.is_file())
    assert len(files) > 100, f"expected the public test corpus under {testdata}"
    return files


def generated_inputs() -> dict[str, bytes]:
    """Random data of edge and spread sizes, and structured data that steers both
    algorithms into their less travelled paths (no cut points, no variety, a rolling
    hash of zero at the end)."""
    rng = random.Random(2026)
    sizes = [0, 1, 2, 6, 7, 8, 49, 50, 51, 63, 64, 65, 191, 192, 193, 656, 657, 3199, 3200]
    sizes += [4095, 4096, 4097, 6143, 6144, 6145, 65536, 100 << 10, (1 << 20) + 1, 3 << 20, (6 << 20) + 12345]
    sizes += sorted(int(10 ** rng.uniform(0, 6.5)) for _ in range(40))
    inputs = {f"random-{i}-{n}": rng.randbytes(n) for i, n in enumerate(sizes)}
    for n in (200, 50_000, 300_000, 3 << 20):
        # Ending in 7 zero bytes leaves ssdeep's rolling hash at 0: no trailing character.
        inputs[f"random-then-7-zeros-{n}"] = rng.randbytes(n) + bytes(7)
        inputs[f"random-then-zeros-{n}"] = rng.randbytes(n) + bytes(rng.randrange(8, 5000))
    for seed, n in ((220410946, 5725), (210564253, 5706), (1054209172, 774037)):
        # Found by search: both parts full (63-64 and 32 characters) and a rolling hash of 0.
        inputs[f"full-parts-then-7-zeros-{n}"] = random.Random(seed).randbytes(n) + bytes(7)
    for n in (1 << 10, 1 << 20):
        inputs[f"zeros-{n}"] = bytes(n)
    for n in (1000, 100_000, 2 << 20):
        inputs[f"text-{n}"] = (b"Quarry evidence line, case 2026-0042\n" * (n // 37 + 1))[:n]
        inputs[f"few-symbols-{n}"] = bytes(rng.choice(b"ab\x00\n") for _ in range(n))
    inputs["ramp"] = bytes(range(256)) * 64
    inputs["periodic-4096"] = rng.randbytes(4096) * 256
    sparse = bytearray(4 << 20)  # like a disk image: zeros with islands of data
    for _ in range(40):
        at, length = rng.randrange(len(sparse) - 70_000), rng.randrange(100, 70_000)
        sparse[at : at + length] = rng.randbytes(length)
    inputs["sparse"] = bytes(sparse)
    inputs["text-random-zeros"] = b"header " * 3000 + rng.randbytes(500_000) + bytes(70_000)
    return inputs


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, bytes]:
    folder = tmp_path_factory.mktemp("similarity")
    files = {}
    for name, data in generated_inputs().items():
        path = folder / name
        path.write_bytes(data)
        files[path] = data
    return files


def edited_copies(rng: random.Random, data: bytes) -> list[bytes]:
    """A few small edits of `data`: overwrite, insert, delete, truncate, append."""
    n = len(data)
    at = rng.randrange(n)
    return [
        data[:at] + b"EDIT" + data[at + 4 :],
        data[:at] + rng.randbytes(100) + data[at:],
        data[:at] + data[at + 1000 :],
        data[: n * 3 // 4],
        data + rng.randbytes(n // 5),
    ]


@pytest.fixture(scope="module")
def similar_files(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, bytes]:
    """Bases of several sizes and kinds, each with a few edited copies."""
    rng = random.Random(7)
    folder = tmp_path_factory.mktemp("similar")
    bases = [rng.randbytes(n) for n in (3_000, 20_000, 150_000, 1 << 20)]
    words = [rng.randbytes(rng.randrange(3, 9)).hex().encode() for _ in range(300)]
    bases += [b" ".join(rng.choice(words) for _ in range(n)) for n in (2_000, 40_000)]
    files = {}
    for i, base in enumerate(bases):
        for j, data in enumerate([base, *edited_copies(rng, base)]):
            path = folder / f"base{i}-copy{j}"
            path.write_bytes(data)
            files[path] = data
    return files


# ssdeep digests


def test_ssdeep_matches_the_tool_on_the_public_corpus(testdata: Path, ssdeep_tool: str) -> None:
    paths = public_files(testdata)
    reference = ssdeep_of_files(ssdeep_tool, paths)
    wrong = [
        (p, reference[p.resolve()], d) for p in paths if (d := ssdeep_digest(p.read_bytes())) != reference[p.resolve()]
    ]
    assert not wrong, f"{len(wrong)} of {len(paths)} differ, e.g. {wrong[:3]}"


def test_ssdeep_matches_the_tool_on_generated_data(generated: dict[Path, bytes], ssdeep_tool: str) -> None:
    reference = ssdeep_of_files(ssdeep_tool, list(generated))
    wrong = [
        (p.name, reference[p.resolve()], d)
        for p, data in generated.items()
        if (d := ssdeep_digest(data)) != reference[p.resolve()]
    ]
    assert not wrong, f"{len(wrong)} of {len(generated)} differ, e.g. {wrong[:3]}"


def test_ssdeep_streaming_matches_the_tool_whatever_the_chunks(generated: dict[Path, bytes], ssdeep_tool: str) -> None:
    big = {p: d for p, d in generated.items() if len(d) > 200_000}
    reference = ssdeep_of_files(ssdeep_tool, list(big))
    rng = random.Random(3)
    for path, data in big.items():
        hasher = SsdeepHasher()
        at = 0
        while at < len(data):
            step = rng.choice([1, 7, 4096, 65_536, 1_000_003])
            hasher.update(memoryview(data)[at : at + step])
            at += step
        assert hasher.length == len(data)
        assert hasher.digest() == reference[path.resolve()], path.name


def test_ssdeep_digest_so_far_leaves_the_hasher_usable() -> None:
    data = random.Random(5).randbytes(500_000)
    hasher = SsdeepHasher()
    hasher.update(data[:1000])
    assert hasher.digest() == ssdeep_digest(data[:1000])
    hasher.update(data[1000:])
    assert hasher.digest() == ssdeep_digest(data)


# ssdeep comparison


def test_ssdeep_compare_matches_the_tool_on_similar_files(
    similar_files: dict[Path, bytes], ssdeep_tool: str, tmp_path: Path
) -> None:
    reference = ssdeep_of_files(ssdeep_tool, list(similar_files))
    sigs = [reference[p.resolve()] for p in similar_files]
    assert sigs == [ssdeep_digest(d) for d in similar_files.values()]
    scores = ssdeep_scores(ssdeep_tool, tmp_path, sigs, sigs)
    wrong = {(i, j): s for (i, j), s in scores.items() if ssdeep_compare(sigs[i], sigs[j]) != s}
    assert not wrong, f"{len(wrong)} of {len(scores)} scores differ, e.g. {list(wrong.items())[:3]}"
    related = [s for (i, j), s in scores.items() if i != j and i // 6 == j // 6]
    assert sum(s > 0 for s in related) > len(related) // 2, "edited copies should mostly match their base"


def random_signature(rng: random.Random, alphabet: str, block_size: int) -> str:
    def part(length: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(length))

    return f"{block_size}:{part(rng.randrange(0, 65))}:{part(rng.randrange(0, 33))}"


def mutated(rng: random.Random, sig: str) -> str:
    """The same signature with a few characters changed, dropped or repeated, and maybe
    its block size doubled or halved (parts shifted as ssdeep's would be)."""
    size, first, second = sig.split(":")
    chars = list(first)
    for _ in range(rng.randrange(0, 6)):
        if not chars:
            break
        at = rng.randrange(len(chars))
        op = rng.randrange(3)
        if op == 0:
            chars[at] = rng.choice("ABCD+/")
        elif op == 1:
            del chars[at]
        else:
            chars.insert(at, chars[at] * rng.randrange(1, 5))
    first = "".join(chars)[:64]
    shift = rng.randrange(3)
    if shift == 1:
        return f"{int(size) * 2}:{second}:{first[:32]}"
    if shift == 2 and int(size) > 3:
        return f"{int(size) // 2}:{first[:32] + first[:32]}:{first[:32]}"
    return f"{size}:{first}:{second}"


def test_ssdeep_compare_matches_the_tool_on_crafted_signatures(ssdeep_tool: str, tmp_path: Path) -> None:
    """Signatures over small alphabets (so long common runs occur), small block sizes
    (where the score is capped) and neighbouring block sizes, with runs of equal
    characters that the comparison trims."""
    rng = random.Random(11)
    left = [
        random_signature(rng, rng.choice(["AB", "ABC", "ABCDEFGH", "Ab+/9"]), rng.choice([3, 6, 12, 24, 48, 96, 1536]))
        for _ in range(120)
    ]
    right = [mutated(rng, sig) for sig in left] + [random_signature(rng, "AB", 6) for _ in range(30)]
    scores = ssdeep_scores(ssdeep_tool, tmp_path, left, right)
    wrong = [(left[i], right[j], s) for (i, j), s in scores.items() if ssdeep_compare(left[i], right[j]) != s]
    assert not wrong, f"{len(wrong)} of {len(scores)} differ, e.g. {wrong[:3]}"
    assert len({s for s in scores.values()}) > 20, "the crafted signatures should give a spread of scores"


def test_ssdeep_compare_reads_signatures_with_a_file_name() -> None:
    sig = ssdeep_digest(random.Random(1).randbytes(10_000))
    assert ssdeep_compare(sig, f'{sig},"evidence/file.bin"') == 100


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("", "no ':'"),
        ("abc:def:ghi", "not a decimal number"),
        ("3:abcdef", "no second ':'"),
        ("3:ab cd:ef", "not a base64 character"),
        ("3:" + "ab" * 33 + ":", "longer than 64"),
    ],
)
def test_ssdeep_compare_rejects_malformed_digests(bad: str, problem: str) -> None:
    with pytest.raises(CoreError, match="ssdeep_compare") as err:
        ssdeep_compare("3::", bad)
    assert "second digest" in str(err.value) and problem in str(err.value)


# TLSH digests


def test_tlsh_matches_py_tlsh_on_the_public_corpus(testdata: Path, ref_tlsh: ModuleType) -> None:
    paths = public_files(testdata)
    wrong = [
        (p, r, d) for p in paths if (d := tlsh_digest(data := p.read_bytes())) != (r := ref_tlsh_digest(ref_tlsh, data))
    ]
    assert not wrong, f"{len(wrong)} of {len(paths)} differ, e.g. {wrong[:3]}"
    assert sum(tlsh_digest(p.read_bytes()) is not None for p in paths) > 100, "most files should have a digest"


def test_tlsh_matches_py_tlsh_on_generated_data(generated: dict[Path, bytes], ref_tlsh: ModuleType) -> None:
    wrong = [
        (p.name, r, d)
        for p, data in generated.items()
        if (d := tlsh_digest(data)) != (r := ref_tlsh_digest(ref_tlsh, data))
    ]
    assert not wrong, f"{len(wrong)} of {len(generated)} differ, e.g. {wrong[:3]}"


def test_tlsh_streaming_matches_py_tlsh_whatever_the_chunks(generated: dict[Path, bytes], ref_tlsh: ModuleType) -> None:
    rng = random.Random(4)
    for path, data in generated.items():
        if len(data) < 40 or len(data) > (1 << 20) + 1:
            continue
        hasher = TlshHasher()
        at = 0
        while at < len(data):
            step = rng.choice([1, 2, 3, 5, 4096, 100_001])
            hasher.update(data[at : at + step])
            at += step
        assert hasher.length == len(data)
        assert hasher.digest() == ref_tlsh_digest(ref_tlsh, data), path.name


def test_tlsh_has_no_digest_for_short_or_plain_input() -> None:
    assert tlsh_digest(b"") is None
    assert tlsh_digest(random.Random(1).randbytes(49)) is None
    assert tlsh_digest(bytes(1 << 20)) is None
    assert TlshHasher().digest() is None
    assert len(tlsh_digest(random.Random(1).randbytes(50)) or "") == 72


# TLSH distance


def test_tlsh_diff_matches_py_tlsh_on_similar_and_unrelated_files(
    similar_files: dict[Path, bytes], generated: dict[Path, bytes], ref_tlsh: ModuleType
) -> None:
    datas = list(similar_files.values()) + list(generated.values())
    digests = [d for d in (tlsh_digest(data) for data in datas) if d is not None]
    assert len(digests) > 60
    wrong = [(a, b) for a in digests for b in digests if tlsh_diff(a, b) != ref_tlsh.diff(a, b)]
    assert not wrong, f"{len(wrong)} of {len(digests) ** 2} pairs differ, e.g. {wrong[:3]}"
    base, copy = tlsh_digest(datas[12]), tlsh_digest(datas[13])
    assert base and copy and tlsh_diff(base, copy) < 50, "an edited copy should be near its base"


def test_tlsh_diff_matches_py_tlsh_on_random_digests(ref_tlsh: ModuleType) -> None:
    """Arbitrary field values, so the length and ratio distances wrap around their ranges."""
    rng = random.Random(9)
    digests = ["T1" + rng.randbytes(35).hex().upper() for _ in range(150)]
    digests += [d[2:].lower() for d in digests[:20]]
    wrong = [(a, b) for a in digests for b in digests if tlsh_diff(a, b) != ref_tlsh.diff(a, b)]
    assert not wrong, f"{len(wrong)} pairs differ, e.g. {wrong[:3]}"


@pytest.mark.parametrize("bad", ["", "TNULL", "T1" + "A" * 69, "T1" + "A" * 71, "T1" + "G" * 70, "T2" + "A" * 70])
def test_tlsh_diff_rejects_malformed_digests(bad: str) -> None:
    good = tlsh_digest(random.Random(2).randbytes(1000))
    assert good
    with pytest.raises(CoreError, match=r"tlsh_diff\(a, b\): first digest"):
        tlsh_diff(bad, good)


# Buffers


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "mmap"])
def test_digests_accept_any_contiguous_buffer(kind: str, tmp_path: Path) -> None:
    data = random.Random(6).randbytes(70_000)
    path = tmp_path / "data"
    path.write_bytes(data)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        buf = {"bytes": data, "bytearray": bytearray(data), "memoryview": memoryview(data), "mmap": mapped}[kind]
        assert ssdeep_digest(buf) == ssdeep_digest(data)
        assert tlsh_digest(buf) == tlsh_digest(data)
        del buf


def test_non_contiguous_buffers_are_refused() -> None:
    strided = memoryview(bytes(1000))[::2]
    with pytest.raises(CoreError, match=r"ssdeep_digest\(data\)"):
        ssdeep_digest(strided)
    with pytest.raises(CoreError, match=r"TlshHasher.update\(data\)"):
        TlshHasher().update(strided)
