"""PDQ and pHash from the Rust core (the CPU path) checked against the reference implementations.

References, none of them Quarry code: the `pdqhash` package (Meta's PDQ C++ behind Python bindings)
for PDQ, `imagehash.phash` (with scipy's DCT) for pHash, and Pillow as the decoder that gives both of
them pixels. All must be installed: a missing reference fails the tests rather than skipping them.

On identical RGB pixels PDQ must be equal bit for bit, quality included. From file bytes the core
decodes with the `image` crate: lossless formats give Pillow's pixels exactly, so the hashes are equal;
JPEG decoders round their inverse DCT and chroma upsampling differently (pixels differ by 1 to 4 levels),
so there the hash must equal the reference on the core's own pixels, and stay within a few bits of the
reference on Pillow's.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections import Counter
from pathlib import Path

import imagehash
import numpy as np
import pdqhash
import pytest
import scipy.fftpack
from PIL import Image

# Not yet re-exported by rust_core/__init__.py; the names below are the extension's own.
from rust_core import (
    PDQ_MATCH_DISTANCE,
    PDQ_MIN_QUALITY,
    CoreError,
    decode_rgb,
    hash_distance,
    image_hashes,
    pdq_hash,
    pdq_hash_rgb,
    pdq_quality_reliable,
    phash,
    phash_rgb,
)

# Around every edge of the reference: under its minimum side (5), the unfiltered 64x64 case, box
# windows of 1, 2 and more, odd and even, wide and tall, upsampling (< 64) and downsampling.
SIZES = [
    (1, 1), (4, 9), (5, 5), (9, 4), (6, 300), (37, 53), (63, 65), (64, 64), (64, 65), (127, 129),
    (128, 128), (129, 257), (333, 1111), (480, 640), (1100, 333), (1537, 1201), (2400, 3000),
]  # fmt: skip
# JPEG decoders may move a PDQ by a few bits: libjpeg-turbo (Pillow) and zune-jpeg (the core) differ
# by 1 level on about 0.5 % of pixels, and by up to 4 levels under 4:2:0 chroma upsampling. Such noise
# only flips coefficients lying next to the median, and flips come in pairs (one crosses up, one
# down). Over the 120 JPEGs of the lossy test the distance is 0 for 104, 2 for 14 and 6 for 2; the
# bound leaves one more pair, still far below the matching threshold of 31.
JPEG_DECODER_BITS = 8


def reference_pdq(rgb: np.ndarray) -> tuple[str, int]:
    """pdqhash's hash as hex (its bit vector lists bit 255 first) and quality."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb, dtype=np.uint8))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def core_pdq(rgb: np.ndarray) -> tuple[str, int]:
    h, w = rgb.shape[:2]
    return pdq_hash_rgb(np.ascontiguousarray(rgb).tobytes(), w, h)


def photo(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A photo-like picture: smooth random colour fields (1/f^1.8 spectrum) and sensor-like noise."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.hypot(fy, fx)
    f[0, 0] = 1.0
    planes = []
    for _ in range(3):
        spec = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f**1.8
        spec[0, 0] = 0
        field = np.fft.irfft2(spec, s=(h, w))
        planes.append((field - field.mean()) / (field.std() + 1e-9))
    mix = np.eye(3) + 0.4 * rng.normal(size=(3, 3))
    out = 128 + 45 * (np.stack(planes, axis=-1) @ mix) + rng.normal(scale=4, size=(h, w, 3))
    return np.clip(out, 0, 255).astype(np.uint8)


def synthetic(h: int, w: int) -> list[np.ndarray]:
    """Pictures whose DCT coefficients tie at the median: flat, ramps, a checkerboard, quadrants."""
    y, x = np.mgrid[0:h, 0:w]
    ramp = (x * 255 // max(1, w - 1)).astype(np.uint8)
    checker = (((x // 8 + y // 8) % 2) * 255).astype(np.uint8)
    quad = (((x < w // 2) ^ (y < h // 2)) * 255).astype(np.uint8)
    return [np.full((h, w, 3), 128, np.uint8), np.dstack([ramp] * 3), np.dstack([checker, ramp, quad])]


def encode(rgb: np.ndarray, fmt: str, mode: str = "RGB", **options: object) -> bytes:
    out = io.BytesIO()
    im = Image.fromarray(rgb)
    if mode == "P":
        im = im.quantize(64)
    elif mode == "RGBA":
        im = im.convert("RGBA")
        im.putalpha(Image.fromarray(rgb[..., 0]))
    elif mode != "RGB":
        im = im.convert(mode)
    im.save(out, fmt, **options)
    return out.getvalue()


def pillow_pixels(data: bytes) -> np.ndarray:
    """The RGB pixels Pillow decodes. For 16-bit grey Pillow's convert("RGB") clips to 255; the high
    byte is taken instead, as Pillow itself does for 16-bit colour."""
    with Image.open(io.BytesIO(data)) as im:
        if im.mode.startswith("I;16"):
            grey = (np.asarray(im).astype(np.uint16) >> 8).astype(np.uint8)
            return np.dstack([grey] * 3)
        return np.asarray(im.convert("RGB"))


def core_pixels(data: bytes) -> np.ndarray:
    rgb, w, h = decode_rgb(data)
    return np.frombuffer(rgb, np.uint8).reshape(h, w, 3)


def pillow_decodes(path: Path) -> bool:
    try:
        with Image.open(path) as im:
            im.load()
        return True
    except Exception:  # a deliberately broken file of the suite: not a picture to compare
        return False


@pytest.fixture(scope="module")
def suite_files(testdata: Path) -> list[Path]:
    """The PNG suite's valid pictures and the picture files of small/ that Pillow decodes."""
    small = ["bmp.bmp", "gif-transparent.gif", "png-transparent.png", "ico.ico", "jpeg.jpg", "tiff.tif"]
    files = sorted((testdata / "pngsuite" / "png").glob("[!x]*.png")) + [testdata / "small" / n for n in small]
    return [p for p in files if pillow_decodes(p)]


@pytest.fixture(scope="module")
def corpus(suite_files: list[Path]) -> list[tuple[str, np.ndarray]]:
    """Pictures as RGB arrays: real files through Pillow, and generated ones of every size and kind."""
    pictures = [(p.name, pillow_pixels(p.read_bytes())) for p in suite_files]
    assert len(pictures) >= 160, f"only {len(pictures)} real pictures decoded"
    rng = np.random.default_rng(11)
    pictures += [(f"photo {h}x{w}", photo(rng, h, w)) for h, w in SIZES]
    pictures += [(f"noise {h}x{w}", rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in SIZES[:12]]
    pictures += [(f"synthetic {h}x{w} #{k}", a) for h, w in SIZES[2::2] for k, a in enumerate(synthetic(h, w))]
    # RGBA, greyscale and palette pictures, as Pillow converts them to RGB.
    for mode in ("RGBA", "L", "LA", "P"):
        for h, w in [(200, 300), (77, 64), (640, 480)]:
            pictures.append((f"{mode} {h}x{w}", pillow_pixels(encode(photo(rng, h, w), "PNG", mode))))
    return pictures


def test_pdq_on_identical_pixels_equals_the_reference_bit_for_bit(corpus: list[tuple[str, np.ndarray]]) -> None:
    differing = []
    for name, rgb in corpus:
        want, got = reference_pdq(rgb), core_pdq(rgb)
        if got != want:
            differing.append((name, distance(got[0], want[0]), got[1], want[1]))
    assert not differing, f"{len(differing)}/{len(corpus)} differ (picture, bits, quality, reference's): {differing}"
    qualities = {reference_pdq(rgb)[1] for _, rgb in corpus}
    assert 0 in qualities and 100 in qualities and len(qualities) > 20  # the corpus spans the quality range


def lossless_files(rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """Generated pictures in every lossless format and pixel layout the core decodes."""
    files = []
    for k, (h, w) in enumerate([(120, 160), (333, 257), (64, 64), (31, 700), (600, 450)]):
        rgb = photo(rng, h, w)
        files += [
            (f"png rgb #{k}", encode(rgb, "PNG")),
            (f"png rgba #{k}", encode(rgb, "PNG", "RGBA")),
            (f"png grey #{k}", encode(rgb, "PNG", "L")),
            (f"png palette #{k}", encode(rgb, "PNG", "P")),
            (f"png 16-bit grey #{k}", encode_png_grey16(rgb)),
            (f"gif #{k}", encode(rgb, "GIF")),
            (f"bmp rgb #{k}", encode(rgb, "BMP")),
            (f"bmp palette #{k}", encode(rgb, "BMP", "P")),
            (f"tiff rgb #{k}", encode(rgb, "TIFF")),
            (f"tiff lzw rgba #{k}", encode(rgb, "TIFF", "RGBA", compression="tiff_lzw")),
            (f"tiff deflate grey #{k}", encode(rgb, "TIFF", "L", compression="tiff_adobe_deflate")),
            (f"webp lossless #{k}", encode(rgb, "WEBP", lossless=True)),
            (f"webp lossless rgba #{k}", encode(rgb, "WEBP", "RGBA", lossless=True, exact=True)),
        ]
    return files


def png_chunks(*chunks: tuple[bytes, bytes]) -> bytes:
    """A PNG file from its chunks, lengths and CRCs filled in."""
    out = b"\x89PNG\r\n\x1a\n"
    for kind, body in chunks:
        out += struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return out


def encode_png_grey16(rgb: np.ndarray) -> bytes:
    """A 16-bit greyscale PNG written by hand, so its samples use the full 16 bits."""
    grey = rgb[..., 1].astype(np.uint16) * 257 + (rgb[..., 0] & 7)
    h, w = grey.shape
    raw = b"".join(b"\x00" + grey[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0)
    return png_chunks((b"IHDR", ihdr), (b"IDAT", zlib.compress(raw)), (b"IEND", b""))


def test_pdq_of_lossless_files_equals_the_reference_on_pillows_pixels(suite_files: list[Path]) -> None:
    rng = np.random.default_rng(12)
    files = [(p.name, p.read_bytes()) for p in suite_files if p.suffix in (".png", ".gif", ".bmp")]
    files += lossless_files(rng)
    differing = []
    for name, data in files:
        want_pixels = pillow_pixels(data)
        if not np.array_equal(core_pixels(data), want_pixels):
            differing.append((name, "pixels"))
        elif pdq_hash(data) != reference_pdq(want_pixels):
            differing.append((name, "hash"))
    assert not differing, f"{len(differing)}/{len(files)} differ from the reference: {differing}"


def lossy_files(rng: np.random.Generator) -> list[tuple[str, bytes]]:
    files = []
    for k in range(30):
        h, w = (int(v) for v in rng.integers(40, 800, 2))
        rgb = photo(rng, h, w)
        files += [
            (f"jpeg q90 4:4:4 #{k}", encode(rgb, "JPEG", quality=90, subsampling=0)),
            (f"jpeg q75 4:2:0 #{k}", encode(rgb, "JPEG", quality=75, subsampling=2)),
            (f"jpeg q50 4:2:2 progressive #{k}", encode(rgb, "JPEG", quality=50, subsampling=1, progressive=True)),
            (f"jpeg grey q85 #{k}", encode(rgb, "JPEG", "L", quality=85)),
            (f"webp lossy q80 #{k}", encode(rgb, "WEBP", quality=80)),
        ]
    return files


def test_pdq_of_lossy_files_stays_within_decoder_noise_of_the_reference() -> None:
    rng = np.random.default_rng(13)
    files = lossy_files(rng)
    spread: Counter[tuple[str, int]] = Counter()
    for name, data in files:
        mine = core_pixels(data)
        got = pdq_hash(data)
        # On the core's own pixels the hash is the reference's, bit for bit.
        assert got == reference_pdq(mine), name
        theirs = pillow_pixels(data)
        want = reference_pdq(theirs)
        if np.array_equal(mine, theirs):
            assert got == want, name  # where the decoders agree, the file's hash is the reference's
        bits = distance(got[0], want[0])
        spread[(name.split(" #")[0].split(" ")[0], bits)] += 1
        assert bits <= JPEG_DECODER_BITS, f"{name}: {bits} bits from the reference on Pillow's pixels"
        assert abs(got[1] - want[1]) <= 2, f"{name}: quality {got[1]} against {want[1]}"
    print("lossy decoders, (format, bits from the reference on Pillow's pixels): count", sorted(spread.items()))


def test_small_changes_stay_within_the_match_distance() -> None:
    rng = np.random.default_rng(14)
    worst: dict[str, int] = {}
    for k in range(12):
        h, w = (int(v) for v in rng.integers(300, 900, 2))
        rgb = photo(rng, h, w)
        original = pdq_hash(encode(rgb, "PNG"))[0]
        im = Image.fromarray(rgb)
        dy, dx = round(h * 0.01), round(w * 0.01)
        variants = {
            "half size": encode(np.asarray(im.resize((w // 2, h // 2), Image.LANCZOS)), "PNG"),
            "jpeg q70": encode(rgb, "JPEG", quality=70),
            "2% crop": encode(rgb[dy : h - dy, dx : w - dx], "PNG"),
        }
        for what, data in variants.items():
            d = distance(original, pdq_hash(data)[0])
            worst[what] = max(worst.get(what, 0), d)
            assert d <= PDQ_MATCH_DISTANCE, f"picture {k} ({h}x{w}), {what}: {d} bits"
    print("largest distance to the original:", worst)


def test_unrelated_pictures_are_farther_than_the_match_distance() -> None:
    rng = np.random.default_rng(15)
    hashes, reliable = [], 0
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(96, 260, 2))
        hex_, quality = core_pdq(photo(rng, h, w))
        reliable += pdq_quality_reliable(quality)
        hashes.append(int(hex_, 16))
    assert reliable >= 270  # photo-like pictures, not flat ones
    pairs = [(a ^ b).bit_count() for i, a in enumerate(hashes) for b in hashes[i + 1 :]]
    close = sum(d <= PDQ_MATCH_DISTANCE for d in pairs)
    assert close <= 0.001 * len(pairs), f"{close} of {len(pairs)} unrelated pairs within {PDQ_MATCH_DISTANCE}"
    print(f"unrelated pairs: {len(pairs)}, closest {min(pairs)} bits, mean {np.mean(pairs):.1f}")


def truncations(data: bytes) -> list[bytes]:
    """Cuts inside the headers and inside the pixel data."""
    return [data[:n] for n in sorted({1, 8, 16, 40, len(data) // 3, len(data) // 2, len(data) - 20})]


def test_damaged_files_raise_core_error_naming_the_problem(testdata: Path) -> None:
    broken = sorted((testdata / "pngsuite" / "png").glob("x*.png"))
    assert len(broken) == 14
    for p in broken:
        with pytest.raises(CoreError, match=r"^pdq_hash\(data\): (corrupt|truncated|unsupported)"):
            pdq_hash(p.read_bytes())
        with pytest.raises(CoreError):
            phash(p.read_bytes())
    rgb = photo(np.random.default_rng(16), 200, 300)
    whole = {
        "png": encode(rgb, "PNG"),
        "gif": encode(rgb, "GIF"),
        "bmp": encode(rgb, "BMP"),
        "tiff": encode(rgb, "TIFF"),
        "webp": encode(rgb, "WEBP", quality=80),
        "jpeg": encode(rgb, "JPEG", quality=85),
        "progressive jpeg": encode(rgb, "JPEG", quality=85, progressive=True),
    }
    for kind, data in whole.items():
        pdq_hash(data)  # whole, it hashes
        for cut in truncations(data):
            with pytest.raises(CoreError, match=r"(truncated|corrupt|unsupported)"):
                pdq_hash(cut)
            with pytest.raises(CoreError):
                phash(cut)
        if kind in ("png", "gif"):
            # Only the closing IEND chunk or trailer byte missing: every pixel is there.
            assert pdq_hash(data[:-2]) == pdq_hash(data), kind
        else:
            with pytest.raises(CoreError, match=r"(truncated|corrupt)"):
                pdq_hash(data[:-2])
    with pytest.raises(CoreError, match=r"truncated image"):
        pdq_hash((testdata / "small" / "png-truncated.png").read_bytes())
    with pytest.raises(CoreError, match=r"truncated image: JPEG data ends before its end-of-image marker"):
        pdq_hash(whole["jpeg"][: len(whole["jpeg"]) // 2])
    with pytest.raises(CoreError, match=r"truncated image: WebP data is 100 bytes, its header says"):
        pdq_hash(whole["webp"][:100])


def test_random_damage_never_crashes() -> None:
    """Bytes flipped anywhere: a hash or a CoreError, never a panic or another exception."""
    rng = np.random.default_rng(17)
    rgb = photo(rng, 90, 120)
    samples = [encode(rgb, f) for f in ("PNG", "GIF", "BMP", "TIFF", "WEBP", "JPEG")]
    outcomes: Counter[str] = Counter()
    for data in samples:
        for _ in range(120):
            damaged = bytearray(data)
            for at in rng.integers(0, len(data), int(rng.integers(1, 6))):
                damaged[at] = int(rng.integers(0, 256))
            for fn in (pdq_hash, phash):
                try:
                    fn(bytes(damaged))
                    outcomes["hashed"] += 1
                except CoreError:
                    outcomes["CoreError"] += 1
    assert outcomes["CoreError"] > 0 and outcomes["hashed"] > 0, outcomes


def test_unsupported_and_oversized_inputs(testdata: Path) -> None:
    with pytest.raises(CoreError, match=r"^pdq_hash\(data\): unsupported image format: not a JPEG, PNG, GIF"):
        pdq_hash((testdata / "small" / "pdf.pdf").read_bytes())
    with pytest.raises(CoreError, match=r"unsupported image format: ico"):
        pdq_hash((testdata / "small" / "ico.ico").read_bytes())
    with pytest.raises(CoreError, match=r"unsupported image format: empty input"):
        phash(b"")
    # A PNG header claiming 100000 x 100000 pixels: refused from the header, nothing allocated.
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    huge = png_chunks((b"IHDR", ihdr), (b"IDAT", zlib.compress(b"\x00" * 64)), (b"IEND", b""))
    with pytest.raises(CoreError, match=r"image too large: 100000x100000 pixels, the limit is 100000000 pixels"):
        pdq_hash(huge)
    small = encode(photo(np.random.default_rng(18), 100, 100), "PNG")
    with pytest.raises(CoreError, match=r"image too large: 100x100 pixels, the limit is 9999 pixels"):
        pdq_hash(small, max_pixels=9999)
    assert pdq_hash(small, max_pixels=10_000) == pdq_hash(memoryview(small)) == pdq_hash(bytearray(small))
    with pytest.raises(CoreError, match=r"bad pixel buffer: 11 bytes for 2x2 RGB pixels, expected 12"):
        pdq_hash_rgb(b"\x00" * 11, 2, 2)


def scipy_dct_8x8(grey32: np.ndarray) -> np.ndarray:
    return scipy.fftpack.dct(scipy.fftpack.dct(grey32, axis=0), axis=1)[:8, :8]


def near_median(rgb: np.ndarray) -> int:
    """How many of imagehash's 64 coefficients lie within rounding of their median: ties whose bits
    scipy's FFT rounding decides, so no other DCT can be expected to reproduce them."""
    grey = np.asarray(Image.fromarray(rgb).convert("L").resize((32, 32), Image.LANCZOS))
    coeffs = scipy_dct_8x8(grey)
    return int((np.abs(coeffs - np.median(coeffs)) < 1e-6 * max(1.0, np.abs(coeffs).max())).sum())


def test_phash_equals_imagehash_on_identical_pixels(corpus: list[tuple[str, np.ndarray]]) -> None:
    exact, differing = 0, []
    for name, rgb in corpus:
        want = str(imagehash.phash(Image.fromarray(rgb)))
        got = phash_rgb(np.ascontiguousarray(rgb).tobytes(), rgb.shape[1], rgb.shape[0])
        ties = near_median(rgb)
        if ties == 0:
            exact += got == want
            if got != want:
                differing.append((name, distance(got, want)))
        elif distance(got, want) > ties:
            differing.append((name, distance(got, want), f"{ties} ties"))
    assert not differing, differing
    # The PNG suite's test patterns are often symmetric (ties); the generated photos never are.
    assert exact >= 120, f"only {exact}/{len(corpus)} pictures free of median ties"


def test_phash_follows_pillows_pass_order_on_tall_pictures() -> None:
    """Pillow resizes vertically first when the height shrinks by more than twice as many pixels as
    the width; each pass rounds, so the order shows in the hash. Shapes on both sides of the rule."""
    rng = np.random.default_rng(23)
    shapes = [(48, 40), (49, 40), (52, 40), (33, 31), (160, 100), (200, 100), (1100, 333), (333, 1100), (40, 20)]
    checked = 0
    for h, w in shapes:
        rgb = photo(rng, h, w)
        if near_median(rgb) == 0:
            assert phash_rgb(rgb.tobytes(), w, h) == str(imagehash.phash(Image.fromarray(rgb))), (h, w)
            checked += 1
    assert checked >= len(shapes) - 1


def test_phash_of_files_is_phash_of_the_decoded_pixels(suite_files: list[Path]) -> None:
    rng = np.random.default_rng(19)
    files = [(name, data) for name, data in lossless_files(rng)[::2]]
    files += [(p.name, p.read_bytes()) for p in suite_files[::5] if p.suffix == ".png"]
    for name, data in files:
        pixels = pillow_pixels(data)
        assert phash(data) == phash_rgb(pixels.tobytes(), pixels.shape[1], pixels.shape[0]), name
        assert image_hashes(data) == (*pdq_hash(data), phash(data)), name  # one decode, both hashes
        with Image.open(io.BytesIO(data)) as im:
            if im.mode in ("RGB", "L", "P") and near_median(pixels) == 0:
                assert phash(data) == str(imagehash.phash(im)), name


def test_phash_tells_pictures_apart_and_survives_resizing() -> None:
    rng = np.random.default_rng(20)
    pics = [photo(rng, 240, 320) for _ in range(40)]
    hashes = [phash(encode(p, "PNG")) for p in pics]
    pairs = [distance(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :]]
    assert np.mean(pairs) > 20
    for p, h in zip(pics, hashes, strict=True):
        assert distance(h, phash(encode(np.asarray(Image.fromarray(p).resize((160, 120))), "JPEG", quality=70))) <= 10


def test_quality_thresholds_and_distance_helpers() -> None:
    assert PDQ_MIN_QUALITY == 50 and PDQ_MATCH_DISTANCE == 31
    assert [pdq_quality_reliable(q) for q in (0, 49, 50, 100)] == [False, False, True, True]
    flat = np.full((300, 300, 3), 90, np.uint8)
    assert core_pdq(flat)[1] == reference_pdq(flat)[1] == 0  # a flat picture is unreliable
    busy = photo(np.random.default_rng(21), 300, 300)
    assert pdq_quality_reliable(core_pdq(busy)[1])
    a, b = core_pdq(busy)[0], core_pdq(busy[:, ::-1])[0]
    assert hash_distance(a, b) == distance(a, b) > PDQ_MATCH_DISTANCE
    assert hash_distance("0f", "f0") == 8
    with pytest.raises(CoreError, match=r"two hex strings of one length"):
        hash_distance("0f", "0f0")


def test_hex_and_bit_order_match_published_form() -> None:
    """A hash's hex is the reference's: pdqhash's bit vector, first element the top bit of digit 0."""
    rgb = photo(np.random.default_rng(22), 200, 200)
    bits, _ = pdqhash.compute(rgb)
    hex_ = core_pdq(rgb)[0]
    assert len(hex_) == 64 and hex_ == hex_.lower()
    assert [int(c) for c in f"{int(hex_, 16):0256b}"] == bits.tolist()
