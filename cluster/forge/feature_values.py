"""Valid values and look-alike decoys for every feature kind of docs/features.md, with the
checksums that tell them apart, in pure Python (standard library only).

Why here: the features forge plants these values and records them in its answer key, and the
benchmark's reference scanner (bench/feature_reference.py) judges its candidates with the same
`is_valid`/`normalise`, so key and reference agree by construction while both stay independent
of the Rust scanner under test. Every checksum is written from its published specification
(Luhn; ISO 13616 IBAN; base58check; BIP-173/BIP-350 bech32/bech32m; original Keccak-256 as
Ethereum and Monero use it, not SHA3; EIP-55; Monero's block base58; Tor's onion v3; BIP-39)
and tested against that specification's published vectors (tests/unit/test_feature_values.py).

`is_valid(kind, text)` judges a whole token as written in the image (format and checksum);
`normalise(kind, text)` is the value the spec says is reported. `make_valid(kind, rng)` and
`make_decoy(kind, rng)` return a `Sample`: the text to write, its reported value and, for
e-mail and URL, the derived `domain` (and `onion`) hits inside it.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# The kinds in the order docs/features.md lists them; `domain` is derived from e-mail and URL.
KINDS = (
    "email", "url", "domain", "ipv4", "ipv6", "telephone", "ccn", "iban", "bitcoin", "litecoin", "tron",
    "ethereum", "monero", "onion", "bip39", "pgp_private_key", "ssh_private_key",
)  # fmt: skip
PLANTED_KINDS = tuple(k for k in KINDS if k != "domain")
KEY_BLOCK_LIMIT = 64 * 1024  # characters of a private-key block at most (docs/features.md)

BIP39_PATH = Path(__file__).resolve().parents[2] / "rust_core" / "src" / "features" / "validate" / "bip39_english.txt"
BIP39_SHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"


@dataclass(frozen=True)
class Sample:
    """One planted thing: `text` as written, `value` as reported, derived hits inside it as
    (kind, offset in text, value); for a decoy, `why` it must not be reported."""

    kind: str
    text: str
    value: str
    also: tuple[tuple[str, int, str], ...] = ()
    why: str = ""


# --- BIP-39 word list ---------------------------------------------------------------------------


@cache
def bip39_words() -> tuple[str, ...]:
    """The English list, checked against its published SHA-256 so a damaged copy fails loudly."""
    if not BIP39_PATH.is_file():
        raise FileNotFoundError(f"BIP-39 English word list missing at {BIP39_PATH}")
    raw = BIP39_PATH.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != BIP39_SHA256:
        raise ValueError(f"{BIP39_PATH}: SHA-256 {digest}, expected {BIP39_SHA256}")
    words = tuple(raw.decode().split())
    assert len(words) == 2048
    return words


@cache
def bip39_index() -> dict[str, int]:
    return {w: i for i, w in enumerate(bip39_words())}


# --- Luhn and card issuers ------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_complete(partial: str) -> str:
    """`partial` plus the check digit that makes it pass Luhn."""
    for d in "0123456789":
        if luhn_ok(partial + d):
            return partial + d
    raise AssertionError("unreachable")


# issuer -> ([(low prefix, high prefix)], card lengths); prefixes compared on their own width
CARD_ISSUERS: dict[str, tuple[list[tuple[str, str]], range]] = {
    "visa": ([("4", "4")], range(13, 20, 3)),
    "mastercard": ([("51", "55"), ("2221", "2720")], range(16, 17)),
    "amex": ([("34", "34"), ("37", "37")], range(15, 16)),
    "discover": ([("6011", "6011"), ("644", "649"), ("65", "65"), ("622126", "622925")], range(16, 20)),
    "jcb": ([("3528", "3589")], range(16, 20)),
    "diners": ([("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")], range(14, 20)),
    "unionpay": ([("62", "62"), ("81", "81")], range(16, 20)),
    "maestro": ([("50", "50"), ("56", "69")], range(12, 20)),
}


def card_issuer(digits: str) -> str | None:
    for name, (ranges, lengths) in CARD_ISSUERS.items():
        if len(digits) in lengths and any(lo <= digits[: len(lo)] <= hi for lo, hi in ranges):
            return name
    return None


def ccn_ok(digits: str) -> bool:
    return digits.isdigit() and 13 <= len(digits) <= 19 and luhn_ok(digits) and card_issuer(digits) is not None


def card_inside(text: str) -> str | None:
    """A valid card number hiding in `text`: any 13-19-digit window of a run of digits joined
    by single spaces or dashes. The forge keeps such windows out of IBANs and phone numbers so
    that no scanner, however it cuts tokens, finds a card there."""
    for run in re.findall(r"\d(?:[ \-]?\d)*", text):
        digits = re.sub(r"\D", "", run)
        for n in range(13, 20):
            for i in range(len(digits) - n + 1):
                if ccn_ok(digits[i : i + n]):
                    return digits[i : i + n]
    return None


# --- IBAN (ISO 13616) -----------------------------------------------------------------------------

# country -> IBAN length, from the SWIFT IBAN registry
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
# BBAN layouts of the countries the forge plants: n digit, a letter, c letter or digit
IBAN_LAYOUTS = {
    "DE": "18n", "GB": "4a14n", "FR": "10n11c2n", "ES": "20n", "IT": "1a10n12c", "NL": "4a10n", "BE": "12n",
    "CH": "5n12c", "AT": "16n", "PL": "24n", "SE": "20n", "NO": "11n", "DK": "14n", "FI": "14n",
    "IE": "4a14n", "PT": "21n", "LU": "3n13c", "CZ": "20n", "SA": "2n18c", "AE": "19n", "TR": "6n16c",
    "MT": "4a5n18c", "BR": "23n1a1c",
}  # fmt: skip


def iban_mod97(iban: str) -> int:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97


def iban_ok(value: str) -> bool:
    """`value` without spaces, upper case: known country, its length, mod-97 = 1."""
    return (
        re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{1,30}", value) is not None
        and IBAN_LENGTHS.get(value[:2]) == len(value)
        and iban_mod97(value) == 1
    )


def iban_with_check(country: str, bban: str) -> str:
    """The IBAN of `bban` in `country` with its ISO 7064 MOD 97-10 check digits."""
    check = 98 - iban_mod97(country + "00" + bban)
    return f"{country}{check:02d}{bban}"


# --- base58 and base58check -------------------------------------------------------------------------

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B58_INDEX = {c: i for i, c in enumerate(B58)}


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(B58[r])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def b58decode(text: str) -> bytes | None:
    n = 0
    for c in text:
        i = B58_INDEX.get(c)
        if i is None:
            return None
        n = n * 58 + i
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + (n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b"")


def dsha256(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def b58check_encode(version: int, payload: bytes) -> str:
    body = bytes([version]) + payload
    return b58encode(body + dsha256(body)[:4])


def b58check_decode(text: str) -> tuple[int, bytes] | None:
    """(version byte, payload) when the double-SHA-256 checksum holds."""
    raw = b58decode(text)
    if raw is None or len(raw) < 5 or dsha256(raw[:-4])[:4] != raw[-4:]:
        return None
    return raw[0], raw[1:-4]


# --- bech32 / bech32m (BIP-173, BIP-350) --------------------------------------------------------------

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32, BECH32M = 1, 0x2BC830A3  # the constant the checksum residue must equal


def bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32_hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def bech32_encode(hrp: str, data: list[int], const: int) -> str:
    poly = bech32_polymod(bech32_hrp_expand(hrp) + data + [0] * 6) ^ const
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + checksum)


def bech32_decode(text: str) -> tuple[str, list[int], int] | None:
    """(hrp, data without checksum, BECH32 or BECH32M) of a well-formed string."""
    if any(ord(c) < 33 or ord(c) > 126 for c in text) or (text.lower() != text and text.upper() != text):
        return None
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text) or len(text) > 90:
        return None
    if any(c not in BECH32_CHARSET for c in text[pos + 1 :]):
        return None
    hrp, data = text[:pos], [BECH32_CHARSET.find(c) for c in text[pos + 1 :]]
    const = bech32_polymod(bech32_hrp_expand(hrp) + data)
    if const not in (BECH32, BECH32M):
        return None
    return hrp, data[:-6], const


def convertbits(data: bytes | list[int], frombits: int, tobits: int, pad: bool = True) -> list[int] | None:
    acc, bits, ret, maxv = 0, 0, [], (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            return None
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if pad:
        if bits:
            ret.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return ret


def segwit_encode(hrp: str, witver: int, program: bytes, const: int | None = None) -> str:
    """A segwit address; `const` overrides the checksum constant (only decoys do that)."""
    if const is None:
        const = BECH32 if witver == 0 else BECH32M
    return bech32_encode(hrp, [witver] + (convertbits(program, 8, 5) or []), const)


def segwit_decode(hrp: str, text: str) -> tuple[int, bytes] | None:
    """(witness version, program) when the checksum, version and program length are right."""
    got = bech32_decode(text)
    if got is None or got[0] != hrp or not got[1]:
        return None
    _, data, const = got
    program = convertbits(data[1:], 5, 8, False)
    witver = data[0]
    if program is None or not 2 <= len(program) <= 40 or witver > 16:
        return None
    if witver == 0 and len(program) not in (20, 32):
        return None
    if (witver == 0) != (const == BECH32):
        return None
    return witver, bytes(program)


# --- Keccak-256 (the original Keccak padding, as Ethereum and Monero use it) -------------------------

_MASK64 = (1 << 64) - 1


def _keccak_tables() -> tuple[list[int], list[tuple[int, int, int]]]:
    """Round constants (the LFSR of the Keccak reference) and the rho/pi lane moves."""
    rcs, r = [], 1
    for _ in range(24):
        rc = 0
        for j in range(7):
            r = ((r << 1) ^ ((r >> 7) * 0x71)) % 256
            if r & 2:
                rc ^= 1 << ((1 << j) - 1)
        rcs.append(rc)
    moves, (x, y) = [], (1, 0)
    for t in range(24):
        nx, ny = y, (2 * x + 3 * y) % 5
        moves.append((x + 5 * y, nx + 5 * ny, ((t + 1) * (t + 2) // 2) % 64))
        x, y = nx, ny
    return rcs, moves


_KECCAK_RC, _KECCAK_MOVES = _keccak_tables()


def _keccak_f(a: list[int]) -> None:
    """Keccak-f[1600] in place on 25 lanes, lane (x, y) at index x + 5y."""
    for rc in _KECCAK_RC:
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        for x in range(5):
            d = c[(x - 1) % 5] ^ (((c[(x + 1) % 5] << 1) | (c[(x + 1) % 5] >> 63)) & _MASK64)
            for y in range(0, 25, 5):
                a[x + y] ^= d
        b = a[:]
        for src, dst, rot in _KECCAK_MOVES:
            v = a[src]
            b[dst] = ((v << rot) | (v >> (64 - rot))) & _MASK64 if rot else v
        for y in range(0, 25, 5):
            row = b[y : y + 5]
            for x in range(5):
                a[y + x] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5])
        a[0] ^= rc


def keccak(data: bytes, rate: int = 136, pad: int = 0x01, out: int = 32) -> bytes:
    """The Keccak sponge; pad 0x01 is original Keccak (Keccak-256), 0x06 is FIPS 202 SHA3."""
    msg = bytearray(data)
    msg.append(pad)
    msg.extend(b"\0" * (-len(msg) % rate))
    msg[-1] |= 0x80
    state = [0] * 25
    for block in range(0, len(msg), rate):
        for i in range(rate // 8):
            state[i] ^= int.from_bytes(msg[block + 8 * i : block + 8 * i + 8], "little")
        _keccak_f(state)
    return b"".join(lane.to_bytes(8, "little") for lane in state)[:out]


def keccak256(data: bytes) -> bytes:
    return keccak(data)


# --- Ethereum (EIP-55) -------------------------------------------------------------------------------


def eip55(hex40: str) -> str:
    """The EIP-55 mixed-case form of 40 hex digits (without 0x)."""
    lower = hex40.lower()
    digest = keccak256(lower.encode()).hex()
    return "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))


def ethereum_ok(text: str) -> bool:
    if re.fullmatch(r"0x[0-9a-fA-F]{40}", text) is None:
        return False
    body = text[2:]
    return body in (body.lower(), body.upper()) or body == eip55(body)


# --- Monero (block base58, Keccak-256 checksum) ----------------------------------------------------------

MONERO_BLOCK_CHARS = (0, 2, 3, 5, 6, 7, 9, 10, 11)  # characters for a block of 0..8 bytes
MONERO_NETS = {18: 95, 42: 95, 19: 106}  # mainnet: standard, subaddress, integrated -> length


def monero_b58encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data), 8):
        block = data[i : i + 8]
        n, chars = int.from_bytes(block, "big"), []
        for _ in range(MONERO_BLOCK_CHARS[len(block)]):
            n, r = divmod(n, 58)
            chars.append(B58[r])
        out.append("".join(reversed(chars)))
    return "".join(out)


def monero_b58decode(text: str) -> bytes | None:
    out = bytearray()
    for i in range(0, len(text), 11):
        chunk = text[i : i + 11]
        if len(chunk) not in MONERO_BLOCK_CHARS[1:]:
            return None
        n = 0
        for c in chunk:
            idx = B58_INDEX.get(c)
            if idx is None:
                return None
            n = n * 58 + idx
        size = MONERO_BLOCK_CHARS.index(len(chunk))
        if n >> (8 * size):
            return None
        out += n.to_bytes(size, "big")
    return bytes(out)


def monero_address(net: int, spend: bytes, view: bytes, payment_id: bytes = b"") -> str:
    body = bytes([net]) + spend + view + payment_id
    return monero_b58encode(body + keccak256(body)[:4])


def monero_ok(text: str) -> bool:
    if len(text) not in (95, 106) or text[0] not in "48":
        return False
    raw = monero_b58decode(text)
    if raw is None or MONERO_NETS.get(raw[0]) != len(text):
        return False
    return keccak256(raw[:-4])[:4] == raw[-4:]


# --- Tor onion v3 (rend-spec-v3, "Encoding onion addresses") -------------------------------------------


def onion_address(pubkey: bytes, version: int = 3) -> str:
    v = bytes([version])
    checksum = hashlib.sha3_256(b".onion checksum" + pubkey + v).digest()[:2]
    return base64.b32encode(pubkey + checksum + v).decode().lower() + ".onion"


def onion_ok(text: str) -> bool:
    low = text.lower()
    if re.fullmatch(r"[a-z2-7]{56}\.onion", low) is None:
        return False
    raw = base64.b32decode(low[:56].upper())
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34:]
    return version == b"\x03" and hashlib.sha3_256(b".onion checksum" + pubkey + version).digest()[:2] == checksum


# --- BIP-39 ----------------------------------------------------------------------------------------------


def bip39_from_entropy(entropy: bytes) -> str:
    bits = len(entropy) * 8
    cs = bits // 32
    n = (int.from_bytes(entropy, "big") << cs) | (hashlib.sha256(entropy).digest()[0] >> (8 - cs))
    words = bip39_words()
    count = (bits + cs) // 11
    return " ".join(words[(n >> (11 * (count - 1 - i))) & 2047] for i in range(count))


def bip39_ok(text: str) -> bool:
    words = text.split(" ")
    index = bip39_index()
    if len(words) not in (12, 15, 18, 21, 24) or any(w not in index for w in words):
        return False
    n = 0
    for w in words:
        n = (n << 11) | index[w]
    cs = len(words) * 11 // 33
    entropy = (n >> cs).to_bytes((len(words) * 11 - cs) // 8, "big")
    return n & ((1 << cs) - 1) == hashlib.sha256(entropy).digest()[0] >> (8 - cs)


# --- private-key blocks -----------------------------------------------------------------------------------

PGP_LABEL = "PGP PRIVATE KEY BLOCK"
SSH_LABELS = ("OPENSSH PRIVATE KEY", "RSA PRIVATE KEY", "DSA PRIVATE KEY", "EC PRIVATE KEY",
              "ENCRYPTED PRIVATE KEY", "PRIVATE KEY")  # fmt: skip


def key_block_ok(text: str, labels: tuple[str, ...]) -> bool:
    """A BEGIN line of one of `labels`, and the first END line of the same label ends it."""
    m = re.match(r"-----BEGIN ([A-Z0-9 ]+)-----", text)
    if m is None or m.group(1) not in labels or len(text) > KEY_BLOCK_LIMIT:
        return False
    end = f"-----END {m.group(1)}-----"
    return text.find(end) == len(text) - len(end)


def crc24(data: bytes) -> int:
    """OpenPGP armor checksum (RFC 4880, 6.1)."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


# --- network and text kinds ---------------------------------------------------------------------------------

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?")
_LOCAL = re.compile(r"[A-Za-z0-9._%+\-]+")
_URL = re.compile(r"(?i:https?|ftps?)://([^/?#\s\"'<>]+)([/?#][\x21-\x7e]*)?")
_URL_TRAILING = ".,;:!?)"
_INTL_PHONE = re.compile(r"\+\d+(?:[ .\-]?\(\d+\)[ .\-]?\d+|[ .\-]\d+)*")
_NA_PHONE = re.compile(r"\(\d{3}\) \d{3}-\d{4}|\d{3}-\d{3}-\d{4}")
_IBAN = re.compile(r"[A-Za-z]{2}\d{2}(?:[A-Za-z0-9]+|(?: [A-Za-z0-9]{4})*(?: [A-Za-z0-9]{1,4}))")


def domain_ok(host: str) -> bool:
    """A domain name: at least two labels, an alphabetic TLD of 2-24 letters."""
    labels = host.split(".")
    return (
        len(labels) >= 2
        and all(_LABEL.fullmatch(label) for label in labels)
        and re.fullmatch(r"[A-Za-z]{2,24}", labels[-1]) is not None
    )


def ipv4_ok(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(re.fullmatch(r"0|[1-9]\d{0,2}", p) and int(p) <= 255 for p in parts)


def ipv6_ok(text: str) -> bool:
    if text.count(":") < 2 or re.fullmatch(r"[0-9A-Fa-f:.]+", text) is None:
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def url_host(text: str) -> tuple[int, str] | None:
    """(offset of the host in `text`, host) of a URL, without userinfo or port."""
    m = _URL.match(text)
    if m is None:
        return None
    authority, start = m.group(1), m.start(1)
    if "@" in authority:
        at = authority.rindex("@") + 1
        authority, start = authority[at:], start + at
    if authority.startswith("["):
        host = authority[: authority.find("]") + 1] if "]" in authority else authority
    else:
        host = authority.split(":", 1)[0]
    return start, host


def url_ok(text: str) -> bool:
    m = _URL.fullmatch(text)
    if m is None or text[-1] in _URL_TRAILING:
        return False
    start, host = url_host(text) or (0, "")
    rest = text[start + len(host) :].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if rest and re.fullmatch(r":\d{1,5}", rest) is None:
        return False
    if host.startswith("[") and host.endswith("]"):
        return ipv6_ok(host[1:-1])
    return domain_ok(host) or ipv4_ok(host)


def email_ok(text: str) -> bool:
    local, at, domain = text.partition("@")
    return bool(at) and _LOCAL.fullmatch(local) is not None and domain_ok(domain)


def telephone_ok(text: str) -> bool:
    if _NA_PHONE.fullmatch(text):
        return True
    if _INTL_PHONE.fullmatch(text) is None or text.count("(") != text.count(")"):
        return False
    digits = re.sub(r"\D", "", text)
    return 8 <= len(digits) <= 15 and digits[0] != "0"


def ccn_text_ok(text: str) -> bool:
    return re.fullmatch(r"\d(?:[ \-]?\d)*", text) is not None and ccn_ok(re.sub(r"\D", "", text))


def iban_text_ok(text: str) -> bool:
    return _IBAN.fullmatch(text) is not None and iban_ok(text.replace(" ", "").upper())


def bitcoin_ok(text: str) -> bool:
    if text[:3].lower() == "bc1":
        return segwit_decode("bc", text) is not None
    return _base58_address(text, {"1": 0x00, "3": 0x05})


def litecoin_ok(text: str) -> bool:
    if text[:4].lower() == "ltc1":
        return segwit_decode("ltc", text) is not None
    return _base58_address(text, {"L": 0x30, "M": 0x32})


def tron_ok(text: str) -> bool:
    return len(text) == 34 and _base58_address(text, {"T": 0x41})


def _base58_address(text: str, versions: dict[str, int]) -> bool:
    if not text or text[0] not in versions or not 26 <= len(text) <= 35:
        return False
    got = b58check_decode(text)
    return got is not None and got[0] == versions[text[0]] and len(got[1]) == 20


CHECKS: dict[str, Callable[[str], bool]] = {
    "email": email_ok,
    "url": url_ok,
    "domain": lambda t: domain_ok(t) or ipv4_ok(t),
    "ipv4": ipv4_ok,
    "ipv6": ipv6_ok,
    "telephone": telephone_ok,
    "ccn": ccn_text_ok,
    "iban": iban_text_ok,
    "bitcoin": bitcoin_ok,
    "litecoin": litecoin_ok,
    "tron": tron_ok,
    "ethereum": ethereum_ok,
    "monero": monero_ok,
    "onion": onion_ok,
    "bip39": bip39_ok,
    "pgp_private_key": lambda t: key_block_ok(t, (PGP_LABEL,)),
    "ssh_private_key": lambda t: key_block_ok(t, SSH_LABELS),
}


def is_valid(kind: str, text: str) -> bool:
    """Whether `text`, one whole token as written in the image, is a valid `kind` value."""
    return CHECKS[kind](text)


def normalise(kind: str, text: str) -> str:
    """The value docs/features.md says is reported for the token `text`."""
    if kind == "ccn":
        return re.sub(r"\D", "", text)
    if kind == "iban":
        return text.replace(" ", "").upper()
    if kind in ("ipv6", "onion", "domain"):
        return text.lower()
    return text


# --- generators of valid values ----------------------------------------------------------------------------

FIRST_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
               "oscar", "peggy", "trent", "victor", "walter", "maria", "jose", "wei", "yuki", "olga", "amir",
               "fatima", "lars", "ingrid", "kofi", "anya", "tomas")  # fmt: skip
LAST_NAMES = ("smith", "jones", "garcia", "mueller", "rossi", "tanaka", "kowalski", "novak", "silva", "dubois",
              "jensen", "ivanova", "chen", "okafor", "haddad", "lindqvist", "moreau")  # fmt: skip
HOST_WORDS = ("mail", "post", "inbox", "secure", "proton", "cyber", "market", "shop", "crypto", "coin", "vault",
              "node", "relay", "hidden", "cloud", "data", "web", "corp", "bank", "trade", "exchange", "wallet",
              "forum", "board", "anon", "ghost", "shadow", "river", "stone", "north", "blue", "green")  # fmt: skip
TLDS = ("com", "com", "com", "org", "net", "io", "de", "co.uk", "info", "biz", "ru", "fr", "nl", "ch", "jp",
        "online", "technology", "museum")  # fmt: skip
PATH_WORDS = ("index", "docs", "files", "download", "report", "archive", "listing", "item", "view", "user",
              "orders", "static", "img", "forum", "thread", "wiki", "support", "api", "v2", "release")  # fmt: skip


def _mixed_case(rng: random.Random, text: str) -> str:
    """A real-world case variant: capitalised, or every letter upper case."""
    return text.upper() if rng.random() < 0.3 else text[:1].upper() + text[1:]


def _host(rng: random.Random) -> str:
    a, b = rng.sample(HOST_WORDS, 2)
    name = rng.choice([a + b, f"{a}-{b}", a + str(rng.randrange(2, 99))])
    sub = rng.choice(["", "", "www.", "mail.", "files.", "docs.", "cdn."])
    return f"{sub}{name}.{rng.choice(TLDS)}"


def _email(rng: random.Random) -> Sample:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    local = rng.choice([first, f"{first}.{last}", f"{first}_{last}", f"{first[0]}{last}", f"{first}.{last}+news",
                        f"{first}{rng.randrange(10, 99)}", f"{first[0]}.{last}-dev"])  # fmt: skip
    host = _host(rng)
    if rng.random() < 0.1:
        local, host = _mixed_case(rng, local), _mixed_case(rng, host)
    text = f"{local}@{host}"
    return Sample("email", text, text, (("domain", len(local) + 1, host.lower()),))


def _url(rng: random.Random) -> Sample:
    scheme = rng.choice(["http", "https", "https", "https", "ftp", "ftps"])
    onion = rng.random() < 0.1
    host = onion_address(rng.randbytes(32)) if onion else _host(rng)
    if not onion and rng.random() < 0.1:
        host = _mixed_case(rng, host)
    port = rng.choice(["", "", "", "", ":8080", ":8443", ":2121"])
    path = ""
    for _ in range(rng.randrange(0, 4)):
        path += "/" + rng.choice([rng.choice(PATH_WORDS), str(rng.randrange(1, 9999)), rng.choice(PATH_WORDS) + "-"
                                  + rng.choice(PATH_WORDS)])  # fmt: skip
    roll = rng.random()
    if roll < 0.3:
        path += "/" + rng.choice(PATH_WORDS) + rng.choice([".html", ".php", ".pdf", ".zip", ".txt"])
    elif roll < 0.45:
        path += f"/{rng.choice(PATH_WORDS)}?id={rng.randrange(1, 99999)}&lang={rng.choice(['en', 'de', 'fr'])}"
    elif roll < 0.55:
        path += "/"
    if rng.random() < 0.08:
        path += f"#{rng.choice(PATH_WORDS)}"
    text = f"{scheme}://{host}{port}{path}"
    at = len(scheme) + 3
    also = [("domain", at, host.lower())]
    if onion:
        also.append(("onion", at, host.lower()))
    return Sample("url", text, text, tuple(also))


def _ipv4(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.25:
        parts = [10, rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)]
    elif roll < 0.45:
        parts = [192, 168, rng.randrange(256), rng.randrange(1, 255)]
    elif roll < 0.55:
        parts = [172, rng.randrange(16, 32), rng.randrange(256), rng.randrange(1, 255)]
    else:
        parts = [rng.randrange(1, 224), rng.randrange(256), rng.randrange(256), rng.randrange(256)]
    return ".".join(map(str, parts))


def _ipv6(rng: random.Random) -> Sample:
    prefix = rng.choice([[0x2001, 0xDB8], [0xFE80, 0], [0xFD00, rng.randrange(1 << 16)], [0x2A00, 0x1450],
                         [0x2607, 0xF8B0], [0x2001, 0x4860]])  # fmt: skip
    groups = prefix + [rng.randrange(1 << 16) if rng.random() < 0.6 else 0 for _ in range(6)]
    if rng.random() < 0.5:
        k = rng.randrange(2, 5)
        at = rng.randrange(2, 8 - k + 1)
        groups[at : at + k] = [0] * k
    addr = ipaddress.IPv6Address(b"".join(g.to_bytes(2, "big") for g in groups))
    roll = rng.random()
    if roll < 0.05:
        text = "::1"
    elif roll < 0.25:
        text = addr.exploded
    elif roll < 0.4:
        text = ":".join(f"{g:x}" for g in groups)
    else:
        text = addr.compressed
    if rng.random() < 0.15:
        text = text.upper()
    return Sample("ipv6", text, text.lower())


def _digits(rng: random.Random, n: int, first: str = "0123456789") -> str:
    return rng.choice(first) + "".join(rng.choice(string.digits) for _ in range(n - 1))


def _telephone(rng: random.Random) -> str:
    def d(n: int, first: str = "123456789") -> str:
        return _digits(rng, n, first)

    while True:
        text = rng.choice([
            f"+44 20 {d(4)} {d(4)}", f"+44 7{d(3, '0123456789')} {d(6)}", f"+49 30 {d(8)}", f"+49 (89) {d(7)}",
            f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}", f"+81-3-{d(4)}-{d(4)}", f"+61.2.{d(4)}.{d(4)}",
            f"+7 495 {d(3)}-{d(2)}-{d(2)}", f"+86 10 {d(4)} {d(4)}", f"+34 {d(3)} {d(3)} {d(3)}",
            f"+1 {d(3, '23456789')} {d(3)} {d(4)}", f"+39 06 {d(4)} {d(4)}", f"+31 20 {d(3)} {d(4)}",
            f"+55 11 {d(5)}-{d(4)}", f"+91 {d(5)} {d(5)}", f"+380 44 {d(3)} {d(4)}", f"+49 171 {d(7)} {d(3)}",
            f"({d(3, '23456789')}) {d(3, '23456789')}-{d(4)}", f"{d(3, '23456789')}-{d(3, '23456789')}-{d(4)}",
        ])  # fmt: skip
        if telephone_ok(text) and card_inside(text) is None:
            return text


# issuer prefix choices and length for planted cards: (prefixes, length, group sizes)
CARD_PLANS = (
    (["4"], 16, (4, 4, 4, 4)), (["4"], 13, ()),
    (["51", "52", "53", "54", "55", "2221", "2500", "2720"], 16, (4, 4, 4, 4)),
    (["34", "37"], 15, (4, 6, 5)), (["6011", "65", "644"], 16, (4, 4, 4, 4)),
    (["3528", "3560", "3589"], 16, (4, 4, 4, 4)),
    (["36", "38", "300", "305"], 14, (4, 6, 4)), (["62"], 16, (4, 4, 4, 4)), (["62"], 19, (4, 4, 4, 4, 3)),
    (["6759", "5018"], 16, (4, 4, 4, 4)), (["4"], 19, (4, 4, 4, 4, 3)),
)  # fmt: skip


def _group(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    out, at = [], 0
    for n in sizes:
        out.append(digits[at : at + n])
        at += n
    return sep.join(out)


def _ccn(rng: random.Random) -> Sample:
    prefixes, length, sizes = rng.choice(CARD_PLANS)
    prefix = rng.choice(prefixes)
    digits = luhn_complete(prefix + _digits(rng, length - len(prefix) - 1))
    sep = rng.choice(["", " ", " ", "-"]) if sizes else ""
    text = _group(digits, sizes, sep) if sep else digits
    return Sample("ccn", text, digits)


def _bban(rng: random.Random, layout: str) -> str:
    out = []
    for count, cls in re.findall(r"(\d+)([nac])", layout):
        pool = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[cls]
        out.extend(rng.choice(pool) for _ in range(int(count)))
    return "".join(out)


def _iban_text(rng: random.Random, value: str) -> str:
    if rng.random() < 0.5:
        return value
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def _iban(rng: random.Random) -> Sample:
    while True:
        country = rng.choice(sorted(IBAN_LAYOUTS))
        value = iban_with_check(country, _bban(rng, IBAN_LAYOUTS[country]))
        text = _iban_text(rng, value)
        if card_inside(text) is None:
            return Sample("iban", text, value)


def _bitcoin(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return b58check_encode(0x00, rng.randbytes(20))
    if roll < 0.55:
        return b58check_encode(0x05, rng.randbytes(20))
    if roll < 0.8:
        return segwit_encode("bc", 0, rng.randbytes(20))
    if roll < 0.9:
        return segwit_encode("bc", 0, rng.randbytes(32))
    return segwit_encode("bc", 1, rng.randbytes(32))


def _litecoin(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return b58check_encode(0x30, rng.randbytes(20))
    if roll < 0.7:
        return b58check_encode(0x32, rng.randbytes(20))
    if roll < 0.9:
        return segwit_encode("ltc", 0, rng.randbytes(20))
    return segwit_encode("ltc", 1, rng.randbytes(32))


def _ethereum(rng: random.Random) -> str:
    body = rng.randbytes(20).hex()
    roll = rng.random()
    if roll < 0.6:
        return "0x" + eip55(body)
    return "0x" + (body.upper() if roll < 0.7 else body)


def _monero(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return monero_address(18, rng.randbytes(32), rng.randbytes(32))
    if roll < 0.85:
        return monero_address(42, rng.randbytes(32), rng.randbytes(32))
    return monero_address(19, rng.randbytes(32), rng.randbytes(32), rng.randbytes(8))


def _bip39(rng: random.Random) -> str:
    return bip39_from_entropy(rng.randbytes(rng.choice([16, 16, 16, 20, 24, 28, 32])))


def _armor_lines(data: bytes, width: int, newline: str) -> str:
    text = base64.b64encode(data).decode()
    return newline.join(text[i : i + width] for i in range(0, len(text), width))


def _pem(rng: random.Random, label: str, der: bytes, headers: str = "") -> str:
    nl = "\r\n" if rng.random() < 0.2 else "\n"
    width = 70 if label.startswith("OPENSSH") else 64
    body = headers.replace("\n", nl) + _armor_lines(der, width, nl)
    return f"-----BEGIN {label}-----{nl}{body}{nl}-----END {label}-----"


def _pgp_block(rng: random.Random, label: str, first: bytes) -> str:
    nl = "\r\n" if rng.random() < 0.2 else "\n"
    data = first + rng.randbytes(rng.randrange(300, 2400))
    version = rng.choice(["", "", f"Version: GnuPG v2{nl}", f"Comment: exported key{nl}"])
    crc = base64.b64encode(crc24(data).to_bytes(3, "big")).decode()
    return f"-----BEGIN {label}-----{nl}{version}{nl}{_armor_lines(data, 64, nl)}{nl}={crc}{nl}-----END {label}-----"


def _ssh_key(rng: random.Random) -> str:
    label = rng.choice(SSH_LABELS)
    if label == "OPENSSH PRIVATE KEY":
        return _pem(rng, label, b"openssh-key-v1\0" + rng.randbytes(rng.randrange(380, 2600)))
    if label == "EC PRIVATE KEY":
        return _pem(rng, label, b"\x30\x77\x02\x01\x01\x04\x20" + rng.randbytes(114))
    size = {"RSA PRIVATE KEY": 1190, "DSA PRIVATE KEY": 440}.get(label, 1210)
    headers = ""
    if label == "RSA PRIVATE KEY" and rng.random() < 0.3:
        headers = f"Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{rng.randbytes(16).hex().upper()}\n\n"
    return _pem(rng, label, b"\x30\x82" + rng.randbytes(size + rng.randrange(-40, 500)), headers)


def _plain(kind: str, make: Callable[[random.Random], str]) -> Callable[[random.Random], Sample]:
    def sample(rng: random.Random) -> Sample:
        text = make(rng)
        return Sample(kind, text, normalise(kind, text))

    return sample


MAKERS: dict[str, Callable[[random.Random], Sample]] = {
    "email": _email,
    "url": _url,
    "ipv4": _plain("ipv4", _ipv4),
    "ipv6": _ipv6,
    "telephone": _plain("telephone", _telephone),
    "ccn": _ccn,
    "iban": _iban,
    "bitcoin": _plain("bitcoin", _bitcoin),
    "litecoin": _plain("litecoin", _litecoin),
    "tron": _plain("tron", lambda r: b58check_encode(0x41, r.randbytes(20))),
    "ethereum": _plain("ethereum", _ethereum),
    "monero": _plain("monero", _monero),
    "onion": _plain("onion", lambda r: onion_address(r.randbytes(32))),
    "bip39": _plain("bip39", _bip39),
    "pgp_private_key": _plain("pgp_private_key", lambda r: _pgp_block(r, PGP_LABEL, b"\x95" + r.randbytes(3))),
    "ssh_private_key": _plain("ssh_private_key", _ssh_key),
}


def make_valid(kind: str, rng: random.Random) -> Sample:
    """A valid value of `kind` as it would appear in text, with its reported value."""
    return MAKERS[kind](rng)


# --- decoys: look-alikes that must not be reported -----------------------------------------------------------


def _change_one(rng: random.Random, text: str, alphabet: str, start: int = 1) -> str:
    """`text` with one character (not before `start`) replaced by another of `alphabet`."""
    i = rng.randrange(start, len(text))
    return text[:i] + rng.choice([c for c in alphabet if c != text[i]]) + text[i + 1 :]


def _until_invalid(kind: str, make: Callable[[], str]) -> str:
    """Draw until the look-alike fails validation (a changed character can, rarely, still pass)."""
    for _ in range(1000):
        text = make()
        if not is_valid(kind, text):
            return text
    raise AssertionError(f"no invalid {kind} look-alike after 1000 draws")


def _flip_case_one(rng: random.Random, text: str) -> str:
    letters = [i for i, c in enumerate(text) if c in "abcdefABCDEF" and i >= 2]
    i = rng.choice(letters)
    return text[:i] + text[i].swapcase() + text[i + 1 :]


def _bad_card(rng: random.Random) -> str:
    valid = _ccn(rng).value
    digits = _until_invalid("ccn", lambda: _change_one(rng, valid, string.digits, 1))
    if rng.random() < 0.5:
        return rng.choice(" -").join(digits[i : i + 4] for i in range(0, len(digits), 4))
    return digits


def _double_space(rng: random.Random) -> str:
    """A 16-digit card with one double space: two tokens, neither a card."""
    digits = luhn_complete("4" + _digits(rng, 14))
    return _group(digits, (4, 4, 4, 4), " ").replace(" ", "  ", 1)


def _iban_decoy(rng: random.Random, make: Callable[[], str]) -> str:
    """An IBAN look-alike, grouped or not, with no card number hiding in its digits."""
    while True:
        text = _iban_text(rng, make())
        if card_inside(text) is None and not is_valid("iban", text):
            return text


def _onion_bad_checksum(rng: random.Random) -> str:
    label = onion_address(rng.randbytes(32))[:56]
    return _until_invalid("onion", lambda: _change_one(rng, label, "abcdefghijklmnopqrstuvwxyz234567", 0) + ".onion")


def _bip39_bad_checksum(rng: random.Random) -> str:
    words = _bip39(rng).split(" ")
    return _until_invalid("bip39", lambda: " ".join(words[:-1] + [rng.choice(bip39_words())]))


def _bip39_misspelt(rng: random.Random) -> str:
    """A phrase with one word misspelt: two runs of list words, neither a valid phrase (a run
    of 12, 15, ... words on one side could be, by chance)."""
    index = bip39_index()
    while True:
        words = _bip39(rng).split(" ")
        i = rng.randrange(3, len(words) - 3)
        if bip39_ok(" ".join(words[:i])) or bip39_ok(" ".join(words[i + 1 :])):
            continue
        while (w := _change_one(rng, words[i], string.ascii_lowercase, 0)) in index:
            pass
        return " ".join(words[:i] + [w] + words[i + 1 :])


def _iban_wrong_length(rng: random.Random) -> str:
    country = rng.choice(sorted(IBAN_LAYOUTS))
    bban = _bban(rng, IBAN_LAYOUTS[country])
    return iban_with_check(country, bban[:-1] if rng.random() < 0.5 else bban + rng.choice(string.digits))


def _onion_bad_version(rng: random.Random) -> str:
    return onion_address(rng.randbytes(32), version=rng.choice([2, 4]))


def _key_like(rng: random.Random, label: str) -> str:
    if label.startswith("PGP"):
        return _pgp_block(rng, label, b"\x99" + rng.randbytes(3))
    return _pem(rng, label, b"\x30\x82" + rng.randbytes(rng.randrange(250, 1300)))


def _ssh_public_line(rng: random.Random) -> str:
    blob = base64.b64encode(b"\0\0\0\x0bssh-ed25519\0\0\0 " + rng.randbytes(32)).decode()
    return f"ssh-ed25519 {blob} {rng.choice(FIRST_NAMES)}-laptop"


# kind -> decoy name -> maker. Every decoy fails `is_valid` as a whole token, and the forge
# plants it in the same sentences as valid values of its kind.
DECOYS: dict[str, dict[str, Callable[[random.Random], str]]] = {
    "email": {
        "no dot in the domain": lambda r: f"{r.choice(FIRST_NAMES)}@localhost",
        "one-letter TLD": lambda r: f"{r.choice(FIRST_NAMES)}.{r.choice(LAST_NAMES)}@{r.choice(HOST_WORDS)}.x",
        "numeric TLD": lambda r: f"{r.choice(FIRST_NAMES)}@{r.choice(HOST_WORDS)}.{r.randrange(100, 999)}",
        "obfuscated at": lambda r: f"{r.choice(FIRST_NAMES)}(at){r.choice(HOST_WORDS)}.com",
        "no local part": lambda r: f"@{r.choice(HOST_WORDS)}{r.choice(HOST_WORDS)}.com",
    },
    "url": {
        "defanged": lambda r: f"hxxp://{r.choice(HOST_WORDS)}[.]com/{r.choice(PATH_WORDS)}",
        "missing colon": lambda r: f"http//{_host(r)}/{r.choice(PATH_WORDS)}",
        "unsupported scheme": lambda r: f"gopher://{_host(r)}/{r.choice(PATH_WORDS)}",
        "misspelt scheme": lambda r: f"htps://{_host(r)}/{r.choice(PATH_WORDS)}",
        "one slash": lambda r: f"https:/{_host(r)}/{r.choice(PATH_WORDS)}",
    },
    "ipv4": {
        "part over 255": lambda r: f"{r.randrange(256, 999)}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(256)}",
        "five parts": lambda r: ".".join(str(r.randrange(1, 30)) for _ in range(5)),
        "leading zero": lambda r: f"{r.randrange(1, 255)}.0{r.randrange(1, 10)}.{r.randrange(256)}.{r.randrange(256)}",
        "three-part version": lambda r: f"{r.randrange(1, 20)}.{r.randrange(0, 30)}.{r.randrange(0, 300)}",
    },
    "ipv6": {
        "time of day": lambda r: f"{r.randrange(10, 24)}:{r.randrange(10, 60)}:{r.randrange(10, 60)}",
        "MAC address": lambda r: ":".join(f"{b:02x}" for b in r.randbytes(6)),
        "two double colons": lambda r: f"2001:db8::{r.randrange(1, 0xFFFF):x}::{r.randrange(1, 0xFFFF):x}",
        "nine groups": lambda r: ":".join(f"{r.randrange(1, 0xFFFF):x}" for _ in range(9)),
        "five-digit group": lambda r: f"2001:db8:{r.randrange(0x10000, 0xFFFFF):x}::1",
    },
    "telephone": {
        "ISO date": lambda r: f"{r.randrange(1990, 2030)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}",
        "dotted date": lambda r: f"{r.randrange(1, 29):02d}.{r.randrange(1, 13):02d}.{r.randrange(1990, 2030)}",
        "seven digits": lambda r: f"{_digits(r, 3, '23456789')}-{_digits(r, 4)}",
        "too few digits": lambda r: f"+{r.randrange(1, 99)} {_digits(r, 3, '123456789')}",
        "price": lambda r: f"${r.randrange(1, 99)},{r.randrange(100, 999)}.{r.randrange(10, 99)}",
        "ISBN": lambda r: f"978-{r.randrange(0, 10)}-{_digits(r, 3)}-{_digits(r, 5)}-{r.randrange(10)}",
    },
    "ccn": {
        "Luhn fails": _bad_card,
        "unknown issuer": lambda r: luhn_complete(r.choice("790") + _digits(r, 14)),
        "twentieth digit": lambda r: luhn_complete("4" + _digits(r, 18)),
        "double space": _double_space,
    },
    "iban": {
        "mod-97 fails": lambda r: _iban_decoy(r, lambda: _change_one(r, _iban(r).value, string.digits, 4)),
        "wrong length for the country": lambda r: _iban_decoy(r, lambda: _iban_wrong_length(r)),
        "unknown country": lambda r: _iban_decoy(
            r, lambda: iban_with_check(r.choice(["ZZ", "QX", "UU"]), _bban(r, "18n"))
        ),
    },
    "bitcoin": {
        "base58 checksum fails": lambda r: _until_invalid(
            "bitcoin", lambda: _change_one(r, b58check_encode(r.choice([0, 5]), r.randbytes(20)), B58)
        ),
        "bech32 checksum fails": lambda r: _until_invalid(
            "bitcoin", lambda: _change_one(r, segwit_encode("bc", 0, r.randbytes(20)), BECH32_CHARSET, 4)
        ),
        "v0 with a bech32m checksum": lambda r: segwit_encode("bc", 0, r.randbytes(20), BECH32M),
        "v1 with a bech32 checksum": lambda r: segwit_encode("bc", 1, r.randbytes(32), BECH32),
        "v0 program of 24 bytes": lambda r: segwit_encode("bc", 0, r.randbytes(24)),
        "one base58 character more": lambda r: _until_invalid(
            "bitcoin", lambda: b58check_encode(0, r.randbytes(20)) + r.choice(B58)
        ),
    },
    "litecoin": {
        "base58 checksum fails": lambda r: _until_invalid(
            "litecoin", lambda: _change_one(r, b58check_encode(r.choice([0x30, 0x32]), r.randbytes(20)), B58)
        ),
        "bech32 checksum fails": lambda r: _until_invalid(
            "litecoin", lambda: _change_one(r, segwit_encode("ltc", 0, r.randbytes(20)), BECH32_CHARSET, 5)
        ),
        "one base58 character more": lambda r: _until_invalid(
            "litecoin", lambda: b58check_encode(0x30, r.randbytes(20)) + r.choice(B58)
        ),
    },
    "tron": {
        "base58 checksum fails": lambda r: _until_invalid(
            "tron", lambda: _change_one(r, b58check_encode(0x41, r.randbytes(20)), B58)
        ),
        "one base58 character more": lambda r: b58check_encode(0x41, r.randbytes(20)) + r.choice(B58),
    },
    "ethereum": {
        "EIP-55 case flipped": lambda r: _until_invalid(
            "ethereum", lambda: _flip_case_one(r, "0x" + eip55(r.randbytes(20).hex()))
        ),
        "41 hex digits": lambda r: "0x" + r.randbytes(21).hex()[:41],
        "39 hex digits": lambda r: "0x" + r.randbytes(20).hex()[:39],
        "64-digit transaction hash": lambda r: "0x" + r.randbytes(32).hex(),
    },
    "monero": {
        "Keccak checksum fails": lambda r: _until_invalid("monero", lambda: _change_one(r, _monero(r), B58, 2)),
        "one character short": lambda r: monero_address(18, r.randbytes(32), r.randbytes(32))[:94],
        "one base58 character more": lambda r: monero_address(18, r.randbytes(32), r.randbytes(32)) + r.choice(B58),
    },
    "onion": {
        "checksum fails": _onion_bad_checksum,
        "wrong version byte": _onion_bad_version,
        "v2 onion (16 characters)": lambda r: base64.b32encode(r.randbytes(10)).decode().lower() + ".onion",
    },
    "bip39": {
        "checksum fails": _bip39_bad_checksum,
        "eleven words": lambda r: " ".join(bip39_from_entropy(r.randbytes(16)).split(" ")[:11]),
        "one word not in the list": _bip39_misspelt,
    },
    "pgp_private_key": {
        "public key block": lambda r: _key_like(r, "PGP PUBLIC KEY BLOCK"),
        "signature": lambda r: _key_like(r, "PGP SIGNATURE"),
    },
    "ssh_private_key": {
        "public key": lambda r: _key_like(r, "PUBLIC KEY"),
        "certificate": lambda r: _key_like(r, "CERTIFICATE"),
        "RSA public key": lambda r: _key_like(r, "RSA PUBLIC KEY"),
        "OpenSSH public key line": _ssh_public_line,
    },
}


def make_decoy(kind: str, rng: random.Random, name: str | None = None) -> Sample:
    """A look-alike of `kind` that must not be reported; `name` picks one of DECOYS[kind]."""
    makers = DECOYS[kind]
    name = name or rng.choice(sorted(makers))
    text = makers[name](rng)
    assert not is_valid(kind, text), (kind, name, text)
    return Sample(kind, text, text, why=name)
