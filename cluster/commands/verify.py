"""`quarry verify`: has anything changed since the job ran? Images, windows, artifacts and
the job's result tables."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from cluster.config import load_settings
from cluster.verify import verify_job
from workers.store import ObjectStore


def run(args: argparse.Namespace) -> int:
    images, artifacts, seals = verify_job(ObjectStore(load_settings().store), args.job, args.artifacts)
    if args.json:
        doc = {
            "images": [asdict(i) for i in images],
            "artifacts": asdict(artifacts) if artifacts else None,
            "results": [asdict(s) for s in seals],
        }
        print(json.dumps(doc))
    for c in images:
        print(f"image {c.path}: {c.result.upper()}")
        if c.message:
            print(f"  {c.message}")
        if c.size:
            print(f"  size was {c.size[0]} bytes, now {c.size[1]}")
        for name, (before, now) in c.digests.items():
            print(f"  {name}: recorded {before}\n  {' ' * len(name)}  now      {now}")
        if c.windows_checked:
            print(f"  windows: {c.windows_changed} of {c.windows_checked} changed")
            for offset, length in c.changed_ranges:
                print(f"    bytes {offset}..{offset + length - 1}")
            if c.windows_changed > len(c.changed_ranges):
                print(f"    ... and {c.windows_changed - len(c.changed_ranges)} more windows")
    if artifacts:
        print(
            f"artifacts: {artifacts.checked} checked, {len(artifacts.missing)} missing, "
            f"{len(artifacts.altered)} altered"
        )
        for sha in artifacts.missing:
            print(f"  MISSING {sha}")
        for sha in artifacts.altered:
            print(f"  ALTERED {sha}")
    for s in seals:
        print(f"results {s.key}: {s.result.upper()}")
        if s.result == "changed":
            print(f"  sealed sha256 {s.recorded}\n  now          {s.now}")
    changed = (
        any(c.result != "unchanged" for c in images)
        or bool(artifacts and (artifacts.missing or artifacts.altered))
        or any(s.result != "unchanged" for s in seals)
    )
    return 1 if changed else 0


def register(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("verify", help="re-hash a job's images (and artifacts) and report any change")
    v.add_argument("job", help="job id")
    v.add_argument("--artifacts", action="store_true", help="also re-hash every stored artifact the job lists")
    v.add_argument("--json", action="store_true", help="print the report as one JSON object first")
    v.set_defaults(func=run)
