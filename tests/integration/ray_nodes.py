"""A real Ray cluster of several nodes on this one machine, for cluster tests: run as
`python -m tests.integration.ray_nodes N`; prints `ADDRESS host:port` once every node is
up and stops the whole cluster on SIGTERM. A process of its own, because a test process
is already the driver of the session's single-node Ray."""

from __future__ import annotations

import signal
import sys
import threading

from ray.cluster_utils import Cluster


def main(nodes: int) -> None:
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "object_store_memory": 100 << 20, "include_dashboard": False},
    )
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1, object_store_memory=100 << 20)
    cluster.wait_for_nodes()
    print("ADDRESS", cluster.address, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    cluster.shutdown()


if __name__ == "__main__":
    main(int(sys.argv[1]))
