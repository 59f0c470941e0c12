"""`quarry find`: search everything found, in the cases named, by any filter; or rank the
artifacts that resemble one."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import rust_core
from cluster import custody
from cluster.api_client import api_client
from cluster.commands import via_api
from cluster.config import load_settings
from cluster.query import HEX, KNOWN_PARAMS, Query, parse_query, parse_ranked_query
from workers.features import KINDS, SENSITIVE, redact_row
from workers.store import ObjectStore

# Options whose values become query parameters as they are (the HTTP API takes the same
# names); the others are turned into parameters in query_params.
PARAMS = sorted(KNOWN_PARAMS - {"all_cases", "feature", "value"})


def _known(row: dict[str, Any]) -> str:
    if not row.get("known"):
        return ""
    return f"  known-{row['known']} ({', '.join(row['known_sets'] or [])})"


def record_query(store: ObjectStore, action: str, query: Query, **details: Any) -> None:
    """The audit log's entry for a query, before it runs: its case when it names one, and
    every case it reaches."""
    case = query.cases[0] if query.cases and len(query.cases) == 1 else None
    cases = list(query.cases) if query.cases is not None else "all"
    custody.record(store, action, case=case, cases=cases, **details)


def run_similar(store: ObjectStore, args: argparse.Namespace) -> int:
    from cluster.query_engine import catalog_for
    from cluster.similar import find_similar

    query = parse_ranked_query(query_params(args), "similar artifacts")
    record_query(store, "artifact.similar", query, target=args.similar_to.lower())
    ref, rows = find_similar(catalog_for(store.config), store, query, args.similar_to, args.min_ssdeep, args.max_tlsh)
    return print_similar(ref.sha256, ref.ssdeep, ref.tlsh, rows, "json" if args.json else args.format)


def print_similar(sha256: str, ssdeep: str, tlsh: str | None, rows: list[dict[str, Any]], fmt: str) -> int:
    if fmt != "table":
        write_rows(rows, fmt, False)
    else:
        print(f"similar to {sha256}  ssdeep {ssdeep}  tlsh {tlsh or '-'}")
        print(f"{'SSDEEP':>6} {'TLSH':>5}  SHA256            TYPE  LENGTH      WHERE")
        for r in rows:
            distance = "-" if r["tlsh_distance"] is None else r["tlsh_distance"]
            print(
                f"{r['ssdeep_score']:6} {distance:>5}  {r['sha256'][:16]}  {r['type']:5} {r['length']:<10}  "
                f"{r['case']}/{r['job']} {r['image_path']} @{r['offset']}{_known(r)}"
            )
    sys.stdout.flush()
    if not rows:
        print("no similar artifact found", file=sys.stderr)
        return 1
    return 0


def picture_reference(store: ObjectStore, args: argparse.Namespace) -> Any:
    """--similar-image's picture (a picture file, else a SHA-256 Quarry holds in any case) or
    --similar-pdq's hash."""
    from cluster.similar_images import Reference, parse_pdq, reference_of_artifact, reference_of_file

    if args.similar_pdq:
        pdq = parse_pdq(args.similar_pdq)
        return Reference(pdq, None, f"pdq {pdq}")
    given = args.similar_image
    if Path(given).is_file():
        return reference_of_file(Path(given))
    if len(given) == 64 and HEX.fullmatch(given):
        return reference_of_artifact(store, given.lower(), None)
    raise ValueError(f"--similar-image {given!r}: neither a picture file nor the SHA-256 of an artifact")


def picture_line(row: dict[str, Any]) -> str:
    quality = row.get("pdq_quality")
    low = "  (low PDQ quality)" if quality is not None and quality < rust_core.PDQ_MIN_QUALITY else ""
    flagged = f"  listed: {', '.join(row['known_images'])}" if row.get("known_images") else ""
    return (
        f"{row['pdq_distance']:4} {quality if quality is not None else '-':>4}  {row['sha256'][:16]}  "
        f"{row['type']:5} {row['length']:<10}  {row['case']}/{row['job']} {row['image_path']} "
        f"@{row['offset'] if row.get('offset') is not None else row.get('path')}{_known(row)}{flagged}{low}"
    )


def print_similar_pictures(reference: dict[str, Any], rows: list[dict[str, Any]], fmt: str) -> int:
    """The ranked pictures, in the asked format, after a line naming the reference; exit 1
    when none is within reach (as grep does)."""
    if fmt != "table":
        write_rows(rows, fmt, False)
    else:
        quality = "-" if reference["quality"] is None else reference["quality"]
        print(f"similar to {reference['source']}  pdq {reference['pdq']}  quality {quality}")
        print(f"{'DIST':>4} {'QUAL':>4}  SHA256            TYPE  LENGTH      WHERE")
        for row in rows:
            print(picture_line(row))
    sys.stdout.flush()
    if reference["quality"] is not None and reference["quality"] < rust_core.PDQ_MIN_QUALITY:
        print(
            f"the reference's PDQ quality is {reference['quality']} (under {rust_core.PDQ_MIN_QUALITY}): "
            "flat or tiny pictures match loosely",
            file=sys.stderr,
        )
    if not rows:
        print(f"no picture within {reference['distance']} bits", file=sys.stderr)
        return 1
    return 0


def run_similar_image(store: ObjectStore, args: argparse.Namespace) -> int:
    from cluster.query_engine import catalog_for
    from cluster.similar_images import parse_distance, similar_pictures

    query = parse_ranked_query(query_params(args), "similar pictures")
    distance = parse_distance(str(args.distance))
    reference = picture_reference(store, args)
    record_query(store, "artifact.similar_image", query, target=reference.sha256 or reference.pdq, distance=distance)
    rows = similar_pictures(catalog_for(store.config), query, reference, distance, query.limit)
    about = {"source": reference.source, "pdq": reference.pdq, "quality": reference.quality, "distance": distance}
    return print_similar_pictures(about, rows, "json" if args.json else args.format)


def query_params(args: argparse.Namespace) -> dict[str, list[str]]:
    """The options as the query parser's text parameters (shared with the HTTP API)."""
    params: dict[str, list[str]] = {}
    for name in PARAMS:
        value = getattr(args, name, None)
        if value is None or value == []:
            continue
        params[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if args.sha256:
        params["digest"] = [args.sha256]
    if args.all_cases:
        params["all_cases"] = ["1"]
    if args.include_known and "known" not in params:
        params["known"] = ["good,bad,unknown"]
    if args.page is not None:
        limit = int(params.get("limit", ["50"])[0])
        params["offset"] = [str(max(args.page - 1, 0) * limit)]
    if args.feature:
        params["feature"] = [args.feature[0]]
        if len(args.feature) > 1:
            params["value"] = [args.feature[1]]
    return params


def artifact_line(row: dict[str, Any]) -> str:
    where = f"offset {row['offset']}" if row.get("offset") is not None else "offset -"
    found = (
        f"{row['type']} {row['status']}" if row.get("status") else f"{row['type']} {row.get('origin') or ''}".rstrip()
    )
    path = f"  {row['path']}" if row.get("path") else ""
    image_digest = (row.get("image_sha256") or "")[:16]
    return (
        f"{row['case']}  {row['job']}  {row['image_path']} (sha256 {image_digest}…)  {where}  "
        f"{row['length']} bytes  {found}{path}  sha256 {row['sha256']}{_known(row)}"
    )


def feature_line(row: dict[str, Any]) -> str:
    inside = f"  in {row['artifact_path']} +{row['artifact_offset']}" if row.get("artifact_path") else ""
    flag = "" if row["valid"] else "  (invalid)"
    return f"{row['case']}  {row['job']}  {row['image_path']} @{row['offset']}  {row['value']}{flag}{inside}"


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, over_features: bool) -> int:
    """Print rows as a table, JSON lines or CSV (lists as JSON text); returns how many."""
    count = 0
    writer = None
    for row in rows:
        count += 1
        if fmt == "json":
            print(json.dumps(row))
        elif fmt == "csv":
            if writer is None:
                writer = csv.DictWriter(sys.stdout, fieldnames=list(row))
                writer.writeheader()
            writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()})
        else:
            print(feature_line(row) if over_features else artifact_line(row))
    return count


def run(args: argparse.Namespace) -> int:
    client = api_client()
    if client is not None:
        return via_api.find(client, args)
    settings = load_settings()
    if args.similar_to:
        return run_similar(ObjectStore(settings.store), args)
    if args.similar_image or args.similar_pdq:
        return run_similar_image(ObjectStore(settings.store), args)
    from cluster.query_engine import Catalog

    query = parse_query(query_params(args), KINDS)
    if args.reveal and len((args.reason or "").strip()) < 4:
        raise ValueError("--reveal: state why with --reason TEXT (it is entered in the audit log)")
    catalog = Catalog(settings.store)
    fmt = "json" if args.json else args.format
    reveal = args.reveal or not query.over_features
    action = (
        "feature.reveal"
        if args.reveal and query.over_features
        else "feature.query"
        if query.over_features
        else "artifact.query"
    )
    record_query(
        ObjectStore(settings.store),
        action,
        query,
        reason=args.reason if args.reveal else None,
        export=query.limit == 0,
    )

    def shown(rows: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        return rows if reveal else (redact_row(r) for r in rows)

    if query.limit == 0:
        total = None
        count = write_rows(shown(catalog.rows(query)), fmt, query.over_features)
    else:
        page = catalog.page(query)
        total, count = page.total, write_rows(shown(page.rows), fmt, query.over_features)
    return report_counts(catalog, query, args, total, count)


def report_counts(catalog: Any, query: Query, args: argparse.Namespace, total: int | None, count: int) -> int:
    """The page's place in the whole result, what the default view hid, and the exit status
    (1 when nothing matched, as grep does)."""
    sys.stdout.flush()  # the rows before the notes about them, on a terminal too
    if total is not None and count:
        first = query.offset + 1
        print(f"rows {first}-{query.offset + count} of {total}", file=sys.stderr)
    if query.over_features and query.feature_kind in SENSITIVE and not args.reveal and count:
        print(f"{query.feature_kind} values are redacted (--reveal shows them)", file=sys.stderr)
    if query.digest and not query.known:
        hidden = catalog.page(replace(query, known=("good",), limit=1, offset=0)).total
        if hidden:
            print(f"{hidden} known-good artifact(s) hidden (--include-known shows them)", file=sys.stderr)
    if total == 0 or count == 0 and total is None:
        what = f"feature {query.feature_kind}" if query.over_features else "artifact"
        print(f"no {what} matches", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser(
        "find",
        help="search artifacts and feature hits by any filter, or rank artifacts by similarity",
        description="Every filter narrows the result; name the case(s) to search or ask for --all-cases.",
    )
    scope = q.add_argument_group("scope")
    scope.add_argument("--case", action="append", default=[], help="search this case (repeat for several)")
    scope.add_argument("--all-cases", action="store_true", help="search every case")
    scope.add_argument("--job", action="append", default=[], help="only this job (repeatable)")
    scope.add_argument("--image", action="append", default=[], help="an image's SHA-256, or a glob of its path")
    what = q.add_argument_group("what")
    what.add_argument("--digest", help="MD5, SHA-1 or SHA-256 of the content")
    what.add_argument("--sha256", help=argparse.SUPPRESS)  # the earlier spelling of --digest
    what.add_argument(
        "--type", action="append", default=[], help="file type or subtype: jpeg, pdf, docx... (comma list)"
    )
    what.add_argument("--status", action="append", default=[], help="carved: complete, truncated, damaged")
    what.add_argument("--origin", action="append", default=[], help="allocated, deleted, reallocated, carved")
    what.add_argument("--min-size", help="at least this many bytes (K, M, G suffixes)")
    what.add_argument("--max-size", help="at most this many bytes")
    what.add_argument("--path", help="glob over the filesystem path, e.g. '*/Pictures/*.jpg'")
    what.add_argument("--yara-rule", help="matched by this YARA rule (name, or set/namespace/rule)")
    what.add_argument("--yara-tag", help="matched by a YARA rule with this tag")
    what.add_argument("--known", help="good, bad, unknown (comma list); default: all but known-good")
    what.add_argument("--include-known", action="store_true", help="show artifacts of known-good hash sets too")
    what.add_argument("--after", help="a file time at or after this (ISO-8601 UTC, or epoch seconds)")
    what.add_argument("--before", help="a file time before this")
    what.add_argument("--time-field", help="which time --after/--before apply to: mtime, atime, ctime, crtime")
    what.add_argument("--feature", nargs="+", metavar=("KIND", "VALUE"), help="feature hits of a kind, or of one value")
    what.add_argument("--similar-to", metavar="SHA256", help="rank artifacts by similarity to this one")
    what.add_argument(
        "--similar-image",
        metavar="SHA256|FILE",
        help="rank pictures by PDQ distance to this one: an artifact's SHA-256, or a picture file",
    )
    what.add_argument("--similar-pdq", metavar="HEX", help="rank pictures by distance to this PDQ hash (64 hex)")
    out = q.add_argument_group("output")
    out.add_argument("--format", choices=("table", "json", "csv"), default="table")
    out.add_argument("--json", action="store_true", help="same as --format json (one object per line)")
    out.add_argument("--sort", help="columns, '-' for descending: --sort=-length,path")
    out.add_argument("--limit", type=int, help="rows per page (default 50; 0: every row, streamed)")
    out.add_argument("--offset", type=int, help="skip this many rows")
    out.add_argument("--page", type=int, help="page number (1 = first), with --limit")
    out.add_argument(
        "--reveal", action="store_true", help="with --feature: show card numbers, seed phrases and keys whole"
    )
    out.add_argument(
        "--reason", help="why sensitive values are revealed (required with --reveal; entered in the audit log)"
    )
    q.add_argument("--min-ssdeep", type=int, default=1, help="with --similar-to: lowest ssdeep score (default 1)")
    q.add_argument("--max-tlsh", type=int, default=100, help="with --similar-to: largest TLSH distance (default 100)")
    q.add_argument(
        "--distance",
        type=int,
        default=31,
        help="with --similar-image/--similar-pdq: largest PDQ Hamming distance in bits (default 31)",
    )
    q.set_defaults(func=run)
