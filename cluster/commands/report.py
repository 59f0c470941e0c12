"""`quarry report JOB`: a finished job's court-ready report and exchange formats (HTML,
DFXML, CASE/UCO, hashdeep, bulk_extractor feature files), locally and in MinIO."""

from __future__ import annotations

import argparse
from pathlib import Path

from cluster import custody
from cluster.config import load_settings
from cluster.jobs import Journal
from cluster.report import write_report
from workers.store import ObjectStore


def run(args: argparse.Namespace) -> int:
    out = Path(args.out or f"quarry-report-{args.job}")
    if args.reveal and len((args.reason or "").strip()) < 4:
        raise ValueError("--reveal: state why with --reason TEXT (it is entered in the audit log)")
    store = ObjectStore(load_settings().store)
    job = Journal(store).find(args.job)
    custody.record(
        store,
        "report.reveal" if args.reveal else "report.export",
        case=job.case,
        target=job.id,
        reason=args.reason if args.reveal else None,
        folder=str(out.resolve()),
    )
    report = write_report(store, args.job, out, redact=not args.reveal)
    print(f"report of job {args.job} in {report.folder} and in MinIO at {report.bucket}/{report.prefix}")
    width = max(len(w.name) for w in report.files)
    for w in report.files:
        print(f"  {w.name:{width}}  {w.size:>10} bytes  {w.what}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("report", help="write a finished job's report: HTML, DFXML, CASE/UCO, hashdeep, feature files")
    r.add_argument("job", help="job id (see `quarry jobs`)")
    r.add_argument("--out", help="local folder for the report, new or empty (default ./quarry-report-JOB)")
    r.add_argument(
        "--reveal",
        action="store_true",
        help="write card numbers, seed phrases and private keys whole in the feature files "
        "(redacted by default; the HTML page always redacts them)",
    )
    r.add_argument("--reason", help="why they are revealed (required with --reveal; entered in the audit log)")
    r.set_defaults(func=run)
