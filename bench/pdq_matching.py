"""Known-image matching: Q picture hashes against a list of N PDQ hashes within distance 31
(the issue's bench: 1 million against 10 million), by multi-index hashing, beside brute
force (every pair compared, popcount over four words) measured in the same run on a sample
of the queries and extrapolated to all of them.

The list and the queries are random 256-bit hashes; some queries have a list entry planted
at a known distance (0 to the threshold, all to be found, and a few just beyond it, none to
be found), so recall and precision are checked exactly: two random hashes lie within 31 bits
with odds of about 1e-29. The brute-force sample's answers must equal MIH's on the same
queries. Run on demand; never part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from rust_core import PdqIndex, PdqIndexBuilder

WIDTH = 32
CHUNK = 1_000_000  # list hashes generated and added at a time
QUERY_BATCH = 100_000  # queries searched at a time (the bench's own memory stays small)
PLANT_EVERY = 997  # one query in this many has a planted neighbour


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _flip(rng: random.Random, raw: bytes, bits: int) -> bytes:
    h = int.from_bytes(raw, "big")
    for bit in rng.sample(range(256), bits):
        h ^= 1 << bit
    return h.to_bytes(WIDTH, "big")


def _plants(seed: int, queries: int, threshold: int) -> dict[int, tuple[bytes, bytes, int]]:
    """query number -> (query hash, planted list hash, distance): distances cycle through
    0..threshold, and every tenth plant lies 1 to 8 bits beyond the threshold."""
    rng = random.Random(seed * 7919 + 1)
    plants = {}
    for n, qi in enumerate(range(PLANT_EVERY // 2, queries, PLANT_EVERY)):
        q = rng.randbytes(WIDTH)
        d = threshold + 1 + n % 8 if n % 10 == 9 else n % (threshold + 1)
        plants[qi] = (q, _flip(rng, q, d), d)
    return plants


def _queries(seed: int, start: int, count: int, plants: dict[int, tuple[bytes, bytes, int]]) -> bytes:
    """Queries start..start+count: random, with the planted ones in their places."""
    out = bytearray(random.Random(seed * 1_000_003 + start).randbytes(count * WIDTH))
    for qi in range(start, start + count):
        if qi in plants:
            out[(qi - start) * WIDTH : (qi - start + 1) * WIDTH] = plants[qi][0]
    return bytes(out)


def bench_pdq_matching(
    list_size: int = 10_000_000,
    queries: int = 1_000_000,
    brute_sample: int = 1000,
    threshold: int = 31,
    threads: int = 0,
    chunks: int | None = None,
    work_dir: str | None = None,
    seed: int = 11,
) -> dict[str, Any]:
    """Build an index of `list_size` random hashes (plus the planted ones), match `queries`
    against it by MIH and a sample by brute force; returns the figures."""
    plants = _plants(seed, queries, threshold)
    within = {qi for qi, (_, _, d) in plants.items() if d <= threshold}
    with tempfile.TemporaryDirectory(prefix="quarry-bench-pdq-", dir=work_dir) as tmp:
        path = Path(tmp) / "list.qpdq"
        rss_before = _peak_rss_mib()
        builder = PdqIndexBuilder()
        add_s = 0.0
        for i in range(0, list_size, CHUNK):
            n = min(CHUNK, list_size - i)
            batch = random.Random(seed * 31 + i).randbytes(n * WIDTH)
            started = time.perf_counter()
            builder.add(batch, [""] * n)
            add_s += time.perf_counter() - started
        planted = [(qi, h) for qi, (_, h, _) in sorted(plants.items())]
        builder.add(b"".join(h for _, h in planted), [f"planted-{qi}" for qi, _ in planted])
        started = time.perf_counter()
        builder.finish(path, chunks)
        build_s = add_s + time.perf_counter() - started
        build_rss = _peak_rss_mib() - rss_before
        del builder
        index = PdqIndex(path)

        # Warm the mapping as a worker's first pictures would, then time every query.
        index.search(_queries(seed + 1, 0, 2000, {}), threshold, threads=threads)
        found: dict[int, tuple[str, int]] = {}
        mih_s = 0.0
        for start in range(0, queries, QUERY_BATCH):
            batch = _queries(seed, start, min(QUERY_BATCH, queries - start), plants)
            started = time.perf_counter()
            matches = index.search(batch, threshold, method="mih", threads=threads)
            mih_s += time.perf_counter() - started
            for qi, entry, d in matches:
                found[start + qi] = (index.label(entry), d)

        sample = min(brute_sample, queries)
        sample_queries = _queries(seed, 0, sample, plants)
        started = time.perf_counter()
        brute = index.search(sample_queries, threshold, method="linear", threads=threads)
        brute_s = time.perf_counter() - started
        mih_sample = index.search(sample_queries, threshold, method="mih", threads=threads)
        if brute != mih_sample:
            raise AssertionError(f"brute force and MIH differ on the {sample}-query sample")

        expected = {qi: (f"planted-{qi}", plants[qi][2]) for qi in within}
        missed = sorted(set(expected) - set(found))
        wrong = sorted(qi for qi in found if found[qi] != expected.get(qi))
        if missed or wrong:
            raise AssertionError(f"planted neighbours missed at queries {missed[:10]}, wrong matches at {wrong[:10]}")
        mih_qps = queries / mih_s
        brute_qps = sample / brute_s
        figures = {
            "list_hashes": index.count,
            "queries": queries,
            "threshold": threshold,
            "threads": threads or os.cpu_count(),
            "chunks": index.chunks,
            "file_bytes": index.file_bytes,
            "bytes_per_hash": round(index.file_bytes / max(index.count, 1), 1),
            "build_s": round(build_s, 1),
            "build_rss_mib": round(build_rss),
            "planted_within": len(within),
            "planted_beyond": len(plants) - len(within),
            "recall": len(set(expected) & set(found)) / max(len(expected), 1),
            "false_matches": len(wrong),
            "mih_s": round(mih_s, 1),
            "mih_queries_per_s": round(mih_qps),
            "brute_sample": sample,
            "brute_sample_s": round(brute_s, 2),
            "brute_queries_per_s": round(brute_qps, 1),
            "brute_all_s_extrapolated": round(queries / brute_qps),
            "speedup": round(mih_qps / brute_qps, 1),
        }
    _print(figures)
    return figures


def _print(f: dict[str, Any]) -> None:
    print(
        f"PDQ list: {f['list_hashes']:,} hashes, {f['chunks']} chunks, {f['file_bytes'] / 2**20:,.0f} MiB "
        f"({f['bytes_per_hash']} bytes/hash), built in {f['build_s']} s (peak RSS +{f['build_rss_mib']} MiB)"
    )
    print(
        f"{f['queries']:,} queries within {f['threshold']} bits, {f['threads']} threads; planted "
        f"{f['planted_within']} within (recall {f['recall']:.3f}) and {f['planted_beyond']} beyond "
        f"({f['false_matches']} false matches)"
    )
    rows = [
        ("MIH, all queries (measured)", f"{f['mih_s']:,.1f}", f"{f['mih_queries_per_s']:,}"),
        (f"brute force, {f['brute_sample']:,} queries (measured)", f"{f['brute_sample_s']:,.2f}", ""),
        (
            f"brute force, all {f['queries']:,} (EXTRAPOLATED)",
            f"{f['brute_all_s_extrapolated']:,}",
            f"{f['brute_queries_per_s']:,}",
        ),
    ]
    print(f"  {'':44} {'seconds':>12} {'queries/s':>12}")
    for name, seconds, qps in rows:
        print(f"  {name:44} {seconds:>12} {qps:>12}")
    print(f"  MIH / brute force: {f['speedup']:,}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--list", type=int, default=10_000_000, help="hashes in the list (default 10 M)")
    ap.add_argument("--queries", type=int, default=1_000_000, help="picture hashes matched (default 1 M)")
    ap.add_argument("--brute-sample", type=int, default=1000, help="queries brute force runs (default 1000)")
    ap.add_argument("--threshold", type=int, default=31)
    ap.add_argument("--threads", type=int, default=0, help="search threads (default: one per core)")
    ap.add_argument("--chunks", type=int, help="MIH chunks (default: what suits the list's size)")
    ap.add_argument("--work-dir", help="where the index file goes (default: the temp dir)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()
    figures = bench_pdq_matching(
        args.list, args.queries, args.brute_sample, args.threshold, args.threads, args.chunks, args.work_dir, args.seed
    )
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
