"""PDQ perceptual hashes of many pictures at once, as batched tensor operations (a GPU node's path).

Why: a GPU node earns its keep by hashing thousands of pictures a second, and a node without one must
run the very same code (torch device "cpu"), so the tests exercise what a GPU runs. Every float
operation is the one the reference (Meta's PDQ C++ as the `pdqhash` package binds it) performs, in
the same order and precision, so the hashes are the reference's bit for bit:

- luminance in float64 (the package's numpy arithmetic), rounded once to float32;
- the Jarosz tent filter (two box passes along rows, then columns, twice) as running float32 sums
  stepped along one axis, each step one vector operation over every row of every picture of a
  batch. A cumulative sum or a convolution rounds differently; with them, 1 picture in 3 of the
  PNG suite got a different hash, since flat, symmetric or tiny pictures have DCT coefficients that
  tie near the median and float noise decides their bits;
- decimation to 64x64 at the reference's pixel centres;
- the 16x16 DCT as the matrix products D @ X @ D.T, each accumulated over its 64 terms in order
  (a BLAS matmul sums in blocks and with FMA, which flips the same near-median bits);
- bit k (row i, column j, k = 16i + j) set when the coefficient exceeds the median (the 128th
  smallest of 256, as the reference's Torben median returns); hex is bit 255 first, as
  Hash256::format writes it;
- quality from the gradient sum of the 64x64 image, as the reference.

Division is always by a tensor on the batch's device: CUDA turns division by a Python number into
multiplication by its reciprocal, which is not the reference's rounding.

torch and torchvision are imported when first used, so a node without them can import this module.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import torch

SIDE = 64  # the reference's downsampled size
MIN_SIDE = 5  # smaller pictures get the all-zero hash and quality 0, as in the reference
JAROSZ_PASSES = 2
LUMA = (0.299, 0.587, 0.114)
# Largest picture decoded (pixels): about a 130-megapixel photograph, below Pillow's own
# decompression-bomb refusal (2 x 89.5 M), so a forged header cannot make a node allocate gigabytes.
MAX_IMAGE_PIXELS = 1 << 27
CPU_BATCH_PIXELS = 1 << 24  # host memory per batch: about 15 bytes per pixel, so ~250 MB
CUDA_BATCH_PIXELS = 1 << 29  # at most; less when the GPU has less free memory (see batch_pixels)
LUMA_CHUNK_PIXELS = 1 << 22  # float64 luminance is computed through two buffers of this many pixels
BYTES_PER_PIXEL = 16  # uint8 RGB in + two float32 work buffers + slack, on the device
JPEG_MAGIC = b"\xff\xd8\xff"


class Pdq(NamedTuple):
    """A PDQ hash: 64 hex digits (bit 255 first) and the reference's quality score (0-100)."""

    hex: str
    quality: int


@dataclass(frozen=True)
class Undecodable:
    """A blob that gave no picture: why, in one line naming the blob's place in the batch."""

    why: str


def _torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise ImportError(
            f"workers.pdq_tensor needs PyTorch and torchvision on this node (pip install torch torchvision): {e}"
        ) from e
    return torch


def _torchvision_io() -> Any:
    try:
        import torchvision.io
    except ImportError as e:
        raise ImportError(f"workers.pdq_tensor needs torchvision on this node (pip install torchvision): {e}") from e
    return torchvision.io


def device_for_node() -> str:
    """Where this node's hashing runs: "cuda" when torch sees a GPU, else "cpu"."""
    return "cuda" if _torch().cuda.is_available() else "cpu"


def batch_pixels(device: str | torch.device) -> int:
    """Pixels per batch that keep the device's memory bounded (a GPU's by what is free now)."""
    torch = _torch()
    dev = torch.device(device)
    if dev.type != "cuda":
        return CPU_BATCH_PIXELS
    free, _ = torch.cuda.mem_get_info(dev)
    return max(1 << 20, min(CUDA_BATCH_PIXELS, free // (2 * BYTES_PER_PIXEL)))


# ---------------------------------------------------------------- hashing


def pdq_batch(
    images: torch.Tensor | Sequence[torch.Tensor],
    device: str | torch.device = "cpu",
    max_batch_pixels: int | None = None,
) -> list[Pdq]:
    """PDQ of each picture: `images` is uint8 RGB, one [N,H,W,3] tensor or a list of [H,W,3]
    tensors of any sizes (on any device). Pictures of one size are hashed together, in batches of
    at most `max_batch_pixels` pixels (default: batch_pixels(device)); a larger picture goes alone."""
    torch = _torch()
    dev = torch.device(device)
    pictures = list(images.unbind(0)) if isinstance(images, torch.Tensor) and images.dim() == 4 else list(images)
    for i, p in enumerate(pictures):
        if not isinstance(p, torch.Tensor) or p.dtype != torch.uint8 or p.dim() != 3 or p.shape[2] != 3:
            what = f"{p.dtype} {tuple(p.shape)}" if isinstance(p, torch.Tensor) else type(p).__name__
            raise ValueError(f"picture {i}: {what} is not a uint8 RGB tensor [H,W,3]")
    budget = max_batch_pixels or batch_pixels(dev)
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, p in enumerate(pictures):
        by_size.setdefault((p.shape[0], p.shape[1]), []).append(i)
    out: list[Pdq | None] = [None] * len(pictures)
    for (h, w), idx in by_size.items():
        space = _Workspace(min(len(idx), max(1, budget // max(1, h * w))), h, w, dev)
        for start in range(0, len(idx), space.pictures):
            chunk = idx[start : start + space.pictures]
            rgb = space.rgb[: len(chunk)]
            for k, i in enumerate(chunk):
                rgb[k].copy_(pictures[i])
            for i, result in zip(chunk, _hash_same_size(rgb, space), strict=True):
                out[i] = result
    return [r for r in out if r is not None]


class _Workspace:
    """The buffers one size of picture needs, allocated once and reused by each of its batches:
    on a CPU, fresh large tensors cost page faults, which cost more than the arithmetic."""

    def __init__(self, pictures: int, h: int, w: int, dev: torch.device) -> None:
        torch = _torch()
        self.pictures = pictures
        self.rgb = torch.empty((pictures, h, w, 3), dtype=torch.uint8, device=dev)
        self.one = torch.empty((pictures, h, w), dtype=torch.float32, device=dev)
        self.other = torch.empty_like(self.one) if (h, w) != (SIDE, SIDE) else self.one
        rows = max(1, min(pictures * h, LUMA_CHUNK_PIXELS // max(1, w)))  # float64 luma, a slice at a time
        self.acc = torch.empty((rows, w), dtype=torch.float64, device=dev)
        self.term = torch.empty_like(self.acc)


def _hash_same_size(rgb: torch.Tensor, space: _Workspace) -> list[Pdq]:
    torch = _torch()
    n, h, w, _ = rgb.shape
    if h < MIN_SIDE or w < MIN_SIDE:
        return [Pdq("0" * 64, 0)] * n
    if (h, w) == (SIDE, SIDE):
        small = _luma(rgb, space)  # the reference skips the filter at 64x64
    else:
        small = _jarosz_decimate(rgb, space)
    quality = _quality(small)
    dct = _dct16(small).reshape(n, 256)
    median = dct.kthvalue(128, dim=1).values
    bits = (dct > median[:, None]).view(n, 64, 4).to(torch.uint8)
    nibbles = (bits * torch.tensor([1, 2, 4, 8], dtype=torch.uint8, device=rgb.device)).sum(2, dtype=torch.uint8)
    digits = "0123456789abcdef"
    hexes = ["".join(digits[v] for v in reversed(row)) for row in nibbles.cpu().tolist()]
    return [Pdq(hx, q) for hx, q in zip(hexes, quality.cpu().tolist(), strict=True)]


def _luma(rgb: torch.Tensor, space: _Workspace) -> torch.Tensor:
    """Luminance into float32 [N, H, W] (space.one), as the package computes it: float64 products
    and sums in R, G, B order, rounded once to float32; a slice of rows at a time, through two
    float64 buffers of bounded size."""
    n, h, w, _ = rgb.shape
    flat = rgb.view(n * h, w, 3)
    out = space.one[:n].view(n * h, w)
    step = space.acc.shape[0]
    for r in range(0, n * h, step):
        rows = min(step, n * h - r)
        acc, term = space.acc[:rows], space.term[:rows]
        acc.copy_(flat[r : r + rows, :, 0]).mul_(LUMA[0])
        acc.add_(term.copy_(flat[r : r + rows, :, 1]).mul_(LUMA[1]))
        acc.add_(term.copy_(flat[r : r + rows, :, 2]).mul_(LUMA[2]))
        out[r : r + rows].copy_(acc)
    return space.one[:n]


def jarosz_window(old: int, new: int = SIDE) -> int:
    """The reference's box window for shrinking `old` pixels to `new` (half of old/new, rounded up)."""
    return (old + 2 * new - 1) // (2 * new)


def decimation_indices(old: int, new: int = SIDE) -> list[int]:
    """The reference's sample positions (pixel centres), in double precision as it computes them."""
    return [int(((i + 0.5) * old) / new) for i in range(new)]


def _jarosz_decimate(rgb: torch.Tensor, space: _Workspace) -> torch.Tensor:
    """Tent-filter and decimate to float32 [N, 64, 64]. Two full-size buffers take turns: a pass
    reads one and writes the other, a transposing copy puts the next pass's axis in the middle. The
    last two passes compute only the outputs that decimation keeps (their sums still step over
    every pixel)."""
    n, h, w, _ = rgb.shape
    win_w, win_h = jarosz_window(w), jarosz_window(h)
    rows, cols = decimation_indices(h), decimation_indices(w)
    one, other = space.one[:n], space.other[:n]
    _luma(rgb, space)  # one: [N, H, W]
    other.view(n, w, h).copy_(one.transpose(1, 2))
    _box(other.view(n, w, h), win_w, None, one.view(n, w, h))  # along rows
    other.copy_(one.view(n, w, h).transpose(1, 2))
    _box(other, win_h, None, one)  # along columns
    other.view(n, w, h).copy_(one.transpose(1, 2))
    across = _box(other.view(n, w, h), win_w, cols)  # [N, 64, H]: only the kept columns
    return _box(across.transpose(1, 2).contiguous(), win_h, rows)  # [N, 64 rows, 64 cols]


def _box(x: torch.Tensor, window: int, keep: list[int] | None, out: torch.Tensor | None = None) -> torch.Tensor:
    """The reference's box1DFloat along axis 1 of x [N, L, M], for all N x M lines at once: a running
    float32 sum that adds the entering pixel, then subtracts the leaving one, divided by the number of
    pixels in the window. Returns [N, L, M] (into `out` when given), or the outputs at `keep` only."""
    torch = _torch()
    n, length, m = x.shape
    wanted = sorted(set(keep)) if keep is not None else list(range(length))
    slot = {pos: k for k, pos in enumerate(wanted)}
    if out is None:
        out = torch.empty((n, len(wanted), m), dtype=x.dtype, device=x.device)
    outs = out.unbind(1)
    ins = x.unbind(1)
    counts = torch.arange(window + 1, dtype=x.dtype, device=x.device).unbind(0)
    half = (window + 2) // 2
    total = ins[0].clone()
    size, ri, li, oi = 1, 1, 0, 0

    def emit() -> None:
        nonlocal oi
        k = slot.get(oi)
        if k is not None:
            torch.div(total, counts[size], out=outs[k])
        oi += 1

    for _ in range(half - 2):  # phase 1: fill the left half of the first window
        total.add_(ins[ri])
        size, ri = size + 1, ri + 1
    if half > 1:
        total.add_(ins[ri])
        size, ri = size + 1, ri + 1
    emit()  # (a window of 1 has its first output already)
    for _ in range(window - half):  # phase 2: growing window, no subtraction yet
        total.add_(ins[ri])
        size, ri = size + 1, ri + 1
        emit()
    for _ in range(length - window):  # phase 3: the full window slides
        total.add_(ins[ri])
        total.sub_(ins[li])
        ri, li = ri + 1, li + 1
        emit()
    for _ in range(half - 1):  # phase 4: shrinking window at the far edge
        total.sub_(ins[li])
        size, li = size - 1, li + 1
        emit()
    if keep is None or keep == wanted:
        return out
    return out.index_select(1, torch.tensor([slot[p] for p in keep], device=x.device))


def _quality(small: torch.Tensor) -> torch.Tensor:
    """The reference's quality: sum of |int((u - v) * 100 / 255)| over neighbours, / 90, capped at 100."""
    torch = _torch()
    hundred = torch.tensor(100.0, dtype=torch.float32, device=small.device)
    scale = torch.tensor(255.0, dtype=torch.float32, device=small.device)
    down = torch.trunc(((small[:, :-1, :] - small[:, 1:, :]) * hundred) / scale).abs().sum((1, 2))
    across = torch.trunc(((small[:, :, :-1] - small[:, :, 1:]) * hundred) / scale).abs().sum((1, 2))
    return torch.clamp((down.to(torch.int64) + across.to(torch.int64)) // 90, max=100)


@cache
def dct_matrix() -> tuple[tuple[float, ...], ...]:
    """The reference's 16x64 DCT matrix: float32(float32(sqrt(2/64)) * cos(pi/128 * (i+1) * (2j+1)))."""
    import struct

    def f32(v: float) -> float:
        return struct.unpack("f", struct.pack("f", v))[0]

    scale = f32(math.sqrt(2.0 / SIDE))
    return tuple(
        tuple(f32(scale * math.cos((math.pi / 2.0 / SIDE) * (i + 1) * (2 * j + 1))) for j in range(SIDE))
        for i in range(16)
    )


def _dct16(small: torch.Tensor) -> torch.Tensor:
    """B = D @ A @ D.T for each picture, each entry summed over k = 0..63 in order in float32."""
    torch = _torch()
    n = small.shape[0]
    d = torch.tensor(dct_matrix(), dtype=torch.float32, device=small.device)  # [16, 64]
    t = torch.zeros((n, 16, SIDE), dtype=torch.float32, device=small.device)
    for k in range(SIDE):  # T = D @ A
        t.add_(d[:, k].view(1, 16, 1) * small[:, k, :].view(n, 1, SIDE))
    b = torch.zeros((n, 16, 16), dtype=torch.float32, device=small.device)
    for k in range(SIDE):  # B = T @ D.T
        b.add_(t[:, :, k].view(n, 16, 1) * d[:, k].view(1, 1, 16))
    return b


# ---------------------------------------------------------------- decoding


def decode_batch(blobs: Sequence[bytes], device: str | torch.device = "cpu") -> list[torch.Tensor | Undecodable]:
    """Each blob as a uint8 RGB [H,W,3] tensor on `device`, or an Undecodable entry: one bad
    blob never fails the batch. JPEG goes through torchvision (nvJPEG, batched, on CUDA; libjpeg-turbo
    on the CPU, and for what nvJPEG refuses, e.g. CMYK); everything else through Pillow, PNG included:
    torchvision's PNG decoder has no GPU path and crashes the process on some corrupt PNGs (an IDAT
    CRC error), which carved files often are. Pixels are as stored: no EXIF rotation, alpha dropped
    (not composited), 16-bit samples reduced by Pillow."""
    return _decode(blobs, _torch().device(device), range(len(blobs)))


def _decode(blobs: Sequence[bytes], dev: torch.device, numbers: Sequence[int]) -> list[torch.Tensor | Undecodable]:
    """decode_batch, naming blob k as `numbers[k]` in its errors (its place in the caller's list)."""
    out: list[torch.Tensor | Undecodable | None] = [None] * len(blobs)
    jpegs: list[int] = []
    for k, blob in enumerate(blobs):
        too_big = _too_big(numbers[k], blob)
        if too_big is not None:
            out[k] = too_big
        elif bytes(blob[:3]) == JPEG_MAGIC:
            jpegs.append(k)
        else:
            out[k] = _decode_pillow(numbers[k], blob, dev)
    if jpegs and dev.type == "cuda":
        for k, picture in zip(jpegs, _decode_jpegs_cuda([blobs[k] for k in jpegs], dev), strict=True):
            out[k] = picture
    for k in jpegs:
        if out[k] is None:
            out[k] = _decode_jpeg_cpu(numbers[k], blobs[k], dev)
    return [r if r is not None else Undecodable(f"blob {numbers[k]}: not decoded") for k, r in enumerate(out)]


def _too_big(i: int, blob: bytes) -> Undecodable | None:
    """Refuse a picture whose header claims more than MAX_IMAGE_PIXELS, before decoding it. A
    header Pillow cannot read is left to the decoder, which says why."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(blob)) as im:
            width, height = im.size
    except Image.DecompressionBombError:  # Pillow's own limit (twice Image.MAX_IMAGE_PIXELS)
        limit = 2 * Image.MAX_IMAGE_PIXELS
        return Undecodable(f"blob {i}: the header claims more pixels than Pillow's limit of {limit}")
    except Exception:  # the decoder reports the real reason
        return None
    if width * height > MAX_IMAGE_PIXELS:
        return Undecodable(f"blob {i}: {width}x{height} pixels is over the limit of {MAX_IMAGE_PIXELS}")
    return None


def _as_uint8_tensor(blob: bytes) -> torch.Tensor:
    torch = _torch()
    return torch.frombuffer(bytearray(blob), dtype=torch.uint8)


def _decode_jpegs_cuda(blobs: list[bytes], dev: torch.device) -> list[torch.Tensor | None]:
    """nvJPEG in one batched call; when the batch fails, one at a time, and None for each JPEG
    nvJPEG refuses (the CPU decoder then tries it)."""
    tvio = _torchvision_io()
    data = [_as_uint8_tensor(b) for b in blobs]
    try:
        decoded = tvio.decode_jpeg(data, mode=tvio.ImageReadMode.RGB, device=dev)
        return [d.permute(1, 2, 0) for d in decoded]
    except RuntimeError:
        pass
    out: list[torch.Tensor | None] = []
    for d in data:
        try:
            out.append(tvio.decode_jpeg(d, mode=tvio.ImageReadMode.RGB, device=dev).permute(1, 2, 0))
        except RuntimeError:
            out.append(None)
    return out


def _decode_jpeg_cpu(i: int, blob: bytes, dev: torch.device) -> torch.Tensor | Undecodable:
    tvio = _torchvision_io()
    try:
        picture = tvio.decode_jpeg(_as_uint8_tensor(blob), mode=tvio.ImageReadMode.RGB)
    except RuntimeError as e:
        return Undecodable(f"blob {i}: JPEG does not decode: {_last_line(e)}")
    return picture.permute(1, 2, 0).to(dev)


def _decode_pillow(i: int, blob: bytes, dev: torch.device) -> torch.Tensor | Undecodable:
    import numpy as np
    from PIL import Image

    torch = _torch()
    try:
        with Image.open(io.BytesIO(blob)) as im:
            kind = im.format or "picture"
            rgb = np.asarray(im.convert("RGB"))
    except Image.UnidentifiedImageError:
        return Undecodable(f"blob {i}: not a picture in a format Pillow reads")
    except Exception as e:  # Pillow raises many types for corrupt data; each is data here
        return Undecodable(f"blob {i}: does not decode as a picture: {_last_line(e)}")
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        return Undecodable(f"blob {i}: {kind} gave pixels of shape {rgb.shape}, not RGB")
    return torch.from_numpy(rgb.copy()).to(dev)


def _last_line(e: BaseException) -> str:
    """The decoder's reason, without torchvision's source path (`decode_jpeg, .../decode_jpeg.cpp:171, `)."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return re.sub(r"^.*\.cpp:\d+,\s*", "", lines[-1] if lines else type(e).__name__)[:200]


def pdq_blobs(
    blobs: Sequence[bytes], device: str | torch.device = "cpu", max_batch_pixels: int | None = None
) -> list[Pdq | Undecodable]:
    """Decode and hash, one answer per blob in order. Blobs are decoded a batch at a time (by the
    pixel counts their headers claim), so at most one batch of pictures is in memory."""
    from PIL import Image

    torch = _torch()
    dev = torch.device(device)
    budget = max_batch_pixels or batch_pixels(dev)
    out: list[Pdq | Undecodable | None] = [None] * len(blobs)
    chunk: list[int] = []
    pixels = 0

    def flush() -> None:
        nonlocal chunk, pixels
        decoded = _decode([blobs[i] for i in chunk], dev, chunk)
        good: list[tuple[int, torch.Tensor]] = []
        for i, d in zip(chunk, decoded, strict=True):
            if isinstance(d, Undecodable):
                out[i] = d
            else:
                good.append((i, d))
        for (i, _), result in zip(good, pdq_batch([d for _, d in good], dev, budget), strict=True):
            out[i] = result
        chunk, pixels = [], 0

    for i, blob in enumerate(blobs):
        try:
            with Image.open(io.BytesIO(blob)) as im:
                claimed = im.size[0] * im.size[1]
        except Exception:  # decode_batch reports why
            claimed = 0
        if chunk and pixels + claimed > budget:
            flush()
        chunk.append(i)
        pixels += claimed
    if chunk:
        flush()
    return [r if r is not None else Undecodable(f"blob {i}: not hashed") for i, r in enumerate(out)]
