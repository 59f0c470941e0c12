"""Scaling: the same forged image through the real job path on 1, 2 and 4 local Ray nodes.

For each node count a fresh Ray cluster of that many nodes (one CPU each) is started on this
machine in a process of its own (tests/integration/ray_nodes.py), the image is submitted to it
with `cluster.api.submit` against a MinIO of the bench's own, and the wall-clock time from
submission until the journal says done is taken. Each run has a driver process of its own
(`--one`), because a process joins one Ray cluster only. Printed: seconds, MB/s, speed-up
over the fewest nodes and parallel efficiency (speed-up / node ratio), beside the machine's
core count. Every run's manifest must hold the same number of rows (read from the Parquet
footer in MinIO): a job that finds more or less on more nodes is an error, not a figure.

Nodes on one machine share its cores, and MinIO, the job manager and the driver run on them
too: with C cores, N nodes cannot do better than an efficiency of C/N.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import quarry_command, tail, warm_cache
from cluster.commands.common import parse_size
from tests.servers import REPO, MinioServer, free_port, stop
from workers.store import StoreConfig

CLUSTER_START_S = 120
RUN_TIMEOUT_S = 3 * 3600


def node_counts(text: str) -> list[int]:
    """'1,2,4' -> [1, 2, 4]; each a positive whole number, none twice."""
    try:
        counts = [int(n) for n in text.split(",") if n.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad node counts {text!r}: use positive whole numbers, e.g. 1,2,4") from None
    if not counts or min(counts) < 1 or len(set(counts)) != len(counts):
        raise argparse.ArgumentTypeError(f"bad node counts {text!r}: use distinct positive whole numbers, e.g. 1,2,4")
    return sorted(counts)


# --- the image ---------------------------------------------------------------------------------


def forged_image(folder: Path, size: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """The default-profile image of `size` and `seed` in `folder`, forged with `quarry forge`
    unless a previous run left it there (same size, seed and length on disk)."""
    image = folder / f"scaling-{size >> 20}MiB-seed{seed}.img"
    key_path = Path(f"{image}.key.json")
    if image.is_file() and key_path.is_file():
        key = json.loads(key_path.read_text())
        if key.get("size") == size and key.get("seed") == seed and image.stat().st_size == size:
            print(f"input: {image} (forged earlier, reused)")
            return image, key
    print(f"forging {size >> 20} MiB, seed {seed} with `quarry forge` ...", flush=True)
    cmd = [*quarry_command(), "forge", str(image), "--size", str(size), "--seed", str(seed)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"scaling: quarry forge failed (exit {done.returncode}): {tail(done.stderr)}")
    return image, json.loads(key_path.read_text())


# --- one run: a fresh cluster, a fresh driver ------------------------------------------------------


def start_cluster(nodes: int, cache: Path) -> tuple[subprocess.Popen, str]:
    """A Ray cluster of `nodes` one-CPU nodes on this machine; (its process, its address)."""
    from tests.integration.ray_nodes import RayNodes

    try:
        cluster = RayNodes(nodes, cache)
    except AssertionError as exc:
        raise SystemExit(f"scaling: the {nodes}-node Ray cluster did not start ({exc})") from None
    return cluster.proc, cluster.address


def tree_ticks(root: int) -> dict[int, int] | None:
    """CPU clock ticks (user + system) used so far by process `root` and by every process
    below it, by pid, read from /proc; None off Linux."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    try:
        entries = [e for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # gone since the listing
        fields = text[text.rindex(")") + 2 :].split()  # from field 3 (state) on
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime
    if root not in ticks:
        return None
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        tree[pid] = ticks[pid]
        todo.extend(children.get(pid, []))
    return tree


class ClusterCpu:
    """CPU seconds the Ray cluster's processes (under `root`) use while it runs, sampled
    twice a second: Ray workers come and go, and one that exits takes its times with it
    (nothing reaps it into its parent's), so a sample before and after alone would miss it.
    At most the last half second of a process that exits is missed. MinIO, the driver and
    other people's work are not in it."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.first = tree_ticks(root) or {}
        self.last = dict(self.first)
        self.ok = bool(self.first)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ClusterCpu:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        self._sample()

    def _watch(self) -> None:
        while not self.done.wait(0.5):
            self._sample()

    def _sample(self) -> None:
        ticks = tree_ticks(self.root)
        if ticks is None:
            self.ok = False
            return
        for pid, n in ticks.items():
            self.first.setdefault(pid, 0)  # a process born during the run: all its time counts
            self.last[pid] = max(n, self.last.get(pid, 0))

    @property
    def seconds(self) -> float | None:
        if not self.ok:
            return None
        return sum(self.last[p] - self.first[p] for p in self.last) / os.sysconf("SC_CLK_TCK")


def run_job(nodes: int, image: Path, config: StoreConfig, segment_mib: int, work: Path) -> dict[str, Any]:
    """Start the cluster, run `--one` against it in a driver of its own, stop the cluster;
    the driver's figures."""
    home = work / f"home-{nodes}"
    home.mkdir()
    proc, address = start_cluster(nodes, work / f"hashset-cache-{nodes}")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_")}
        env.update(
            RAY_AUTH_MODE="disabled",
            RAY_USAGE_STATS_ENABLED="0",
            QUARRY_HOME=str(home),
            QUARRY_S3_ENDPOINT=config.endpoint,
            QUARRY_S3_ACCESS_KEY=config.access_key,
            QUARRY_S3_SECRET_KEY=config.secret_key,
            QUARRY_RAY_ADDRESS=address,
            QUARRY_METRICS_PORT=str(free_port()),
            QUARRY_SEGMENT_MIB=str(segment_mib),
        )
        warm_cache(image)  # every run reads the image from the page cache
        cmd = [sys.executable, "-m", "bench.scaling", "--one", str(nodes), "--image", str(image)]
        with ClusterCpu(proc.pid) as cpu:
            done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        if done.returncode != 0:
            raise SystemExit(f"scaling: the run on {nodes} node(s) failed: {tail(done.stderr) or tail(done.stdout)}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        return {**figures, "cluster_cpu_s": None if cpu.seconds is None else round(cpu.seconds, 1)}
    finally:
        stop(proc)  # ends the cluster and the job manager, a detached actor living in it


def cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) clock ticks of every core since boot, from /proc/stat; None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cores_busy(before: tuple[int, int] | None, after: tuple[int, int] | None, cores: int) -> float | None:
    """How many cores' worth of work the whole machine did between two readings."""
    if before is None or after is None or after[1] == before[1]:
        return None
    return round(cores * (after[0] - before[0]) / (after[1] - before[1]), 2)


def run_one(nodes: int, image: Path) -> None:
    """The driver of one run (`--one N`): settings from the environment the bench set, one
    submission, followed until done; prints its figures as one JSON line."""
    # Ray reads its authentication mode once, when first imported: the test cluster runs without.
    os.environ["RAY_AUTH_MODE"] = "disabled"
    import pyarrow.parquet as pq

    from cluster.api import connect_ray, submit, wait
    from cluster.config import load_settings
    from cluster.results import manifest_key
    from workers.store import RESULTS, s3_filesystem

    settings = load_settings()
    connect_ray(settings)  # joining the cluster is the driver's cost, not the job's
    case = f"scaling-{nodes}-nodes-{time.strftime('%Y%m%dT%H%M%S')}"
    jiffies, load_before = cpu_jiffies(), os.getloadavg()[0]
    started = time.perf_counter()
    job = submit(settings, case, [str(image)])
    job = wait(settings, job.id, poll=0.2)
    seconds = time.perf_counter() - started
    busy = cores_busy(jiffies, cpu_jiffies(), os.cpu_count() or 1)
    if job.state != "done":
        raise SystemExit(f"job {job.id} on {nodes} node(s) ended {job.state}: {job.error}")
    assert job.summary is not None
    footer = pq.ParquetFile(f"{RESULTS}/{manifest_key(job.case, job.id)}", filesystem=s3_filesystem(settings.store))
    figures = {
        "nodes": nodes,
        "case": job.case,
        "job": job.id,
        "seconds": round(seconds, 3),
        "job_seconds": job.summary["seconds"],
        "bytes": job.bytes_total,
        "segments": job.summary["segments"],
        "nodes_that_worked": len(job.summary["nodes"]),
        "manifest_rows": footer.metadata.num_rows,
        "summary_artifacts": job.summary["artifacts"],
        "cores_busy": busy,
        "load_before": round(load_before, 2),
    }
    print(json.dumps(figures), flush=True)


# --- the benchmark ----------------------------------------------------------------------------------


def bench_scaling(
    work: Path, size: int, seed: int, nodes: list[int], image: Path | None = None, segment_mib: int = 32
) -> dict[str, Any]:
    """Forge (or take) the image, start a MinIO, run the job once per node count; print the table."""
    if image is None:
        image, key = forged_image(work, size, seed)
    else:
        key_path = Path(f"{image}.key.json")
        key = json.loads(key_path.read_text()) if key_path.is_file() else {}
    size = image.stat().st_size
    cores = os.cpu_count() or 1
    print(
        f"scaling: {image.name}, {size / 1e6:.0f} MB ({len(key.get('items', []))} planted items), "
        f"{segment_mib} MiB segments; nodes {', '.join(map(str, nodes))}; this machine has {cores} cores"
    )
    server = MinioServer(work / "minio")
    server.start()
    runs: list[dict[str, Any]] = []
    try:
        for n in nodes:
            print(f"  {n} node(s): starting the cluster, submitting ...", flush=True)
            runs.append(run_job(n, image, server.config, segment_mib, work))
    finally:
        server.stop()
    return report(runs, cores)


def report(runs: list[dict[str, Any]], cores: int) -> dict[str, Any]:
    """Print the table and the notes; exit with an error when the runs found different things."""
    base = runs[0]
    print(
        f"{'nodes':>6}{'seconds':>10}{'MB/s':>9}{'speed-up':>10}{'efficiency':>12}{'bound':>7}"
        f"{'job s':>8}{'nodes used':>12}{'segments':>10}{'rows':>8}"
        f"{'cluster CPU s':>15}{'cores busy':>12}{'load before':>13}"
    )
    figures: dict[str, Any] = {"cores": cores, "bytes": base["bytes"], "runs": []}
    for r in runs:
        speedup = base["seconds"] / r["seconds"]
        efficiency = speedup / (r["nodes"] / base["nodes"])
        bound = min(1.0, cores / r["nodes"]) / min(1.0, cores / base["nodes"])
        mb_s = r["bytes"] / 1e6 / r["seconds"]
        busy = "-" if r["cores_busy"] is None else f"{r['cores_busy']:.2f}"
        cpu = "-" if r["cluster_cpu_s"] is None else f"{r['cluster_cpu_s']:.1f}"
        print(
            f"{r['nodes']:>6}{r['seconds']:>10.1f}{mb_s:>9.1f}{speedup:>9.2f}x{efficiency:>12.2f}{bound:>7.2f}"
            f"{r['job_seconds']:>8.1f}{r['nodes_that_worked']:>12}{r['segments']:>10}{r['manifest_rows']:>8}"
            f"{cpu:>15}{busy:>12}{r['load_before']:>13.2f}"
        )
        figures["runs"].append(
            {**r, "mb_s": round(mb_s, 1), "speedup": round(speedup, 3), "efficiency": round(efficiency, 3)}
        )
    print(
        f"  seconds: submit to done, wall clock; job s: the job manager's own time; speed-up and efficiency "
        f"against {base['nodes']} node(s)"
    )
    print(
        f"  bound: the best efficiency {cores} cores allow: the nodes share this machine's cores (with MinIO, "
        f"the job manager and the driver), so N nodes get at most min(N, {cores}) cores' worth of work done; "
        f"it assumes the {base['nodes']}-node run kept its cores busy"
    )
    print(
        "  cluster CPU s: CPU time of the Ray cluster's processes (workers, job manager, raylets) during the run, "
        "MinIO and the driver apart; divided by seconds, the cores the cluster kept busy (sampled twice a second: "
        "a worker that exits may take up to its last half second with it)"
    )
    print(
        "  cores busy: the whole machine's average during the run (every process, Quarry's or not); "
        "load before: the 1-minute load average when the run started. Other work on the machine slows a run: "
        "compare figures taken at a low load"
    )
    if any(r["efficiency"] > 1.05 * min(1.0, cores / r["nodes"]) for r in figures["runs"]):
        print(
            "  efficiency above its bound: the run with fewer nodes left cores idle (see cluster CPU s); a one-CPU "
            "node runs one task at a "
            "time, so nothing overlaps that task's waits (reading the image, writing to MinIO), and the tasks "
            "the job starts beside the segments (hashing the image, listing its files) wait for a free node"
        )
    rows = {r["manifest_rows"] for r in runs}
    disagree = [r for r in runs if r["manifest_rows"] != r["summary_artifacts"]]
    if disagree:
        print(json.dumps(figures))
        n = disagree[0]
        raise SystemExit(
            f"scaling: on {n['nodes']} node(s) the manifest holds {n['manifest_rows']} rows "
            f"but the summary counts {n['summary_artifacts']}"
        )
    if len(rows) != 1:
        print(json.dumps(figures))
        per = ", ".join(f"{r['nodes']} node(s): {r['manifest_rows']}" for r in runs)
        raise SystemExit(f"scaling: the manifests differ in row count between node counts ({per})")
    print(f"  manifest rows: {rows.pop()} on every node count")
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--size", type=parse_size, default=1 << 30, help="forged image size, e.g. 256MiB (default 1GiB)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--nodes", type=node_counts, default=[1, 2, 4], help="node counts to run (default 1,2,4)")
    ap.add_argument("--segment-mib", type=int, default=32, help="job segment size in MiB (default 32, Quarry's)")
    ap.add_argument("--image", type=Path, help="an existing image instead of forging one")
    ap.add_argument(
        "--cache",
        type=Path,
        help="a folder where the forged image is kept and reused by later runs (default: forged in the temp folder)",
    )
    ap.add_argument("--work-dir", help="where MinIO's data and the temp folder go (default: the system's temp dir)")
    ap.add_argument("--one", type=int, metavar="N", help=argparse.SUPPRESS)  # one run's driver (internal)
    args = ap.parse_args()
    if args.image is not None and not args.image.is_file():
        ap.error(f"image {args.image}: not a file")
    if args.segment_mib < 1:
        ap.error(f"segment size {args.segment_mib} MiB: give at least 1")
    if args.one is not None:
        if args.image is None:
            ap.error("--one needs --image")
        run_one(args.one, args.image.resolve())
        return
    with tempfile.TemporaryDirectory(prefix="quarry-bench-scaling-", dir=args.work_dir) as tmp:
        image = args.image.resolve() if args.image else None
        if image is None and args.cache is not None:
            args.cache.mkdir(parents=True, exist_ok=True)
            image, _ = forged_image(args.cache.resolve(), args.size, args.seed)
        figures = bench_scaling(Path(tmp), args.size, args.seed, args.nodes, image, args.segment_mib)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
