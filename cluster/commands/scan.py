"""`quarry scan`: the feature scanners on one machine, in bulk_extractor's output layout."""

from __future__ import annotations

import argparse
from pathlib import Path

from cluster.commands.common import add_pool_arguments, comma_list
from cluster.scan_local import ScanOptions, scan_image
from workers.features import KINDS, SENSITIVE


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1 (got {args.jobs})")
    options = ScanOptions(kinds=args.kinds, invalid=args.invalid, jobs=args.jobs, segment_size=args.segment_size)
    report = scan_image(args.image, Path(args.out), options)
    total = sum(report["hits"].values())
    print(f"scanned {args.image} ({report['size']:,} bytes) in {report['seconds']:.1f} s ({report['mb_per_s']} MB/s)")
    for kind, n in report["hits"].items():
        if n:
            bad = report["invalid"].get(kind, 0)
            note = " (sensitive: stored in full, redacted in views)" if kind in SENSITIVE else ""
            extra = f", {bad} invalid" if bad else ""
            print(f"  {kind:16} {n:8,} hits, {report['distinct'][kind]:,} distinct{extra}{note}")
    print(f"{total:,} features; <kind>.txt, <kind>_histogram.txt and Parquet tables in {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "scan",
        help="find e-mails, URLs, cards, IBANs, wallets, keys... in an image on this machine (no cluster needed)",
        description="Scan every byte of IMAGE (raw, split raw, E01, qcow2, VMDK, VHD) as ASCII and UTF-16LE text "
        "for features, writing bulk_extractor's layout to OUT: <kind>.txt (offset, value, context; tab-separated), "
        "<kind>_histogram.txt, features.parquet, histograms.parquet and report.json. Checksummed kinds "
        "(cards, IBANs, wallets, onions, BIP-39) report valid values only unless --invalid.",
    )
    c.add_argument("image", help="evidence image to scan (read-only)")
    c.add_argument("--out", required=True, help="folder for the feature files; must be new or empty")
    c.add_argument(
        "--kinds",
        type=comma_list(KINDS, "feature kind"),
        default=None,
        help=f"comma-separated kinds (default: all of {len(KINDS)})",
    )
    c.add_argument("--invalid", action="store_true", help="also report values whose checksum fails, marked invalid")
    add_pool_arguments(c, "scanning")
    c.set_defaults(func=run)
