"""`quarry find`: where an artifact was found."""

from __future__ import annotations

import argparse
import json
import sys

from cluster.catalog import find_by_sha256
from cluster.config import load_settings
from workers.store import ObjectStore


def run(args: argparse.Namespace) -> int:
    store = ObjectStore(load_settings().store)
    count = 0
    for row in find_by_sha256(store, args.sha256, args.case):
        count += 1
        if args.json:
            print(json.dumps(row))
        else:
            print(
                f"{row['case']}  {row['job']}  {row['image_path']} (sha256 {row['image_sha256'][:16]}…)  "
                f"offset {row['offset']}  {row['length']} bytes  {row['type']} {row['status']}"
            )
    if count == 0:
        print(f"no artifact with sha256 {args.sha256}", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser("find", help="where an artifact was found")
    q.add_argument("--sha256", required=True, help="SHA-256 of the artifact")
    q.add_argument("--case", help="only this case")
    q.add_argument("--json", action="store_true", help="one JSON object per line")
    q.set_defaults(func=run)
