"""`quarry carve IMAGE --out DIR` end to end: real sample files planted at odd offsets in
random bytes come back byte-exact (checked with hashlib against the planted bytes), named
by offset and type, nested files linked to their parent, bad input refused."""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from pathlib import Path

import pytest

from cluster.cli import main
from workers.carve_links import ParentLinker


@pytest.fixture(autouse=True)
def _no_ray_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")


def plant(path: Path, files: list[bytes], seed: int, gap: tuple[int, int] = (1, 70_000)) -> list[tuple[int, bytes]]:
    """Write random bytes with `files` planted at odd offsets; return (offset, bytes)."""
    rng = random.Random(seed)
    placed, out = [], io.BytesIO()
    for data in files:
        out.write(rng.randbytes(rng.randrange(*gap) | 1))
        placed.append((out.tell(), data))
        out.write(data)
    out.write(rng.randbytes(50_000))
    path.write_bytes(out.getvalue())
    return placed


def read_manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def test_planted_samples_come_back_byte_exact_named_by_offset(tmp_path: Path, testdata: Path) -> None:
    names = ["jpeg.jpg", "png-transparent.png", "pdf.pdf", "zip.zip", "jpeg.jpg"]
    samples = [(testdata / "small" / n).read_bytes() for n in names]
    placed = plant(tmp_path / "img.raw", samples, seed=4)
    out = tmp_path / "out"
    # Small segments: several planted files cross a segment boundary.
    assert main(["carve", str(tmp_path / "img.raw"), "--out", str(out), "--segment-size", "64KiB", "--jobs", "2"]) == 0
    rows = {r["offset"]: r for r in read_manifest(out)}
    for offset, data in placed:
        row = rows[offset]
        assert row["status"] == "complete"
        assert row["length"] == len(data)
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
        carved = (out / row["path"]).read_bytes()
        assert carved == data
        assert row["path"].startswith(f"{row['kind']}/{offset:012d}")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["size"] == (tmp_path / "img.raw").stat().st_size


def test_a_jpeg_stored_in_a_zip_is_its_child(tmp_path: Path, testdata: Path) -> None:
    jpeg = (testdata / "small" / "jpeg.jpg").read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("readme.txt", "a note\n")
        z.writestr("photos/p1.jpg", jpeg)
    archive = buf.getvalue()
    [(zip_at, _)] = plant(tmp_path / "img.raw", [archive], seed=5)
    jpeg_at = zip_at + archive.index(jpeg)
    out = tmp_path / "out"
    assert main(["carve", str(tmp_path / "img.raw"), "--out", str(out), "--jobs", "1"]) == 0
    rows = {(r["offset"], r["kind"]): r for r in read_manifest(out)}
    assert rows[(zip_at, "zip")]["sha256"] == hashlib.sha256(archive).hexdigest()
    assert rows[(zip_at, "zip")]["parent_offset"] is None
    child = rows[(jpeg_at, "jpeg")]
    assert child["sha256"] == hashlib.sha256(jpeg).hexdigest()
    assert child["parent_offset"] == zip_at


def test_type_choice_and_alignment(tmp_path: Path, testdata: Path) -> None:
    jpeg = (testdata / "small" / "jpeg.jpg").read_bytes()
    png = (testdata / "small" / "png-transparent.png").read_bytes()
    placed = plant(tmp_path / "img.raw", [jpeg, png], seed=6)
    out = tmp_path / "only-png"
    assert main(["carve", str(tmp_path / "img.raw"), "--out", str(out), "--types", "png", "--jobs", "1"]) == 0
    assert [(r["offset"], r["kind"]) for r in read_manifest(out)] == [(placed[1][0], "png")]
    # Both planted at odd offsets: a sector-aligned search finds neither.
    out = tmp_path / "aligned"
    assert main(["carve", str(tmp_path / "img.raw"), "--out", str(out), "--align", "512", "--jobs", "1"]) == 0
    assert not {r["offset"] for r in read_manifest(out)} & {o for o, _ in placed}


def test_bad_input_is_named_and_nothing_is_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["carve", str(tmp_path / "missing.raw"), "--out", str(tmp_path / "o")]) == 2
    assert "missing.raw" in capsys.readouterr().err
    img = tmp_path / "img.raw"
    img.write_bytes(random.Random(1).randbytes(100_000))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("examiner's notes")
    assert main(["carve", str(img), "--out", str(busy)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (busy / "keep.txt").read_text() == "examiner's notes"
    with pytest.raises(SystemExit):
        main(["carve", str(img), "--out", str(tmp_path / "o2"), "--types", "jpeg,nosuch"])


def test_parent_linker_by_containment() -> None:
    linker = ParentLinker()
    # (offset, length) in carve order, with the expected parent offset.
    cases = [((0, 1000), None), ((10, 100), 0), ((20, 10), 10), ((200, 50), 0), ((990, 20), None), ((1000, 5), 990)]
    for (offset, length), want in cases:
        parent = linker.parent(offset, length)
        assert (parent.offset if parent else None) == want, (offset, length)
