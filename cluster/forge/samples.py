"""Files to plant in a carving corpus: published sample files and standard-library generators.

Every generator takes a `random.Random` and a target size and returns `(subtype, bytes)`;
the bytes are a complete, structurally valid file of that type (headers, lengths, offsets,
checksums and end markers right), so a carver that follows the structure recovers exactly
these bytes. The payloads are random or pattern bytes where the format allows it: the
corpus forge writes a gibibyte in well under a minute, so nothing here loops per byte in
Python except over small pictures.

The slower generators (the DC-only JPEG encoder, PNG rows, the text PDF and ZIP of
`cluster.forge.files`, and the GIF encoder here) feed pools; `stamp` makes each planted copy
unique without breaking its structure (a JPEG comment, a PNG tEXt chunk, a GIF comment,
the text of a PDF page, a ZIP archive comment).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import lzma
import sqlite3
import struct
import wave
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from random import Random

from cluster.forge import files

WORDS = (
    files.WORDS
    + (
        "quarterly statement transaction delivery schedule warehouse encrypted message burner phone "
        "alibi vehicle registration passport ticket hotel booking flight amount balance deposit "
        "withdrawal crypto exchange address ledger notes draft confidential attachment"
    ).split()
)

Generated = tuple[str | None, bytes]
Generator = Callable[[Random, int], Generated]


def words(rng: Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=max(1, n)))


def _letters(rng: Random, n: int) -> bytes:
    return bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=n))


def _pattern(rng: Random, n: int) -> bytes:
    """Picture-like bytes: runs, gradients and noise, made by repetition (no per-byte loop)."""
    out = bytearray()
    while len(out) < n:
        piece = rng.randrange(3)
        if piece == 0:
            out += rng.randbytes(min(n - len(out), rng.randrange(64, 8192)))
        elif piece == 1:
            out += bytes([rng.randrange(256)]) * rng.randrange(16, 4096)
        else:
            out += bytes(range(rng.randrange(256), 256)) * rng.randrange(1, 16)
    return bytes(out[:n])


# --- published samples -------------------------------------------------------------

# File of ../shared/testdata/small -> (kind, subtype). Left out: zip.zip (an empty archive:
# only the end record, no local header a carver can start from), mp3.mp3 (one MPEG-2.5
# frame, indistinguishable from noise), html*.html but iso-html.html (a doctype and no end),
# rar14.rar (RAR 1.4, not the Rar! signature), dosexecutable/newexecutable/linearexecutable
# (MZ, NE and LE programs, not PE).
SMALL = {
    "jpeg.jpg": ("jpeg", None),
    "png-transparent.png": ("png", None),
    "gif.gif": ("gif", None),
    "gif-transparent.gif": ("gif", None),
    "bmp.bmp": ("bmp", None),
    "tiff.tif": ("tiff", None),
    "webp.webp": ("riff", "webp"),
    "wav.wav": ("riff", "wav"),
    "AudioVideoInterleave.avi": ("riff", "avi"),
    "pdf.pdf": ("pdf", None),
    "gzip.gz": ("gzip", None),
    "gzip-name.gz": ("gzip", None),
    "rar4.rar": ("rar", None),
    "rar5.rar": ("rar", None),
    "Mpeg4.mp4": ("mp4", "mp4"),
    "mp4-with-audio.mp4": ("mp4", "mp4"),
    "elf.o": ("elf", None),
    "portableexecutable.exe": ("pe", "exe"),
    "portableexecutable-xp.exe": ("pe", "exe"),
    "iso-html.html": ("html", None),
}


@dataclass(frozen=True)
class Sample:
    kind: str
    subtype: str | None
    source: str  # path under the test data folder
    data: bytes


def published_samples(testdata: Path) -> list[Sample]:
    """The usable published samples under `testdata` (small/ and PngSuite's valid PNGs)."""
    out = []
    small = testdata / "small"
    for name, (kind, subtype) in SMALL.items():
        path = small / name
        if not path.is_file():
            raise FileNotFoundError(f"sample {path} is missing (see {testdata / 'SOURCES.md'})")
        out.append(Sample(kind, subtype, f"small/{name}", path.read_bytes()))
    suite = testdata / "pngsuite" / "png"
    pngs = sorted(p for p in suite.glob("*.png") if not p.name.startswith("x"))  # x*: deliberately corrupt
    if not pngs:
        raise FileNotFoundError(f"no PngSuite files under {suite}")
    out += [Sample("png", None, f"pngsuite/png/{p.name}", p.read_bytes()) for p in pngs]
    return out


# --- stamps: make a pooled file unique, keeping it valid -------------------------------


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def stamp_jpeg(data: bytes, tag: bytes) -> bytes:
    """A comment segment after SOI and any APP0/APP1 segment."""
    at = 2
    while data[at] == 0xFF and data[at + 1] in (0xE0, 0xE1):
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return data[:at] + _jpeg_segment(0xFE, tag) + data[at:]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def stamp_png(data: bytes, tag: bytes) -> bytes:
    """A tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR chunk)."""
    return data[:33] + _png_chunk(b"tEXt", b"Comment\x00" + tag) + data[33:]


def stamp_gif(data: bytes, tag: bytes) -> bytes:
    """A comment extension after the logical screen descriptor and global colour table."""
    flags = data[10]
    at = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    return data[:at] + b"\x21\xfe" + bytes([len(tag)]) + tag + b"\x00" + data[at:]


def stamp_pdf(data: bytes, tag: bytes) -> bytes:
    """Overwrite the first shown string of the page with letters of the same length."""
    start = data.index(b"Td (") + 4
    end = data.index(b") Tj", start)
    n = end - start
    fill = (tag * (n // max(1, len(tag)) + 1))[:n]
    return data[:start] + fill + data[end:]


def stamp_zip(data: bytes, tag: bytes) -> bytes:
    """Set the archive comment (end record's last field)."""
    eocd = data.rindex(b"PK\x05\x06")
    tag = tag[:0xFFFF]
    return data[: eocd + 20] + struct.pack("<H", len(tag)) + tag


# --- GIF: literal-only LZW (every decoder reads it; sizes are predictable) -----------------


def gif(rng: Random, target: int) -> bytes:
    w = rng.randrange(16, 256)
    h = max(4, min(400, target * 8 // 9 // w))
    depth = 8
    palette = rng.randbytes(3 * 256)
    pixels = _pattern(rng, w * h)
    clear, stop = 256, 257
    out, acc, nbits = bytearray(), 0, 0

    def put(code: int) -> None:
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += 9
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    for i in range(0, len(pixels), 250):  # a clear code before the table would need 10-bit codes
        put(clear)
        for p in pixels[i : i + 250]:
            put(p)
    put(stop)
    if nbits:
        out.append(acc & 0xFF)
    blocks = b"".join(bytes([len(out[i : i + 255])]) + out[i : i + 255] for i in range(0, len(out), 255))
    head = b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF0 | (depth - 1), 0, 0) + palette
    gce = b"\x21\xf9\x04\x00\x00\x00\x00\x00"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0) + bytes([depth]) + blocks + b"\x00"
    return head + gce + image + b"\x3b"


# --- BMP, TIFF ---------------------------------------------------------------------------


def bmp(rng: Random, target: int) -> Generated:
    bits = rng.choice([8, 24, 24, 32])
    w = rng.randrange(8, 1024)
    stride = (w * bits // 8 + 3) & ~3
    h = max(1, min(4096, target // stride))
    palette = rng.randbytes(4 * 256) if bits == 8 else b""
    pixels = _pattern(rng, stride * h)
    header_len = 40 if rng.random() < 0.8 else 124  # BITMAPINFOHEADER or BITMAPV5HEADER
    off = 14 + header_len + len(palette)
    info = struct.pack(
        "<IiiHHIIiiII", header_len, w, -h if rng.random() < 0.2 else h, 1, bits, 0, len(pixels), 2835, 2835, 0, 0
    )
    info += bytes(header_len - 40)
    return None, b"BM" + struct.pack("<IHHI", off + len(pixels), 0, 0, off) + info + palette + pixels


def tiff(rng: Random, target: int) -> Generated:
    e = ">" if rng.random() < 0.3 else "<"
    spp = rng.choice([1, 3])
    w = rng.randrange(8, 600)
    rows_per_strip = rng.randrange(1, 64)
    h = max(1, min(8000, target // (w * spp)))
    strips = [_pattern(rng, w * spp * min(rows_per_strip, h - y)) for y in range(0, h, rows_per_strip)]
    out = bytearray((b"MM\x00*" if e == ">" else b"II*\x00") + bytes(4))
    strip_offsets = []
    for s in strips:
        strip_offsets.append(len(out))
        out += s + bytes(len(s) & 1)  # keep offsets on word boundaries

    def extra(data: bytes) -> int:  # out-of-line value, word-aligned
        at = len(out)
        out.extend(data + bytes(len(data) & 1))
        return at

    def arr(fmt: str, values: list[int]) -> bytes:
        return struct.pack(f"{e}{len(values)}{fmt}", *values)

    software = b"Quarry forge " + _letters(rng, rng.randrange(4, 40)) + b"\x00"
    entries: list[tuple[int, int, int, bytes]] = []  # tag, type, count, value bytes

    def entry(tag: int, typ: int, values: bytes, count: int) -> None:
        entries.append((tag, typ, count, values))

    entry(256, 4, arr("I", [w]), 1)
    entry(257, 4, arr("I", [h]), 1)
    entry(258, 3, arr("H", [8] * spp), spp)
    entry(259, 3, arr("H", [1]), 1)
    entry(262, 3, arr("H", [2 if spp == 3 else 1]), 1)
    entry(273, 4, arr("I", strip_offsets), len(strips))
    entry(277, 3, arr("H", [spp]), 1)
    entry(278, 4, arr("I", [rows_per_strip]), 1)
    entry(279, 4, arr("I", [len(s) for s in strips]), len(strips))
    entry(282, 5, arr("I", [72, 1]), 1)
    entry(283, 5, arr("I", [72, 1]), 1)
    entry(296, 3, arr("H", [2]), 1)
    entry(305, 2, software, len(software))
    fields = []
    for tag, typ, count, value in entries:
        if len(value) <= 4:
            fields.append(struct.pack(f"{e}HHI", tag, typ, count) + value + bytes(4 - len(value)))
        else:
            fields.append(struct.pack(f"{e}HHII", tag, typ, count, extra(value)))
    ifd = len(out)
    out += struct.pack(f"{e}H", len(fields)) + b"".join(fields) + struct.pack(f"{e}I", 0)
    out[4:8] = struct.pack(f"{e}I", ifd)
    return None, bytes(out)


# --- RIFF: WAV and AVI ---------------------------------------------------------------------


def wav(rng: Random, target: int) -> Generated:
    sink = io.BytesIO()
    with wave.open(sink, "wb") as w:
        w.setnchannels(rng.choice([1, 2]))
        w.setsampwidth(2)
        w.setframerate(rng.choice([8000, 22050, 44100, 48000]))
        n = max(1, target // (2 * w.getnchannels()))
        tone = bytes(rng.randrange(256) for _ in range(rng.randrange(8, 200) * 4))
        body = rng.randbytes(n * 2 * w.getnchannels()) if rng.random() < 0.5 else tone * (n * 4 // len(tone) + 1)
        w.writeframes(body[: n * 2 * w.getnchannels()])
    return "wav", sink.getvalue()


def _riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + bytes(len(payload) & 1)


def _riff_list(kind: bytes, payload: bytes) -> bytes:
    return _riff_chunk(b"LIST", kind + payload)


def avi(rng: Random, target: int) -> Generated:
    w, h = rng.choice([(32, 24), (64, 48), (160, 120), (320, 240)])
    frame_len = w * h * 3
    frames = max(1, min(2000, target // (frame_len + 24)))
    avih = struct.pack("<IIIIIIIIII4I", 40000, frame_len * 25, 0, 0x10, frames, 0, 1, frame_len, w, h, 0, 0, 0, 0)
    strh = (
        b"vids"
        + b"DIB "
        + struct.pack("<IHHIIIIIIIIhhhh", 0, 0, 0, 0, 1, 25, 0, frames, frame_len, 0xFFFFFFFF, 0, 0, 0, w, h)
    )
    strf = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, frame_len, 0, 0, 0, 0)
    hdrl = _riff_list(
        b"hdrl",
        _riff_chunk(b"avih", avih) + _riff_list(b"strl", _riff_chunk(b"strh", strh) + _riff_chunk(b"strf", strf)),
    )
    movi, index, at = bytearray(), bytearray(), 4
    base = _pattern(rng, frame_len)
    for i in range(frames):
        frame = base if i % 5 else rng.randbytes(frame_len)
        index += b"00db" + struct.pack("<III", 0x10, at, frame_len)
        chunk = _riff_chunk(b"00db", frame)
        movi += chunk
        at += len(chunk)
    body = b"AVI " + hdrl + _riff_list(b"movi", bytes(movi)) + _riff_chunk(b"idx1", bytes(index))
    return "avi", b"RIFF" + struct.pack("<I", len(body)) + body


# --- PDF with incremental updates ------------------------------------------------------------


def pdf_incremental(rng: Random, target: int, jpeg: bytes | None = None) -> Generated:
    """A PDF whose later revisions append objects, an xref section and a trailer with /Prev
    each; every offset is exact. With `jpeg`, page 1 shows it as a DCTDecode image."""
    eol = rng.choice([b"\n", b"\n", b"\r\n"])
    out = bytearray(b"%PDF-1." + str(rng.randrange(3, 8)).encode() + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}

    def obj(num: int, body: bytes) -> None:
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")

    def stream(num: int, data: bytes, extra: bytes = b"") -> None:
        if rng.random() < 0.5 and not extra:
            data, extra = zlib.compress(data, 1), b" /Filter /FlateDecode"
        obj(num, b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream")

    def content(n_lines: int) -> bytes:
        return "".join(
            f"BT /F1 10 Tf 40 {rng.randrange(40, 780)} Td ({words(rng, rng.randrange(4, 14))}) Tj ET\n"
            for _ in range(n_lines)
        ).encode()

    revisions = rng.randrange(2, 5)
    lines = max(4, target // (70 * revisions))
    resources = b"/Resources << /Font << /F1 5 0 R >>%s >>" % (b" /XObject << /Im1 6 0 R >>" if jpeg else b"")
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R " + resources + b" >>")
    draw = b"q 200 0 0 150 300 600 cm /Im1 Do Q\n" if jpeg else b""
    stream(4, draw + content(lines))
    obj(5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    if jpeg:
        sof = jpeg.index(b"\xff\xc0")
        h, w = struct.unpack(">HH", jpeg[sof + 5 : sof + 9])
        stream(
            6,
            jpeg,
            b" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /DCTDecode" % (w, h),
        )
    size = max(offsets) + 1
    prev: int | None = None
    file_id = rng.randbytes(16).hex().encode()
    for rev in range(revisions):
        if rev:
            offsets.clear()
            size += 1
            obj(
                size - 1,
                b"<< /Title (%s) /Producer (Quarry forge) /ModDate (D:2024%02d%02d0930) >>"
                % (words(rng, 3).encode(), rng.randrange(1, 13), rng.randrange(1, 29)),
            )
            stream(4, draw + content(lines))
        xref = len(out)
        out += b"xref" + eol
        nums = sorted(offsets)
        if rev == 0:
            out += b"0 %d" % size + eol + b"0000000000 65535 f" + b" \n"
            out += b"".join(b"%010d 00000 n" % offsets[n] + b" \n" for n in range(1, size))
        else:
            for n in nums:
                out += b"%d 1" % n + eol + b"%010d 00000 n" % offsets[n] + b" \n"
        info = b" /Info %d 0 R" % (size - 1) if rev else b""
        trailer = b"<< /Size %d /Root 1 0 R%s%s /ID [<%s><%s>] >>" % (
            size,
            info,
            b"" if prev is None else b" /Prev %d" % prev,
            file_id,
            rng.randbytes(16).hex().encode(),
        )
        out += b"trailer" + eol + trailer + eol + b"startxref" + eol + b"%d" % xref + eol + b"%%EOF" + eol
        prev = xref
    return None, bytes(out)


# --- ZIP family: OOXML, ODF, EPUB, JAR, APK, plain archives ------------------------------------


def _xml(rng: Random, root: str, n_words: int) -> str:
    paras = "".join(f"<p>{words(rng, rng.randrange(5, 40))}</p>" for _ in range(max(1, n_words // 20)))
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{root}>{paras}</{root}>'


def _zip(rng: Random, members: list[tuple[str, bytes, int]]) -> bytes:
    sink = io.BytesIO()
    stamp = (2024, rng.randrange(1, 13), rng.randrange(1, 29), rng.randrange(24), rng.randrange(60), 0)
    with zipfile.ZipFile(sink, "w") as zf:
        for name, data, method in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = method
            zf.writestr(info, data, compresslevel=1 if len(data) > 65536 else 6)
    return sink.getvalue()


DEFLATED, STORED = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
OOXML = {
    "docx": ("word/document.xml", "w:document", "application/vnd.openxmlformats-officedocument.wordprocessingml"),
    "xlsx": ("xl/worksheets/sheet1.xml", "worksheet", "application/vnd.openxmlformats-officedocument.spreadsheetml"),
    "pptx": ("ppt/slides/slide1.xml", "p:sld", "application/vnd.openxmlformats-officedocument.presentationml"),
}


def ooxml(rng: Random, target: int, subtype: str, media: bytes | None = None) -> Generated:
    main, root, ctype = OOXML[subtype]
    top = main.split("/")[0]
    part = {"docx": "document.xml", "xlsx": "workbook.xml", "pptx": "presentation.xml"}[subtype]
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="png" '
        f'ContentType="image/png"/><Override PartName="/{top}/{part}" ContentType="{ctype}.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
        f'.org/officeDocument/2006/relationships/officeDocument" Target="{top}/{part}"/></Relationships>'
    )
    members = [
        ("[Content_Types].xml", types.encode(), DEFLATED),
        ("_rels/.rels", rels.encode(), DEFLATED),
        (f"{top}/{part}", _xml(rng, root, 40).encode(), DEFLATED),
        (f"{top}/_rels/{part}.rels", rels.encode(), DEFLATED),
    ]
    if main != f"{top}/{part}":
        members.append((main, _xml(rng, root, target // 10).encode(), DEFLATED))
    else:
        members[2] = (main, _xml(rng, root, target // 10).encode(), DEFLATED)
    members.append((f"{top}/styles.xml", _xml(rng, "styles", 200).encode(), DEFLATED))
    if media is not None:  # a stored picture: a file inside the file
        members.append((f"{top}/media/image1.png", media, STORED))
    members.append(("docProps/core.xml", _xml(rng, "cp:coreProperties", 20).encode(), DEFLATED))
    members.append(("docProps/app.xml", _xml(rng, "Properties", 20).encode(), DEFLATED))
    return subtype, _zip(rng, members)


def odf(rng: Random, target: int) -> Generated:
    members = [
        ("mimetype", b"application/vnd.oasis.opendocument.text", STORED),
        ("content.xml", _xml(rng, "office:document-content", target // 10).encode(), DEFLATED),
        ("styles.xml", _xml(rng, "office:document-styles", 200).encode(), DEFLATED),
        ("meta.xml", _xml(rng, "office:document-meta", 20).encode(), DEFLATED),
        ("META-INF/manifest.xml", _xml(rng, "manifest:manifest", 20).encode(), DEFLATED),
    ]
    return "odt", _zip(rng, members)


def epub(rng: Random, target: int) -> Generated:
    chapters = max(1, target // 20000)
    members = [
        ("mimetype", b"application/epub+zip", STORED),
        ("META-INF/container.xml", _xml(rng, "container", 10).encode(), DEFLATED),
        ("OEBPS/content.opf", _xml(rng, "package", 40).encode(), DEFLATED),
    ]
    members += [
        (f"OEBPS/chapter{i}.xhtml", _xml(rng, "html", target // chapters // 8).encode(), DEFLATED)
        for i in range(chapters)
    ]
    return "epub", _zip(rng, members)


def jar(rng: Random, target: int) -> Generated:
    manifest = b"Manifest-Version: 1.0\r\nCreated-By: 17.0.2 (Eclipse Adoptium)\r\nMain-Class: com.example.Main\r\n\r\n"
    members = [("META-INF/MANIFEST.MF", manifest, DEFLATED)]
    n = max(1, target // 6000)
    for i in range(n):
        body = b"\xca\xfe\xba\xbe\x00\x00\x00\x3d" + rng.randbytes(rng.randrange(500, 5000)) + words(rng, 200).encode()
        members.append((f"com/example/{rng.choice(WORDS).title()}{i}.class", body, DEFLATED))
    return "jar", _zip(rng, members)


def apk(rng: Random, target: int) -> Generated:
    members = [
        ("AndroidManifest.xml", b"\x03\x00\x08\x00" + rng.randbytes(rng.randrange(800, 4000)), DEFLATED),
        ("classes.dex", b"dex\n035\x00" + rng.randbytes(max(1000, target * 2 // 3)), DEFLATED),
        ("resources.arsc", b"\x02\x00\x0c\x00" + rng.randbytes(rng.randrange(1000, 20000)), STORED),
        ("res/layout/main.xml", b"\x03\x00\x08\x00" + rng.randbytes(600), DEFLATED),
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\n\r\n", DEFLATED),
        ("META-INF/CERT.RSA", rng.randbytes(1200), DEFLATED),
    ]
    return "apk", _zip(rng, members)


def zip_mixed(rng: Random, target: int) -> Generated:
    members = []
    while sum(len(m[1]) for m in members) < target or not members:
        if rng.random() < 0.5:
            members.append(
                (
                    f"photos/IMG_{len(members):04d}_{rng.randrange(10000):04d}.dat",
                    rng.randbytes(rng.randrange(1000, 60000)),
                    STORED,
                )
            )
        else:
            members.append(
                (
                    f"notes/{rng.choice(WORDS)}-{len(members)}.txt",
                    words(rng, rng.randrange(50, 3000)).encode(),
                    DEFLATED,
                )
            )
    return "zip", _zip(rng, members)


# --- gzip, SQLite ------------------------------------------------------------------------------


def gzip_file(rng: Random, target: int) -> Generated:
    if rng.random() < 0.5:
        body = "\n".join(f"{rng.randrange(10**9)} {words(rng, 12)}" for _ in range(max(1, target // 40))).encode()
    else:
        body = rng.randbytes(target)
    sink = io.BytesIO()
    name = f"{rng.choice(WORDS)}-{rng.randrange(1000)}.log" if rng.random() < 0.6 else ""
    with gzip.GzipFile(
        filename=name,
        mode="wb",
        fileobj=sink,
        mtime=1_700_000_000 + rng.randrange(10**7),
        compresslevel=rng.choice([1, 6]),
    ) as gz:
        gz.write(body)
    return None, sink.getvalue()


def sqlite_db(rng: Random, target: int) -> Generated:
    con = sqlite3.connect(":memory:")
    try:
        con.execute(f"PRAGMA page_size={rng.choice([1024, 4096, 4096, 8192])}")
        con.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, sender TEXT, body TEXT, sent INTEGER)")
        con.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, avatar BLOB)")
        con.execute("CREATE INDEX messages_sent ON messages(sent)")
        size = 0
        while size < target:
            rows = [
                (f"{rng.choice(WORDS)}@example.com", words(rng, rng.randrange(3, 60)), rng.randrange(10**9))
                for _ in range(200)
            ]
            con.executemany("INSERT INTO messages (sender, body, sent) VALUES (?, ?, ?)", rows)
            con.execute(
                "INSERT INTO contacts (name, phone, avatar) VALUES (?, ?, ?)",
                (words(rng, 2), f"+44 7{rng.randrange(10**9):09d}", rng.randbytes(rng.randrange(100, 6000))),
            )
            size += sum(len(r[1]) + 40 for r in rows)
        con.commit()
        return None, con.serialize()
    finally:
        con.close()


# --- MP4 / QuickTime ---------------------------------------------------------------------------


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full(kind: bytes, version_flags: int, payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version_flags) + payload)


BRANDS = {
    "mp4": (b"isom", 0x200, b"isomiso2avc1mp41"),
    "m4a": (b"M4A ", 0, b"M4A mp42isom"),
    "mov": (b"qt  ", 0x200, b"qt  "),
}


def mp4(rng: Random, target: int) -> Generated:
    subtype = rng.choice(["mp4", "mp4", "m4a", "mov"])
    major, minor, compat = BRANDS[subtype]
    audio = subtype == "m4a" or rng.random() < 0.3
    samples = [rng.randrange(200, 4000) for _ in range(max(1, target // 2100))]
    payload = rng.randbytes(sum(samples))
    ftyp = _box(b"ftyp", major + struct.pack(">I", minor) + compat)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    scale, duration = 1000, len(samples) * 40

    def moov(chunk_offset: int) -> bytes:
        mvhd = _full(
            b"mvhd",
            0,
            struct.pack(">IIII", 0, 0, scale, duration)
            + struct.pack(">IH", 0x10000, 0x100)
            + bytes(10)
            + matrix
            + bytes(24)
            + struct.pack(">I", 2),
        )
        tkhd = _full(
            b"tkhd",
            3,
            struct.pack(">IIIII", 0, 0, 1, 0, duration)
            + bytes(8)
            + struct.pack(">HHHH", 0, 0, 0x100 if audio else 0, 0)
            + matrix
            + struct.pack(">II", 0 if audio else 320 << 16, 0 if audio else 240 << 16),
        )
        mdhd = _full(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, scale, duration, 0x55C4, 0))
        handler = b"soun" if audio else b"vide"
        hdlr = _full(b"hdlr", 0, struct.pack(">I", 0) + handler + bytes(12) + b"Quarry forge\x00")
        media_header = _full(b"smhd", 0, bytes(4)) if audio else _full(b"vmhd", 1, bytes(8))
        dinf = _box(b"dinf", _full(b"dref", 0, struct.pack(">I", 1) + _full(b"url ", 1, b"")))
        if audio:
            entry = _box(
                b"mp4a", bytes(6) + struct.pack(">H", 1) + bytes(8) + struct.pack(">HHHHI", 2, 16, 0, 0, 44100 << 16)
            )
        else:
            entry = _box(
                b"jpeg",
                bytes(6)
                + struct.pack(">H", 1)
                + bytes(16)
                + struct.pack(">HHIIIH", 320, 240, 72 << 16, 72 << 16, 0, 1)
                + bytes(32)
                + struct.pack(">Hh", 24, -1),
            )
        stbl = _box(
            b"stbl",
            _full(b"stsd", 0, struct.pack(">I", 1) + entry)
            + _full(b"stts", 0, struct.pack(">III", 1, len(samples), 40))
            + _full(b"stsc", 0, struct.pack(">IIII", 1, 1, len(samples), 1))
            + _full(b"stsz", 0, struct.pack(">II", 0, len(samples)) + struct.pack(f">{len(samples)}I", *samples))
            + _full(b"stco", 0, struct.pack(">II", 1, chunk_offset)),
        )
        minf = _box(b"minf", media_header + dinf + stbl)
        trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + minf))
        return _box(b"moov", mvhd + trak)

    mdat = _box(b"mdat", payload)
    extra = _box(b"free", bytes(rng.randrange(0, 64))) if rng.random() < 0.5 else b""
    if subtype == "mov":
        extra = _box(b"wide", b"") + extra
    if rng.random() < 0.5:  # moov first ("fast start")
        head_len = len(ftyp) + len(moov(0)) + len(extra)
        return subtype, ftyp + moov(head_len + 8) + extra + mdat
    head_len = len(ftyp) + len(extra)
    return subtype, ftyp + extra + mdat + moov(head_len + 8)


# --- MP3 -----------------------------------------------------------------------------------------

MP3_KBPS = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MP3_RATES = (44100, 48000, 32000)


def _id3_text(frame: bytes, text: str) -> bytes:
    body = b"\x00" + text.encode("latin-1")
    return frame + struct.pack(">IH", len(body), 0) + body


def mp3(rng: Random, target: int) -> Generated:
    out = bytearray()
    if rng.random() < 0.7:
        frames = (
            _id3_text(b"TIT2", words(rng, 3)) + _id3_text(b"TPE1", words(rng, 2)) + _id3_text(b"TALB", words(rng, 2))
        )
        frames += bytes(rng.choice([0, 0, 256, 1024]))  # padding
        size = len(frames)
        syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
        out += b"ID3\x03\x00\x00" + syncsafe + frames
    rate_index = rng.randrange(3)
    rate = MP3_RATES[rate_index]
    vbr = rng.random() < 0.3
    kbps_index = rng.randrange(len(MP3_KBPS))
    mode = rng.choice([0, 1, 3]) << 6
    n = 0
    while len(out) < target or n < 8:
        if vbr:
            kbps_index = rng.randrange(len(MP3_KBPS))
        pad = rng.random() < 0.3
        length = 144000 * MP3_KBPS[kbps_index] // rate + pad
        header = bytes([0xFF, 0xFB, (kbps_index + 1) << 4 | rate_index << 2 | pad << 1, mode | 0x04])
        out += header + rng.randbytes(length - 4)
        n += 1
    if rng.random() < 0.5:
        out += b"TAG" + b"".join(words(rng, 3).encode()[:30].ljust(30, b"\x00") for _ in range(3))
        out += b"2024" + words(rng, 3).encode()[:30].ljust(30, b"\x00") + bytes([rng.randrange(80)])
    return None, bytes(out)


# --- ELF, PE -------------------------------------------------------------------------------------


def elf(rng: Random, target: int) -> Generated:
    is64 = rng.random() < 0.75
    e = ">" if rng.random() < 0.15 else "<"
    etype = rng.choice([1, 2, 3])  # relocatable, executable, shared object
    machine = (0x3E if e == "<" else 0x15) if is64 else (0x03 if e == "<" else 0x08)
    text = rng.randbytes(max(64, target * 3 // 5))
    rodata = words(rng, max(4, target // 40)).encode() + b"\x00"
    data = rng.randbytes(rng.randrange(16, 4096))
    names = [b"", b".text", b".rodata", b".data", b".shstrtab"]
    shstrtab = b"\x00".join(names) + b"\x00"
    name_at = [shstrtab.index(n + b"\x00") if n else 0 for n in names]
    ehsize, phentsize, shentsize = (64, 56, 64) if is64 else (52, 32, 40)
    phnum = 0 if etype == 1 else 2
    out = bytearray(ehsize + phnum * phentsize)
    sections = []
    for blob, align in ((text, 16), (rodata, 8), (data, 8), (shstrtab, 1)):
        out += bytes(-len(out) % align)
        sections.append((len(out), len(blob), align))
        out += blob
    out += bytes(-len(out) % 8)
    shoff = len(out)
    flags = [(6, 1), (2, 1), (3, 1), (0, 3)]  # (sh_flags, sh_type)
    for i, (off, size, align) in enumerate(sections):
        sh_flags, sh_type = flags[i]
        if is64:
            out += struct.pack(
                f"{e}IIQQQQIIQQ",
                name_at[i + 1],
                sh_type,
                sh_flags,
                0x400000 + off if sh_flags else 0,
                off,
                size,
                0,
                0,
                align,
                0,
            )
        else:
            out += struct.pack(
                f"{e}IIIIIIIIII",
                name_at[i + 1],
                sh_type,
                sh_flags,
                0x8048000 + off if sh_flags else 0,
                off,
                size,
                0,
                0,
                align,
                0,
            )
    out[shoff:shoff] = bytes(shentsize)  # section 0: null
    shnum = len(sections) + 1
    ident = b"\x7fELF" + bytes([2 if is64 else 1, 1 if e == "<" else 2, 1, 0]) + bytes(8)
    entry = 0x400000 + sections[0][0] if is64 else 0x8048000 + sections[0][0]
    phoff = ehsize if phnum else 0
    # The 64-bit header widens entry, phoff and shoff; the fields are the same.
    fmt = f"{e}HHIQQQIHHHHHH" if is64 else f"{e}HHIIIIIHHHHHH"
    fields = (etype, machine, 1, entry, phoff, shoff, 0, ehsize, phentsize, phnum, shentsize, shnum, shnum - 1)
    head = ident + struct.pack(fmt, *fields)
    out[:ehsize] = head
    for i in range(phnum):  # PT_LOAD of text+rodata, PT_LOAD of data
        off, size = (0, sections[1][0] + sections[1][1]) if i == 0 else sections[2][:2]
        base = 0x400000 if is64 else 0x8048000
        if is64:
            ph = struct.pack(f"{e}IIQQQQQQ", 1, 5 if i == 0 else 6, off, base + off, base + off, size, size, 0x1000)
        else:
            ph = struct.pack(f"{e}IIIIIIII", 1, off, base + off, base + off, size, size, 5 if i == 0 else 6, 0x1000)
        out[ehsize + i * phentsize : ehsize + (i + 1) * phentsize] = ph
    return None, bytes(out)


DOS_STUB = bytes.fromhex("0e1fba0e00b409cd21b8014ccd21") + b"This program cannot be run in DOS mode.\r\r\n$"


def pe_checksum(data: bytes, field: int) -> int:
    """The PE image checksum: 16-bit one's-complement-style sum without the field, plus the length."""
    padded = data[:field] + bytes(4) + data[field + 4 :] + bytes(len(data) & 1)
    total = sum(struct.unpack(f"<{len(padded) // 2}H", padded))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total + len(data)


def pe(rng: Random, target: int) -> Generated:
    plus = rng.random() < 0.6
    dll = rng.random() < 0.3
    file_align, sect_align = 0x200, 0x1000
    lfanew = 0x80 if rng.random() < 0.5 else 0xF8
    dos = bytearray(b"MZ" + struct.pack("<13H", 0x90, 3, 0, 4, 0, 0xFFFF, 0, 0xB8, 0, 0, 0, 0x40, 0) + bytes(36))
    dos[0x3C:0x40] = struct.pack("<I", lfanew)
    dos += DOS_STUB
    dos += bytes(lfanew - len(dos))
    raw = [
        (b".text", rng.randbytes(max(512, target * 3 // 5)), 0x60000020),
        (b".rdata", (words(rng, max(10, target // 40)).encode() + b"\x00"), 0x40000040),
        (b".data", rng.randbytes(rng.randrange(64, 8192)), 0xC0000040),
    ]
    if rng.random() < 0.5:
        raw.append((b".rsrc", rng.randbytes(rng.randrange(512, 32768)), 0x40000040))
    opt_len = 240 if plus else 224
    headers = lfanew + 4 + 20 + opt_len + 40 * len(raw)
    size_headers = -(-headers // file_align) * file_align
    table, bodies, file_at, rva = b"", b"", size_headers, sect_align
    for name, body, chars in raw:
        raw_len = -(-len(body) // file_align) * file_align
        table += name.ljust(8, b"\x00") + struct.pack("<IIIIIIHHI", len(body), rva, raw_len, file_at, 0, 0, 0, 0, chars)
        bodies += body + bytes(raw_len - len(body))
        file_at += raw_len
        rva += -(-len(body) // sect_align) * sect_align
    machine, chars = (0x8664, 0x0022) if plus else (0x14C, 0x0102)
    coff = struct.pack(
        "<HHIIIHH",
        machine,
        len(raw),
        1_600_000_000 + rng.randrange(10**8),
        0,
        0,
        opt_len,
        chars | (0x2000 if dll else 0),
    )
    code, init = len(raw[0][1]), sum(len(r[1]) for r in raw[1:])
    if plus:
        opt = struct.pack("<HBBIIIII", 0x20B, 14, rng.randrange(40), code, init, 0, sect_align, sect_align)
        opt += struct.pack(
            "<QIIHHHHHHIIIIHHQQQQII",
            0x140000000,
            sect_align,
            file_align,
            6,
            0,
            0,
            0,
            6,
            0,
            0,
            rva,
            size_headers,
            0,
            3 if rng.random() < 0.5 else 2,
            0x8160,
            0x100000,
            0x1000,
            0x100000,
            0x1000,
            0,
            16,
        )
    else:
        opt = struct.pack(
            "<HBBIIIIII", 0x10B, 14, rng.randrange(40), code, init, 0, sect_align, sect_align, sect_align * 2
        )
        opt += struct.pack(
            "<IIIHHHHHHIIIIHHIIIIII",
            0x400000,
            sect_align,
            file_align,
            6,
            0,
            0,
            0,
            6,
            0,
            0,
            rva,
            size_headers,
            0,
            3 if rng.random() < 0.5 else 2,
            0x8140,
            0x100000,
            0x1000,
            0x100000,
            0x1000,
            0,
            16,
        )
    opt += bytes(16 * 8)
    head = bytes(dos) + b"PE\x00\x00" + coff + opt + table
    out = bytearray(head + bytes(size_headers - len(head)) + bodies)
    field = lfanew + 4 + 20 + 64
    out[field : field + 4] = struct.pack("<I", pe_checksum(bytes(out), field) & 0xFFFFFFFF)
    return "dll" if dll else "exe", bytes(out)


# --- mail and web pages ----------------------------------------------------------------------------


def _address(rng: Random) -> str:
    return files.email(rng).decode()


def _date(rng: Random) -> str:
    day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][rng.randrange(7)]
    month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][rng.randrange(12)]
    return f"{day}, {rng.randrange(1, 29):02d} {month} 2024 {rng.randrange(24):02d}:{rng.randrange(60):02d}:00 +0000"


def _message(rng: Random, target: int, eol: str, attachment: bytes | None) -> str:
    boundary = f"=_quarry_{rng.randrange(16**12):012x}"
    sender, rcpt = _address(rng), _address(rng)
    head = [
        f"Return-Path: <{sender}>",
        f"Received: from mx{rng.randrange(9)}.example.org (mx.example.org [192.0.2.{rng.randrange(1, 255)}])",
        f"\tby mail.example.com with ESMTPS id {rng.randrange(16**10):010x}; {_date(rng)}",
        f"Date: {_date(rng)}",
        f"From: {words(rng, 2).title()} <{sender}>",
        f"To: <{rcpt}>",
        f"Subject: {words(rng, rng.randrange(2, 8))}",
        f"Message-ID: <{rng.randrange(16**16):016x}@example.com>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
    ]
    body = [f"--{boundary}", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 7bit", ""]
    text = words(rng, max(10, target // 8))
    body += [text[i : i + 72] for i in range(0, len(text), 72)]
    if attachment is not None:
        name = f"{rng.choice(WORDS)}.bin"
        body += [
            f"--{boundary}",
            f'Content-Type: application/octet-stream; name="{name}"',
            "Content-Transfer-Encoding: base64",
            f'Content-Disposition: attachment; filename="{name}"',
            "",
        ]
        b64 = base64.b64encode(attachment).decode()
        body += [b64[i : i + 76] for i in range(0, len(b64), 76)]
    body.append(f"--{boundary}--")
    return eol.join(head + body) + eol


def eml(rng: Random, target: int) -> Generated:
    attachment = rng.randbytes(rng.randrange(200, max(201, target // 2))) if rng.random() < 0.5 else None
    return None, _message(rng, target // 2 if attachment else target, rng.choice(["\r\n", "\n"]), attachment).encode()


def mbox(rng: Random, target: int) -> Generated:
    out = []
    size = 0
    while size < target or not out:
        msg = _message(rng, rng.randrange(300, 6000), "\n", None)
        msg = "\n".join(">" + line if line.startswith("From ") else line for line in msg.split("\n"))
        stamp = _date(rng).replace(",", "")
        entry = f"From {_address(rng)} {stamp}\n{msg}\n"
        out.append(entry)
        size += len(entry)
    return None, "".join(out).encode()


def html(rng: Random, target: int) -> Generated:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        f'<head><meta charset="utf-8"><title>{words(rng, 4)}</title>',
        f"<style>body {{ font-family: sans-serif; margin: {rng.randrange(40)}px }} "
        f".n{rng.randrange(99)} {{ color: #{rng.randrange(16**6):06x} }}</style>",
        "</head>",
        "<body>",
    ]
    size = 0
    while size < target:
        piece = rng.randrange(4)
        if piece == 0:
            line = f"<p>{words(rng, rng.randrange(10, 120))}</p>"
        elif piece == 1:
            line = f'<p><a href="{files.url(rng).decode()}">{words(rng, 3)}</a></p>'
        elif piece == 2:
            line = (
                "<table>"
                + "".join(
                    f"<tr><td>{words(rng, 2)}</td><td>{rng.randrange(10**6)}</td></tr>"
                    for _ in range(rng.randrange(2, 20))
                )
                + "</table>"
            )
        else:
            line = f"<h2>{words(rng, 5)}</h2>"
        parts.append(line)
        size += len(line)
    if rng.random() < 0.3:
        parts.append(f"<script>var id = {rng.randrange(10**9)}; console.log('{words(rng, 3)}');</script>")
    parts += ["</body>", "</html>"]
    return None, ("\n".join(parts) + "\n").encode()


def tag(rng: Random) -> bytes:
    """A unique-looking stamp for a pooled file."""
    return b"quarry-forge " + hashlib.sha256(rng.randbytes(16)).hexdigest()[:24].encode()


def with_exif_thumbnail(data: bytes, thumb: bytes) -> bytes:
    """Replace a JFIF APP0 with an Exif APP1 whose IFD1 carries `thumb`: a JPEG inside the JPEG."""
    make = b"Quarry Forge Camera\x00"
    ifd0_at = 8
    ifd1_at = ifd0_at + 2 + 2 * 12 + 4
    make_at = ifd1_at + 2 + 3 * 12 + 4
    thumb_at = make_at + len(make)
    tiff_part = b"II*\x00" + struct.pack("<I", ifd0_at)
    tiff_part += struct.pack("<H", 2) + struct.pack("<HHII", 0x010F, 2, len(make), make_at)
    tiff_part += struct.pack("<HHIHH", 0x0112, 3, 1, 1, 0) + struct.pack("<I", ifd1_at)
    tiff_part += struct.pack("<H", 3) + struct.pack("<HHIHH", 0x0103, 3, 1, 6, 0)
    tiff_part += struct.pack("<HHII", 0x0201, 4, 1, thumb_at) + struct.pack("<HHII", 0x0202, 4, 1, len(thumb))
    tiff_part += struct.pack("<I", 0) + make + thumb
    app1 = _jpeg_segment(0xE1, b"Exif\x00\x00" + tiff_part)
    at = 2
    if data[2:4] == b"\xff\xe0":
        at = 4 + int.from_bytes(data[4:6], "big")
    return b"\xff\xd8" + app1 + data[at:]


# --- 7z: copy or LZMA2 (the standard library's lzma) in one folder, plain header ------------------


def _7z_number(n: int) -> bytes:
    """7z's variable-length UINT64: leading one bits of the first byte count the extra bytes."""
    for extra in range(8):
        if n < 1 << (7 * (extra + 1)):
            high = n >> (8 * extra)
            return bytes([(0xFF00 >> extra) & 0xFF | high]) + (n & ((1 << (8 * extra)) - 1)).to_bytes(extra, "little")
    return b"\xff" + n.to_bytes(8, "little")


def sevenzip(rng: Random, target: int) -> Generated:
    contents = []
    while sum(len(c) for c in contents) < target or not contents:
        if rng.random() < 0.5:
            contents.append(words(rng, rng.randrange(50, 5000)).encode())
        else:
            contents.append(rng.randbytes(rng.randrange(100, 50_000)))
    names = [f"{rng.choice(WORDS)}-{i}.{rng.choice(['txt', 'dat', 'log', 'bin'])}" for i in range(len(contents))]
    unpacked = b"".join(contents)
    if rng.random() < 0.6:
        packed = lzma.compress(
            unpacked, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 1, "dict_size": 1 << 20}]
        )
        coder = b"\x21\x21" + _7z_number(1) + bytes([16])  # LZMA2, one property byte: 1 MiB dictionary
    else:
        packed = unpacked
        coder = b"\x01\x00"  # copy
    n = _7z_number
    header = b"\x01\x04"  # header, main streams info
    header += b"\x06" + n(0) + n(1) + b"\x09" + n(len(packed)) + b"\x00"  # pack info
    header += b"\x07\x0b" + n(1) + b"\x00" + n(1) + coder + b"\x0c" + n(len(unpacked)) + b"\x00"  # one folder
    header += b"\x08\x0d" + n(len(contents)) + b"\x09" + b"".join(n(len(c)) for c in contents[:-1])
    header += b"\x0a\x01" + b"".join(struct.pack("<I", zlib.crc32(c)) for c in contents) + b"\x00\x00"
    name_bytes = b"\x00" + b"".join(name.encode("utf-16-le") + b"\x00\x00" for name in names)
    times = b"\x01\x00" + b"".join(struct.pack("<Q", 133_500_000_000_000_000 + rng.randrange(10**15)) for _ in names)
    header += b"\x05" + n(len(contents)) + b"\x11" + n(len(name_bytes)) + name_bytes
    header += b"\x14" + n(len(times)) + times + b"\x00\x00"
    tail = struct.pack("<QQI", len(packed), len(header), zlib.crc32(header))
    start = b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(tail)) + tail
    return None, start + packed + header


# --- OLE2 compound file (CFB version 3): Word and Excel binary documents -------------------------

FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
OLE_DOCS = {
    # subtype: root CLSID (as stored), streams and the first bytes of the main one
    "doc": (bytes.fromhex("0609020000000000c000000000000046"), ["WordDocument", "1Table", "Data"], b"\xec\xa5\xc1\x00"),
    "xls": (
        bytes.fromhex("2008020000000000c000000000000046"),
        ["Workbook"],
        b"\x09\x08\x10\x00\x00\x06\x05\x00",
    ),
}


def _ole_entry(
    name: str, kind: int, color: int, left: int, right: int, child: int, clsid: bytes, start: int, size: int
) -> bytes:
    encoded = name.encode("utf-16-le") + b"\x00\x00" if name else b""
    return (
        encoded.ljust(64, b"\x00")
        + struct.pack("<HBBIII", len(encoded), kind, color, left, right, child)
        + clsid.ljust(16, b"\x00")
        + struct.pack("<IQQIQ", 0, 0, 0, start, size)
    )


def ole(rng: Random, target: int) -> Generated:
    """Streams of at least 4096 bytes each (so no mini stream), directory, FAT at the end."""
    subtype = rng.choice(list(OLE_DOCS))
    clsid, names, magic = OLE_DOCS[subtype]
    target = min(target, 6_000_000)  # the FAT stays within the header's 109 DIFAT slots
    sizes = [max(4096, target // len(names) + rng.randrange(-500, 500)) for _ in names]
    streams = [magic + rng.randbytes(size - len(magic)) for size in sizes]
    sector_lists, at = [], 0
    for s in streams:
        count = -(-len(s) // 512)
        sector_lists.append(list(range(at, at + count)))
        at += count
    entries = 1 + len(names)
    dir_sectors = -(-entries * 128 // 512)
    dir_first = at
    at += dir_sectors
    fat_sectors = 1
    while fat_sectors * 128 < at + fat_sectors:
        fat_sectors += 1
    fat_first = at
    total = at + fat_sectors
    fat = [FREESECT] * (fat_sectors * 128)
    for chain in [*sector_lists, list(range(dir_first, dir_first + dir_sectors))]:
        for a, b in zip(chain, [*chain[1:], ENDOFCHAIN], strict=True):
            fat[a] = b
    for i in range(fat_first, total):
        fat[i] = FATSECT
    # siblings as a binary search tree by (length, upper-case name): the middle one at the root
    order = sorted(range(len(names)), key=lambda i: (len(names[i]), names[i].upper()))
    left, right, color = [NOSTREAM] * len(names), [NOSTREAM] * len(names), [1] * len(names)
    mid = len(order) // 2
    if mid > 0:
        left[order[mid]] = order[mid - 1] + 1
    if mid + 1 < len(order):
        right[order[mid]] = order[mid + 1] + 1
    if len(order) == 2:
        color[order[0]] = 0  # a lone child is red
    directory = _ole_entry("Root Entry", 5, 1, NOSTREAM, NOSTREAM, order[mid] + 1, clsid, ENDOFCHAIN, 0)
    for i, name in enumerate(names):
        directory += _ole_entry(
            name, 2, color[i], left[i], right[i], NOSTREAM, b"", sector_lists[i][0], len(streams[i])
        )
    directory = directory.ljust(dir_sectors * 512, b"\x00")
    for off in range(entries * 128, len(directory), 128):  # unused entries: no siblings, no child
        directory = directory[: off + 68] + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) + directory[off + 80 :]
    difat = list(range(fat_first, total)) + [FREESECT] * (109 - fat_sectors)
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
    header += struct.pack("<IIIIIIIII", 0, fat_sectors, dir_first, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
    header += struct.pack("<109I", *difat)
    body = b"".join(s.ljust(-(-len(s) // 512) * 512, b"\x00") for s in streams)
    return subtype, header + body + directory + struct.pack(f"<{len(fat)}I", *fat)
