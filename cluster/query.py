"""What an examiner asks of the catalog, parsed once for the CLI and the HTTP API alike.

Every filter arrives as text (a command-line option or a URL parameter), so one parser
checks them all and names the filter and the problem in its error: a malformed filter is
the examiner's to fix, never a crash and never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

DIGEST_COLUMN = {32: "md5", 40: "sha1", 64: "sha256"}
ORIGINS = ("allocated", "deleted", "reallocated", "carved")
KNOWN = ("good", "bad", "unknown")
TIME_FIELDS = ("mtime", "atime", "ctime", "crtime")
STATUSES = ("complete", "truncated", "damaged")
# Columns a result may be sorted by; every sort ends with the row's place (its job, and its
# row in the job's table) so that pages never overlap or skip, whatever was asked.
ARTIFACT_SORT = (
    "case",
    "job",
    "image_path",
    "offset",
    "length",
    "type",
    "status",
    "origin",
    "path",
    "sha256",
    "mtime",
    "atime",
    "ctime",
    "crtime",
)
FEATURE_SORT = ("case", "job", "image_path", "offset", "kind", "value", "length")
MAX_PAGE = 10_000
SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
HEX = re.compile(r"[0-9a-fA-F]+")
NAME = re.compile(r"[A-Za-z0-9._@+=-]+")  # case and job names (no '/', no wildcards)


class QueryError(ValueError):
    """A filter the examiner gave is malformed; the message names it."""


@dataclass(frozen=True)
class Query:
    """A catalog query: which cases (None only when all were asked for by name), filters,
    the order and the page."""

    cases: tuple[str, ...] | None
    jobs: tuple[str, ...] = ()
    images: tuple[str, ...] = ()  # an image's SHA-256, or a path glob
    digest: str | None = None  # lower-case hex, MD5 / SHA-1 / SHA-256 by length
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    min_size: int | None = None
    max_size: int | None = None
    path: str | None = None  # glob over the filesystem path
    yara_rule: str | None = None  # a rule name, or set/namespace/rule
    yara_tag: str | None = None
    known: tuple[str, ...] = ()  # good / bad / unknown; empty: all but known-good
    after: int | None = None  # seconds since the epoch, UTC, inclusive
    before: int | None = None  # exclusive
    time_field: str | None = None  # one of TIME_FIELDS; None: any of them
    feature_kind: str | None = None  # set: the query is over feature hits, not artifacts
    feature_value: str | None = None
    sort: tuple[tuple[str, bool], ...] = field(default_factory=tuple)  # (column, descending)
    limit: int = 50  # 0: every row (streamed)
    offset: int = 0

    @property
    def over_features(self) -> bool:
        return self.feature_kind is not None


def parse_size(name: str, text: str) -> int:
    m = re.fullmatch(r"\s*(\d+)\s*([kmgtKMGT]?)(?:i?[bB])?\s*", text)
    if not m:
        raise QueryError(f"{name} {text!r}: give a number of bytes, optionally with K, M, G or T (1024-based)")
    return int(m.group(1)) * SIZE_UNITS[m.group(2).lower()]


def parse_time(name: str, text: str) -> int:
    """ISO-8601 (a date, or a date and time; UTC unless it says otherwise) or epoch seconds."""
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(
            f"{name} {text!r}: give an ISO-8601 date or time (2024-05-01, 2024-05-01T13:00Z) or epoch seconds"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def parse_digest(text: str) -> str:
    value = text.strip().lower()
    if not HEX.fullmatch(value) or len(value) not in DIGEST_COLUMN:
        raise QueryError(f"digest {text!r}: give the hex MD5 (32), SHA-1 (40) or SHA-256 (64 characters)")
    return value


def _choices(name: str, values: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise QueryError(f"{name} {bad[0]!r}: use one of {', '.join(allowed)}")
    return tuple(values)


def _split(values: Sequence[str]) -> list[str]:
    """Repeated options and comma-separated lists alike."""
    return [v.strip() for text in values for v in text.split(",") if v.strip()]


def _names(name: str, values: Sequence[str]) -> tuple[str, ...]:
    for v in values:
        if not NAME.fullmatch(v):
            raise QueryError(f"{name} {v!r}: letters, digits and . _ @ + = - only")
    return tuple(values)


def _int(name: str, text: str, low: int, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise QueryError(f"{name} {text!r}: give a whole number") from None
    if value < low or (high is not None and value > high):
        raise QueryError(
            f"{name} {value}: must be between {low} and {high}" if high else f"{name} {value}: below {low}"
        )
    return value


def parse_sort(text: str, allowed: Sequence[str]) -> tuple[tuple[str, bool], ...]:
    """`col,-col2`: columns in order, a leading '-' for descending."""
    out = []
    for item in _split([text]):
        column = item.lstrip("-")
        if column not in allowed:
            raise QueryError(f"sort {column!r}: sort by one of {', '.join(allowed)}")
        out.append((column, item.startswith("-")))
    return tuple(out)


KNOWN_PARAMS = frozenset(
    {
        "case",
        "all_cases",
        "job",
        "image",
        "digest",
        "type",
        "status",
        "origin",
        "min_size",
        "max_size",
        "path",
        "yara_rule",
        "yara_tag",
        "known",
        "after",
        "before",
        "time_field",
        "feature",
        "value",
        "sort",
        "limit",
        "offset",
    }
)


def parse_query(params: Mapping[str, Sequence[str]], feature_kinds: Sequence[str] = ()) -> Query:
    """A Query from text parameters (each name may repeat). Cases must be named, or all of
    them asked for with all_cases: no query reaches across cases by accident."""
    unknown = sorted(set(params) - KNOWN_PARAMS)
    if unknown:
        raise QueryError(f"unknown filter {unknown[0]!r}; filters: {', '.join(sorted(KNOWN_PARAMS))}")

    def one(name: str) -> str | None:
        values = params.get(name) or []
        if len(values) > 1:
            raise QueryError(f"{name} given {len(values)} times; give it once")
        return values[0] if values else None

    cases = _names("case", _split(params.get("case", [])))
    all_cases = (one("all_cases") or "").lower() in ("1", "true", "yes")
    if not cases and not all_cases:
        raise QueryError("no case given: name the case(s) to search (case=...), or ask for all cases")
    feature = one("feature")
    if feature is not None and feature_kinds and feature not in feature_kinds:
        raise QueryError(f"feature kind {feature!r}: use one of {', '.join(feature_kinds)}")
    if one("value") is not None and feature is None:
        raise QueryError("value filters feature hits: give the feature kind too")
    time_field = one("time_field")
    if time_field is not None:
        _choices("time_field", [time_field], TIME_FIELDS)
    sort_text = one("sort")
    min_size, max_size = one("min_size"), one("max_size")
    after, before = one("after"), one("before")
    digest = one("digest")
    query = Query(
        cases=None if all_cases and not cases else cases,
        jobs=_names("job", _split(params.get("job", []))),
        images=tuple(_split(params.get("image", []))),
        digest=parse_digest(digest) if digest else None,
        types=tuple(t.lower() for t in _split(params.get("type", []))),
        statuses=_choices("status", _split(params.get("status", [])), STATUSES),
        origins=_choices("origin", _split(params.get("origin", [])), ORIGINS),
        min_size=parse_size("min_size", min_size) if min_size else None,
        max_size=parse_size("max_size", max_size) if max_size else None,
        path=one("path"),
        yara_rule=one("yara_rule"),
        yara_tag=one("yara_tag"),
        known=_choices("known", _split(params.get("known", [])), KNOWN),
        after=parse_time("after", after) if after else None,
        before=parse_time("before", before) if before else None,
        time_field=time_field,
        feature_kind=feature,
        feature_value=one("value"),
        sort=parse_sort(sort_text, FEATURE_SORT if feature else ARTIFACT_SORT) if sort_text else (),
        limit=_int("limit", one("limit") or "50", 0, MAX_PAGE),
        offset=_int("offset", one("offset") or "0", 0),
    )
    if query.min_size is not None and query.max_size is not None and query.min_size > query.max_size:
        raise QueryError(f"min_size {query.min_size} is larger than max_size {query.max_size}")
    if query.after is not None and query.before is not None and query.after >= query.before:
        raise QueryError("after must be earlier than before")
    if feature and (query.digest or query.types or query.path or query.yara_rule or query.yara_tag):
        raise QueryError("feature hits filter by case, job, image and value only")
    return query


RANKED_LIMIT = 20  # rows of a ranking by likeness, unless asked otherwise


def parse_ranked_query(params: Mapping[str, Sequence[str]], what: str) -> Query:
    """The artifacts a ranking by likeness to one artifact (similar files, similar pictures)
    looks through: every filter of a query, and one page, closest first."""
    query = parse_query({"limit": [str(RANKED_LIMIT)], **params})
    if query.limit == 0 or query.over_features or query.sort or query.offset:
        raise QueryError(
            f"{what} come closest first in one page: a limit of 1 to {MAX_PAGE}, no sort, offset, page or feature"
        )
    return query
