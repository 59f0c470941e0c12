"""`quarry watch JOB`: one job's progress as a live bar (bytes, segments, speed, ETA).

The bar is drawn on stderr, so stdout carries only the final line, plain text, whether or
not it is a terminal (a script, or a test, reads it there). The job is read from the
journal in MinIO, like `quarry jobs`; nothing here needs Ray.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from cluster.commands.nodes import interval
from cluster.config import load_settings
from cluster.jobs import TERMINAL, JobRecord, Journal, record_key
from workers.store import JOURNAL, ObjectStore, StoreUnavailable


class NoSuchJob(Exception):
    """The journal holds no record for the job id."""


def load(journal: Journal, job_id: str) -> JobRecord:
    """The job's record. A missing record reads as a failed get (StoreUnavailable), so
    whether the record exists is asked separately before blaming the store."""
    try:
        return journal.load(job_id)
    except StoreUnavailable:
        if not journal.store.exists(JOURNAL, record_key(job_id)):
            raise NoSuchJob(job_id) from None
        raise


def seconds(job: JobRecord) -> float:
    """How long the job ran: the summary's own figure when it has one, else created to last update."""
    if job.summary and "seconds" in job.summary:
        return float(job.summary["seconds"])
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    try:
        return (dt.datetime.strptime(job.updated, stamp) - dt.datetime.strptime(job.created, stamp)).total_seconds()
    except ValueError:
        return 0.0


def final_line(job: JobRecord) -> str:
    return (
        f"job {job.id} {job.state}: {job.bytes_done} of {job.bytes_total} bytes, "
        f"{job.segments_done}/{job.segments_total} segments, {seconds(job):.1f} s"
    )


def finish(job: JobRecord) -> int:
    print(final_line(job), flush=True)
    if job.state == "failed":
        print(f"quarry watch: job {job.id} failed: {job.error}", file=sys.stderr)
        return 1
    return 0


def show(progress: Progress, task: TaskID, job: JobRecord) -> None:
    progress.update(
        task,
        total=job.bytes_total or None,
        completed=job.bytes_done,
        state=job.state,
        segments=f"{job.segments_done}/{job.segments_total or '?'} segments",
    )


def follow(journal: Journal, job: JobRecord, interval: float) -> JobRecord:
    """Poll the journal every `interval` seconds, drawing the bar, until the job ends."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[state]:8}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[segments]}"),
        TransferSpeedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task(job.id, total=job.bytes_total or None, state=job.state, segments="")
        while True:
            show(progress, task, job)
            if job.state in TERMINAL:
                return job
            time.sleep(interval)
            job = journal.load(job.id)


def run(args: argparse.Namespace) -> int:
    journal = Journal(ObjectStore(load_settings().store))
    try:
        job = load(journal, args.job)
    except NoSuchJob:
        print(f"quarry watch: no job {args.job} in the journal (see `quarry jobs`)", file=sys.stderr)
        return 2
    if job.state not in TERMINAL:
        job = follow(journal, job, args.interval)
    return finish(job)


def register(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("watch", help="follow one job: a live progress bar with speed and ETA")
    w.add_argument("job", help="job id (see `quarry jobs`)")
    w.add_argument(
        "--interval", type=interval, default=1.0, metavar="SECONDS", help="seconds between reads (default 1)"
    )
    w.set_defaults(func=run)
