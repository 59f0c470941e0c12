"""The features corpus: a raw image that looks like a disk, with valid values of every feature
kind and look-alike decoys planted in ASCII and UTF-16LE text, and an answer key
(`quarry forge --profile features`), the input of the feature benchmark (bench/features.py).

The filler is what a scanner meets on a real disk: random bytes as in compressed data, zero
runs, English-like paragraphs with ordinary numbers (years, prices, dates, times, 7-digit order
numbers, version numbers) and some of that text in UTF-16LE, at even and odd offsets. Values
and decoys sit in sentences whose neighbouring characters end tokens the way docs/features.md
says (spaces, punctuation, quotes, brackets, newlines), so each expected value is exactly what
the spec says is reported; the key lists every expected hit (kind, offset, length, value,
encoding), including the `domain` of every planted e-mail and URL and the `onion` of an onion
URL, and every decoy (kind, offset, value, why it must not be reported).

Nothing valid arises by chance: random filler has no `@` or `:` byte (the only ways random
bytes make an e-mail or an IPv6 address at a rate that matters; every other kind needs a run
of a dozen or more specific characters), filler sentences contain no `@`, `+`, `::`, `0x`,
four-part dotted numbers, adjacent numbers or long runs of BIP-39 words, and generated IBANs
and phone numbers hold no card number in their digits. tests/unit/test_features_forge.py
checks this with the reference scanner: it finds exactly the key.

Written front to back in bounded blocks (a text block is at most ~100 KiB), everything drawn
from one `random.Random(seed)`; the key's SHA-256 is taken over the bytes as written.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster.forge import feature_values as fv
from cluster.forge.image import Writer, key_head

PROFILE = "features"
KEY_VERSION = 1
# Share of the image's bytes per kind of block, and each block's size range (bytes, log-uniform).
BLOCK_SHARES = {"random": 0.40, "zeros": 0.15, "ascii": 0.28, "utf16le": 0.17}
BLOCK_SIZES = {"random": (512, 512 << 10), "zeros": (512, 256 << 10), "ascii": (1 << 10, 48 << 10),
               "utf16le": (1 << 10, 32 << 10)}  # fmt: skip
PLANT_EVERY = 4000  # characters of filler text per planted item, on average, once every kind is in
DECOY_RATE = 0.25
KIND_WEIGHTS = {k: 1.0 for k in fv.PLANTED_KINDS} | {"pgp_private_key": 0.4, "ssh_private_key": 0.4}
SENTENCE_POOL = 3000
# Random filler: '@' and ':' bytes become these (see the module docstring).
_SCRUB = bytes.maketrans(b"@:", b"\xc0\xba")

# Sentences a value or decoy of each kind is planted in: (before, after).
TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "email": [("Please contact ", " for the invoice."), ("It was forwarded by <", "> on Monday."),
              ("Reply to ", ", not to the list."), ("The account was registered to ", " last year."),
              ("The sender (", ") signed the message."), ('The header said "', '" twice.')],
    "url": [("See ", " for the full report."), ("The archive is at ", "."), ("Download it from <", ">."),
            ("The link (", ") was dead."), ('The post linked "', '" twice.'), ("He pasted ", ", then left."),
            ("Is it still at ", "?")],
    "ipv4": [("The server at ", " answered."), ("Traffic came from ", ", mostly at night."),
             ("The gateway (", ") was down."), ("They connected to ", " over SSH."), ("Logged host [", "] twice.")],
    "ipv6": [("It was listening on ", " since Monday."), ("The peer (", ") dropped out."),
             ("The router assigned ", ", then rebooted."), ("The route via [", "] failed.")],
    "telephone": [("Call ", ", ask for the manager."), ("The office phone is ", "; hours vary."),
                  ("Her number was ", ", she said."), ("Mobile ", ", evenings only.")],
    "ccn": [("Card number ", ", expiry next year."), ("They paid with ", " on the website."),
            ("The card (", ") was declined."), ("It was charged to ", ".")],
    "iban": [("IBAN: ", ", reference on the invoice."), ("Transfer to (", ") is pending."), ("Account: ", ".")],
    "bitcoin": [("Send the coins to ", " before noon."), ("Wallet: ", ", confirmed."),
                ("The deposit address (", ") rotates daily."), ("The payment to ", " was received.")],
    "ethereum": [("Send the tokens to ", " before noon."), ("Wallet: ", ", confirmed."),
                 ("The contract (", ") was deployed."), ("The payment to ", " was received.")],
    "monero": [("Send the XMR to ", " before noon."), ("Wallet: ", ", confirmed."),
               ("The donation address (", ") is new.")],
    "onion": [("The mirror at ", " is up again."), ("The market moved to ", "."),
              ("The hidden service (", ") was listed.")],
    "bip39": [('Recovery phrase: "', '" written on paper.'), ("Seed words:\n", "\nKeep them safe."),
              ("The backup (", ") was stored offline.")],
    "pgp_private_key": [("Key material found:\n", "\nEnd of export."), ("The attachment held\n", "\n")],
}  # fmt: skip
for _k in ("litecoin", "tron"):
    TEMPLATES[_k] = TEMPLATES["bitcoin"]
TEMPLATES["ssh_private_key"] = TEMPLATES["pgp_private_key"]

# --- filler text --------------------------------------------------------------------------------------

NOUNS = ("report", "river", "council", "engine", "harvest", "library", "market", "bridge", "garden", "station",
         "museum", "contract", "village", "factory", "window", "budget", "season", "theory", "journal", "airport",
         "kitchen", "hospital", "railway", "festival", "election", "shipment", "warehouse", "committee", "painting",
         "archive", "network", "printer", "harbour", "district", "orchestra", "survey", "tunnel", "ferry")  # fmt: skip
ADJECTIVES = ("quiet", "late", "expensive", "narrow", "ancient", "modern", "broken", "careful", "remote", "crowded",
              "famous", "rural", "bright", "heavy", "fragile", "urgent", "ordinary", "local", "official", "yearly",
              "wooden", "northern", "smaller", "temporary", "complete")  # fmt: skip
VERBED = ("shipped", "approved", "delayed", "repaired", "inspected", "rejected", "delivered", "printed", "signed",
          "cancelled", "recorded", "counted", "painted", "moved", "sold", "returned")  # fmt: skip
NAMES = ("Anna", "Peter", "Mrs Okafor", "Dr Lindqvist", "Tomas", "the mayor", "Yuki", "Mr Haddad", "Olga",
         "the inspector", "Carlos", "Fatima", "the driver", "Ingrid")  # fmt: skip
PLACES = ("Lisbon", "Oslo", "the old town", "Hamburg", "Kyoto", "the valley", "Nairobi", "the coast", "Porto",
          "Tallinn", "Montreal", "the island", "Krakow", "Adelaide")  # fmt: skip
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
SENTENCES = (
    "The {noun} of the {noun} was {adj} in {year}.",
    "In {year}, the {noun} grew by {pct} to {count} units.",
    "According to the {noun}, {count} items were {verbed} on {date}.",
    "The {adj} {noun} cost {price} and weighed {measure}.",
    "We met at {time} near the {noun} in {place}.",
    "Order {code} was {verbed} by {name} on {date}.",
    "Version {version} of the {noun} software fixed {small} bugs.",
    "Room {room} is on the {ordinal} floor of the {adj} {noun}.",
    "{Name} said the {noun} and the {noun} were {adj}.",
    "The {noun} lists {count} entries, of which {small} were {adj}.",
    "It took {small} hours and {small} minutes to reach {place}.",
    "Temperatures in {place} reached {temp} degrees on {date}.",
    "The {noun} is {adj}, but the {noun} is {adj} and {adj}.",
    "Invoice {code} for {price} is due on {date}.",
    "Chapter {small} describes the {noun} of {place} in {year}.",
    "Nobody in {place} expected the {noun} to be {verbed} so soon.",
    "By {year} the {adj} {noun} had been {verbed} {small} times.",
    "The train left {place} at {time} and arrived {small} minutes late.",
    "Only {pct} of the {noun} budget was spent by {date}.",
    "{Name} {verbed} the {noun} after the {ordinal} meeting.",
    "Please keep the {noun} {adj}; the {noun} is not.",
    "Between {year} and the {ordinal} survey, prices rose to {price}.",
    "The parcel, number {code}, weighed {measure} at the {noun}.",
    "Nothing about the {adj} {noun} was {adj} that year.",
)


def _number(rng: random.Random, slot: str) -> str:
    """The ordinary numbers of filler text; none forms a value of any kind."""
    if slot == "year":
        return str(rng.randrange(1950, 2030))
    if slot == "count":
        n = rng.randrange(2, 99_999)
        return f"{n:,}" if n >= 1000 and rng.random() < 0.5 else str(n)
    if slot == "small":
        return str(rng.randrange(2, 60))
    if slot == "pct":
        return rng.choice([f"{rng.randrange(1, 99)}%", f"{rng.randrange(1, 99)}.{rng.randrange(10)}%"])
    if slot == "price":
        pounds = f"{rng.randrange(2, 500)}.{rng.randrange(10, 99)} pounds"
        return rng.choice([f"${rng.randrange(2, 999)}", f"${rng.randrange(1, 99)},{rng.randrange(100, 999)}.99",
                           f"EUR {rng.randrange(10, 9999)}", pounds])  # fmt: skip
    if slot == "measure":
        return rng.choice([f"{rng.randrange(1, 90)}.{rng.randrange(10)} kg", f"{rng.randrange(5, 999)} g",
                           f"{rng.randrange(1, 9)}.{rng.randrange(10, 99)} m"])  # fmt: skip
    if slot == "date":
        y, m, d = rng.randrange(1990, 2030), rng.randrange(1, 13), rng.randrange(1, 29)
        return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{MONTHS[m - 1]} {d}, {y}"])
    if slot == "time":
        return rng.choice([f"{rng.randrange(0, 24):02d}:{rng.randrange(60):02d}", f"{rng.randrange(1, 13)} pm"])
    if slot == "code":
        return str(rng.randrange(1_000_000, 9_999_999))  # seven digits: not a phone number by the spec
    if slot == "version":
        return rng.choice([f"{rng.randrange(1, 12)}.{rng.randrange(0, 20)}.{rng.randrange(0, 40)}",
                           f"{rng.randrange(1, 12)}.{rng.randrange(0, 20)}"])  # fmt: skip
    if slot == "room":
        return str(rng.randrange(100, 999))
    if slot == "temp":
        return str(rng.randrange(-15, 45))
    raise KeyError(slot)


def _filler_sentence(rng: random.Random) -> str:
    words = {"noun": NOUNS, "adj": ADJECTIVES, "verbed": VERBED, "name": NAMES, "Name": NAMES, "place": PLACES,
             "ordinal": ORDINALS}  # fmt: skip
    out, rest = [], rng.choice(SENTENCES)
    while "{" in rest:
        head, _, tail = rest.partition("{")
        slot, _, rest = tail.partition("}")
        out.append(head)
        if slot in words:
            w = rng.choice(words[slot])
            out.append(w[0].upper() + w[1:] if slot == "Name" else w)
        else:
            out.append(_number(rng, slot))
    out.append(rest)
    return "".join(out)


def _bip39_run(text: str) -> int:
    """The longest run of BIP-39 words separated by single spaces in `text`."""
    index, best, run = fv.bip39_index(), 0, 0
    for word in text.split(" "):
        run = run + 1 if word in index else 0
        best = max(best, run)
    return best


def sentence_pool(rng: random.Random, n: int = SENTENCE_POOL) -> list[str]:
    """Filler sentences, each free of anything a scanner reports."""
    pool: list[str] = []
    while len(pool) < n:
        s = _filler_sentence(rng)
        if _bip39_run(s) < 12:
            pool.append(s)
    return pool


# --- planting -------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What is left to plant: each kind valid and each decoy at least once per encoding first."""

    rng: random.Random
    queues: dict[str, list[tuple[str, str, str | None]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ascii_q = [("valid", k, None) for k in fv.PLANTED_KINDS]
        ascii_q += [("decoy", k, name) for k in fv.PLANTED_KINDS for name in sorted(fv.DECOYS[k])]
        utf16_q = [("valid", k, None) for k in fv.PLANTED_KINDS]
        utf16_q += [("decoy", k, self.rng.choice(sorted(fv.DECOYS[k]))) for k in fv.PLANTED_KINDS]
        for q in (ascii_q, utf16_q):
            self.rng.shuffle(q)
        self.queues = {"ascii": ascii_q, "utf16le": utf16_q}
        self.kinds = list(KIND_WEIGHTS)
        self.weights = [KIND_WEIGHTS[k] for k in self.kinds]

    def covering(self, encoding: str) -> bool:
        return bool(self.queues[encoding])

    def next(self, encoding: str) -> fv.Sample:
        if self.queues[encoding]:
            what, kind, name = self.queues[encoding].pop()
        else:
            what = "decoy" if self.rng.random() < DECOY_RATE else "valid"
            kind, name = self.rng.choices(self.kinds, self.weights)[0], None
        while True:
            sample = fv.make_valid(kind, self.rng) if what == "valid" else fv.make_decoy(kind, self.rng, name)
            # Digits inside a hex or base58 token can spell a card number; whether that is a
            # hit depends on how a scanner cuts tokens, so no planted value holds one.
            if kind == "ccn" or fv.card_inside(sample.text) is None:
                return sample


@dataclass
class TextBlock:
    """One block of text and where its planted samples start (in characters)."""

    text: str
    planted: list[tuple[int, fv.Sample]]


def text_block(rng: random.Random, pool: list[str], plan: Plan, encoding: str, chars: int) -> TextBlock:
    """Paragraphs of filler sentences with samples planted between them, about `chars` long."""
    newline = "\r\n" if encoding == "utf16le" else "\n"
    parts: list[str] = []
    planted: list[tuple[int, fv.Sample]] = []
    at = filler = 0
    while filler < chars:
        sentences = rng.choices(pool, k=rng.randrange(2, 8))
        length = sum(map(len, sentences))
        filler += length
        plant = plan.covering(encoding) or rng.random() < length / PLANT_EVERY
        if plant:
            sample = plan.next(encoding)
            before, after = rng.choice(TEMPLATES[sample.kind])
            where = rng.randrange(len(sentences) + 1)
            head = " ".join(sentences[:where])
            lead = head + " " + before if head else before
            planted.append((at + len(lead), sample))
            tail = " ".join(sentences[where:])
            paragraph = lead + sample.text + after + (" " + tail if tail else "")
        else:
            paragraph = " ".join(sentences)
        paragraph += newline * 2
        parts.append(paragraph)
        at += len(paragraph)
    return TextBlock("".join(parts), planted)


def _log_uniform(rng: random.Random, lo: int, hi: int) -> int:
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _block_weights() -> tuple[list[str], list[float]]:
    """Per kind of block, a draw weight that gives it its share of the image's bytes."""
    kinds = list(BLOCK_SHARES)
    means = {k: (hi - lo) / math.log(hi / lo) for k, (lo, hi) in BLOCK_SIZES.items()}
    return kinds, [BLOCK_SHARES[k] / means[k] for k in kinds]


def _fill_random(w: Writer, rng: random.Random, n: int) -> None:
    while n > 0:
        step = min(n, 1 << 20)
        w.write(rng.randbytes(step).translate(_SCRUB))
        n -= step


def forge_features(path: str | Path, size: int, seed: int = 1) -> dict[str, Any]:
    """Write the features image at `path` and its key at `path`.key.json; returns the key."""
    if size < 1 << 20:
        raise ValueError(f"image size must be at least 1 MiB, got {size} bytes")
    rng = random.Random(seed)
    path = Path(path)
    pool = sentence_pool(rng)
    plan = Plan(rng)
    kinds, weights = _block_weights()
    items: list[dict[str, Any]] = []
    decoys: list[dict[str, Any]] = []
    layout = dict.fromkeys(BLOCK_SHARES, 0)
    with open(path, "wb") as out:
        w = Writer(out, rng)
        w.fill(32 << 10, "zeros")  # where a partition table would be
        layout["zeros"] += 32 << 10
        while True:
            kind = rng.choices(kinds, weights)[0]
            n = _log_uniform(rng, *BLOCK_SIZES[kind])
            if kind in ("ascii", "utf16le"):
                width = 2 if kind == "utf16le" else 1
                block = text_block(rng, pool, plan, kind, n // width)
                data = block.text.encode("utf-16-le" if width == 2 else "ascii")
                if w.pos + len(data) > size - 64:
                    break
                _record(block, w.pos, width, kind, items, decoys)
                w.write(data)
                n = len(data)
            elif w.pos + n > size - 64:
                break
            elif kind == "zeros":
                w.fill(n, "zeros")
            else:
                _fill_random(w, rng, n)
            layout[kind] += n
        layout["random"] += size - w.pos
        _fill_random(w, rng, size - w.pos)
    items.sort(key=lambda i: (i["offset"], i["kind"]))
    key = {
        **key_head(w, path, size, seed, KEY_VERSION, PROFILE),
        "layout": layout,
        "counts": _counts(items, decoys),
        "items": items,
        "decoys": decoys,
    }
    with open(f"{path}.key.json", "w") as f:
        json.dump(key, f, indent=0)  # streamed: the key is the one thing that grows with the image
    return key


def _record(
    block: TextBlock, start: int, width: int, encoding: str, items: list[dict[str, Any]], decoys: list[dict[str, Any]]
) -> None:
    """Key entries for the samples of a block written at byte `start`."""
    for at, sample in block.planted:
        offset = start + at * width
        if sample.why:
            decoys.append({"kind": sample.kind, "offset": offset, "length": len(sample.text) * width,
                           "value": sample.value, "encoding": encoding, "why": sample.why})  # fmt: skip
            continue
        items.append({"kind": sample.kind, "offset": offset, "length": len(sample.text) * width,
                      "value": sample.value, "encoding": encoding})  # fmt: skip
        for kind, inner, value in sample.also:
            items.append({"kind": kind, "offset": offset + inner * width, "length": len(value) * width,
                          "value": value, "encoding": encoding})  # fmt: skip


def _counts(items: list[dict[str, Any]], decoys: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {k: {"ascii": 0, "utf16le": 0, "decoys": 0} for k in fv.KINDS}
    for item in items:
        counts[item["kind"]][item["encoding"]] += 1
    for decoy in decoys:
        counts[decoy["kind"]]["decoys"] += 1
    return counts
