"""Prometheus metrics, exposed by the job manager, labelled by Ray node and step.

Counts are taken from a task's final result as the manager receives it (workers/steps.py
says how they travel), so a task Ray retried is counted once. Labels stay bounded: node
id, step, state and a few closed sets (artifact type and status, feature kind, hash set,
error kind); never a file name, a digest or a credential. docs/metrics.md lists them all.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from workers.steps import TaskReport
from workers.store import StoreStats

log = logging.getLogger(__name__)

NODE_STEP = ["node", "step"]
# Seconds one object upload may take, from a small part to a large carved file.
UPLOAD_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.bytes_processed = Counter("quarry_bytes_processed", "Image bytes a step finished", NODE_STEP, registry=r)
        self.busy_seconds = Counter("quarry_busy_seconds", "Seconds tasks spent working", NODE_STEP, registry=r)
        self.tasks_started = Counter(
            "quarry_tasks_started", "Task attempts started (retries included)", NODE_STEP, registry=r
        )
        self.tasks_finished = Counter("quarry_tasks_finished", "Tasks finished successfully", NODE_STEP, registry=r)
        self.tasks_failed = Counter(
            "quarry_tasks_failed", "Tasks that failed for good (after Ray's retries)", NODE_STEP, registry=r
        )
        self.tasks_retried = Counter(
            "quarry_tasks_retried", "Attempts beyond a task's first, by the node that ran them", NODE_STEP, registry=r
        )
        self.artifacts = Counter(
            "quarry_artifacts", "Files carved, by type and status", ["node", "type", "status"], registry=r
        )
        self.yara_matches = Counter("quarry_yara_matches", "YARA rule matches", ["node"], registry=r)
        self.known_bad_hits = Counter(
            "quarry_known_bad_hits",
            "Artifacts matching a known-bad hash set, by node and set",
            ["node", "set"],
            registry=r,
        )
        self.features = Counter(
            "quarry_features",
            "Features found (e-mails, wallets, cards...), by node and kind",
            ["node", "kind"],
            registry=r,
        )
        self.pictures_hashed = Counter(
            "quarry_pictures_hashed",
            "Pictures given a PDQ and pHash, by node and what hashed them (rust, or the tensor path on cuda or cpu)",
            ["node", "device"],
            registry=r,
        )
        self.known_image_hits = Counter(
            "quarry_known_image_hits",
            "Pictures within reach of a listed PDQ hash, by node and known-image list",
            ["node", "set"],
            registry=r,
        )
        self.intake = Counter(
            "quarry_intake_verifications",
            "Images checked against acquisition digests, by result (match, mismatch, absent)",
            ["result"],
            registry=r,
        )
        self.store_bytes = Counter("quarry_store_bytes_written", "Bytes tasks wrote to MinIO", ["node"], registry=r)
        self.store_upload = Histogram(
            "quarry_store_upload_seconds",
            "Seconds each object upload took",
            ["node"],
            buckets=UPLOAD_BUCKETS,
            registry=r,
        )
        self.store_errors = Counter(
            "quarry_store_errors", "MinIO requests that failed, by kind", ["node", "kind"], registry=r
        )
        self.jobs = Gauge("quarry_jobs", "Jobs known to this manager, by state", ["state"], registry=r)
        self.jobs_waiting = Gauge(
            "quarry_jobs_waiting", "Jobs with work to start and none in flight (queued behind others)", registry=r
        )
        self.slots_used = Gauge("quarry_task_slots_used", "Tasks in flight in Ray, across all jobs", registry=r)
        self.slots_total = Gauge("quarry_task_slots", "The most tasks the manager keeps in flight", registry=r)
        self.tasks_pending = Gauge(
            "quarry_tasks_pending",
            "Tasks not finished yet (waiting to be dispatched or in flight)",
            ["step"],
            registry=r,
        )
        self.running_total = Gauge("quarry_running_bytes_total", "Image bytes of the running jobs", registry=r)
        self.running_done = Gauge("quarry_running_bytes_done", "Image bytes of the running jobs done", registry=r)
        self.running_eta = Gauge(
            "quarry_running_eta_seconds", "Seconds until the running jobs finish, at their pace so far", registry=r
        )
        self.node_up = Gauge("quarry_node_up", "1 while Ray reports the node alive, 0 once dead", ["node"], registry=r)
        self.node_cpu = Gauge("quarry_node_cpu_utilization", "CPU busy fraction of the node", ["node"], registry=r)
        self.node_memory_used = Gauge(
            "quarry_node_memory_used_bytes", "Memory in use on the node", ["node"], registry=r
        )
        self.node_memory_total = Gauge("quarry_node_memory_total_bytes", "Memory of the node", ["node"], registry=r)
        self.node_store_used = Gauge(
            "quarry_node_object_store_used_bytes", "Resident bytes of the node's Ray object store", ["node"], registry=r
        )
        self.node_store_total = Gauge(
            "quarry_node_object_store_total_bytes", "Capacity of the node's Ray object store", ["node"], registry=r
        )

    def count_report(self, report: TaskReport) -> None:
        """A task that finished: its attempts (the last one succeeded) and its writes."""
        node = self._count_attempts(report.step, report.attempts)
        self.tasks_finished.labels(node, report.step).inc()
        self.count_store(node, report.store)

    def count_store(self, node: str, stats: StoreStats) -> None:
        """Writes to MinIO and failed requests, from a task or the manager itself."""
        self.store_bytes.labels(node).inc(stats.bytes_written)
        for seconds in stats.uploads:
            self.store_upload.labels(node).observe(seconds)
        for kind, n in stats.errors.items():
            self.store_errors.labels(node, kind).inc(n)

    def count_failure(self, step: str, attempts: tuple[str, ...]) -> None:
        """A task that failed for good: on the node of its last attempt."""
        self.tasks_failed.labels(self._count_attempts(step, attempts), step).inc()

    def _count_attempts(self, step: str, attempts: tuple[str, ...]) -> str:
        """Every attempt started, those after the first retried; the last attempt's node."""
        for n, node in enumerate(attempts):
            self.tasks_started.labels(node, step).inc()
            if n:
                self.tasks_retried.labels(node, step).inc()
        return attempts[-1] if attempts else "unknown"

    def count_work(self, node: str, step: str, nbytes: int, seconds: float) -> None:
        """Bytes and busy time of a finished task."""
        if nbytes:
            self.bytes_processed.labels(node, step).inc(nbytes)
        self.busy_seconds.labels(node, step).inc(seconds)

    def serve(self, port: int) -> bool:
        """Expose /metrics on all interfaces (Prometheus convention); False if the port is taken."""
        try:
            start_http_server(port, registry=self.registry)
            return True
        except OSError as exc:
            log.warning("metrics port %d unavailable: %s", port, exc)
            return False
