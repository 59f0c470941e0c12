"""The commands an examiner or operator runs with a token instead of MinIO credentials:
each does over the HTTP API (cluster/api_client.py) what the command does on the control
plane, with the same options and output, within what the server allows them."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from cluster.api_client import ApiClient
from cluster.jobs import TERMINAL

MAX_PAGE = 10_000  # the server's largest page (cluster/query.py)


def find(client: ApiClient, args: argparse.Namespace) -> int:
    from cluster.commands.find import query_params, write_rows

    params = query_params(args)
    if args.similar_to:
        from cluster.commands.find import print_similar
        from cluster.provenance import parse_sha256

        params.update(min_ssdeep=[str(args.min_ssdeep)], max_tlsh=[str(args.max_tlsh)])
        doc = client.get(f"/v1/artifacts/{parse_sha256(args.similar_to)}/similar", params)
        ref = doc["reference"]
        fmt = "json" if args.json else args.format
        return print_similar(ref["sha256"], ref["ssdeep"], ref["tlsh"], doc["rows"], fmt)
    if args.similar_image or args.similar_pdq:
        return similar_images(client, args, params)
    over_features = "feature" in params
    if args.reveal:
        params.update(reveal=["1"], reason=[args.reason or ""])
    path = "/v1/features" if over_features else "/v1/artifacts"
    fmt = "json" if args.json else args.format
    limit = int(params.get("limit", ["50"])[0])
    if limit == 0:
        count = write_rows(client.pages(path, params, MAX_PAGE), fmt, over_features)
        total = None
    else:
        doc = client.get(path, params)
        total, count = doc["total"], write_rows(doc["rows"], fmt, over_features)
    sys.stdout.flush()
    if total and count:
        first = int(params.get("offset", ["0"])[0]) + 1
        print(f"rows {first}-{first + count - 1} of {total}", file=sys.stderr)
    if not count:
        print("no match in the cases assigned to you", file=sys.stderr)
        return 1
    return 0


def similar_images(client: ApiClient, args: argparse.Namespace, params: dict[str, list[str]]) -> int:
    """--similar-image over the API: a SHA-256 is looked up by the server in the user's
    cases; a picture file is hashed here and only its PDQ hash is sent."""
    from pathlib import Path

    from cluster.commands.find import print_similar_pictures
    from cluster.similar_images import reference_of_file

    params["distance"] = [str(args.distance)]
    source, quality = args.similar_pdq or args.similar_image, None
    if args.similar_pdq:
        params["pdq"] = [args.similar_pdq]
    elif Path(args.similar_image).is_file():
        reference = reference_of_file(Path(args.similar_image))
        params["pdq"] = [reference.pdq]
        source, quality = reference.source, reference.quality
    else:
        params["sha256"] = [args.similar_image]
    doc = client.get("/v1/similar-images", params)
    ref = doc["reference"]
    about = {**ref, "source": f"sha256 {ref['sha256']}" if ref["sha256"] else source}
    if quality is not None:
        about["quality"] = quality
    return print_similar_pictures(about, doc["rows"], "json" if args.json else args.format)


def get(client: ApiClient, args: argparse.Namespace) -> int:
    from cluster.commands.get import destination
    from cluster.provenance import parse_sha256

    sha256 = parse_sha256(args.sha256)
    dest = destination(args.out, sha256, args.force)
    params = {"case": [args.case]} if args.case else {}
    doc = client.get(f"/v1/artifacts/{sha256}/provenance", params)
    size = client.download(f"/v1/artifacts/{sha256}/content", params, dest, sha256)
    if args.json:
        print(json.dumps({**doc, "file": {"path": str(dest), "sha256": sha256, "size": size}}))
        return 0
    print(f"{dest}: {size} bytes, sha256 {sha256} (verified)")
    for p in doc["places"]:
        where = f"path {p['path']}" if p.get("path") else f"offset {p['offset']}"
        step = f"{p['step']} {p['step_version']}"
        print(f"  {p['case']}  {p['job']}  {p['image_path']}  {where}  {p['length']} bytes  {step}")
    return 0


def jobs(client: ApiClient, args: argparse.Namespace) -> int:
    rows = client.get("/v1/jobs")["jobs"]
    if args.state:
        rows = [j for j in rows if j["state"] in args.state]
    if args.json:
        for j in rows:
            print(json.dumps(j))
        return 0
    print(f"{'JOB':28} {'CASE':16} {'STATE':10} {'PRIO':>4} {'PROGRESS':>8}")
    for j in rows:
        print(f"{j['id']:28} {j['case']:16} {j['state']:10} {j['priority']:4} {j['progress'] * 100:7.1f}%")
    return 0


def submit(client: ApiClient, args: argparse.Namespace) -> int:
    if args.batch or args.expect_list or args.inject_fault:
        raise ValueError("through the API, submit images with --case (and --expect, --profile, --priority) only")
    if not args.case or not args.images:
        raise ValueError("give --case and image paths (as the lab's nodes see them)")
    doc: dict[str, Any] = {"case": args.case, "images": args.images, "profile": args.profile, "expect": args.expect}
    if args.priority is not None:
        doc["priority"] = args.priority
    made = client.post("/v1/jobs", doc)
    print(f"job {made['job']} submitted for case {made['case']} ({made['images']} image(s), {made['bytes']} bytes)")
    if args.no_wait:
        return 0
    while True:
        job = next((j for j in client.get("/v1/jobs")["jobs"] if j["id"] == made["job"]), None)
        if job is not None and job["state"] in TERMINAL:
            print(f"job {job['id']}: {job['state']}")
            return {"done": 0, "partial": 4}.get(job["state"], 1)
        time.sleep(1)


def cancel(client: ApiClient, args: argparse.Namespace) -> int:
    for job_id in args.jobs:
        state = client.post(f"/v1/jobs/{job_id}/cancel", {})["state"]
        print(f"job {job_id}: {state}")
    return 0
