"""`quarry watch` follows a real job to its end; `quarry nodes` reads a real Prometheus
scraping the job manager."""

from __future__ import annotations

import os
import re
import time

import pytest
import ray

from cluster import api
from cluster.cli import main
from cluster.forge import forge_image
from tests.integration.conftest import cli_env, free_port, render_prometheus_config, running_prometheus
from tests.integration.conftest import prom_query as query


@pytest.fixture
def env(minio, ray_cluster, tmp_path, monkeypatch):
    """The in-process CLI reaches the test MinIO and Ray."""
    for name, value in cli_env(minio.config, tmp_path / "home", ray_cluster["gcs_address"]).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # as the test cluster runs; the CLI only sets a default


@pytest.fixture
def no_ray_auth(monkeypatch):
    """The CLI defaults Ray's auth mode in the environment; keep this process's as the test cluster runs."""
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")


@pytest.fixture(scope="module")
def small_image(tmp_path_factory):
    path = tmp_path_factory.mktemp("watch") / "small.img"
    forge_image(path, 8 << 20, seed=88)
    return path


def test_watch_follows_a_job_to_done_and_reports_its_bytes(settings, store, small_image, env, capsys):
    job = api.submit(settings, "case-watch", [str(small_image)])
    assert main(["watch", job.id, "--interval", "0.2"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"job {job.id} done:"), last
    # The image's size from the file system, not from Quarry.
    size = os.path.getsize(small_image)
    assert re.search(r" of (\d+) bytes", last).group(1) == str(size)
    # A job already finished prints the same line at once.
    assert main(["watch", job.id]) == 0
    assert capsys.readouterr().out.strip() == last


def test_watch_names_a_job_that_does_not_exist(store, env, capsys):
    assert main(["watch", "no-such-job"]) == 2
    assert "quarry watch: no job no-such-job in the journal" in capsys.readouterr().err


def cells(line: str) -> list[str]:
    """The cells of one row of a rich table (box characters, or their ASCII stand-ins)."""
    return [c.strip() for c in re.split(r"[│┃|]", line)[1:-1]]


def test_nodes_shows_each_node_with_the_bytes_prometheus_holds(
    prometheus_bin, settings, store, small_image, tmp_path, no_ray_auth, capsys
):
    done = api.wait(settings, api.submit(settings, "case-nodes", [str(small_image)]).id)
    assert done.state == "done", done.error
    config = render_prometheus_config(tmp_path, settings.metrics_port)
    with running_prometheus(prometheus_bin, config) as url:
        node = ray.nodes()[0]["NodeID"]
        deadline = time.monotonic() + 30
        series: list[dict] = []
        while time.monotonic() < deadline and not series:
            series = [s for s in query(url, "quarry_bytes_processed_total") if s["metric"].get("node") == node]
            time.sleep(0.5)
        assert series, "Prometheus never scraped quarry_bytes_processed_total for the node"
        # No job runs now: the counters stay as they are while the command reads them.
        want = sum(int(float(s["value"][1])) for s in series)
        assert want > 0
        assert main(["nodes", "--once", "--prometheus", url]) == 0
        lines = capsys.readouterr().out.splitlines()
        header = cells(next(line for line in lines if "NODE" in line and "BYTES" in line))
        row = cells(next(line for line in lines if node[:12] in line))
        got = dict(zip(header, row, strict=True))
        assert got["NODE"] == node[:12]
        assert got["BYTES"] == str(want)


def test_nodes_says_prometheus_is_unreachable(no_ray_auth, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["nodes", "--once", "--prometheus", url]) == 2
    err = capsys.readouterr().err
    assert f"quarry nodes: Prometheus at {url} is unreachable" in err
    assert "deploy/prometheus.sh start" in err
