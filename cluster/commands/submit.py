"""`quarry submit`: process images under a case and print the job's summary."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cluster import api
from cluster.commands.common import counts_line
from cluster.config import load_settings
from cluster.jobs import JobRecord


def _bar(job: JobRecord) -> str:
    return f"{job.progress * 100:5.1f}%  {job.segments_done}/{job.segments_total} segments  {job.state}"


def print_summary(summary: dict[str, Any]) -> None:
    print(f"job {summary['job']}  case {summary['case']}")
    for img in summary["images"]:
        print(f"  image {img['path']}  {img['size']} bytes")
        print(f"    md5    {img['md5']}\n    sha1   {img['sha1']}\n    sha256 {img['sha256']}")
    print(f"  carved files ({summary['artifacts']} in the manifest):")
    for kind, per in summary["carved"].items():
        print(counts_line(kind, per))
    print(f"  stored new {summary['stored_new']}, already stored {summary['stored_existing']}")
    print(f"  {summary['seconds']} s, {summary['mb_per_s']} MB/s over {len(summary['nodes'])} node(s)")


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    job = api.submit(settings, args.case, args.images)
    print(f"job {job.id} submitted for case {job.case} ({len(job.images)} image(s), {job.bytes_total} bytes)")
    if args.no_wait:
        return 0
    last = [""]

    def progress(j: JobRecord) -> None:
        line = _bar(j)
        if line != last[0] and sys.stderr.isatty():
            print("\r" + line, end="", file=sys.stderr, flush=True)
        last[0] = line

    job = api.wait(settings, job.id, progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if job.state != "done" or job.summary is None:
        print(f"job {job.id} failed: {job.error}", file=sys.stderr)
        return 1
    print_summary(job.summary)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("submit", help="process images under a case")
    s.add_argument("--case", required=True, help="case the images belong to")
    s.add_argument("images", nargs="+", help="raw image files (or block devices)")
    s.add_argument("--no-wait", action="store_true", help="return once the job is recorded and started")
    s.set_defaults(func=run)
