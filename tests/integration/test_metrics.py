"""A real Prometheus server scrapes the job manager and sees bytes and tasks per Ray node."""

from __future__ import annotations

import time

import pytest
import ray

from cluster import api
from tests.integration.conftest import prom_query as query
from tests.integration.conftest import render_prometheus_config, running_prometheus


@pytest.fixture(scope="module")
def prometheus(prometheus_bin, settings, tmp_path_factory):
    config = render_prometheus_config(tmp_path_factory.mktemp("prometheus"), settings.metrics_port)
    with running_prometheus(prometheus_bin, config) as url:
        yield url


def test_prometheus_sees_bytes_and_tasks_by_node(prometheus, settings, store, forged):
    path, _ = forged
    job = api.wait(settings, api.submit(settings, "case-metrics", [str(path)]).id)
    assert job.state == "done", job.error
    node = ray.nodes()[0]["NodeID"]
    # Every finished job of this session ran through the manager this session started.
    jobs = [j for j in api.list_jobs(settings) if j.state == "done"]
    # Jobs that carved whole images carved every byte of them; the unallocated profile says
    # in its summary how much it carved.
    want_bytes = sum(j.bytes_total if j.carve == "all" else j.summary["carve"]["bytes"] for j in jobs)
    want_tasks = sum(j.segments_total for j in jobs)
    deadline = time.monotonic() + 30
    got_bytes = got_tasks = 0.0
    while time.monotonic() < deadline:
        series = query(prometheus, 'quarry_bytes_processed_total{step="scan_segment"}')
        done = query(prometheus, 'quarry_tasks_finished_total{step="scan_segment"}')
        if series and done:
            assert {s["metric"]["node"] for s in series} == {node}
            got_bytes, got_tasks = float(series[0]["value"][1]), float(done[0]["value"][1])
            if got_bytes == want_bytes and got_tasks == want_tasks:
                break
        time.sleep(1)
    assert (got_bytes, got_tasks) == (want_bytes, want_tasks)
