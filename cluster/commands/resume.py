"""`quarry resume`: after a restart of the cluster, have the job manager take up every
unfinished job (it also does so by itself whenever it starts)."""

from __future__ import annotations

import argparse

from cluster import api
from cluster.config import load_settings


def run(args: argparse.Namespace) -> int:
    started = api.resume(load_settings())
    for job_id in started:
        print(f"job {job_id} taken up again")
    if not started:
        print("no unfinished job waiting (running ones go on)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("resume", help="take up every unfinished job after a restart")
    r.set_defaults(func=run)
