"""The carving corpus: a raw image with thousands of planted files of many types and an
answer key, the input of the carving benchmark (`quarry forge --profile carving`).

What makes carving hard is here on purpose: mostly random bytes between files (where a
carver's false positives come from) and some zero runs; starts on sector boundaries and
between them (a carver that looks only at sector starts misses the latter); about 10 %
of files cut short and followed by random bytes; about 3 % of JPEG, ZIP and PDF files split
into two pieces on cluster boundaries with other data between them; files inside files
(Exif thumbnails, a picture stored in a DOCX, a JPEG image in a PDF).

Files come from the published samples in ../shared/testdata (small/ and PngSuite) and from
the generators in `cluster.forge.files` and `cluster.forge.samples`. The image is written
front to back in bounded chunks, everything is drawn from one `random.Random(seed)`, and
every digest in the key is taken over the bytes as written.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cluster.forge import files, samples
from cluster.forge.fragments import CLUSTER, bifragment
from cluster.forge.image import Writer, count_by_status, key_head

SECTOR = 512
KEY_VERSION = 1
PROFILE = "carving"
DEFAULT_TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"

# Planted items per kind (relative weights).
KIND_WEIGHTS = {
    "jpeg": 14, "png": 9, "gif": 4, "bmp": 3, "tiff": 3, "riff": 4, "pdf": 9, "zip": 10, "gzip": 4, "7z": 2,
    "rar": 2, "sqlite": 4, "mp4": 4, "mp3": 5, "elf": 4, "pe": 5, "ole": 3, "mbox": 2, "eml": 4, "html": 6,
}  # fmt: skip
# Kinds of the carver that the corpus does not plant, and why.
LEFT_OUT = {
    "evtx": "no published sample and no standard-library writer",
    "regf": "no published sample and no standard-library writer",
    "lnk": "no published sample and no standard-library writer",
}
# Target sizes (bytes), drawn log-uniformly; the generators land near them.
SIZES = {
    "jpeg": (2_000, 600_000), "png": (1_000, 400_000), "gif": (1_000, 120_000), "bmp": (1_000, 2_000_000),
    "tiff": (1_000, 2_000_000), "riff": (2_000, 3_000_000), "pdf": (2_000, 600_000), "zip": (2_000, 800_000),
    "gzip": (1_000, 500_000), "sqlite": (8_000, 1_000_000), "mp4": (4_000, 4_000_000), "mp3": (8_000, 2_000_000),
    "elf": (2_000, 600_000), "pe": (2_000, 800_000), "mbox": (2_000, 400_000), "eml": (1_000, 200_000),
    "html": (500, 150_000), "7z": (1_000, 800_000), "ole": (8_000, 1_500_000), "rar": (1, 2),
}  # fmt: skip
LARGE = (2 << 20, 12 << 20)  # a few large files, made by the cheap generators only
LARGE_RATE = 0.015
LARGE_KINDS = {"bmp", "tiff", "riff", "mp4", "mp3", "zip", "gzip", "elf", "pe"}
TRUNCATE_RATE = 0.10
FRAGMENT_RATE = 0.03  # of all items; only JPEG, ZIP and PDF of at least 16 KiB are split
FRAGMENT_KINDS = {"jpeg", "zip", "pdf"}
MIN_SPLIT = 16 * 1024  # smaller files (published samples) stay whole
FRAGMENT_SHARE = sum(KIND_WEIGHTS[k] for k in FRAGMENT_KINDS) / sum(KIND_WEIGHTS.values())
NEVER_TRUNCATED = {"mbox"}  # a cut between two messages is a complete mailbox
ZERO_CONTEXT_RATE = 0.15
POOL_SIZE = 32  # distinct base files per slow generator; every planted copy is stamped unique
SAMPLE_RATE = 0.07  # share of a kind's items that are published samples (PNG: PngSuite, more)

Made = tuple[str | None, bytes, str]  # subtype, bytes, source
Producer = Callable[[random.Random, int], Made]


class _Pool:
    """Up to POOL_SIZE files from a slow generator, each handed out with a fresh stamp."""

    def __init__(self, make: Callable[[random.Random, int], bytes], stamp: Callable[[bytes, bytes], bytes]) -> None:
        self.make, self.stamp = make, stamp
        self.files: list[bytes] = []

    def draw(self, rng: random.Random, target: int) -> bytes:
        if len(self.files) < POOL_SIZE:
            self.files.append(self.make(rng, target))
            base = self.files[-1]
        else:
            base = rng.choice(self.files)
        return self.stamp(base, samples.tag(rng))


def file_makers(published: list[samples.Sample]) -> dict[str, list[tuple[float, Producer]]]:
    """Per kind, weighted ways of making one file."""
    jpegs = _Pool(files.jpeg, samples.stamp_jpeg)
    thumbs = _Pool(lambda rng, _: files.jpeg(rng, 2_000), samples.stamp_jpeg)
    pngs = _Pool(files.png, samples.stamp_png)
    gifs = _Pool(samples.gif, samples.stamp_gif)
    pdfs = _Pool(files.pdf, samples.stamp_pdf)
    zips = _Pool(files.zip_archive, samples.stamp_zip)

    def fresh(make: Callable[[random.Random, int], samples.Generated]) -> Producer:
        return lambda rng, target: (*make(rng, target), "generated")

    def pooled(pool: _Pool, subtype: str | None = None) -> Producer:
        return lambda rng, target: (subtype, pool.draw(rng, target), "generated")

    def exif(rng: random.Random, target: int) -> Made:
        return "exif", samples.with_exif_thumbnail(jpegs.draw(rng, target), thumbs.draw(rng, 0)), "generated"

    def pdf_with_image(rng: random.Random, target: int) -> Made:
        return (*samples.pdf_incremental(rng, target, thumbs.draw(rng, 0)), "generated")

    def docx_with_media(rng: random.Random, target: int) -> Made:
        return (*samples.ooxml(rng, target, "docx", pngs.draw(rng, 20_000)), "generated")

    def ooxml(subtype: str) -> Producer:
        return lambda rng, target: (*samples.ooxml(rng, target, subtype), "generated")

    table: dict[str, list[tuple[float, Producer]]] = {
        "jpeg": [(0.6, pooled(jpegs, "jfif")), (0.4, exif)],
        "png": [(1.0, pooled(pngs))],
        "gif": [(1.0, pooled(gifs))],
        "bmp": [(1.0, fresh(samples.bmp))],
        "tiff": [(1.0, fresh(samples.tiff))],
        "riff": [(0.5, fresh(samples.wav)), (0.5, fresh(samples.avi))],
        "pdf": [(0.45, pooled(pdfs)), (0.35, fresh(samples.pdf_incremental)), (0.2, pdf_with_image)],
        "zip": [
            (0.25, pooled(zips, "zip")), (0.08, ooxml("docx")), (0.08, docx_with_media), (0.1, ooxml("xlsx")),
            (0.08, ooxml("pptx")), (0.07, fresh(samples.odf)), (0.05, fresh(samples.epub)), (0.1, fresh(samples.jar)),
            (0.07, fresh(samples.apk)), (0.12, fresh(samples.zip_mixed)),
        ],
        "gzip": [(1.0, fresh(samples.gzip_file))],
        "7z": [(1.0, fresh(samples.sevenzip))],
        "rar": [],
        "sqlite": [(1.0, fresh(samples.sqlite_db))],
        "mp4": [(1.0, fresh(samples.mp4))],
        "mp3": [(1.0, fresh(samples.mp3))],
        "elf": [(1.0, fresh(samples.elf))],
        "pe": [(1.0, fresh(samples.pe))],
        "ole": [(1.0, fresh(samples.ole))],
        "mbox": [(1.0, fresh(samples.mbox))],
        "eml": [(1.0, fresh(samples.eml))],
        "html": [(1.0, fresh(samples.html))],
    }  # fmt: skip
    by_kind: dict[str, list[samples.Sample]] = {}
    for s in published:
        by_kind.setdefault(s.kind, []).append(s)
    for kind, mine in by_kind.items():
        share = 1.0 if not table[kind] else (0.3 if kind == "png" else SAMPLE_RATE)
        made = sum(w for w, _ in table[kind])
        table[kind] = [(w * (1 - share) / made, p) for w, p in table[kind]]
        table[kind].append((share, lambda rng, _, mine=mine: _published(rng, mine)))
    return table


def _published(rng: random.Random, mine: list[samples.Sample]) -> Made:
    s = rng.choice(mine)
    return s.subtype, s.data, s.source


def _target(rng: random.Random, kind: str, image_size: int) -> int:
    if kind in LARGE_KINDS and rng.random() < LARGE_RATE:
        lo, hi = LARGE
    else:
        lo, hi = SIZES[kind]
    hi = max(lo + 1, min(hi, image_size // 16))
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _start(rng: random.Random, pos: int, gap: int, status: str) -> tuple[int, bool]:
    start = pos + gap
    if status == "fragmented":
        return start + -start % CLUSTER, True
    if rng.random() < 0.5:
        grain = CLUSTER if rng.random() < 0.25 else SECTOR
        return start + -start % grain, True
    if start % SECTOR == 0:
        start += rng.randrange(1, SECTOR)
    return start, False


def forge_corpus(
    path: str | Path, size: int, seed: int = 1, testdata: Path | None = DEFAULT_TESTDATA, spacing: int = 1
) -> dict[str, Any]:
    """Write the corpus image at `path` and its key at `path`.key.json; returns the key.

    `testdata` is the published test data folder (its small/ and pngsuite/); None plants
    generated files only (the key says so). `spacing` multiplies the random data between
    files: 1 packs about 4,700 files into a GiB, 12 about 430 (as sparse as the carving
    issue's own measurement)."""
    if spacing < 1:
        raise ValueError(f"spacing must be at least 1, got {spacing}")
    if size < 1 << 20:
        raise ValueError(f"image size must be at least 1 MiB, got {size} bytes")
    if testdata is not None and not testdata.is_dir():
        raise FileNotFoundError(
            f"published samples not found at {testdata}: name the folder, or plant generated files only"
        )
    published = samples.published_samples(testdata) if testdata is not None else []
    producers = file_makers(published)
    kinds = [k for k in KIND_WEIGHTS if producers[k]]
    weights = [KIND_WEIGHTS[k] for k in kinds]
    fragment_given_kind = FRAGMENT_RATE / FRAGMENT_SHARE
    rng = random.Random(seed)
    path = Path(path)
    items: list[dict[str, Any]] = []
    with open(path, "wb") as out:
        w = Writer(out, rng)
        w.fill(64 * 1024, "zeros")  # where a partition table would be
        after_truncated = False
        while True:
            kind = rng.choices(kinds, weights)[0]
            _, make = rng.choices(producers[kind], [wt for wt, _ in producers[kind]])[0]
            roll = rng.random()
            split = kind in FRAGMENT_KINDS and roll < fragment_given_kind
            target = _target(rng, kind, size)
            subtype, data, source = make(rng, max(target, 3 * MIN_SPLIT) if split else target)
            status = "intact"
            if split and len(data) >= MIN_SPLIT:
                status = "fragmented"
            elif roll > 1 - TRUNCATE_RATE and len(data) >= 256 and kind not in NEVER_TRUNCATED:
                status = "truncated"
            context = "random" if after_truncated or rng.random() >= ZERO_CONTEXT_RATE else "zeros"
            gap = rng.choice([rng.randrange(1, 4096), rng.randrange(4096, 256 * 1024)])
            gap *= spacing
            if after_truncated:
                gap = max(gap, 64)  # the cut file runs into random bytes, not straight into the next
            start, aligned = _start(rng, w.pos, gap, status)
            item: dict[str, Any] = {"id": len(items), "kind": kind, "subtype": subtype, "source": source}
            planted = data
            runs = [(start, len(data))]
            if status == "truncated":
                planted = data[: rng.randrange(len(data) // 4, len(data) * 3 // 4)]
                runs = [(start, len(planted))]
            elif status == "fragmented":
                runs = bifragment(rng, start, len(data))
            end = runs[-1][0] + runs[-1][1]
            if end > size - SECTOR:
                break
            w.fill(start - w.pos, context)
            piece_at = 0
            for i, (offset, length) in enumerate(runs):
                if i:
                    w.fill(offset - w.pos, "random")  # other data between the pieces
                w.write(planted[piece_at : piece_at + length])
                piece_at += length
            item |= {
                "offset": start,
                "length": len(planted),
                "sha256": hashlib.sha256(planted).hexdigest(),
                "status": status,
                "aligned": aligned,
                "context": context,
            }
            if status == "truncated":
                item["full_length"] = len(data)
                item["full_sha256"] = hashlib.sha256(data).hexdigest()
            if status == "fragmented":
                item["runs"] = [list(r) for r in runs]
            items.append(item)
            after_truncated = status == "truncated"
        w.fill(size - w.pos, "random")
    key = {
        **key_head(w, path, size, seed, KEY_VERSION, PROFILE),
        "samples": _samples_note(testdata, published),
        "left_out": LEFT_OUT,
        **({"spacing": spacing} if spacing != 1 else {}),
        "counts": count_by_status(items),
        "items": items,
    }
    Path(f"{path}.key.json").write_text(json.dumps(key, indent=1))
    return key


def _samples_note(testdata: Path | None, published: list[samples.Sample]) -> dict[str, Any]:
    digest = hashlib.sha256()
    for s in published:
        digest.update(s.source.encode() + b"\x00" + hashlib.sha256(s.data).digest())
    return {"folder": str(testdata) if testdata else None, "files": len(published), "digest": digest.hexdigest()}
