"""PDQ perceptual hashes of many pictures at once, as batched tensor operations (a GPU node's path).

Why: a GPU node earns its keep by hashing thousands of pictures a second, and a node without one must
run the very same code (torch device "cpu"), so the tests exercise what a GPU runs. Every float
operation is the one the reference (Meta's PDQ C++ as the `pdqhash` package binds it) performs, in
the same order and precision, so the hashes are the reference's bit for bit:

- luminance in float64 (the package's numpy arithmetic), rounded once to float32;
- the Jarosz tent filter (a box pass along rows, then one along columns, twice) as running float32
  sums stepped along one axis, each step one vector operation over every line of every picture of
  a batch. A cumulative sum or a convolution rounds differently: with them (and a BLAS DCT), 75 of
  218 pictures, most of the PNG suite's, got another hash, since flat, symmetric or tiny pictures
  have DCT coefficients that tie near the median and float noise decides their bits. Pictures
  whose windows are equal share a batch, zero-padded to the largest: adding a zero leaves a running
  sum exactly as it was, so a short line's last steps are the reference's (subtract only);
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
    tensors of any sizes (on any device). Pictures whose box windows are equal (sizes within the
    same 128-pixel band, so thumbnails of many sizes share one) are hashed together, zero-padded to
    the largest, in batches of at most `max_batch_pixels` padded pixels (default:
    batch_pixels(device)); a larger picture goes alone."""
    torch = _torch()
    dev = torch.device(device)
    pictures = list(images.unbind(0)) if isinstance(images, torch.Tensor) and images.dim() == 4 else list(images)
    for i, p in enumerate(pictures):
        if not isinstance(p, torch.Tensor) or p.dtype != torch.uint8 or p.dim() != 3 or p.shape[2] != 3:
            what = f"{p.dtype} {tuple(p.shape)}" if isinstance(p, torch.Tensor) else type(p).__name__
            raise ValueError(f"picture {i}: {what} is not a uint8 RGB tensor [H,W,3]")
    sizes = [(int(p.shape[0]), int(p.shape[1])) for p in pictures]
    out: list[Pdq | None] = [None] * len(pictures)
    batches = _plan(sizes, max_batch_pixels or batch_pixels(dev))
    for i, (h, w) in enumerate(sizes):
        if h < MIN_SIDE or w < MIN_SIDE:
            out[i] = Pdq("0" * 64, 0)
    if batches:
        space = _Workspace(max(b.pixels for b in batches), max(b.width for b in batches), dev)
        for batch in batches:
            for i, result in zip(batch.index, _hash_batch(pictures, batch, space), strict=True):
                out[i] = result
    return [r for r in out if r is not None]


@dataclass(frozen=True)
class _Batch:
    """Pictures hashed together: their places in the caller's list, sizes, and the padded size."""

    index: list[int]
    sizes: list[tuple[int, int]]
    filtered: bool  # False for 64x64 pictures, which the reference does not filter

    @property
    def height(self) -> int:
        return max(h for h, _ in self.sizes)

    @property
    def width(self) -> int:
        return max(w for _, w in self.sizes)

    @property
    def pixels(self) -> int:
        return len(self.index) * self.height * self.width


def _plan(sizes: list[tuple[int, int]], budget: int) -> list[_Batch]:
    """Batches of pictures sharing both box windows, smallest first, each within `budget` padded
    pixels (a picture larger than the budget alone)."""
    groups: dict[tuple[int, int] | None, list[int]] = {}
    for i, (h, w) in enumerate(sizes):
        if h >= MIN_SIDE and w >= MIN_SIDE:
            key = None if (h, w) == (SIDE, SIDE) else (jarosz_window(h), jarosz_window(w))
            groups.setdefault(key, []).append(i)
    batches: list[_Batch] = []
    for key, members in groups.items():
        members.sort(key=lambda i: sizes[i])
        chunk: list[int] = []
        for i in members:
            grown = chunk + [i]
            if chunk and len(grown) * max(sizes[j][0] for j in grown) * max(sizes[j][1] for j in grown) > budget:
                batches.append(_Batch(chunk, [sizes[j] for j in chunk], key is not None))
                grown = [i]
            chunk = grown
        batches.append(_Batch(chunk, [sizes[j] for j in chunk], key is not None))
    return batches


class _Workspace:
    """Buffers sized for the largest batch, allocated once and viewed by each batch: on a CPU,
    fresh large tensors cost page faults, which cost more than the arithmetic."""

    def __init__(self, pixels: int, width: int, dev: torch.device) -> None:
        torch = _torch()
        self.rgb = torch.empty(pixels * 3, dtype=torch.uint8, device=dev)
        self.one = torch.empty(pixels, dtype=torch.float32, device=dev)
        self.other = torch.empty(pixels, dtype=torch.float32, device=dev)
        luma = max(width, min(pixels, LUMA_CHUNK_PIXELS))  # float64 luminance, some rows at a time
        self.acc = torch.empty(luma, dtype=torch.float64, device=dev)
        self.term = torch.empty(luma, dtype=torch.float64, device=dev)


def _hash_batch(pictures: list[torch.Tensor], batch: _Batch, space: _Workspace) -> list[Pdq]:
    torch = _torch()
    n, h, w = len(batch.index), batch.height, batch.width
    rgb = space.rgb[: n * h * w * 3].view(n, h, w, 3)
    padded = any(size != (h, w) for size in batch.sizes)
    if padded:
        rgb.zero_()  # luminance 0 beyond each picture: adding it leaves a running sum unchanged
    for k, i in enumerate(batch.index):
        ph, pw = batch.sizes[k]
        rgb[k, :ph, :pw].copy_(pictures[i])
    luma = _luma(rgb, space)
    small = _jarosz_decimate(luma, batch, space) if batch.filtered else luma
    quality = _quality(small)
    dct = _dct16(small).reshape(n, 256)
    median = dct.kthvalue(128, dim=1).values
    bits = (dct > median[:, None]).view(n, 64, 4).to(torch.uint8)
    nibbles = (bits * torch.tensor([1, 2, 4, 8], dtype=torch.uint8, device=rgb.device)).sum(2, dtype=torch.uint8)
    digits = "0123456789abcdef"
    hexes = ["".join(digits[v] for v in reversed(row)) for row in nibbles.cpu().tolist()]
    return [Pdq(hx, q) for hx, q in zip(hexes, quality.cpu().tolist(), strict=True)]


def _luma(rgb: torch.Tensor, space: _Workspace) -> torch.Tensor:
    """Luminance as float32 [N, H, W] (in space.one), as the package computes it: float64 products
    and sums in R, G, B order, rounded once to float32; some rows at a time, through two float64
    buffers of bounded size."""
    n, h, w, _ = rgb.shape
    flat = rgb.view(n * h, w, 3)
    out = space.one[: n * h * w].view(n * h, w)
    step = space.acc.shape[0] // w
    for r in range(0, n * h, step):
        rows = min(step, n * h - r)
        acc, term = space.acc[: rows * w].view(rows, w), space.term[: rows * w].view(rows, w)
        acc.copy_(flat[r : r + rows, :, 0]).mul_(LUMA[0])
        acc.add_(term.copy_(flat[r : r + rows, :, 1]).mul_(LUMA[1]))
        acc.add_(term.copy_(flat[r : r + rows, :, 2]).mul_(LUMA[2]))
        out[r : r + rows].copy_(acc)
    return out.view(n, h, w)


def jarosz_window(old: int, new: int = SIDE) -> int:
    """The reference's box window for shrinking `old` pixels to `new` (half of old/new, rounded up)."""
    return (old + 2 * new - 1) // (2 * new)


def decimation_indices(old: int, new: int = SIDE) -> list[int]:
    """The reference's sample positions (pixel centres), in double precision as it computes them."""
    return [int(((i + 0.5) * old) / new) for i in range(new)]


def _jarosz_decimate(luma: torch.Tensor, batch: _Batch, space: _Workspace) -> torch.Tensor:
    """Tent-filter and decimate luma [N, H, W] (in space.one) to float32 [N, 64, 64]. Two full-size
    buffers take turns: a pass reads one and writes the other, and a transposing copy puts the next
    pass's axis in the middle. In a padded batch, what a pass wrote beyond each picture's edge is
    zeroed before it can run into a later pass's sums. The last two passes compute only the
    outputs that decimation keeps (their sums still step over every pixel)."""
    n, h, w = luma.shape
    heights, widths = [s[0] for s in batch.sizes], [s[1] for s in batch.sizes]
    win_w, win_h = jarosz_window(widths[0]), jarosz_window(heights[0])  # equal across the batch
    one, other = luma, space.other[: n * h * w].view(n, h, w)
    other.view(n, w, h).copy_(one.transpose(1, 2))
    _box(other.view(n, w, h), win_w, widths, None, one.view(n, w, h))  # along rows
    _zero_beyond(one.view(n, w, h), widths)
    other.copy_(one.view(n, w, h).transpose(1, 2))
    _box(other, win_h, heights, None, one)  # along columns
    _zero_beyond(one, heights)
    other.view(n, w, h).copy_(one.transpose(1, 2))
    across = _box(other.view(n, w, h), win_w, widths, [decimation_indices(x) for x in widths])  # [N, 64, H]
    return _box(across.transpose(1, 2).contiguous(), win_h, heights, [decimation_indices(y) for y in heights])


def _zero_beyond(x: torch.Tensor, lengths: list[int]) -> None:
    """Zero x[k, j, :] for j at or past lengths[k] (nothing to do when no picture is shorter)."""
    torch = _torch()
    if min(lengths) == x.shape[1]:
        return
    limit = torch.tensor(lengths, device=x.device).view(-1, 1, 1)
    x.masked_fill_(torch.arange(x.shape[1], device=x.device).view(1, -1, 1) >= limit, 0.0)


def _box(
    x: torch.Tensor,
    window: int,
    lengths: list[int],
    keep: list[list[int]] | None,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """The reference's box1DFloat along axis 1 of x [N, L, M], for all N x M lines at once: a running
    float32 sum that adds the entering pixel, then subtracts the leaving one, divided by the number
    of pixels in the window. Line k is lengths[k] long and zero beyond: adding a zero leaves the sum
    as it is, so past its end the steps are the reference's last phase (subtract only), with the
    window's count from its own length. Returns [N, L, M] (into `out` when given), or, with `keep`,
    [N, len(keep[k]), M] holding the outputs at positions keep[k] of each line k."""
    torch = _torch()
    n, length, m = x.shape
    wanted = sorted({p for positions in keep for p in positions}) if keep is not None else list(range(length))
    slot = {pos: k for k, pos in enumerate(wanted)}
    if out is None:
        out = torch.empty((n, len(wanted), m), dtype=x.dtype, device=x.device)
    outs, ins = out.unbind(1), x.unbind(1)
    counts = _window_counts(window, lengths, length, x).unbind(0)
    half = (window + 2) // 2
    total = ins[0].clone()
    for t in range(length + half - 1):  # t: the position entering the window
        if t > 0 and t < length:
            total.add_(ins[t])
        if t >= window:
            total.sub_(ins[t - window])
        k = slot.get(t - half + 1)
        if k is not None:
            torch.div(total, counts[t - half + 1], out=outs[k])
    if keep is None:
        return out
    index = torch.tensor([[slot[p] for p in positions] for positions in keep], device=x.device)
    return out.gather(1, index.view(n, -1, 1).expand(n, index.shape[1], m))


def _window_counts(window: int, lengths: list[int], length: int, like: torch.Tensor) -> torch.Tensor:
    """[L, N, 1] float32: pixels in the window around output j of line k, as the reference counts
    them: positions j - (window - half) to j + half - 1, within the line's own length."""
    torch = _torch()
    half = (window + 2) // 2
    j = torch.arange(length).view(-1, 1)
    ends = torch.minimum(torch.tensor(lengths).view(1, -1), j + half)
    counts = (ends - torch.clamp(j - (window - half), min=0)).clamp(min=1)  # >= 1 past a line's end, unused
    return counts.to(device=like.device, dtype=like.dtype).unsqueeze(2)


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
    except Exception:  # one bad JPEG fails the whole call: find it below
        pass
    out: list[torch.Tensor | None] = []
    for d in data:
        try:
            out.append(tvio.decode_jpeg(d, mode=tvio.ImageReadMode.RGB, device=dev).permute(1, 2, 0))
        except Exception:  # the CPU decoder tries it and says why
            out.append(None)
    return out


def _decode_jpeg_cpu(i: int, blob: bytes, dev: torch.device) -> torch.Tensor | Undecodable:
    tvio = _torchvision_io()
    try:
        picture = tvio.decode_jpeg(_as_uint8_tensor(blob), mode=tvio.ImageReadMode.RGB)
    except Exception as e:  # libjpeg's errors come as RuntimeError; any error is this blob's
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
