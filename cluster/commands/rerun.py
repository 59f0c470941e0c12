"""`quarry rerun JOB`: run a job's failed or cancelled parts again, or the whole job anew."""

from __future__ import annotations

import argparse

from cluster import api, custody
from cluster.commands.submit import follow
from cluster.config import load_settings
from cluster.jobs import Journal
from workers.store import ObjectStore


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    store = ObjectStore(settings.store)
    job = Journal(store).find(args.job)
    custody.record(store, "job.rerun", case=job.case, target=job.id, whole=args.whole)
    job_id = api.rerun(settings, args.job, whole=args.whole)
    if args.whole:
        print(f"job {job_id} repeats job {args.job} from the start")
    else:
        print(f"job {job_id}: its unfinished and failed parts run again; finished ones are kept")
    if args.no_wait:
        return 0
    return follow(settings, Journal(ObjectStore(settings.store)).load(job_id))


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("rerun", help="run a job's failed or cancelled parts again (or --whole job anew)")
    r.add_argument("job", metavar="JOB", help="job id (see `quarry jobs`)")
    r.add_argument("--whole", action="store_true", help="a new job doing all the work again, same settings")
    r.add_argument("--no-wait", action="store_true", help="return once it is started")
    r.set_defaults(func=run)
