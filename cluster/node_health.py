"""Each Ray node's health in the manager's metrics: up or down from Ray, CPU, memory and
object-store use from a `NodeProbe` actor pinned to the node (workers/node_probe.py)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from cluster.metrics import Metrics
from workers.node_probe import NodeProbeActor, NodeSample

log = logging.getLogger(__name__)

INTERVAL = 5.0  # seconds between samples (Prometheus scrapes every 5 s in deploy/)


class NodeHealth:
    def __init__(self, metrics: Metrics, interval: float = INTERVAL) -> None:
        self.metrics = metrics
        self.interval = interval
        self.probes: dict[str, Any] = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="node-health", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _loop(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.sample()
            except Exception as exc:  # a sample missed is not worth the manager
                log.warning("node health: %s", exc)

    def sample(self) -> None:
        m = self.metrics
        alive = {}
        for node in ray.nodes():
            node_id = node["NodeID"]
            m.node_up.labels(node_id).set(1 if node["Alive"] else 0)
            if not node["Alive"]:
                self.probes.pop(node_id, None)
                continue
            alive[node_id] = node
            m.node_store_total.labels(node_id).set(node["Resources"].get("object_store_memory", 0))
            if node_id not in self.probes:
                strategy = NodeAffinitySchedulingStrategy(node_id, soft=False)
                self.probes[node_id] = NodeProbeActor.options(scheduling_strategy=strategy).remote()
        refs = {node_id: probe.sample.remote() for node_id, probe in self.probes.items() if node_id in alive}
        for node_id, ref in refs.items():
            try:
                s: NodeSample = ray.get(ref, timeout=self.interval)
            except Exception as exc:
                log.warning("node %s did not report its health: %s", node_id, exc)
                continue
            if s.cpu_utilization is not None:
                m.node_cpu.labels(node_id).set(s.cpu_utilization)
            m.node_memory_used.labels(node_id).set(s.memory_used)
            m.node_memory_total.labels(node_id).set(s.memory_total)
            if s.object_store_used is not None:
                m.node_store_used.labels(node_id).set(s.object_store_used)
