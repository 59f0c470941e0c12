"""Prometheus metrics, exposed by the job manager, labelled by Ray node and step.

Counts are taken from a task's final result as the manager receives it, so a task Ray
retried is counted once. Labels stay bounded: node id, step, state.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

log = logging.getLogger(__name__)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.bytes_processed = Counter(
            "quarry_bytes_processed", "Image bytes processed by a step", ["node", "step"], registry=self.registry
        )
        self.tasks_completed = Counter(
            "quarry_tasks_completed", "Tasks finished successfully", ["node", "step"], registry=self.registry
        )
        self.busy_seconds = Counter(
            "quarry_busy_seconds", "Seconds tasks spent working", ["node", "step"], registry=self.registry
        )
        self.artifacts = Counter(
            "quarry_artifacts", "Files carved, by type and status", ["node", "type", "status"], registry=self.registry
        )
        self.intake = Counter(
            "quarry_intake_verifications",
            "Images checked against acquisition digests, by result (match, mismatch, absent)",
            ["result"],
            registry=self.registry,
        )
        self.known_bad_hits = Counter(
            "quarry_known_bad_hits",
            "Artifacts matching a known-bad hash set, by node and set",
            ["node", "set"],
            registry=self.registry,
        )
        self.features = Counter(
            "quarry_features",
            "Features found (e-mails, wallets, cards...), by node and kind",
            ["node", "kind"],
            registry=self.registry,
        )
        self.jobs = Gauge("quarry_jobs", "Jobs known to this manager, by state", ["state"], registry=self.registry)

    def serve(self, port: int) -> bool:
        """Expose /metrics on loopback-or-all per Prometheus convention; False if the port is taken."""
        try:
            start_http_server(port, registry=self.registry)
            return True
        except OSError as exc:
            log.warning("metrics port %d unavailable: %s", port, exc)
            return False
