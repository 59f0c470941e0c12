"""Perceptual hashes in a real job: every planted picture's manifest row carries the PDQ that
Meta's reference (`pdqhash`, on Pillow's pixels) gives and a pHash, on the Rust path and on
the GPU's tensor path run on the CPU, with the same answers; a damaged picture gets a warning,
never a failed job."""

from __future__ import annotations

import hashlib
import io
import json

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


def distance_between(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


@pytest.fixture(scope="module")
def variants(settings, planted, tmp_path_factory) -> dict:
    """A second case's image holding altered copies of `png2`, as an examiner meets them:
    half size, cropped by 2 % and re-encoded as JPEG quality 70."""
    original = Image.open(io.BytesIO(planted["pictures"]["png2"]))
    w, h = original.size
    copies = {
        "half": encoded(original.resize((w // 2, h // 2), Image.BILINEAR), "PNG"),
        "crop": encoded(original.crop((w // 100, h // 100, w - w // 100, h - h // 100)), "PNG"),
    }
    q70 = io.BytesIO()
    original.convert("RGB").save(q70, format="JPEG", quality=70)
    copies["q70"] = q70.getvalue()
    image = bytearray(4 * MiB)
    offsets = {"half": 100_003, "crop": MiB + 77, "q70": 2 * MiB + 1001}
    for name, data in copies.items():
        image[offsets[name] : offsets[name] + len(data)] = data
    path = tmp_path_factory.mktemp("variants") / "variants.dd"
    path.write_bytes(bytes(image))
    job = api.wait(settings, api.submit(settings, "pictures-variants", [str(path)], perceptual="cpu").id)
    assert job.state == "done", job.error
    return {"copies": copies, "offsets": offsets, "dir": path.parent}


def test_similar_images_are_ranked_by_the_references_distance(jobs, variants, planted, env) -> None:
    """`quarry find --similar-image` over two cases lists the original (0 bits) and its three
    altered copies, closest first, at the distances Meta's reference gives (exactly for the
    lossless copies, within decoder noise for the JPEG); no unrelated planted picture, all
    farther than 31 bits by the reference, is listed."""
    target = planted["pictures"]["png2"]
    sha = hashlib.sha256(target).hexdigest()
    ref = reference_pdq(target)
    expected = {("pictures-cpu", planted["offsets"]["png2"]): 0}
    for name, data in variants["copies"].items():
        expected[("pictures-variants", variants["offsets"][name])] = distance_between(reference_pdq(data), ref)
    for name, data in planted["pictures"].items():
        if name != "png2":
            assert distance_between(reference_pdq(data), ref) > 31, name
    assert all(d <= 31 for d in expected.values()), expected
    cases = ["--case", "pictures-cpu", "--case", "pictures-variants"]
    found = quarry(["find", "--similar-image", sha, *cases, "--format", "json"], env)
    assert found.returncode == 0, found.stderr
    rows = [json.loads(line) for line in found.stdout.splitlines()]
    got = {(r["case"], r["offset"]): r["pdq_distance"] for r in rows}
    assert set(got) == set(expected)
    for place, distance in got.items():
        slack = 8 if place == ("pictures-variants", variants["offsets"]["q70"]) else 0
        assert abs(distance - expected[place]) <= slack, (place, distance, expected[place])
    assert [r["pdq_distance"] for r in rows] == sorted(r["pdq_distance"] for r in rows)
    assert rows[0]["sha256"] == sha and rows[0]["pdq_distance"] == 0

    # Within 0 bits only the original; a picture file of the examiner's and a bare hash work alike.
    exact = quarry(["find", "--similar-image", sha, *cases, "--distance", "0", "--format", "json"], env)
    assert [(json.loads(r)["case"], json.loads(r)["offset"]) for r in exact.stdout.splitlines()] == [
        ("pictures-cpu", planted["offsets"]["png2"])
    ]
    picture = variants["dir"] / "half.png"
    picture.write_bytes(variants["copies"]["half"])
    by_file = quarry(["find", "--similar-image", str(picture), *cases, "--format", "json"], env)
    assert by_file.returncode == 0, by_file.stderr
    half_place = ("pictures-variants", variants["offsets"]["half"])
    by_file_rows = {(r["case"], r["offset"]): r for r in map(json.loads, by_file.stdout.splitlines())}
    assert by_file_rows[half_place]["pdq_distance"] == 0
    assert by_file_rows[("pictures-cpu", planted["offsets"]["png2"])]["pdq_distance"] == expected[half_place]
    by_hash = quarry(["find", "--similar-pdq", ref, *cases, "--format", "json"], env)
    assert {(json.loads(r)["case"], json.loads(r)["offset"]) for r in by_hash.stdout.splitlines()} == set(expected)
    table = quarry(["find", "--similar-image", sha, *cases], env)
    assert table.returncode == 0 and f"similar to sha256 {sha}" in table.stdout


def test_similar_image_errors_name_the_input(planted, env, tmp_path) -> None:
    unknown = "ab" * 32
    missing = quarry(["find", "--similar-image", unknown, "--case", "pictures-cpu"], env)
    assert missing.returncode == 2 and f"no artifact with sha256 {unknown}" in missing.stderr
    junk = tmp_path / "notes.txt"
    junk.write_text("not a picture")
    bad = quarry(["find", "--similar-image", str(junk), "--case", "pictures-cpu"], env)
    assert bad.returncode == 2 and f"{junk}: not a picture Quarry can hash" in bad.stderr
    far = quarry(["find", "--similar-pdq", "00", "--case", "pictures-cpu"], env)
    assert far.returncode == 2 and "64 hex digits" in far.stderr
    wide = quarry(["find", "--similar-pdq", "0" * 64, "--case", "pictures-cpu", "--distance", "300"], env)
    assert wide.returncode == 2 and "between 0 and 256" in wide.stderr
