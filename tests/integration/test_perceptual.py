"""Perceptual hashes in a real job: every planted picture's manifest row carries the PDQ that
Meta's reference (`pdqhash`, on Pillow's pixels) gives and a pHash, on the Rust path and on
the GPU's tensor path run on the CPU, with the same answers; a damaged picture gets a warning,
never a failed job."""

from __future__ import annotations

import io

import numpy as np
import pdqhash
import pyarrow.parquet as pq
import pytest
from PIL import Image

from cluster import api
from cluster.results import manifest_key
from tests.integration.conftest import quarry
from workers.store import RESULTS

MiB = 1 << 20


def photo(seed: int, width: int, height: int) -> Image.Image:
    """A smooth random field, photo-like enough for PDQ's quality to be high."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 16 + 2, width // 16 + 2, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((width, height), Image.BICUBIC)


def encoded(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def reference_pdq(data: bytes) -> str:
    """The reference's hash of the picture as Pillow decodes it, in the hex Quarry writes."""
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    bits, _ = pdqhash.compute(pixels)
    return f"{int(''.join(str(int(b)) for b in bits), 2):064x}"  # its first bit is the hex's top bit


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> dict:
    """An image of zeros holding two PNGs, a BMP and a JPEG at odd offsets, and a PNG cut short."""
    pictures = {
        "png": encoded(photo(1, 300, 200), "PNG"),
        "bmp": encoded(photo(2, 160, 120), "BMP"),
        "png2": encoded(photo(3, 640, 480), "PNG"),
        "jpeg": encoded(photo(4, 400, 300), "JPEG"),
    }
    cut = encoded(photo(5, 200, 200), "PNG")
    image = bytearray(6 * MiB)
    offsets = {"png": MiB + 7, "bmp": 2 * MiB + 513, "png2": 3 * MiB + 4095, "jpeg": 4 * MiB + 3, "cut": 5 * MiB + 11}
    for name, data in pictures.items():
        image[offsets[name] : offsets[name] + len(data)] = data
    image[offsets["cut"] : offsets["cut"] + len(cut) // 2] = cut[: len(cut) // 2]
    path = tmp_path_factory.mktemp("perceptual") / "pictures.dd"
    path.write_bytes(bytes(image))
    return {"path": path, "pictures": pictures, "offsets": offsets}


def rows_of(store, job) -> dict[int, dict]:
    table = pq.read_table(io.BytesIO(store.get_bytes(RESULTS, manifest_key(job.case, job.id))))
    return {r["offset"]: r for r in table.to_pylist()}


@pytest.fixture(scope="module")
def jobs(settings, planted) -> dict:
    out = {}
    for mode in ("cpu", "tensor"):
        job = api.wait(settings, api.submit(settings, f"pictures-{mode}", [str(planted["path"])], perceptual=mode).id)
        assert job.state == "done", (job.error, job.failed_tasks)
        out[mode] = job
    return out


def test_every_picture_has_the_reference_pdq_and_a_phash(jobs, store, planted) -> None:
    rows = rows_of(store, jobs["cpu"])
    for name, data in planted["pictures"].items():
        row = rows[planted["offsets"][name]]
        assert row["length"] == len(data)
        if name != "jpeg":  # lossless: the same pixels, so the same bits
            assert row["pdq"] == reference_pdq(data), name
        else:  # decoders differ by a level here and there: a few bits at most
            distance = bin(int(row["pdq"], 16) ^ int(reference_pdq(data), 16)).count("1")
            assert distance <= 8
        assert 50 <= row["pdq_quality"] <= 100
        assert len(row["phash"]) == 16 and row["perceptual_warning"] is None
    summary = jobs["cpu"].summary["perceptual"]
    assert summary["pictures"] >= 4 and summary["engines"] == ["rust"]


def test_the_tensor_path_gives_the_same_answers(jobs, store, planted) -> None:
    rust, tensor = rows_of(store, jobs["cpu"]), rows_of(store, jobs["tensor"])
    for name in planted["pictures"]:
        offset = planted["offsets"][name]
        a, b = int(rust[offset]["pdq"], 16), int(tensor[offset]["pdq"], 16)
        assert bin(a ^ b).count("1") <= (0 if name != "jpeg" else 8), name
        assert rust[offset]["phash"] == tensor[offset]["phash"]
    assert jobs["tensor"].summary["perceptual"]["engines"] == ["cpu"]


def test_a_damaged_picture_gets_a_warning_not_a_failure(jobs, store, planted) -> None:
    row = rows_of(store, jobs["cpu"])[planted["offsets"]["cut"]]
    assert row["status"] == "truncated"
    assert row["pdq"] is None and row["perceptual_warning"]
    assert jobs["cpu"].summary["perceptual"]["warnings"] >= 1


def test_a_picture_near_a_listed_hash_is_flagged(settings, store, planted, env, tmp_path) -> None:
    """A known-bad list holding the PDQ of a half-size copy of one planted picture (as a lab
    would receive it): that picture is flagged with the reference's distance, no other is."""
    original = Image.open(io.BytesIO(planted["pictures"]["png2"]))
    copy = encoded(original.resize((original.width // 2, original.height // 2), Image.BILINEAR), "PNG")
    listed = reference_pdq(copy)
    distance = bin(int(listed, 16) ^ int(reference_pdq(planted["pictures"]["png2"]), 16)).count("1")
    assert distance <= 31
    listing = tmp_path / "known.csv"
    listing.write_text(f"{listed},case-17 exhibit 4\n")
    imported = quarry(["pdqset", "import", "--name", "csam-test", "--kind", "known-bad", str(listing)], env)
    assert imported.returncode == 0, imported.stderr
    try:
        job = api.wait(settings, api.submit(settings, "pictures-known", [str(planted["path"])], perceptual="cpu").id)
    finally:  # later jobs of the session pin what is current: leave no list behind
        assert quarry(["pdqset", "remove", "csam-test"], env).returncode == 0
    assert job.state == "done", job.error
    rows = rows_of(store, job)
    flagged = {o: r["known_images"] for o, r in rows.items() if r.get("known_images")}
    assert flagged == {planted["offsets"]["png2"]: [f"csam-test/case-17 exhibit 4@{distance}"]}
    assert job.summary["perceptual"]["known_images"] == {"csam-test": 1}
