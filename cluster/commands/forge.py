"""`quarry forge`: a synthetic evidence image with its answer key."""

from __future__ import annotations

import argparse

from cluster.commands.common import counts_line, parse_size
from cluster.forge import forge_image


def run(args: argparse.Namespace) -> int:
    key = forge_image(args.output, args.size, args.seed)
    print(f"wrote {args.output} ({args.size} bytes, sha256 {key['sha256']})")
    print(f"answer key {args.output}.key.json: {len(key['items'])} planted items")
    for kind, per in sorted(key["counts"].items()):
        print(counts_line(kind, per))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser("forge", help="write a synthetic evidence image with an answer key")
    f.add_argument("output", help="image file to write (the key goes to OUTPUT.key.json)")
    f.add_argument("--size", type=parse_size, default=64 << 20, help="image size, e.g. 64MiB (default)")
    f.add_argument("--seed", type=int, default=1, help="same seed, same image (default 1)")
    f.set_defaults(func=run)
