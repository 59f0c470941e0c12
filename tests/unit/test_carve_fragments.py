"""Bifragment gap carving: a JPEG, ZIP or PDF split at a 4 KiB block boundary of the
image, with other data between its two fragments, comes back whole (its SHA-256 from
hashlib over the original file) with both byte runs, through `quarry carve`."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from cluster.cli import main
from cluster.forge.files import jpeg, zip_archive

BLOCK = 4096


@pytest.fixture(autouse=True)
def _no_ray_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")


def many_object_pdf(rng: random.Random, target: int) -> bytes:
    """A PDF of small objects with a correct cross-reference table (offsets counted here).
    Objects every couple of KiB let the table pin the seam; a PDF whose one large stream
    spans the seam cannot be told from its neighbours and is not reassembled."""
    out = bytearray(b"%PDF-1.4\n")
    offsets: list[int] = []
    while len(out) < target:
        n = len(offsets) + 1
        offsets.append(len(out))
        if n == 1:
            body = b"<< /Type /Catalog /Pages 2 0 R >>"
        elif n == 2:
            body = b"<< /Type /Pages /Kids [] /Count 0 >>"
        else:
            words = " ".join(
                rng.choice(["ledger", "invoice", "wallet", "courier"]) for _ in range(rng.randrange(100, 300))
            )
            body = f"<< /Note ({words}) >>".encode()
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def fragmented_image(path: Path, data: bytes, seed: int, gap_blocks: int, cut_at: int) -> list[tuple[int, int]]:
    """Random bytes; `data` starts mid-block, breaks at the block boundary `cut_at` bytes
    into it, and resumes `gap_blocks` blocks later. Returns the planted runs."""
    rng = random.Random(seed)
    start = 8 * BLOCK - cut_at % BLOCK
    cut = start + cut_at
    second_at = cut + gap_blocks * BLOCK
    image = bytearray(rng.randbytes(second_at + len(data) - cut_at + 3 * BLOCK + 77))
    image[start:cut] = data[:cut_at]
    image[second_at : second_at + len(data) - cut_at] = data[cut_at:]
    path.write_bytes(bytes(image))
    return [(start, cut_at), (second_at, len(data) - cut_at)]


def cut_point(kind: str, data: bytes) -> int:
    """Where the fragments part: for a JPEG inside its scan data (where a break shows
    soon after the cut), else three quarters in."""
    if kind == "jpeg":
        return data.index(b"\xff\xda") + 200
    return len(data) * 3 // 4


@pytest.mark.parametrize("kind,make", [("jpeg", jpeg), ("zip", zip_archive), ("pdf", many_object_pdf)])
@pytest.mark.parametrize("gap_blocks", [1, 9, 60])
def test_two_fragments_are_put_back_together(tmp_path: Path, kind: str, make, gap_blocks: int) -> None:
    data = make(random.Random(gap_blocks), 0 if kind == "jpeg" else 60_000)
    cut_at = cut_point(kind, data)
    assert 0 < cut_at < len(data) - 100
    runs = fragmented_image(tmp_path / "img.raw", data, gap_blocks, gap_blocks, cut_at)
    out = tmp_path / "out"
    assert main(["carve", str(tmp_path / "img.raw"), "--out", str(out), "--types", kind, "--jobs", "1"]) == 0
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    row = next(r for r in rows if r["offset"] == runs[0][0])
    assert row["fragmented"] is True
    assert row["status"] == "complete"
    assert [tuple(r) for r in row["runs"]] == runs
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    assert (out / row["path"]).read_bytes() == data


def words(rng: random.Random, size: int) -> bytes:
    vocab = ["ledger", "invoice", "wallet", "courier", "deposit", "transfer", "meeting"]
    out = bytearray()
    while len(out) < size:
        out += (rng.choice(vocab) + " ").encode()
    return bytes(out[:size])


def jpeg_with_comment(rng: random.Random, payload: bytes) -> bytes:
    """A JPEG with a comment holding `payload` (no walker checks it) after its first segment."""
    data = jpeg(rng, 0)
    after = 4 + int.from_bytes(data[4:6], "big")
    return data[:after] + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + data[after:]


def one_stream_pdf(payload: bytes) -> bytes:
    """A PDF whose content is one uncompressed stream holding `payload`."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = [len(out)]
    out += b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    offsets.append(len(out))
    out += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    offsets.append(len(out))
    out += f"3 0 obj\n<< /Length {len(payload)} >>\nstream\n".encode() + payload + b"\nendstream\nendobj\n"
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def carved_at(tmp_path: Path, kind: str, data: bytes, cut_at: int, gap_blocks: int) -> tuple[dict, list]:
    runs = fragmented_image(tmp_path / "img.raw", data, gap_blocks, gap_blocks, cut_at)
    out = tmp_path / "out"
    assert main(["carve", str(tmp_path / "img.raw"), "--out", str(out), "--types", kind, "--jobs", "1"]) == 0
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    return next(r for r in rows if r["offset"] == runs[0][0]), runs


@pytest.mark.parametrize("kind", ["jpeg", "pdf"])
def test_a_seam_inside_text_is_pinned_by_the_text(tmp_path: Path, kind: str) -> None:
    """Split inside a segment or stream whose content no walker checks (a JPEG comment, a
    PDF's uncompressed stream), every cut within it passes the structure; only the right
    one has text on both sides of the seam."""
    rng = random.Random(7)
    payload = words(rng, 40_000)
    data = jpeg_with_comment(rng, payload) if kind == "jpeg" else one_stream_pdf(payload)
    cut_at = data.index(payload[:50]) + 6 * BLOCK + 123
    row, runs = carved_at(tmp_path, kind, data, cut_at, 17)
    assert (row["status"], row["fragmented"]) == ("complete", True)
    assert [tuple(r) for r in row["runs"]] == runs
    assert row["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("kind", ["jpeg", "pdf"])
def test_a_seam_nothing_pins_is_not_guessed(tmp_path: Path, kind: str) -> None:
    """Split inside random bytes no walker checks: several cuts explain the file equally
    well, so no reassembly is reported (a wrong file would be worse than none)."""
    rng = random.Random(8)
    payload = rng.randbytes(40_000).replace(b"\xff", b"\x00")
    data = jpeg_with_comment(rng, payload) if kind == "jpeg" else one_stream_pdf(payload)
    cut_at = data.index(payload[:50]) + 6 * BLOCK + 123
    row, _ = carved_at(tmp_path, kind, data, cut_at, 17)
    assert row["fragmented"] is False and row["status"] != "complete"
