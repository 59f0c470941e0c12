"""A straightforward reference feature scanner: Python `re` patterns for each kind of
docs/features.md plus the validators of cluster/forge/feature_values.py, over an image read in
chunks with an overlap (bounded memory), in ASCII and in UTF-16LE runs, writing the same
`<kind>.txt` files as `quarry scan` (header lines starting `#`, then offset TAB value TAB
context, in offset order).

Why: the feature benchmark runs it beside Quarry's Rust scanner on the same image, so that
the precision and recall the spec allows on that image, and what a plain Python scanner costs
in MB/s, are measured in the same run. How tokens are cut follows docs/features.md: a hit is
a maximal token (a value that continues into more characters of its own alphabet is not
reported), URLs end at whitespace, a quote, `<`, `>` or a non-printable byte and drop trailing
`.,;:!?)`. Where the spec leaves a choice open (is a card number inside a hex string a hit?
may an IPv6 address follow a letter?), this scanner takes one reading (the first yes, the
second no) and the forge plants nothing whose key depends on it.

Usage: python -m bench.feature_reference IMAGE --out DIR
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from cluster.forge import feature_values as fv

CHUNK = 16 << 20  # bytes each window owns
BEFORE = 4096  # bytes read before the owned range: the characters before a token, the context
OVERLAP = 256 << 10  # bytes read past it: longer than any value (a 64 KiB key block in UTF-16LE)
CONTEXT = 16
MIN_UTF16_RUN = 3  # characters


class Hit(NamedTuple):
    kind: str
    start: int  # character index in the scanned text
    end: int
    value: str


# --- finders on decoded text ----------------------------------------------------------------------------

_LOCAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_DOMAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-")
_V6 = frozenset("0123456789abcdefABCDEF:.")
_URL_END = frozenset(" \"'<>")
_SCHEMES = ("http", "https", "ftp", "ftps")
# the first dot of a quad; the digits before it are checked by hand (a dot is rarer than a digit)
_IPV4_DOT = re.compile(r"\.(?=\d{1,3}\.\d{1,3}\.\d{1,3}(?![0-9.]))")
_INTL_PHONE = re.compile(r"\+(?<![A-Za-z0-9+]\+)\d+(?:[ .\-]?\(\d+\)[ .\-]?\d+|[ .\-]\d+)*")
_IPV4_TAIL = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}")
_NA_PHONE = re.compile(r"\((?<![A-Za-z0-9(]\()\d{3}\) \d{3}-\d{4}(?![0-9A-Za-z\-])")
_NA_PHONE_DASHED = re.compile(r"-(?<=[0-9]{3}-)(?<![0-9A-Za-z+\-.][0-9]{3}-)\d{3}-\d{4}(?![0-9A-Za-z\-]|\.\d)")
_CARD = re.compile(r"\d(?<![0-9]\d)(?<![0-9][ \-]\d)(?:[ \-]?\d){12,}")
_IBAN = re.compile(
    r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d\d(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,8}(?: [A-Z0-9]{1,3})?)(?![A-Za-z0-9])"
)
_B58 = "1-9A-HJ-NP-Za-km-z"
_BASE58_RUN = re.compile(rf"[13LMT48](?<![{_B58}][13LMT48])[{_B58}]{{25,}}")  # only runs a kind starts with
_BECH32 = (
    re.compile(r"bc1(?<![0-9A-Za-z]bc1)[02-9ac-hj-np-z]{6,87}(?![0-9A-Za-z])"),
    re.compile(r"ltc1(?<![0-9A-Za-z]ltc1)[02-9ac-hj-np-z]{6,87}(?![0-9A-Za-z])"),
)
_ETHEREUM = re.compile(r"0x(?<![0-9A-Za-z]0x)[0-9a-fA-F]{40}(?![0-9a-fA-F])")
_ONION = re.compile(r"\.onion(?![A-Za-z0-9\-])", re.IGNORECASE)
_ONION_LABEL = re.compile(r"[A-Za-z2-7]{56}")
# at least 12 words of 3-8 letters (every BIP-39 word is) separated by single spaces
_WORD_RUN = re.compile(r"[a-z](?<![A-Za-z][a-z])[a-z]{2,7}(?: [a-z]{3,8}){11,}(?![A-Za-z])")
_KEY_BEGIN = re.compile(r"-----BEGIN (" + "|".join([fv.PGP_LABEL, *fv.SSH_LABELS]) + ")-----")
_BASE58_KINDS = {"1": "bitcoin", "3": "bitcoin", "L": "litecoin", "M": "litecoin", "T": "tron", "4": "monero",
                 "8": "monero"}  # fmt: skip


def _emails(text: str) -> Iterator[Hit]:
    for m in re.finditer("@", text):
        at = m.start()
        s = at
        while s > 0 and text[s - 1] in _LOCAL:
            s -= 1
        e = at + 1
        while e < len(text) and text[e] in _DOMAIN:
            e += 1
        while e > at + 1 and text[e - 1] in ".-":  # a full stop after the address ends the sentence
            e -= 1
        value = text[s:e]
        if s < at and fv.email_ok(value):
            yield Hit("email", s, e, value)
            yield Hit("domain", at + 1, e, text[at + 1 : e].lower())


def _urls(text: str) -> Iterator[Hit]:
    for m in re.finditer("://", text):
        s = m.start()
        while s > 0 and text[s - 1].isascii() and text[s - 1].isalpha():
            s -= 1
        if text[s : m.start()].lower() not in _SCHEMES:
            continue
        e = m.end()
        while e < len(text) and "!" <= text[e] <= "~" and text[e] not in _URL_END:
            e += 1
        while e > m.end() and text[e - 1] in ".,;:!?)":
            e -= 1
        value = text[s:e]
        if not fv.url_ok(value):
            continue
        yield Hit("url", s, e, value)
        at, host = fv.url_host(value) or (0, "")
        if host.startswith("["):
            at, host = at + 1, host[1:-1]
        yield Hit("domain", s + at, s + at + len(host), host.lower())


def _ipv4(text: str) -> Iterator[Hit]:
    for m in _IPV4_DOT.finditer(text):
        s = m.start()
        while s > 0 and s > m.start() - 4 and text[s - 1].isdigit():
            s -= 1
        if s == m.start() or (s and text[s - 1] in "0123456789."):
            continue
        token = text[s : m.start() + 1 + len(_IPV4_TAIL.match(text, m.start() + 1).group())]
        if fv.ipv4_ok(token):
            yield Hit("ipv4", s, s + len(token), token)


def _ipv6(text: str) -> Iterator[Hit]:
    pos = 0
    while (i := text.find(":", pos)) >= 0:
        s, e = i, i + 1
        while s > 0 and text[s - 1] in _V6:
            s -= 1
        while e < len(text) and text[e] in _V6:
            e += 1
        pos = e
        while s < e and text[s] == ".":
            s += 1
        while e > s and text[e - 1] == ".":
            e -= 1
        before = text[s - 1] if s else " "
        after = text[e] if e < len(text) else " "
        token = text[s:e]
        if not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum()):
            if fv.ipv6_ok(token):
                yield Hit("ipv6", s, e, token.lower())


def _telephones(text: str) -> Iterator[Hit]:
    for pattern in (_INTL_PHONE, _NA_PHONE):
        for m in pattern.finditer(text):
            if fv.telephone_ok(m.group()):
                yield Hit("telephone", m.start(), m.end(), m.group())
    for m in _NA_PHONE_DASHED.finditer(text):
        s = m.start() - 3
        yield Hit("telephone", s, m.end(), text[s : m.end()])


def _cards(text: str) -> Iterator[Hit]:
    for m in _CARD.finditer(text):
        if fv.ccn_text_ok(m.group()):
            yield Hit("ccn", m.start(), m.end(), fv.normalise("ccn", m.group()))


def _ibans(text: str) -> Iterator[Hit]:
    for m in _IBAN.finditer(text):
        if fv.iban_text_ok(m.group()):
            yield Hit("iban", m.start(), m.end(), fv.normalise("iban", m.group()))


def _base58(text: str) -> Iterator[Hit]:
    for m in _BASE58_RUN.finditer(text):
        token = m.group()
        kind = _BASE58_KINDS.get(token[0])
        if kind and len(token) <= 106 and fv.is_valid(kind, token):
            yield Hit(kind, m.start(), m.end(), token)


def _bech32(text: str) -> Iterator[Hit]:
    for pattern, kind in zip(_BECH32, ("bitcoin", "litecoin"), strict=True):
        for m in pattern.finditer(text):
            if fv.is_valid(kind, m.group()):
                yield Hit(kind, m.start(), m.end(), m.group())


def _ethereum(text: str) -> Iterator[Hit]:
    for m in _ETHEREUM.finditer(text):
        if fv.ethereum_ok(m.group()):
            yield Hit("ethereum", m.start(), m.end(), m.group())


def _onions(text: str) -> Iterator[Hit]:
    for m in _ONION.finditer(text):
        s = m.start() - 56
        if s < 0 or not _ONION_LABEL.fullmatch(text, s, m.start()):
            continue
        if s and text[s - 1].isascii() and text[s - 1].isalnum():
            continue
        token = text[s : m.end()]
        if fv.onion_ok(token):
            yield Hit("onion", s, m.end(), token.lower())


def _bip39(text: str) -> Iterator[Hit]:
    index = fv.bip39_index()
    for m in _WORD_RUN.finditer(text):
        run_start, words, at = None, [], m.start()
        for word in [*m.group().split(" "), ""]:  # "" closes the last run
            if word in index:
                if run_start is None:
                    run_start, words = at, []
                words.append(word)
            else:
                if run_start is not None:
                    phrase = " ".join(words)
                    if fv.bip39_ok(phrase):
                        yield Hit("bip39", run_start, run_start + len(phrase), phrase)
                run_start = None
            at += len(word) + 1


def _key_blocks(text: str) -> Iterator[Hit]:
    for m in _KEY_BEGIN.finditer(text):
        label = m.group(1)
        end_line = f"-----END {label}-----"
        limit = m.start() + fv.KEY_BLOCK_LIMIT
        end = text.find(end_line, m.end(), limit)
        stop = end + len(end_line) if end >= 0 else min(limit, len(text))
        kind = "pgp_private_key" if label == fv.PGP_LABEL else "ssh_private_key"
        yield Hit(kind, m.start(), stop, text[m.start() : stop])


FINDERS = (_emails, _urls, _ipv4, _ipv6, _telephones, _cards, _ibans, _base58, _bech32, _ethereum, _onions, _bip39,
           _key_blocks)  # fmt: skip


def scan_text(text: str) -> list[Hit]:
    """Every hit in decoded text, of every kind."""
    return [hit for finder in FINDERS for hit in finder(text)]


# --- the image: windows, ASCII and UTF-16LE, the feature files ---------------------------------------------

# From the high byte of a run's first character: a NUL is rarer in text than a printable byte,
# so the search skips ahead on it; the low byte before it is checked by hand.
_UTF16_TAIL = re.compile(rb"\x00(?:[\t\n\r\x20-\x7e]\x00){%d,}" % (MIN_UTF16_RUN - 1))
_TEXT_BYTES = frozenset(b"\t\n\r" + bytes(range(0x20, 0x7F)))


class Found(NamedTuple):
    kind: str
    offset: int
    length: int
    value: str
    encoding: str


def scan_window(data: bytes, base: int) -> list[Found]:
    """Hits in `data` (image bytes from offset `base`), ASCII and UTF-16LE."""
    found = [
        Found(h.kind, base + h.start, h.end - h.start, h.value, "ascii") for h in scan_text(data.decode("latin-1"))
    ]
    for run in _UTF16_TAIL.finditer(data):
        start = run.start() - 1
        if start < 0 or data[start] not in _TEXT_BYTES:
            start += 2  # the NUL is no character's high byte: the run begins after it
            if run.end() - start < 2 * MIN_UTF16_RUN:
                continue
        text = data[start : run.end()].decode("utf-16-le")
        at = base + start
        found += [Found(h.kind, at + 2 * h.start, 2 * (h.end - h.start), h.value, "utf16le") for h in scan_text(text)]
    return found


_ESCAPE = re.compile(rb"[^\x20-\x5b\x5d-\x7e]")


def escape(data: bytes) -> str:
    """bulk_extractor's escaping: printable ASCII as is, every other byte and `\\` as \\xNN."""
    return _ESCAPE.sub(lambda m: f"\\x{m.group()[0]:02X}".encode(), data).decode("ascii")


def unescape(text: str) -> str:
    return re.sub(r"\\x([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)


def scan_image(image: Path, out: Path, chunk: int = CHUNK) -> dict[str, int]:
    """Write `<kind>.txt` for every kind into `out`; returns hits per kind."""
    out.mkdir(parents=True, exist_ok=True)
    size = image.stat().st_size
    counts = dict.fromkeys(fv.KINDS, 0)
    files = {kind: open(out / f"{kind}.txt", "w", encoding="utf-8", newline="\n") for kind in fv.KINDS}  # noqa: SIM115
    try:
        for kind, f in files.items():
            f.write(f"# Feature-Recorder: {kind}\n# Filename: {image}\n# Feature-File-Version: 1.1\n")
            f.write("# Scanner: bench/feature_reference.py (Python re, cluster/forge/feature_values.py)\n")
        with open(image, "rb") as src:
            for own in range(0, size, chunk):
                start = max(0, own - BEFORE)
                src.seek(start)
                data = src.read(min(size, own + chunk + OVERLAP) - start)
                hits = [h for h in scan_window(data, start) if own <= h.offset < own + chunk]
                for h in sorted(hits, key=lambda h: (h.offset, h.kind)):
                    at = h.offset - start
                    context = escape(data[max(0, at - CONTEXT) : at + h.length + CONTEXT])
                    files[h.kind].write(f"{h.offset}\t{escape(h.value.encode())}\t{context}\n")
                    counts[h.kind] += 1
    finally:
        for f in files.values():
            f.close()
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("image", type=Path)
    ap.add_argument("--out", type=Path, required=True, help="folder for the <kind>.txt files")
    args = ap.parse_args()
    started = time.perf_counter()
    counts = scan_image(args.image, args.out)
    seconds = time.perf_counter() - started
    size = args.image.stat().st_size
    report = {"image": str(args.image), "size": size, "seconds": round(seconds, 3),
              "mb_per_s": round(size / 1e6 / seconds, 2), "hits": counts}  # fmt: skip
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
