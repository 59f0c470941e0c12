"""Benchmarks against the tools a lab would otherwise run, same input, same run.

`make bench` (or `python -m bench.run --only hashing`) forges an image, then runs each
benchmark on it and prints MB/s and ratios; the carving and feature benchmarks forge their own
images (`quarry forge --profile carving`, `--profile features`) of the same size. Never part
of the tests.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.carving import bench_carving
from bench.common import ensure_peers, warm_cache
from bench.features import bench_features
from bench.hashing import bench_hashing
from bench.hashsets import bench_hashset_lookups
from bench.perceptual import bench_perceptual
from cluster.forge import forge_image

ALL = ("hashing", "carving", "features", "hashsets", "perceptual")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size-mib", type=int, default=1024, help="forged image size (default 1024)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--repeat", type=int, default=2, help="runs per contender; the best counts (default 2)")
    ap.add_argument("--jobs", type=int, default=2, help="quarry carve / quarry scan --jobs (default 2)")
    ap.add_argument("--set-size", type=int, default=50_000_000, help="hash set digests (default 50M)")
    ap.add_argument("--lookups", type=int, default=10_000_000, help="lookups against it (default 10M)")
    ap.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    args = ap.parse_args()
    only = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = sorted(set(only) - set(ALL))
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)}: use {', '.join(ALL)}")
    ensure_peers()
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="quarry-bench-") as tmp:
        if "hashing" in only:
            image = Path(tmp) / "bench.img"
            key = forge_image(image, args.size_mib << 20, args.seed)
            warm_cache(image)
            print(f"input: forged image {args.size_mib} MiB, seed {args.seed}, {len(key['items'])} planted items\n")
            figures["hashing"] = bench_hashing(image, key["sha256"], args.repeat)
            print()
            image.unlink()
        if "carving" in only:
            # its own input: the carving corpus (20 file types, truncated and fragmented files)
            figures["carving"] = bench_carving(Path(tmp), args.size_mib << 20, args.seed, args.jobs)
            print()
        if "features" in only:
            # its own input: valid values of every feature kind and decoys in disk-like filler
            figures["features"] = bench_features(Path(tmp), args.size_mib << 20, args.seed, args.jobs)
            print()
        if "hashsets" in only:
            figures["hashsets"] = bench_hashset_lookups(args.set_size, args.lookups, tmp)
            print()
        if "perceptual" in only:  # its own input: generated 1-megapixel JPEGs
            figures["perceptual"] = bench_perceptual(500, args.seed, args.repeat)
            print()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
