"""Generators of small, valid files of each planted type (all decodable by viewers).

Each takes a `random.Random` so the whole image is reproducible from one seed.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

WORDS = (
    "evidence ledger invoice transfer wallet meeting shipment account password contract "
    "photo archive report seized device harbour customs courier payment receipt backup"
).split()


def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


# --- JPEG: baseline, greyscale, DC-only blocks (a blocky picture every viewer opens) ---

_DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]  # standard luminance DC table
_DC_VALS = list(range(12))


def _huffman_codes(bits: list[int], vals: list[int]) -> dict[int, tuple[int, int]]:
    codes, code, k = {}, 0, 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[vals[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg(rng: random.Random, target: int) -> bytes:
    w, h = rng.randrange(8, 49) * 8, rng.randrange(8, 49) * 8
    dc = _huffman_codes(_DC_BITS, _DC_VALS)
    bits, nbits, out = 0, 0, bytearray()

    def put(value: int, length: int) -> None:
        nonlocal bits, nbits
        bits = (bits << length) | value
        nbits += length
        while nbits >= 8:
            byte = (bits >> (nbits - 8)) & 0xFF
            out.append(byte)
            if byte == 0xFF:
                out.append(0)
            nbits -= 8
        bits &= (1 << nbits) - 1

    prev = 0
    base = rng.randrange(256)
    for by in range(h // 8):
        for bx in range(w // 8):
            level = (base + bx * rng.randrange(1, 9) + by * 3) % 256 - 128  # quantised DC
            diff = level - prev
            prev = level
            cat = abs(diff).bit_length()
            put(*dc[cat])
            if cat:
                put(diff if diff > 0 else diff + (1 << cat) - 1, cat)
            put(0, 1)  # AC: end of block (the only AC code in the table below)
    if nbits:
        put((1 << (8 - nbits)) - 1, 8 - nbits)

    head = b"\xff\xd8" + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    pad = bytearray()
    while len(head) + len(pad) + len(out) + 400 < target:
        chunk = _text(rng, rng.randrange(200, 8000)).encode()[:65000]
        pad += _segment(0xFE, chunk)
    dqt = _segment(0xDB, b"\x00" + bytes([8] * 64))
    sof = _segment(0xC0, struct.pack(">BHHB", 8, h, w, 1) + b"\x01\x11\x00")
    dht = _segment(0xC4, b"\x00" + bytes(_DC_BITS) + bytes(_DC_VALS) + b"\x10" + bytes([1] + [0] * 15) + b"\x00")
    sos = _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return head + bytes(pad) + dqt + sof + dht + sos + bytes(out) + b"\xff\xd9"


# --- PNG: RGB noise and stripes, zlib-compressed, one IDAT per 64 KiB ---


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(rng: random.Random, target: int) -> bytes:
    w = rng.randrange(16, 257)
    h = max(4, min(1024, target // (w * 3) + 1))
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        if y % 4 == 0:
            rows += rng.randbytes(w * 3)
        else:
            rows += bytes([(y * 7) % 256, (y * 3) % 256, rng.randrange(256)]) * w
    data = zlib.compress(bytes(rows), 6)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idats = b"".join(_chunk(b"IDAT", data[i : i + 65536]) for i in range(0, len(data), 65536))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + idats + _chunk(b"IEND", b"")


# --- PDF: one page of text with an exact cross-reference table ---


def pdf(rng: random.Random, target: int) -> bytes:
    lines = []
    size = 0
    while size < max(200, target - 700):
        line = f"BT /F1 10 Tf 40 {rng.randrange(40, 780)} Td ({_text(rng, rng.randrange(4, 14))}) Tj ET\n"
        lines.append(line)
        size += len(line)
    content = "".join(lines).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# --- ZIP: deflated text members, fixed timestamps ---


def zip_archive(rng: random.Random, target: int) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        written, n = 0, 0
        while written < target or n == 0:
            member = zipfile.ZipInfo(f"docs/note-{n:03d}.txt", date_time=(2024, 5, 17, 9, 30, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            # Mostly-unique text so the archive grows with its content.
            body = "\n".join(
                f"{i:06d} {_text(rng, 12)} {rng.getrandbits(64):016x}" for i in range(rng.randrange(50, 800))
            )
            zf.writestr(member, body)
            written = sink.tell()
            n += 1
    return sink.getvalue()


def email(rng: random.Random) -> bytes:
    user = f"{rng.choice(WORDS)}.{rng.choice(WORDS)}{rng.randrange(100)}"
    return f"{user}@{rng.choice(['example.com', 'example.org', 'example.net'])}".encode()


def url(rng: random.Random) -> bytes:
    path = "/".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 4)))
    return f"https://{rng.choice(['www.example.com', 'files.example.org'])}/{path}?id={rng.randrange(10**6)}".encode()


FILE_KINDS = {"jpeg": jpeg, "png": png, "pdf": pdf, "zip": zip_archive}
TEXT_KINDS = {"email": email, "url": url}
