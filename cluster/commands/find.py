"""`quarry find`: where an artifact was found, or which artifacts resemble it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cluster.catalog import find_by_sha256, find_features, is_known_good
from cluster.config import load_settings
from cluster.similar import find_similar
from workers.features import KINDS, SENSITIVE, redact_row
from workers.store import ObjectStore


def _known(row: dict[str, Any]) -> str:
    if not row.get("known"):
        return ""
    return f"  known-{row['known']} ({', '.join(row['known_sets'])})"


def run_similar(store: ObjectStore, args: argparse.Namespace) -> int:
    ref, rows = find_similar(
        store, args.similar_to, args.case, args.limit, args.min_ssdeep, args.max_tlsh, args.include_known
    )
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0 if rows else 1
    print(f"similar to {ref.sha256}  ssdeep {ref.ssdeep}  tlsh {ref.tlsh or '-'}")
    print(f"{'SSDEEP':>6} {'TLSH':>5}  SHA256            TYPE  LENGTH      WHERE")
    for r in rows:
        distance = "-" if r["tlsh_distance"] is None else r["tlsh_distance"]
        print(
            f"{r['ssdeep_score']:6} {distance:>5}  {r['sha256'][:16]}  {r['type']:5} {r['length']:<10}  "
            f"{r['case']}/{r['job']} {r['image_path']} @{r['offset']}{_known(r)}"
        )
    if not rows:
        print("no similar artifact found", file=sys.stderr)
        return 1
    return 0


def run_features(store: ObjectStore, args: argparse.Namespace) -> int:
    """Feature hits, sensitive values redacted unless --reveal (which the caller asked for by name)."""
    kind, value = args.feature[0], (args.feature[1] if len(args.feature) > 1 else None)
    if kind not in KINDS:
        raise ValueError(f"unknown feature kind {kind!r}; known: {', '.join(KINDS)}")
    count = 0
    for row in find_features(store, kind, value, args.case):
        count += 1
        if not args.reveal:
            row = redact_row(row)
        if args.json:
            print(json.dumps(row))
            continue
        inside = f"  in {row['artifact_path']} +{row['artifact_offset']}" if row.get("artifact_path") else ""
        flag = "" if row["valid"] else "  (invalid)"
        print(f"{row['case']}  {row['job']}  {row['image_path']} @{row['offset']}  {row['value']}{flag}{inside}")
    if count == 0:
        print(f"no {kind} feature" + (f" {value!r}" if value else ""), file=sys.stderr)
        return 1
    if kind in SENSITIVE and not args.reveal:
        print(f"{kind} values are redacted (--reveal shows them)", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    store = ObjectStore(load_settings().store)
    if args.similar_to:
        return run_similar(store, args)
    if args.feature:
        return run_features(store, args)
    count = hidden = 0
    for row in find_by_sha256(store, args.sha256, args.case):
        if is_known_good(row) and not args.include_known:
            hidden += 1
            continue
        count += 1
        if args.json:
            print(json.dumps(row))
        else:
            print(
                f"{row['case']}  {row['job']}  {row['image_path']} (sha256 {row['image_sha256'][:16]}…)  "
                f"offset {row['offset']}  {row['length']} bytes  {row['type']} {row['status']}{_known(row)}"
            )
    if hidden:
        print(f"{hidden} known-good artifact(s) hidden (--include-known shows them)", file=sys.stderr)
    if count == 0:
        print(f"no artifact with sha256 {args.sha256}", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser("find", help="where an artifact was found, or which artifacts resemble it")
    what = q.add_mutually_exclusive_group(required=True)
    what.add_argument("--sha256", help="SHA-256 of the artifact")
    what.add_argument("--similar-to", metavar="SHA256", help="rank artifacts by similarity to this one")
    what.add_argument(
        "--feature",
        nargs="+",
        metavar=("KIND", "VALUE"),
        help="hits of a feature kind (email, bitcoin...), or of one value",
    )
    q.add_argument("--limit", type=int, default=20, help="with --similar-to: how many (default 20)")
    q.add_argument("--min-ssdeep", type=int, default=1, help="with --similar-to: lowest ssdeep score (default 1)")
    q.add_argument("--max-tlsh", type=int, default=100, help="with --similar-to: largest TLSH distance (default 100)")
    q.add_argument("--case", help="only this case")
    q.add_argument("--json", action="store_true", help="one JSON object per line")
    q.add_argument("--include-known", action="store_true", help="show artifacts of known-good hash sets too")
    q.add_argument(
        "--reveal", action="store_true", help="with --feature: show card numbers, seed phrases and keys whole"
    )
    q.set_defaults(func=run)
