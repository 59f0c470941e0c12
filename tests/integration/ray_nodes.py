"""A real Ray cluster of several nodes on this one machine, for cluster tests: run as
`python -m tests.integration.ray_nodes N [RESOURCES_JSON ...]`; prints `ADDRESS host:port`
once every node is up and stops the whole cluster on SIGTERM. A process of its own, because
a test process is already the driver of the session's single-node Ray.

Each RESOURCES_JSON gives the custom resources of one worker node in order (e.g.
'{"GPU": 1}' or '{"evidence_lab1": 1}'); a node's `GPU` key becomes its GPU count.
Before the address, one line `NODE node-id RESOURCES_JSON` per worker node. SIGUSR1
removes the last worker node still up, as a machine that dies would, and prints
`REMOVED node-id`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main(nodes: int, resources: list[dict[str, float]]) -> None:
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "object_store_memory": 100 << 20, "include_dashboard": False},
    )
    workers = []
    for i in range(nodes - 1):
        extra = dict(resources[i]) if i < len(resources) else {}
        gpus = int(extra.pop("GPU", 0))
        workers.append(cluster.add_node(num_cpus=1, num_gpus=gpus, resources=extra, object_store_memory=100 << 20))
    cluster.wait_for_nodes()
    for i, node in enumerate(workers):
        print("NODE", node.node_id, json.dumps(resources[i] if i < len(resources) else {}), flush=True)
    print("ADDRESS", cluster.address, flush=True)
    stop = threading.Event()
    remove = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: remove.set())
    while not stop.is_set():
        if remove.wait(0.2):
            remove.clear()
            if workers:
                node = workers.pop()
                cluster.remove_node(node, allow_graceful=False)
                print("REMOVED", node.node_id, flush=True)
    cluster.shutdown()


class RayNodes:
    """The cluster above, started in a process of its own for a test; can remove a worker node."""

    def __init__(self, nodes: int, hashset_cache: Path, resources: tuple[str, ...] = ()) -> None:
        env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
        env["QUARRY_HASHSET_CACHE"] = str(hashset_cache)
        env.pop("RAY_ADDRESS", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.ray_nodes", str(nodes), *resources],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.resources: dict[str, dict[str, float]] = {}  # worker node id -> its custom resources
        line = self.proc.stdout.readline()
        while line.startswith("NODE "):
            _, node_id, declared = line.split(" ", 2)
            self.resources[node_id] = json.loads(declared)
            line = self.proc.stdout.readline()
        assert line.startswith("ADDRESS "), f"the Ray cluster did not start (exit {self.proc.poll()})"
        self.address = line.split()[1]

    def remove_a_node(self) -> str:
        assert self.proc.stdout is not None
        self.proc.send_signal(signal.SIGUSR1)
        line = self.proc.stdout.readline()
        assert line.startswith("REMOVED "), line
        return line.split()[1]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


if __name__ == "__main__":
    main(int(sys.argv[1]), [json.loads(a) for a in sys.argv[2:]])
