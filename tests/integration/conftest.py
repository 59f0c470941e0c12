"""Real servers for integration tests, started and stopped here: MinIO, Ray, Prometheus.

A missing server binary is a failure, never a skip: `make test` installs them first.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
import yaml

from cluster.config import Settings
from tests.conftest import REPO
from tests.servers import MinioServer, free_port, stop, wait_http
from workers.store import ObjectStore, StoreConfig

PROMETHEUS_CONFIG = REPO / "deploy/prometheus/prometheus.yml"


def render_prometheus_config(home: Path, metrics_port: int, scrape_interval: str | None = "1s") -> Path:
    """deploy/prometheus's configuration rendered into `home` as deploy/prometheus.sh renders
    it (the target filled in, the rule files beside it); scraped every second for a quick test."""
    text = PROMETHEUS_CONFIG.read_text().replace("__METRICS_TARGET__", f"127.0.0.1:{metrics_port}")
    if scrape_interval:
        text = re.sub(r"scrape_interval: \S+", f"scrape_interval: {scrape_interval}", text, count=1)
    config = home / "prometheus.yml"
    config.write_text(text)
    for name in yaml.safe_load(text).get("rule_files", []):
        shutil.copy(PROMETHEUS_CONFIG.parent / name, home / name)
    return config


@contextlib.contextmanager
def running_prometheus(prometheus_bin: str, config: Path) -> Iterator[str]:
    """A real Prometheus server with `config`, on a free loopback port; its URL."""
    port = free_port()
    log = config.parent / "prometheus.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                prometheus_bin,
                f"--config.file={config}",
                f"--storage.tsdb.path={config.parent / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_http(f"http://127.0.0.1:{port}/-/ready", timeout=30)
        except TimeoutError as exc:
            raise AssertionError(f"Prometheus did not start:\n{log.read_text()[-3000:]}") from exc
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def prom_query(base: str, promql: str) -> list[dict]:
    """An instant query's result vector, read with Prometheus's HTTP API."""
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)["data"]["result"]


@pytest.fixture(scope="session")
def minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    server = MinioServer(tmp_path_factory.mktemp("minio"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def store(minio: MinioServer) -> ObjectStore:
    s = ObjectStore(minio.config)
    s.ensure_buckets()
    return s


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A real local Ray, owned by this test process (its workers keep hash set files in a
    throw-away cache, not the user's)."""
    os.environ["QUARRY_HASHSET_CACHE"] = str(tmp_path_factory.mktemp("hashset-cache"))
    ctx = ray.init(address="local", num_cpus=2, include_dashboard=False, namespace="quarry", log_to_driver=False)
    yield ctx.address_info
    ray.shutdown()
    os.environ.pop("QUARRY_HASHSET_CACHE", None)


@pytest.fixture(scope="session")
def settings(minio: MinioServer, ray_cluster: dict) -> Settings:
    return Settings(
        store=minio.config,
        ray_address=ray_cluster["gcs_address"],
        metrics_port=free_port(),
        segment_size=4 << 20,
        overlap=64 << 10,
        max_in_flight=4,
    )


@pytest.fixture(scope="session")
def prometheus_bin() -> str:
    path = shutil.which("prometheus")
    assert path, "the prometheus server (Debian package) is not installed: run `make install`"
    return path


def quarry(
    args: list[str], env: dict[str, str], prefix: list[str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`quarry ARGS` as a user runs it: a process of its own, with `env` (after `prefix`,
    a command that wraps it, when given)."""
    cmd = [*(prefix or []), sys.executable, "-m", "cluster.cli", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def env(minio: MinioServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a user of the test MinIO, with a home of this module's (a module
    may define its own)."""
    return cli_env(minio.config, tmp_path_factory.mktemp("home"))


def cli_env(config: StoreConfig, home: Path, ray_address: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_")}
    env.update(
        QUARRY_HOME=str(home),
        QUARRY_S3_ENDPOINT=config.endpoint,
        QUARRY_S3_ACCESS_KEY=config.access_key,
        QUARRY_S3_SECRET_KEY=config.secret_key,
    )
    if ray_address:
        env["QUARRY_RAY_ADDRESS"] = ray_address
    return env
