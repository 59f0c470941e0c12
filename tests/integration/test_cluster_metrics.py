"""A job on a local Ray cluster of three nodes, scraped by a real Prometheus with the
project's configuration: per-node byte counters sum to exactly the image's size, each
byte counted once, more than one node did work, and every node reports its health."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator

import pytest

from tests.integration.conftest import (
    MinioServer,
    cli_env,
    free_port,
    quarry,
    render_prometheus_config,
    running_prometheus,
)
from tests.integration.conftest import prom_query as query
from tests.integration.ray_nodes import RayNodes
from workers.store import JOURNAL, ObjectStore

NODES = 3
SEGMENT_MIB = 4


@pytest.fixture(scope="module")
def three_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A three-node Ray cluster on this machine; its GCS address."""
    cluster = RayNodes(NODES, tmp_path_factory.mktemp("cluster-hashset-cache"))
    yield cluster.address
    cluster.close()


@pytest.fixture(scope="module")
def project_prometheus(prometheus_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """Prometheus with deploy/prometheus's configuration and alert rules, scraping a
    metrics port chosen here; (its URL, that port)."""
    metrics_port = free_port()
    config = render_prometheus_config(tmp_path_factory.mktemp("project-prometheus"), metrics_port)
    with running_prometheus(prometheus_bin, config) as url:
        yield url, metrics_port


@pytest.fixture(scope="module")
def own_minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    """A MinIO of this cluster's own: its jobs stay out of the session journal, whose jobs
    the single-node metrics test sums."""
    server = MinioServer(tmp_path_factory.mktemp("cluster-minio"))
    server.start()
    yield server
    server.stop()


def by_node(base: str, promql: str) -> dict[str, float]:
    return {s["metric"].get("node", ""): float(s["value"][1]) for s in query(base, promql)}


def test_each_byte_is_counted_once_across_nodes(three_nodes, project_prometheus, own_minio, forged, tmp_path) -> None:
    prometheus, metrics_port = project_prometheus
    path, _ = forged
    size = os.path.getsize(path)
    env = cli_env(own_minio.config, tmp_path, three_nodes)
    env.update(
        RAY_AUTH_MODE="disabled",
        QUARRY_METRICS_PORT=str(metrics_port),
        QUARRY_SEGMENT_MIB=str(SEGMENT_MIB),
        QUARRY_MAX_IN_FLIGHT="6",
    )
    done = quarry(["submit", "--case", "case-nodes", str(path)], env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    # Prometheus scrapes this cluster's manager (not another process that took the port first).
    assert ObjectStore(own_minio.config).get_json(JOURNAL, "manager.json")["metrics_port"] == metrics_port
    segments = math.ceil(size / (SEGMENT_MIB << 20))
    want = {"carved": float(size), "hashed": float(size), "finished": float(segments), "up": float(NODES)}
    got: dict[str, float] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        carved = by_node(prometheus, 'quarry_bytes_processed_total{step="scan_segment"}')
        got = {
            "carved": sum(carved.values()),
            "hashed": sum(by_node(prometheus, 'quarry_bytes_processed_total{step="hash_image"}').values()),
            "finished": sum(by_node(prometheus, 'quarry_tasks_finished_total{step="scan_segment"}').values()),
            "up": sum(by_node(prometheus, "quarry_node_up").values()),
        }
        if got == want:
            break
        time.sleep(1)
    assert got == want
    assert len([n for n, b in carved.items() if b > 0]) > 1, f"one node did all the work: {carved}"
    # Every attempt started was one that finished: nothing retried, nothing failed.
    started = by_node(prometheus, 'quarry_tasks_started_total{step="scan_segment"}')
    assert sum(started.values()) == segments
    assert not any(by_node(prometheus, "quarry_tasks_failed_total").values())
    assert not any(by_node(prometheus, "quarry_tasks_retried_total").values())
    # MinIO writes were counted, with one latency observation per object written.
    assert sum(by_node(prometheus, "quarry_store_bytes_written_total").values()) > 0
    assert sum(by_node(prometheus, "quarry_store_upload_seconds_count").values()) >= segments
    # Each node reports its health through its probe.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(by_node(prometheus, "quarry_node_memory_total_bytes")) < NODES:
        time.sleep(1)
    memory = by_node(prometheus, "quarry_node_memory_total_bytes")
    assert len(memory) == NODES and all(v > 0 for v in memory.values())
    assert len(by_node(prometheus, "quarry_node_object_store_total_bytes")) == NODES
