"""Batch manifests: many images, their cases, acquisition digests and profiles in one file.

A lab receiving a box of exhibits writes one line per image (CSV with a header, or JSON Lines
with the same keys) and submits them together. Every line is checked before anything is
submitted, so a bad line is an error naming the manifest and the line, never half a batch run.
Images are not opened here; submission checks them.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cluster.intake import ALGORITHM_BY_LENGTH, HEX
from cluster.profiles import DEFAULT_PROFILE, Profile, ProfileError, is_path, load_profile

COLUMNS = ("case", "image", "expect", "profile", "priority")
REQUIRED = ("case", "image")
HEX_DIGITS = {algorithm: digits for digits, algorithm in ALGORITHM_BY_LENGTH.items()}  # acquisition digests


class BatchError(ValueError):
    """A manifest is unreadable or one of its lines is wrong; the message names the file and the line."""


@dataclass(frozen=True)
class BatchEntry:
    """One image of a batch, as its manifest line gives it."""

    line: int
    case: str
    image: str  # absolute, or as given when absolute in the manifest
    expect: tuple[tuple[str, str], ...]  # (algorithm, lowercase hex) acquisition digests
    profile: str  # a profile name, or the absolute path of a profile file
    priority: int | None  # None: the profile's

    def expect_args(self) -> list[str]:
        """The acquisition digests as `quarry submit --expect` takes them ('md5:HEX')."""
        return [f"{algorithm}:{value}" for algorithm, value in self.expect]


@dataclass(frozen=True)
class BatchJob:
    """Images of one case processed with the same profile and priority: one job."""

    case: str
    profile: str
    priority: int | None
    entries: tuple[BatchEntry, ...]  # in manifest order

    @property
    def images(self) -> list[str]:
        return [e.image for e in self.entries]


def read_manifest(path: str | Path, default_profile: str = DEFAULT_PROFILE) -> list[BatchEntry]:
    """Every image line of a CSV or JSON Lines manifest, checked; lines without a profile get
    `default_profile`. Raises BatchError naming the manifest and line on the first bad one."""
    manifest = Path(path)
    folder = Path(os.path.abspath(manifest.parent))
    profiles: dict[str, Profile | ProfileError] = {}
    seen: dict[tuple[str, str], int] = {}
    entries: list[BatchEntry] = []
    try:
        with open(manifest, encoding="utf-8-sig", newline="") as f:
            rows = _json_lines(manifest, f) if _is_json(manifest, f) else _csv_rows(manifest, f)
            for number, row in rows:
                entry = _entry(manifest, number, row, folder, default_profile, profiles)
                earlier = seen.setdefault((entry.case, entry.image), number)
                if earlier != number:
                    raise BatchError(
                        f"{manifest}, line {number}: image {entry.image} is already in case {entry.case!r} "
                        f"on line {earlier}"
                    )
                entries.append(entry)
    except OSError as exc:
        raise BatchError(f"{manifest}: cannot read batch manifest: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BatchError(f"{manifest}: batch manifest is not UTF-8 text") from None
    if not entries:
        raise BatchError(f"{manifest}: batch manifest lists no images")
    return entries


def group_jobs(entries: list[BatchEntry]) -> list[BatchJob]:
    """One job per (case, profile, priority), in order of first appearance, its images in manifest order."""
    groups: dict[tuple[str, str, int | None], list[BatchEntry]] = {}
    for e in entries:
        groups.setdefault((e.case, e.profile, e.priority), []).append(e)
    return [BatchJob(case, profile, priority, tuple(group)) for (case, profile, priority), group in groups.items()]


def _is_json(manifest: Path, f: TextIO) -> bool:
    """JSON Lines by extension, else when the first line that says anything opens an object."""
    suffix = manifest.suffix.lower()
    if suffix in (".jsonl", ".json"):
        return True
    if suffix in (".csv", ".txt"):
        return False
    for line in f:
        text = line.strip()
        if text and not text.startswith("#"):
            f.seek(0)
            return text.startswith(("{", "["))
    f.seek(0)
    return False


def _csv_rows(manifest: Path, f: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line where the row starts, {column: cell}) per CSV row after the header; blank rows
    and rows whose first cell starts with '#' are skipped."""
    reader = csv.reader(f, strict=True)  # an unclosed or stray quote is an error, not a path with a newline
    header: list[str] | None = None
    end = 0
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BatchError(f"{manifest}, line {start}: not valid CSV: {exc}") from None
        end = reader.line_num
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in row]
            _check_header(manifest, start, header)
            continue
        if len(row) > len(header):
            raise BatchError(
                f"{manifest}, line {start}: {len(row)} cells, but the header names {len(header)} columns "
                "(quote a cell that holds a comma)"
            )
        yield start, dict(zip(header, (cell.strip() for cell in row), strict=False))


def _check_header(manifest: Path, line: int, header: list[str]) -> None:
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise BatchError(
            f"{manifest}, line {line}: unknown column {unknown[0]!r} in the header; columns: {', '.join(COLUMNS)}"
        )
    repeated = [c for c in COLUMNS if header.count(c) > 1]
    if repeated:
        raise BatchError(f"{manifest}, line {line}: column {repeated[0]!r} named twice in the header")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BatchError(
            f"{manifest}, line {line}: missing column {missing[0]!r}: the header must name "
            f"{', '.join(REQUIRED)} (and may name {', '.join(c for c in COLUMNS if c not in REQUIRED)})"
        )


def _json_lines(manifest: Path, f: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) per JSON Lines line; blank lines and '#' lines are skipped."""
    for number, line in enumerate(f, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("["):
            raise BatchError(f"{manifest}, line {number}: a JSON array; write one JSON object per line (JSON Lines)")
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BatchError(f"{manifest}, line {number}: not valid JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(row, dict):
            raise BatchError(f"{manifest}, line {number}: expected a JSON object with keys {', '.join(COLUMNS)}")
        unknown = [k for k in row if k not in COLUMNS]
        if unknown:
            raise BatchError(f"{manifest}, line {number}: unknown key {unknown[0]!r}; keys: {', '.join(COLUMNS)}")
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise BatchError(f"{manifest}, line {number}: missing key {missing[0]!r}")
        yield number, row


def _entry(
    manifest: Path,
    number: int,
    row: dict[str, Any],
    folder: Path,
    default_profile: str,
    profiles: dict[str, Profile | ProfileError],
) -> BatchEntry:
    where = f"{manifest}, line {number}"
    case = _string(where, "case", row.get("case")).strip()
    if not case:
        raise BatchError(f"{where}: empty case")
    if "/" in case:
        raise BatchError(f"{where}: case {case!r} contains '/'")
    image = _string(where, "image", row.get("image")).strip()
    if not image:
        raise BatchError(f"{where}: empty image")
    image = os.path.abspath(os.path.join(folder, os.path.expanduser(image)))
    return BatchEntry(
        line=number,
        case=case,
        image=image,
        expect=_expect(where, row.get("expect")),
        profile=_profile(where, row.get("profile"), folder, default_profile, profiles),
        priority=_priority(where, row.get("priority")),
    )


def _string(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise BatchError(f"{where}: {key} must be a string, got {type(value).__name__} {value!r}")
    return value


def _expect(where: str, value: Any) -> tuple[tuple[str, str], ...]:
    """'alg:hex;alg:hex' (or, in JSON, a list of 'alg:hex') as (algorithm, hex) pairs."""
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [part for v in value for part in v.split(";")]
    elif isinstance(value, str):
        items = value.split(";")
    else:
        raise BatchError(f"{where}: expect must be 'ALG:HEX;ALG:HEX', got {type(value).__name__} {value!r}")
    found: dict[str, str] = {}
    for item in (i.strip() for i in items):
        if not item:
            continue
        name, sep, digest = item.partition(":")
        name, digest = name.strip().lower().replace("-", ""), digest.strip().lower()
        if not sep or not name or not digest:
            raise BatchError(f"{where}: bad expect {item!r}: write ALG:HEX, several separated by ';'")
        if name not in HEX_DIGITS:
            raise BatchError(f"{where}: unknown algorithm {name!r} in expect; use {', '.join(HEX_DIGITS)}")
        if not HEX.match(digest):
            raise BatchError(f"{where}: expect {item!r}: the digest is not hexadecimal")
        if len(digest) != HEX_DIGITS[name]:
            raise BatchError(
                f"{where}: expect {item!r}: {len(digest)} hex digits, but a {name} digest has {HEX_DIGITS[name]}"
            )
        if found.setdefault(name, digest) != digest:
            raise BatchError(f"{where}: expect gives two different {name} digests")
    return tuple(found.items())


def _profile(
    where: str, value: Any, folder: Path, default_profile: str, profiles: dict[str, Profile | ProfileError]
) -> str:
    """The profile's name (or a profile file's absolute path), checked by loading it once per batch."""
    if value is None or value == "":
        name, where = default_profile, f"{where} (no profile given: the default, {default_profile!r})"
    else:
        name = _string(where, "profile", value).strip()
        if is_path(name):
            name = os.path.abspath(os.path.join(folder, os.path.expanduser(name)))
    if name not in profiles:
        try:
            profiles[name] = load_profile(name)
        except ProfileError as exc:
            profiles[name] = exc
    loaded = profiles[name]
    if isinstance(loaded, ProfileError):
        raise BatchError(f"{where}: {loaded}")
    return name


def _priority(where: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise BatchError(f"{where}: priority must be an integer, got {value!r}")
