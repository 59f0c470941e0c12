"""A real Ray cluster of several nodes on this one machine, for cluster tests: run as
`python -m tests.integration.ray_nodes N [RESOURCES_JSON ...]`; prints `ADDRESS host:port`
once every node is up and stops the whole cluster on SIGTERM. A process of its own, because
a test process is already the driver of the session's single-node Ray.

Each RESOURCES_JSON gives the custom resources of one worker node in order (e.g.
'{"GPU": 1}' or '{"evidence_lab1": 1}'); a node's `GPU` key becomes its GPU count.
SIGUSR1 removes the last worker node still up, as a machine that dies would, and prints
`REMOVED node-id`.
"""

from __future__ import annotations

import json
import signal
import sys
import threading

from ray.cluster_utils import Cluster


def main(nodes: int, resources: list[dict[str, float]]) -> None:
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


if __name__ == "__main__":
    main(int(sys.argv[1]), [json.loads(a) for a in sys.argv[2:]])
