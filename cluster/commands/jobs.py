"""`quarry jobs`: jobs with their state, priority and progress, and each image's progress
while a job runs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cluster import api
from cluster.api_client import api_client
from cluster.commands import via_api
from cluster.config import load_settings
from cluster.jobs import TERMINAL, JobRecord


def image_progress(job: JobRecord) -> list[dict[str, Any]]:
    """Each image's carving progress (bytes carved of its size)."""
    done = job.image_bytes_done or [0] * len(job.images)
    return [
        {
            "path": img["path"],
            "size": img["size"],
            "bytes_done": d,
            "progress": round(d / img["size"], 4) if img["size"] else 0,
        }
        for img, d in zip(job.images, done, strict=False)
    ]


def run(args: argparse.Namespace) -> int:
    client = api_client()
    if client is not None:
        return via_api.jobs(client, args)
    jobs = api.list_jobs(load_settings())
    if args.state:
        jobs = [j for j in jobs if j.state in args.state]
    if args.json:
        for j in jobs:
            doc = {
                "id": j.id,
                "case": j.case,
                "state": j.state,
                "priority": j.priority,
                "profile": j.profile,
                "progress": round(j.progress, 4),
                "failed_tasks": len(j.failed_tasks),
                "images": image_progress(j),
            }
            print(json.dumps(doc))
        return 0
    print(f"{'JOB':28} {'CASE':16} {'STATE':10} {'PRIO':>4} {'PROGRESS':>8} {'IMAGES':>6} {'BYTES':>14}  CREATED")
    for j in jobs:
        failed = f"  {len(j.failed_tasks)} failed part(s)" if j.failed_tasks else ""
        print(
            f"{j.id:28} {j.case:16} {j.state:10} {j.priority:4} {j.progress * 100:7.1f}% {len(j.images):6} "
            f"{j.bytes_total:14}  {j.created}{failed}"
        )
        if args.images or j.state not in TERMINAL:
            for i, img in enumerate(image_progress(j)):
                print(f"  img{i:04d} {img['progress'] * 100:7.1f}%  {img['bytes_done']}/{img['size']}  {img['path']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    j = sub.add_parser("jobs", help="list jobs with their state and progress (each image's while running)")
    j.add_argument("--json", action="store_true", help="one JSON object per line")
    j.add_argument("--images", action="store_true", help="each image's progress for finished jobs too")
    j.add_argument("--state", action="append", help="only jobs in this state (repeatable)")
    j.set_defaults(func=run)
