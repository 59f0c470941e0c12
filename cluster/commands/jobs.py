"""`quarry jobs`: jobs with their state and progress."""

from __future__ import annotations

import argparse
import json

from cluster import api
from cluster.config import load_settings


def run(args: argparse.Namespace) -> int:
    jobs = api.list_jobs(load_settings())
    if args.json:
        for j in jobs:
            print(json.dumps({"id": j.id, "case": j.case, "state": j.state, "progress": round(j.progress, 4)}))
        return 0
    print(f"{'JOB':28} {'CASE':16} {'STATE':8} {'PROGRESS':>8} {'IMAGES':>6} {'BYTES':>14}  CREATED")
    for j in jobs:
        print(
            f"{j.id:28} {j.case:16} {j.state:8} {j.progress * 100:7.1f}% {len(j.images):6} "
            f"{j.bytes_total:14}  {j.created}"
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    j = sub.add_parser("jobs", help="list jobs with their state and progress")
    j.add_argument("--json", action="store_true", help="one JSON object per line")
    j.set_defaults(func=run)
