"""Known-file lookups: N lookups against a set of M SHA-256 digests (the issue's bench:
10 million against 50 million), half present and half absent.

The set is built through the same bounded-memory builder an import uses (sorted runs on
disk, merged), so the build's peak memory is reported too. Prints lookups/s for batch
lookups (what a bulk check uses) and for single hex lookups (what the carve step does per
artifact), and the set's bytes per digest. Run on demand; never part of the tests.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import rust_core
from cluster.hashsets.build import RUN_BYTES

WIDTH = 32
CHUNK = 1_000_000  # digests generated, added or looked up at a time


def _chunk(seed: int, index: int, count: int) -> bytes:
    """Digests of one chunk: reproducible, so present queries can be made again later."""
    return random.Random(seed * 1_000_003 + index).randbytes(count * WIDTH)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_hashset_lookups(
    set_size: int = 50_000_000, lookups: int = 10_000_000, work_dir: str | None = None, seed: int = 7
) -> dict[str, Any]:
    """Build a set of `set_size` random SHA-256 digests, time `lookups` lookups; returns figures."""
    chunks = (set_size + CHUNK - 1) // CHUNK
    with tempfile.TemporaryDirectory(prefix="quarry-bench-hashset-", dir=work_dir) as tmp:
        path = Path(tmp) / "bench.qhs"
        rss_before = _peak_rss_mib()
        started = time.perf_counter()
        builder = rust_core.HashSetBuilder("sha256", tmp, RUN_BYTES)  # as an import builds
        for i in range(chunks):
            builder.add(_chunk(seed, i, min(CHUNK, set_size - i * CHUNK)))
        stats = builder.finish(path)
        build_s = time.perf_counter() - started
        build_rss = _peak_rss_mib() - rss_before
        hs = rust_core.HashSet(path)

        # Half the queries repeat digests of the set (whole chunks spread over it), half are new;
        # batches are made one at a time so the bench's own memory stays small.
        batch_count = max(1, lookups // 2 // CHUNK)
        present_chunks = [(i * chunks) // batch_count for i in range(batch_count)]

        def batch(n: int) -> bytes:
            i = present_chunks[n]
            present = _chunk(seed, i, min(CHUNK, set_size - i * CHUNK))
            return present + random.Random(seed + 10_000 + n).randbytes(len(present))

        first = batch(0)
        hs.contains_many(first)  # touch the pages once, as a worker's first segments would
        queried = found = 0
        lookup_s = 0.0
        for n in range(batch_count):
            queries = first if n == 0 else batch(n)
            started = time.perf_counter()
            flags = hs.contains_many(queries)
            lookup_s += time.perf_counter() - started
            queried += len(flags)
            found += flags.count(1)
        if found != queried // 2:
            raise AssertionError(f"found {found} of {queried}, expected exactly {queried // 2} (the present half)")

        hexes = [first[j : j + WIDTH].hex() for j in range(0, min(len(first), 2 * 200_000 * WIDTH), WIDTH)]
        started = time.perf_counter()
        single_found = sum(map(hs.contains, hexes))
        single_s = time.perf_counter() - started
        figures = {
            "set_digests": hs.count,
            "added": stats["added"],
            "runs": stats["runs"],
            "file_bytes": hs.file_bytes,
            "bytes_per_digest": round(hs.file_bytes / hs.count, 3),
            "build_s": round(build_s, 1),
            "build_rss_mib": round(build_rss, 1),
            "lookups": queried,
            "found": found,
            "batch_lookups_per_s": round(queried / lookup_s),
            "single_hex_lookups_per_s": round(len(hexes) / single_s),
            "single_found": single_found,
        }
    print(
        f"hash set: {figures['set_digests']:,} sha256 digests, {figures['bytes_per_digest']} bytes/digest, "
        f"built in {figures['build_s']} s ({figures['runs']} runs, peak RSS +{figures['build_rss_mib']} MiB)"
    )
    print(
        f"  {figures['lookups']:,} batch lookups: {figures['batch_lookups_per_s'] / 1e6:.2f} M/s "
        f"({figures['found']:,} found); single hex lookups from Python: "
        f"{figures['single_hex_lookups_per_s'] / 1e6:.2f} M/s"
    )
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set-size", type=int, default=50_000_000)
    ap.add_argument("--lookups", type=int, default=10_000_000)
    ap.add_argument("--work-dir", help="where the runs and the set file go (default: the temp dir)")
    args = ap.parse_args()
    bench_hashset_lookups(args.set_size, args.lookups, args.work_dir)


if __name__ == "__main__":
    main()
