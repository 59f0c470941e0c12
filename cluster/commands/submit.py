"""`quarry submit`: process images under a case and print the job's summary."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cluster import api
from cluster.commands.common import counts_line, parse_size
from cluster.config import load_settings
from cluster.jobs import JobRecord
from workers.hashing import DIGESTS, HashPlan


def digest_names(text: str) -> list[str]:
    names = [n.strip().lower().replace("-", "") for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in DIGESTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown digest {', '.join(unknown) or text!r}: use {', '.join(DIGESTS)}")
    return names


def _bar(job: JobRecord) -> str:
    return f"{job.progress * 100:5.1f}%  {job.segments_done}/{job.segments_total} segments  {job.state}"


def print_verification(img: dict[str, Any]) -> None:
    v = img["verification"]
    if v["result"] == "absent":
        print("    intake verification: absent (no acquisition digest given or stored)")
        return
    for c in v["checks"]:
        print(f"    intake {c['algorithm']} from {c['source']}: {c['result'].upper()}")
        if c["result"] != "match":
            print(f"      expected {c['value']}\n      computed {c['computed']}")


def print_summary(summary: dict[str, Any]) -> None:
    print(f"job {summary['job']}  case {summary['case']}")
    for img in summary["images"]:
        print(f"  image {img['path']}  ({img['format']}, {img['size']} bytes)")
        for name, value in img["digests"].items():
            print(f"    {name:7}{value}")
        windows = img["windows"]
        if windows["count"]:
            plan = windows["plan"]
            print(f"    {windows['count']} windows of {plan['window']} bytes ({', '.join(plan['window_algorithms'])})")
        print_verification(img)
        for u in img.get("unreadable", []):
            print(f"    UNREADABLE media {u['offset']}+{u['length']} (hashed and carved as zeros): {u['reason']}")
        check = img.get("container_check")
        if check:
            if check.get("error"):
                print(f"    container check: {check['error']}")
            else:
                print(f"    container check: {check['chunks']} chunks, {check['damaged']} damaged")
            for p in check.get("problems", []):
                print(f"      DAMAGED chunk {p['chunk']}: media {p['media_offset']}+{p['length']}: {p['reason']}")
        if img.get("filesystems"):
            counts = ", ".join(f"{n} {origin}" for origin, n in img["files"].items()) or "no files with content"
            print(f"    filesystems: {'; '.join(img['filesystems'])}: {counts}")
            print(f"    timeline: {img['timeline']['rows']} rows")
        else:
            print("    filesystems: none found (carving covers the whole image)")
        for warning in img.get("warnings", []):
            print(f"    warning: {warning}")
    carve = summary.get("carve", {"profile": "all"})
    scope = "whole images" if carve["profile"] == "all" else f"unallocated space only, {carve['bytes']} bytes"
    print(f"  carved files ({scope}; {summary['artifacts']} rows in the manifest):")
    for kind, per in summary["carved"].items():
        print(counts_line(kind, per))
    known = summary.get("known_files") or {}
    if known.get("known_good"):
        print(f"  known-good (hidden from find): {known['known_good']}")
    if known.get("known_bad"):
        sets = ", ".join(f"{s} {n}" for s, n in known["known_bad_by_set"].items())
        print(f"  KNOWN-BAD: {known['known_bad']} artifact(s) match known-bad hash sets ({sets})")
    yara = summary.get("yara") or {}
    if yara.get("rule_sets"):
        per = ", ".join(f"{n} {s['version']}: {s['matches']}" for n, s in yara["rule_sets"].items())
        errors = f", {yara['errors']} scan error(s) (timeouts included)" if yara["errors"] else ""
        print(f"  YARA: {yara['matches']} match(es) ({per}){errors}; details in {yara['key']}")
    features = summary.get("features") or {}
    if features.get("by_kind"):
        kinds = ", ".join(f"{kind} {n}" for kind, n in features["by_kind"].items())
        print(f"  features: {features['hits']} hits ({kinds}); quarry find --feature KIND lists them")
    print(f"  stored new {summary['stored_new']}, already stored {summary['stored_existing']}")
    print(f"  {summary['seconds']} s, {summary['mb_per_s']} MB/s over {len(summary['nodes'])} node(s)")


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    plan = HashPlan(tuple(args.digests), args.window, tuple(args.window_digests))
    job = api.submit(
        settings,
        args.case,
        args.images,
        plan,
        args.expect,
        args.expect_list,
        args.carve,
        yara_raw=args.yara_raw,
        yara_timeout=args.yara_timeout,
    )
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
    if job.summary.get("known_files", {}).get("known_bad"):
        print(f"quarry: KNOWN-BAD content found in job {job.id} (see above)", file=sys.stderr)
    if job.summary.get("damaged_chunks"):
        print(
            f"quarry: DAMAGED CHUNKS in job {job.id}: {job.summary['damaged_chunks']} E01 chunk(s) fail their "
            "checksum; their media reads as zeros (see above)",
            file=sys.stderr,
        )
    if job.summary["integrity"] == "mismatch":
        print(
            f"quarry: INTEGRITY MISMATCH in job {job.id}: an image's media digest differs from its acquisition "
            "digest (see above); the results are kept",
            file=sys.stderr,
        )
    if job.summary.get("unreadable_bytes"):
        print(
            f"quarry: UNREADABLE MEDIA in job {job.id}: {job.summary['unreadable_bytes']} bytes could not be read "
            "and were processed as zeros (see above); everything else was processed",
            file=sys.stderr,
        )
    problems = job.summary["integrity"] == "mismatch" or job.summary.get("damaged_chunks")
    return 3 if problems or job.summary.get("unreadable_bytes") else 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("submit", help="process images under a case")
    s.add_argument("--case", required=True, help="case the images belong to")
    s.add_argument("images", nargs="+", help="raw image files (or block devices)")
    s.add_argument("--no-wait", action="store_true", help="return once the job is recorded and started")
    s.add_argument(
        "--carve",
        choices=("all", "unallocated"),
        default="all",
        help="carve whole images (default), or only space no filesystem uses (faster)",
    )
    s.add_argument(
        "--yara-raw",
        action="store_true",
        help="also scan raw segments with the YARA rule sets (matches at absolute image offsets)",
    )
    s.add_argument(
        "--yara-timeout",
        type=int,
        default=JobRecord.yara_timeout,
        metavar="SECONDS",
        help=f"YARA time limit per rule set and file or segment (default {JobRecord.yara_timeout})",
    )
    s.add_argument(
        "--digests",
        type=digest_names,
        default=list(HashPlan.algorithms),
        help=f"image digests, comma-separated, from {','.join(DIGESTS)} (default md5,sha1,sha256; sha256 always)",
    )
    s.add_argument(
        "--window", type=parse_size, default=HashPlan.window, help="piecewise hash window (default 1MiB; 0 = none)"
    )
    s.add_argument(
        "--window-digests",
        type=digest_names,
        default=list(HashPlan.window_algorithms),
        help="digests of each window (default blake3)",
    )
    s.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="ALG:HEX",
        help="acquisition digest of the (one) image, e.g. md5:0123...; repeatable",
    )
    s.add_argument(
        "--expect-list",
        action="append",
        default=[],
        metavar="FILE",
        help="md5sum/sha1sum/sha256sum-style list naming the images (by path or file name)",
    )
    s.set_defaults(func=run)
