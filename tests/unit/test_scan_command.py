"""`quarry scan IMAGE --out DIR` end to end: published values planted at chosen offsets in
random bytes (ASCII and UTF-16LE, some across segment edges) come back in bulk_extractor's
layout at exactly those offsets, histograms count what was planted, sensitive values are
stored in full and redacted in views, bad input is refused."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cluster.cli import main
from workers.features import redact

# Published values: Bitcoin's genesis address, a BIP-173 example, a card networks' test number.
GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
SEGWIT = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
CARD = "4111111111111111"
PLANTS = [
    ("bitcoin", GENESIS, GENESIS, "ascii"),
    ("email", "examiner@lab.example.org", "examiner@lab.example.org", "ascii"),
    ("bitcoin", SEGWIT, SEGWIT, "utf16le"),
    ("ccn", "4111 1111 1111 1111", CARD, "ascii"),
    ("bitcoin", GENESIS, GENESIS, "utf16le"),
    ("ccn", CARD, CARD, "ascii"),
]


@pytest.fixture(autouse=True)
def _no_ray_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")


def plant(path: Path, seed: int) -> list[tuple[str, int, str, str]]:
    """Random bytes with each plant between a space and a newline; (kind, offset, value, encoding)."""
    rng = random.Random(seed)
    out, placed = io.BytesIO(), []
    for kind, text, value, encoding in PLANTS:
        # Non-text filler (bytes 0x80..0xff) so nothing else is found by chance.
        out.write(bytes(rng.randrange(0x80, 0x100) for _ in range(rng.randrange(20_000, 90_000))))
        codec = "utf-16-le" if encoding == "utf16le" else "ascii"
        out.write(" ".encode(codec))
        placed.append((kind, out.tell(), value, encoding))
        out.write(text.encode(codec))
        out.write("\n".encode(codec))
    out.write(bytes(rng.randrange(0x80, 0x100) for _ in range(10_000)))
    path.write_bytes(out.getvalue())
    return placed


def feature_lines(out: Path, kind: str) -> list[tuple[int, str, str]]:
    lines = [ln for ln in (out / f"{kind}.txt").read_text().splitlines() if not ln.startswith("#")]
    return [(int(o), v, c) for o, v, c in (ln.split("\t") for ln in lines)]


def test_planted_values_in_bulk_extractor_layout(tmp_path: Path) -> None:
    placed = plant(tmp_path / "img.raw", seed=6)
    out = tmp_path / "out"
    # 64 KiB segments: plants land near and across segment edges.
    assert main(["scan", str(tmp_path / "img.raw"), "--out", str(out), "--segment-size", "64KiB", "--jobs", "2"]) == 0
    for kind in ("bitcoin", "email", "ccn"):
        want = [(o, v) for k, o, v, _ in placed if k == kind]
        assert [(o, v) for o, v, _ in feature_lines(out, kind)] == want
    # Derived: the e-mail's domain, at the offset of its host.
    email_at = next(o for k, o, _, _ in placed if k == "email")
    assert [(o, v) for o, v, _ in feature_lines(out, "domain")] == [(email_at + 9, "lab.example.org")]
    # Context: 16 bytes either side, non-text escaped as \xNN.
    raw = (tmp_path / "img.raw").read_bytes()
    around = raw[email_at - 16 : email_at + len("examiner@lab.example.org") + 16]
    escaped = "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02X}" for b in around)
    assert feature_lines(out, "email")[0][2] == escaped
    histogram = (out / "bitcoin_histogram.txt").read_text().splitlines()[1:]
    assert histogram == [f"n=2\t{GENESIS}\t(utf16=1)", f"n=1\t{SEGWIT}\t(utf16=1)"]
    assert (out / "ccn_histogram.txt").read_text().splitlines()[1:] == [f"n=2\t{CARD}"]
    table = pq.read_table(out / "features.parquet").to_pylist()
    stored = sorted((r["kind"], r["offset"], r["value"], r["encoding"]) for r in table if r["kind"] != "domain")
    assert stored == sorted(placed)
    report = json.loads((out / "report.json").read_text())
    assert report["hits"]["bitcoin"] == 3 and report["size"] == (tmp_path / "img.raw").stat().st_size
    assert (out / "telephone.txt").exists() and feature_lines(out, "telephone") == []


def test_sensitive_values_are_stored_whole_and_redacted_in_views() -> None:
    assert redact("ccn", CARD) == "411111******1111"
    phrase = "abandon " * 11 + "about"
    assert redact("bip39", phrase) == "abandon ... [12 words redacted]"
    block = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----"
    assert redact("ssh_private_key", block) == f"-----BEGIN OPENSSH PRIVATE KEY----- [{len(block)} bytes redacted]"
    assert redact("email", "a@example.com") == "a@example.com"


def test_bad_input_is_refused_with_its_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.raw"
    assert main(["scan", str(missing), "--out", str(tmp_path / "o1")]) == 2
    assert str(missing) in capsys.readouterr().err
    (tmp_path / "img.raw").write_bytes(b"\x80" * 1000)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("earlier results")
    assert main(["scan", str(tmp_path / "img.raw"), "--out", str(taken)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (taken / "keep.txt").read_text() == "earlier results"
    with pytest.raises(SystemExit):
        main(["scan", str(tmp_path / "img.raw"), "--out", str(tmp_path / "o2"), "--kinds", "email,shoesize"])
    assert "shoesize" in capsys.readouterr().err
