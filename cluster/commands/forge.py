"""`quarry forge`: a synthetic evidence image with its answer key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cluster.commands.common import counts_line, parse_size
from cluster.forge import forge_image
from cluster.forge.corpus import DEFAULT_TESTDATA, forge_corpus
from cluster.forge.features import forge_features


def run(args: argparse.Namespace) -> int:
    if args.profile == "carving":
        samples = None if args.samples == "none" else Path(args.samples)
        try:
            key = forge_corpus(args.output, args.size, args.seed, samples, args.spacing)
        except FileNotFoundError as exc:
            print(f"quarry: error: {exc}", file=sys.stderr)
            return 2
    elif args.profile == "features":
        key = forge_features(args.output, args.size, args.seed)
    else:
        key = forge_image(args.output, args.size, args.seed)
    print(f"wrote {args.output} ({args.size} bytes, sha256 {key['sha256']})")
    print(f"answer key {args.output}.key.json: {len(key['items'])} planted items")
    for kind, per in sorted(key["counts"].items()):
        print(counts_line(kind, per))
    if args.profile == "features":
        print(f"    decoys: {len(key['decoys'])} look-alikes that must not be reported")
    if args.profile == "carving":
        print(f"    not planted: {', '.join(sorted(key['left_out']))}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser("forge", help="write a synthetic evidence image with an answer key")
    f.add_argument("output", help="image file to write (the key goes to OUTPUT.key.json)")
    f.add_argument("--size", type=parse_size, default=64 << 20, help="image size, e.g. 64MiB (default)")
    f.add_argument("--seed", type=int, default=1, help="same seed, same image (default 1)")
    f.add_argument(
        "--profile",
        choices=["default", "carving", "features"],
        default="default",
        help="default: JPEG/PNG/PDF/ZIP and text for the job tests; carving: the carving corpus "
        "(20 file types, truncated and fragmented files) the carving benchmark scores against; features: "
        "valid identifiers of every feature kind and look-alike decoys in ASCII and UTF-16LE text, for the "
        "feature benchmark",
    )
    f.add_argument(
        "--samples",
        default=str(DEFAULT_TESTDATA),
        help="carving profile: the published test data folder whose small/ and pngsuite/ files are "
        "planted beside generated ones, or 'none' (default: ../shared/testdata)",
    )
    f.add_argument(
        "--spacing",
        type=int,
        default=1,
        help="carving profile: multiply the random data between files by this (1: about 4,700 files "
        "a GiB; 30: about 500, as sparse as a lab's image with little deleted data)",
    )
    f.set_defaults(func=run)
