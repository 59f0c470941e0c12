"""Import a list of PDQ hashes as a new version of a known-image set in MinIO, list the
sets, remove one.

A list is text, one hash a line, in one of two shapes (told apart by the first line that
holds a hash, or named with `--format`):

    lines            HEX64[,LABEL]           the label is the rest of the line
    threatexchange   HEX64,QUALITY[,LABEL]   what pdq-photo-hasher prints (CSV; a
                                             quoted label may hold commas)

Blank lines, `#` comments and a header line (`hash,...`) are skipped. Every line is
checked before anything is published: an import with bad lines fails naming them (the
first one's problem, and up to ten line numbers), and the set's current version stays in
use. The hashes stream into the Rust builder 64 K at a time; it holds 40 bytes per hash
(plus each distinct label once) until it writes the index file. The order of writes is
that of hash sets: index, then meta.json, then `current.json`, the one object workers
follow; versions are never overwritten.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cluster.hashsets.errors import HashSetError
from cluster.published import check_label, publish, remove_versions, version_docs
from rust_core import CoreError, PdqIndex, PdqIndexBuilder
from workers.known_files import KINDS
from workers.known_images import INDEX_FILE, PDQSETS, PdqSetInfo, current_sets, ensure_bucket, index_key
from workers.node_cache import file_sha256
from workers.published import current_doc, meta_key
from workers.store import ObjectStore

FORMATS = ("lines", "threatexchange")
BATCH = 65536  # hashes handed to the builder at once
MAX_LABEL = 1024  # characters
LOW_QUALITY = 50  # PDQ's authors find hashes under this quality unreliable
SHOWN = 10  # bad lines named in an error
HEADER_NAMES = ("hash", "pdq", "pdq_hash")
HEX64 = re.compile(r"[0-9a-fA-F]{64}")
BOM = b"\xef\xbb\xbf"


@dataclass
class Parsed:
    """What a pass over the list found (rows: hash lines read)."""

    format: str = ""
    rows: int = 0
    low_quality: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    bad_count: int = 0

    def refuse(self, number: int, problem: str) -> None:
        self.bad_count += 1
        if len(self.bad) < SHOWN:
            self.bad.append((number, problem))


def _data_lines(path: Path, parsed: Parsed) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line that is not blank or a comment."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                text = raw.removeprefix(BOM).decode("utf-8").strip() if number == 1 else raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                parsed.refuse(number, "not UTF-8 text")
                continue
            if text and not text.startswith("#"):
                yield number, text


def _is_header(text: str) -> bool:
    return text.split(",", 1)[0].strip().strip('"').lower() in HEADER_NAMES


def _quality(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and int(text) <= 100 else None


def detect(text: str) -> str:
    """The shape of a list by its header or first hash line."""
    fields = text.split(",")
    if _is_header(text):
        return "threatexchange" if len(fields) > 1 and fields[1].strip().strip('"').lower() == "quality" else "lines"
    return "threatexchange" if len(fields) >= 3 and _quality(fields[1]) is not None else "lines"


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def parse_line(text: str, fmt: str) -> tuple[str, str, int | None]:
    """(hex, label, quality) of one line, or ValueError saying what is wrong with it."""
    if fmt == "threatexchange":
        fields = next(csv.reader([text]))
        if len(fields) < 2:
            raise ValueError(f"{_shown(text)} is not HASH,QUALITY[,LABEL]")
        hex_, quality_text, label = fields[0].strip(), fields[1], ",".join(fields[2:]).strip()
        quality = _quality(quality_text)
        if quality is None:
            raise ValueError(f"quality {_shown(quality_text)} is not a whole number from 0 to 100")
    else:
        hex_, _, label = (part.strip() for part in text.partition(","))
        quality = None
    if not HEX64.fullmatch(hex_):
        raise ValueError(f"{_shown(hex_)} is not a PDQ hash (64 hex digits)")
    if len(label) > MAX_LABEL:
        raise ValueError(f"a label of {len(label)} characters is longer than {MAX_LABEL}")
    return hex_, label, quality


def read_list(source: Path, fmt: str, builder: PdqIndexBuilder) -> Parsed:
    """Parse `source` ("auto", "lines" or "threatexchange") into `builder`; bad lines are
    gathered, not added."""
    if fmt != "auto" and fmt not in FORMATS:
        raise ValueError(f"unknown PDQ list format {fmt!r}; known: auto, {', '.join(FORMATS)}")
    parsed = Parsed(format="" if fmt == "auto" else fmt)
    hashes: list[bytes] = []
    labels: list[str] = []

    def flush() -> None:
        builder.add(b"".join(hashes), labels)
        hashes.clear()
        labels.clear()

    first = True
    for number, text in _data_lines(source, parsed):
        if first:
            first = False
            parsed.format = parsed.format or detect(text)
            if _is_header(text):
                continue
        try:
            hex_, label, quality = parse_line(text, parsed.format)
        except ValueError as exc:
            parsed.refuse(number, str(exc))
            continue
        parsed.rows += 1
        parsed.low_quality += quality is not None and quality < LOW_QUALITY
        hashes.append(bytes.fromhex(hex_))
        labels.append(label)
        if len(hashes) == BATCH:
            flush()
    if hashes:
        flush()
    parsed.format = parsed.format or "lines"
    return parsed


def bad_lines_error(source: Path, parsed: Parsed) -> HashSetError:
    """One line: the first bad line's problem, and how many there are, by number."""
    first, problem = parsed.bad[0]
    if parsed.bad_count > 1:
        numbers = ", ".join(str(n) for n, _ in parsed.bad)
        more = ", ..." if parsed.bad_count > len(parsed.bad) else ""
        problem += f"; {parsed.bad_count} bad lines in all (lines {numbers}{more})"
    return HashSetError(source, problem, first)


@dataclass(frozen=True)
class BuiltIndex:
    path: Path
    parsed: Parsed
    stats: dict[str, int]
    sha256: str


def build_index(source: Path, fmt: str, work_dir: Path) -> BuiltIndex:
    """Parse `source` and write its index file in `work_dir`, checked in one pass."""
    if not source.is_file():
        raise HashSetError(source, "no such file")
    builder = PdqIndexBuilder()
    try:
        parsed = read_list(source, fmt, builder)
    except OSError as exc:
        raise HashSetError(source, f"cannot read ({exc.strerror or exc})") from None
    if parsed.bad:
        raise bad_lines_error(source, parsed)
    if parsed.rows == 0:
        raise HashSetError(source, f"no PDQ hashes found (read as {parsed.format})")
    path = work_dir / INDEX_FILE
    try:
        stats = builder.finish(path)
        PdqIndex(path).verify()
    except CoreError as exc:
        raise HashSetError(source, f"building the index failed: {exc}") from None
    return BuiltIndex(path, parsed, stats, file_sha256(path))


def current_version(store: ObjectStore, name: str) -> PdqSetInfo | None:
    """The version of `name` in use, or None if there is no such set."""
    ensure_bucket(store)
    doc = current_doc(store, PDQSETS, name)
    return PdqSetInfo.from_dict(doc) if doc else None


def import_set(
    store: ObjectStore,
    source: Path,
    name: str,
    kind: str,
    version: str | None = None,
    fmt: str = "auto",
    work_dir: Path | None = None,
) -> PdqSetInfo:
    """Parse, build and publish `source` as version `version` (default: the time now) of
    set `name`, and make it current. Any error leaves the current version as it was."""
    check_label("set name", name)
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: use {' or '.join(KINDS)}")
    now = dt.datetime.now(dt.UTC)
    version = version or now.strftime("%Y%m%dT%H%M%SZ")
    check_label("version", version)
    ensure_bucket(store)
    if store.exists(PDQSETS, meta_key(name, version)):
        raise ValueError(f"PDQ set {name} already has version {version}; versions are kept as imported: give another")
    with tempfile.TemporaryDirectory(prefix="quarry-pdqset-", dir=work_dir) as tmp:
        built = build_index(source, fmt, Path(tmp))
        info = PdqSetInfo(
            name=name,
            kind=kind,
            version=version,
            format=built.parsed.format,
            rows=built.parsed.rows,
            count=built.stats["count"],
            labels=built.stats["labels"],
            low_quality=built.parsed.low_quality,
            chunks=built.stats["chunks"],
            imported_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            source={"file": source.name, "bytes": source.stat().st_size, "sha256": file_sha256(source)},
            key=index_key(name, version),
            bytes=built.stats["bytes"],
            sha256=built.sha256,
        )
        store.put_file(PDQSETS, info.key, str(built.path), "application/octet-stream")
    publish(store, PDQSETS, name, version, info.to_dict())
    return info


def list_sets(store: ObjectStore) -> list[PdqSetInfo]:
    """Every set's version in use, by name."""
    ensure_bucket(store)
    return current_sets(store)


def versions(store: ObjectStore, name: str) -> list[PdqSetInfo]:
    """Every version of `name` kept in MinIO, oldest first."""
    ensure_bucket(store)
    infos = (PdqSetInfo.from_dict(doc) for doc in version_docs(store, PDQSETS, name))
    return sorted(infos, key=lambda i: i.imported_at)


def remove_set(store: ObjectStore, name: str) -> int:
    """Stop using set `name` (its pointer goes first) and delete every version; returns the
    number of objects removed."""
    ensure_bucket(store)
    return remove_versions(store, PDQSETS, name, "PDQ set")
