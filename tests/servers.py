"""Real servers for tests and benchmarks, started and stopped by them: a MinIO on a loopback
port with throw-away credentials, and what waiting for and stopping a server takes."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from workers.store import StoreConfig

REPO = Path(__file__).resolve().parents[1]


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
