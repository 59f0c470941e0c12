"""`quarry cancel JOB`: stop a job's tasks, keeping what it finished."""

from __future__ import annotations

import argparse

from cluster import api, custody
from cluster.api_client import api_client
from cluster.commands import via_api
from cluster.config import load_settings
from cluster.jobs import Journal
from workers.store import ObjectStore


def run(args: argparse.Namespace) -> int:
    client = api_client()
    if client is not None:
        return via_api.cancel(client, args)
    settings = load_settings()
    store = ObjectStore(settings.store)
    for job_id in args.jobs:
        job = Journal(store).find(job_id)
        custody.record(store, "job.cancel", case=job.case, target=job_id)
        state = api.cancel(settings, job_id)
        if state in ("cancelling", "cancelled"):
            print(f"job {job_id}: {state}; what it finished is kept (`quarry rerun {job_id}` goes on from there)")
        else:
            print(f"job {job_id} had already ended ({state}); nothing to cancel")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("cancel", help="stop jobs, keeping what they finished")
    c.add_argument("jobs", nargs="+", metavar="JOB", help="job id (see `quarry jobs`)")
    c.set_defaults(func=run)
