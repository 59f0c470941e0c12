"""Real servers for integration tests, started and stopped here: MinIO, Ray, Prometheus.

A missing server binary is a failure, never a skip: `make test` installs them first.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
import yaml

from cluster.config import Settings
from tests.conftest import REPO
from workers.store import ObjectStore, StoreConfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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


class MinioServer:
    """One MinIO process on a loopback port with throw-away credentials and data."""

    def __init__(self, data: Path) -> None:
        self.binary = subprocess.run(
            [str(REPO / "deploy/minio.sh"), "bin"], check=True, capture_output=True, text=True
        ).stdout.strip()
        self.data, self.port = data, free_port()
        self.config = StoreConfig(f"127.0.0.1:{self.port}", f"test-{secrets.token_hex(4)}", secrets.token_hex(20))
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "MINIO_ROOT_USER": self.config.access_key,
            "MINIO_ROOT_PASSWORD": self.config.secret_key,
            "MINIO_BROWSER": "off",
        }
        self.proc = subprocess.Popen(
            [self.binary, "server", "--quiet", "--address", self.config.endpoint, str(self.data)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_http(f"http://{self.config.endpoint}/minio/health/ready")

    def stop(self) -> None:
        if self.proc:
            stop(self.proc)
            self.proc = None


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
