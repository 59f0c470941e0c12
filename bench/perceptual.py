"""Perceptual hashing: PDQ pictures per second on 1-megapixel JPEGs, Quarry's paths beside the reference.

The input is generated: photo-like pictures (smooth colour fields, hard-edged shapes, sensor-like
noise) of 1152x864 and 864x1152 pixels, saved as JPEG quality 90 by Pillow and held in memory as
bytes, as a step holds a batch of artifacts. Each contender takes the list of JPEG blobs and
returns (hex, quality) per blob, decoding included; all run in the same process, one after the
other, after a warm-up call on a few pictures (library loading, the CUDA context), and the best of
--repeat runs counts. Contenders:

- reference: Pillow decodes, the `pdqhash` package hashes (Meta's PDQ C++), one picture at a time;
- quarry rust core: the CPU nodes' path, `rust_core.pdq_hash` (decoding included), one at a time;
- quarry tensor, cpu: workers.pdq_tensor.pdq_blobs on torch device "cpu" (libjpeg-turbo through
  torchvision, then the batched tensor code), with torch's intra-op threads;
- quarry tensor, cuda: the same on the GPU (nvJPEG), only where torch sees one.

A further contender is one function from blobs to answers, added to contenders(). Every answer is
compared with the reference's: equal hashes, and the most bits apart. Targets (issue 11): at least
3,000 pictures/s on one H100, and at least 10x the CPU path on the same machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
from collections.abc import Callable

import numpy as np
import pdqhash
import torch
from PIL import Image, ImageDraw

import rust_core
from bench.common import best_of
from workers.pdq_tensor import Undecodable, pdq_blobs

Answer = tuple[str, int] | None  # (hex, quality), or None where the contender could not hash the blob
Contender = Callable[[list[bytes]], list[Answer]]
SIZES = [(864, 1152), (1152, 864)]  # (height, width): about one megapixel, landscape and portrait
TARGET_CUDA_PER_S = 3000.0
TARGET_CUDA_OVER_CPU = 10.0


def photo_jpeg(seed: int, h: int, w: int, quality: int = 90) -> bytes:
    """A photo-like picture as JPEG bytes (smooth fields, a few shapes, noise)."""
    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(0, 256, (h // 48, w // 48, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)
    draw = ImageDraw.Draw(im)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        box = (x0, y0, x0 + int(rng.integers(20, w // 2)), y0 + int(rng.integers(20, h // 2)))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    noisy = np.asarray(im).astype(np.int16) + rng.integers(-6, 7, (h, w, 3), dtype=np.int16)
    out = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=quality)
    return out.getvalue()


def reference_pdq(blobs: list[bytes]) -> list[Answer]:
    """What a lab script would do: Pillow decodes, pdqhash hashes."""
    out: list[Answer] = []
    for blob in blobs:
        with Image.open(io.BytesIO(blob)) as im:
            bits, quality = pdqhash.compute(np.asarray(im.convert("RGB")))
        out.append((f"{int(''.join(str(b) for b in bits.tolist()), 2):064x}", int(quality)))
    return out


def rust_pdq(blobs: list[bytes]) -> list[Answer]:
    """Quarry's CPU path, the one a CPU node's step runs: the Rust core decodes and hashes,
    one picture at a time on one core."""
    out: list[Answer] = []
    for blob in blobs:
        try:
            out.append(rust_core.pdq_hash(blob))
        except rust_core.CoreError:
            out.append(None)
    return out


def tensor_pdq(device: str) -> Contender:
    """Quarry's batched tensor path on `device`, decoding included."""

    def run(blobs: list[bytes]) -> list[Answer]:
        return [None if isinstance(r, Undecodable) else tuple(r) for r in pdq_blobs(blobs, device)]

    return run


def contenders() -> list[tuple[str, Contender]]:
    """Reference first (the ratios are against it); one line per further contender."""
    found = [
        ("reference pdqhash (Pillow decode)", reference_pdq),
        ("quarry rust core, cpu (1 thread)", rust_pdq),
        (f"quarry tensor, cpu ({torch.get_num_threads()} threads)", tensor_pdq("cpu")),
    ]
    if torch.cuda.is_available():
        found.append((f"quarry tensor, cuda ({torch.cuda.get_device_name()})", tensor_pdq("cuda")))
    return found


def agreement(got: list[Answer], want: list[Answer]) -> tuple[int, int]:
    """(answers equal to the reference's, most bits apart; 256 where one side has no hash)."""
    equal, worst = 0, 0
    for g, w in zip(got, want, strict=True):
        if g == w:
            equal += 1
        elif g is None or w is None:
            worst = 256
        else:
            worst = max(worst, (int(g[0], 16) ^ int(w[0], 16)).bit_count())
    return equal, worst


def bench_perceptual(count: int, seed: int, repeat: int) -> dict[str, object]:
    print(f"generating {count} JPEGs of about 1 megapixel ...", flush=True)
    blobs = [photo_jpeg(seed + k, *SIZES[k % len(SIZES)]) for k in range(count)]
    megabytes = sum(len(b) for b in blobs) / 1e6
    rows: list[tuple[str, float, int, int]] = []
    want: list[Answer] = []
    for name, run in contenders():
        print(f"  running {name} ...", flush=True)
        run(blobs[:4])  # warm-up: libraries, the CUDA context, nvJPEG
        seconds, got = best_of(repeat, lambda run=run: run(blobs))
        want = want or got
        equal, worst = agreement(got, want)
        rows.append((name, seconds, equal, worst))
    base = rows[0][1]
    print(f"\nperceptual hashing: {count} JPEGs ({megabytes:.0f} MB, {SIZES[0][0]}x{SIZES[0][1]} both ways), "
          f"best of {repeat}, decoding included, {os.cpu_count()} cores")  # fmt: skip
    print(f"  {'contender':52} {'seconds':>8} {'pictures/s':>11} {'x reference':>12} {'= reference':>12} {'bits':>5}")
    for name, seconds, equal, worst in rows:
        speed = f"{seconds:8.2f} {count / seconds:11.1f} {base / seconds:12.2f}"
        print(f"  {name:52} {speed} {equal:>7}/{count:<4} {worst:5}")
    figures: dict[str, object] = {
        name: {"per_s": round(count / seconds, 1), "x_reference": round(base / seconds, 2), "equal": equal,
               "max_bits_apart": worst}
        for name, seconds, equal, worst in rows
    }  # fmt: skip
    cuda = [r for r in rows if "cuda" in r[0]]
    cpu = [r for r in rows if "tensor, cpu" in r[0]]
    if cuda and cpu:
        per_s, over_cpu = count / cuda[0][1], cpu[0][1] / cuda[0][1]
        print(f"  cuda: {per_s:.0f} pictures/s (target {TARGET_CUDA_PER_S:.0f}), {over_cpu:.1f}x the tensor cpu "
              f"path (target {TARGET_CUDA_OVER_CPU:.0f}x)")  # fmt: skip
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--count", type=int, default=500, help="JPEGs to hash (default 500)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--repeat", type=int, default=2, help="runs per contender; the best counts (default 2)")
    ap.add_argument("--threads", type=int, help="torch intra-op threads for the cpu path (default: torch's)")
    args = ap.parse_args()
    if args.count < 1 or args.repeat < 1:
        ap.error("--count and --repeat must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(json.dumps(bench_perceptual(args.count, args.seed, args.repeat)))


if __name__ == "__main__":
    main()
