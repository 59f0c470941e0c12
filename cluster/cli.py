"""`quarry`: the command line of operators, examiners and trainers.

Every failure the user can fix prints one line naming the input and the problem and
exits non-zero; nothing already done is lost.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

# Quarry's Ray clusters use token authentication (deploy/ray.sh starts them so; the token is
# in ~/.ray/auth_token or RAY_AUTH_TOKEN). Ray reads the mode once, at import: set it first.
os.environ.setdefault("RAY_AUTH_MODE", "token")

from cluster import api  # noqa: E402
from cluster.catalog import find_by_sha256  # noqa: E402
from cluster.config import ConfigError, load_settings  # noqa: E402
from cluster.forge import forge_image  # noqa: E402
from cluster.jobs import JobRecord  # noqa: E402
from workers.evidence import EvidenceError  # noqa: E402
from workers.store import ObjectStore, StoreUnavailable  # noqa: E402

UNITS = {"": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30}


def parse_size(text: str) -> int:
    """'64MiB', '1G', '4096' -> bytes."""
    t = text.strip().lower()
    digits = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(digits) :]
    if not digits.isdigit() or unit not in UNITS:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: use a number with K, M or G (e.g. 64MiB)")
    return int(digits) * UNITS[unit]


def _counts_line(kind: str, per: dict[str, int]) -> str:
    return f"    {kind:5} " + "  ".join(f"{status} {n}" for status, n in sorted(per.items()))


def _bar(job: JobRecord) -> str:
    return f"{job.progress * 100:5.1f}%  {job.segments_done}/{job.segments_total} segments  {job.state}"


def print_summary(summary: dict[str, Any]) -> None:
    print(f"job {summary['job']}  case {summary['case']}")
    for img in summary["images"]:
        print(f"  image {img['path']}  {img['size']} bytes")
        print(f"    md5    {img['md5']}\n    sha1   {img['sha1']}\n    sha256 {img['sha256']}")
    print(f"  carved files ({summary['artifacts']} in the manifest):")
    for kind, per in summary["carved"].items():
        print(_counts_line(kind, per))
    print(f"  stored new {summary['stored_new']}, already stored {summary['stored_existing']}")
    print(f"  {summary['seconds']} s, {summary['mb_per_s']} MB/s over {len(summary['nodes'])} node(s)")


def cmd_forge(args: argparse.Namespace) -> int:
    key = forge_image(args.output, args.size, args.seed)
    print(f"wrote {args.output} ({args.size} bytes, sha256 {key['sha256']})")
    print(f"answer key {args.output}.key.json: {len(key['items'])} planted items")
    for kind, per in sorted(key["counts"].items()):
        print(_counts_line(kind, per))
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
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


def cmd_jobs(args: argparse.Namespace) -> int:
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


def cmd_find(args: argparse.Namespace) -> int:
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quarry", description="Distributed processing of forensic evidence images.")
    sub = p.add_subparsers(dest="command", required=True)

    f = sub.add_parser("forge", help="write a synthetic evidence image with an answer key")
    f.add_argument("output", help="image file to write (the key goes to OUTPUT.key.json)")
    f.add_argument("--size", type=parse_size, default=64 << 20, help="image size, e.g. 64MiB (default)")
    f.add_argument("--seed", type=int, default=1, help="same seed, same image (default 1)")
    f.set_defaults(func=cmd_forge)

    s = sub.add_parser("submit", help="process images under a case")
    s.add_argument("--case", required=True, help="case the images belong to")
    s.add_argument("images", nargs="+", help="raw image files (or block devices)")
    s.add_argument("--no-wait", action="store_true", help="return once the job is recorded and started")
    s.set_defaults(func=cmd_submit)

    j = sub.add_parser("jobs", help="list jobs with their state and progress")
    j.add_argument("--json", action="store_true", help="one JSON object per line")
    j.set_defaults(func=cmd_jobs)

    q = sub.add_parser("find", help="where an artifact was found")
    q.add_argument("--sha256", required=True, help="SHA-256 of the artifact")
    q.add_argument("--case", help="only this case")
    q.add_argument("--json", action="store_true", help="one JSON object per line")
    q.set_defaults(func=cmd_find)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (EvidenceError, StoreUnavailable, ConfigError, ValueError) as exc:
        print(f"quarry: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
