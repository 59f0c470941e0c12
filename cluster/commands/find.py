"""`quarry find`: where an artifact was found."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cluster.catalog import find_by_sha256, is_known_good
from cluster.config import load_settings
from workers.store import ObjectStore


def _known(row: dict[str, Any]) -> str:
    if not row.get("known"):
        return ""
    return f"  known-{row['known']} ({', '.join(row['known_sets'])})"


def run(args: argparse.Namespace) -> int:
    store = ObjectStore(load_settings().store)
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
    q = sub.add_parser("find", help="where an artifact was found")
    q.add_argument("--sha256", required=True, help="SHA-256 of the artifact")
    q.add_argument("--case", help="only this case")
    q.add_argument("--json", action="store_true", help="one JSON object per line")
    q.add_argument("--include-known", action="store_true", help="show artifacts of known-good hash sets too")
    q.set_defaults(func=run)
