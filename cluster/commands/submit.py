"""`quarry submit`: process images under a case and print the job's summary."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cluster import api, custody
from cluster.api_client import api_client
from cluster.batch import group_jobs, read_manifest
from cluster.commands import via_api
from cluster.commands.common import counts_line, parse_size
from cluster.config import Settings, load_settings
from cluster.jobs import PERCEPTUAL_MODES, JobRecord
from cluster.profiles import CARVE_SCOPES, DEFAULT_PROFILE, Profile, list_profiles, load_profile
from workers.hashing import DIGESTS, HashPlan
from workers.store import ObjectStore


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
    pictures = summary.get("perceptual") or {}
    if pictures.get("pictures") or pictures.get("warnings"):
        engines = ", ".join(pictures["engines"])
        print(
            f"  pictures: {pictures['pictures']} given PDQ and pHash ({engines}), {pictures['warnings']} not decodable"
        )
    if pictures.get("known_images"):
        sets = ", ".join(f"{name} {n}" for name, n in pictures["known_images"].items())
        print(f"  KNOWN IMAGES: pictures near listed PDQ hashes ({sets}); quarry find shows them by known_images")
    print(f"  stored new {summary['stored_new']}, already stored {summary['stored_existing']}")
    for t in summary.get("failed_tasks", []):
        where = f"offset {t['offset']}+{t['length']}" if "offset" in t else f"file batch {t.get('batch')}"
        tried = f"{t['attempts']} attempt(s)"
        print(f"  FAILED {t['step']} {t['key']} (image {t.get('path')}, {where}) after {tried}: {t['error']}")
    print(f"  {summary['seconds']} s, {summary['mb_per_s']} MB/s over {len(summary['nodes'])} node(s)")


def job_options(profile: Profile, args: argparse.Namespace, priority: int | None = None) -> dict[str, Any]:
    """What the job is told: the profile's settings, with what the operator gave on the
    command line taking their place."""

    def given(name: str, default: Any) -> Any:
        value = getattr(args, name)
        return default if value is None else value

    return {
        "plan": HashPlan(
            tuple(given("digests", profile.digests)),
            given("window", profile.window),
            tuple(given("window_digests", profile.window_digests)),
        ),
        "carve": given("carve", profile.carve),
        "yara_raw": args.yara_raw or profile.yara_raw,
        "yara_timeout": given("yara_timeout", profile.yara_timeout),
        "priority": given("priority", profile.priority if priority is None else priority),
        "task_timeout": given("task_timeout", profile.task_timeout),
        "profile": profile.name,
        "faults": args.inject_fault,
        "perceptual": args.perceptual,
    }


def prepare_jobs(settings: Settings, args: argparse.Namespace) -> list[JobRecord]:
    """Every job of the command, each checked; nothing is written until all are good."""
    if bool(args.batch) == bool(args.images):
        raise ValueError("give image paths (with --case) or --batch MANIFEST, not both or neither")
    if args.batch:
        if args.case or args.expect or args.expect_list:
            raise ValueError("with --batch, the manifest gives each image's case and expected digests")
        jobs = []
        for group in group_jobs(read_manifest(args.batch, args.profile)):
            options = job_options(load_profile(group.profile), args, group.priority)
            each = [e.expect_args() for e in group.entries]
            jobs.append(api.prepare(settings, group.case, group.images, expect_each=each, **options))
        return jobs
    if not args.case:
        raise ValueError("--case is required (the case the images belong to)")
    options = job_options(load_profile(args.profile), args)
    return [api.prepare(settings, args.case, args.images, expect=args.expect, expect_lists=args.expect_list, **options)]


def follow(settings: Settings, job: JobRecord) -> int:
    """Wait for the job, print its summary; the exit status it deserves."""
    last = [""]

    def progress(j: JobRecord) -> None:
        line = _bar(j)
        if line != last[0] and sys.stderr.isatty():
            print("\r" + line, end="", file=sys.stderr, flush=True)
        last[0] = line

    job = api.wait(settings, job.id, progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if job.state == "cancelled":
        print(f"job {job.id} was cancelled; what it finished is kept (quarry rerun {job.id} goes on)", file=sys.stderr)
        return 1
    if job.state not in ("done", "partial") or job.summary is None:
        print(f"job {job.id} failed: {job.error}", file=sys.stderr)
        return 1
    print_summary(job.summary)
    if job.summary.get("known_files", {}).get("known_bad"):
        print(f"quarry: KNOWN-BAD content found in job {job.id} (see above)", file=sys.stderr)
    if (job.summary.get("perceptual") or {}).get("known_images"):
        print(f"quarry: KNOWN IMAGES in job {job.id}: pictures near listed PDQ hashes (see above)", file=sys.stderr)
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
    if job.state == "partial":
        print(
            f"quarry: FAILED TASKS in job {job.id}: {len(job.failed_tasks)} part(s) failed for good and are not in "
            f"its results (see above); everything else was processed. `quarry rerun {job.id}` runs them again",
            file=sys.stderr,
        )
        return 4
    problems = job.summary["integrity"] == "mismatch" or job.summary.get("damaged_chunks")
    return 3 if problems or job.summary.get("unreadable_bytes") else 0


def run(args: argparse.Namespace) -> int:
    client = api_client()
    if client is not None:
        return via_api.submit(client, args)
    settings = load_settings()
    jobs = prepare_jobs(settings, args)
    store = ObjectStore(settings.store)
    for job in jobs:
        images = [img["path"] for img in job.images]
        custody.record(store, "job.submit", case=job.case, target=job.id, images=images, profile=job.profile or "")
        api.launch(settings, job)
        print(
            f"job {job.id} submitted for case {job.case} ({len(job.images)} image(s), {job.bytes_total} bytes, "
            f"profile {job.profile}, priority {job.priority})"
        )
    if args.no_wait:
        return 0
    return max(follow(settings, job) for job in jobs)


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("submit", help="process images under a case (or a batch of them)")
    s.add_argument("--case", help="case the images belong to")
    s.add_argument("images", nargs="*", help="image files (raw, split raw, E01), block devices or s3:// evidence")
    s.add_argument(
        "--batch",
        metavar="MANIFEST",
        help="CSV or JSON Lines with case,image[,expect,profile,priority]: one job per case, profile and priority",
    )
    s.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help=f"processing profile: a name ({', '.join(list_profiles())}) or a .toml file (default {DEFAULT_PROFILE})",
    )
    s.add_argument("--priority", type=int, help="higher runs first when jobs compete (default: the profile's)")
    s.add_argument(
        "--task-timeout",
        type=int,
        metavar="SECONDS",
        help="an attempt running longer is stopped and started again (default: the profile's)",
    )
    s.add_argument("--no-wait", action="store_true", help="return once the jobs are recorded and started")
    s.add_argument(
        "--carve",
        choices=CARVE_SCOPES,
        help="carve whole images, or only space no filesystem uses (default: the profile's)",
    )
    s.add_argument(
        "--yara-raw",
        action="store_true",
        help="also scan raw segments with the YARA rule sets (matches at absolute image offsets)",
    )
    s.add_argument(
        "--yara-timeout",
        type=int,
        metavar="SECONDS",
        help="YARA time limit per rule set and file or segment (default: the profile's)",
    )
    s.add_argument(
        "--digests",
        type=digest_names,
        help=f"image digests, comma-separated, from {','.join(DIGESTS)} (default: the profile's; sha256 always)",
    )
    s.add_argument("--window", type=parse_size, help="piecewise hash window (0 = none; default: the profile's)")
    s.add_argument("--window-digests", type=digest_names, help="digests of each window (default: the profile's)")
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
    s.add_argument(
        "--perceptual",
        choices=PERCEPTUAL_MODES,
        default="auto",
        help="pictures' PDQ and pHash: on GPU nodes when the cluster has any, else the Rust core (auto); "
        "always the Rust core (cpu); the GPU's tensor code wherever it runs (tensor); not at all (off)",
    )
    s.add_argument(
        "--inject-fault",
        action="append",
        default=[],
        metavar="ACTION:STEP:KEY",
        help="drills only: make a task fail (fail) or hang on its first attempt (hang); recorded in the job",
    )
    s.set_defaults(func=run)
