"""`quarry carve`: the carver on one machine, writing files and a manifest to a folder."""

from __future__ import annotations

import argparse
from pathlib import Path

import rust_core
from cluster.carve_local import MANIFEST, CarveOptions, carve_image
from cluster.commands.common import add_pool_arguments, comma_list


def run(args: argparse.Namespace) -> int:
    if args.align < 1 or args.jobs < 1:
        raise ValueError(f"--align and --jobs must be at least 1 (got {args.align} and {args.jobs})")
    options = CarveOptions(
        kinds=args.types,
        align=args.align,
        jobs=args.jobs,
        segment_size=args.segment_size,
        unallocated=args.unallocated,
    )
    summary = carve_image(args.image, Path(args.out), options)
    print(
        f"carved {summary['carves']} files ({summary['nested']} inside others) from {args.image} "
        f"in {summary['seconds']:.1f} s ({summary['mb_per_s']} MB/s)"
    )
    for kind, per in summary["by_type"].items():
        print(f"  {kind:8} " + ", ".join(f"{status} {n}" for status, n in per.items()))
    for warning in summary["warnings"]:
        print(f"warning: {warning}")
    print(f"files and {MANIFEST} in {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "carve",
        help="carve files from an image on this machine into a folder (no cluster needed)",
        description="Carve every file type Quarry knows from IMAGE (raw, split raw, E01, qcow2, VMDK, VHD) "
        "into OUT/<type>/<offset>.<ext>, with OUT/manifest.jsonl (one line per carve: offset, length, type, "
        "subtype, status, confidence, digests, parent) and OUT/summary.json.",
    )
    c.add_argument("image", help="evidence image to carve (read-only)")
    c.add_argument("--out", required=True, help="folder for the carved files; must be new or empty")
    c.add_argument(
        "--types",
        type=comma_list(rust_core.Carver.all_kinds(), "file type"),
        default=None,
        help="comma-separated types (default: all)",
    )
    c.add_argument("--align", type=int, default=1, help="look for headers only at multiples of this offset (default 1)")
    add_pool_arguments(c, "carving")
    c.add_argument("--unallocated", action="store_true", help="carve only space no filesystem allocates")
    c.set_defaults(func=run)
