"""Operating many jobs on a real three-node Ray cluster: a batch manifest of fifty images in
three cases, never more tasks in flight than the cap, priorities between jobs, and each
image's progress in `quarry jobs`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.jobs import JobRecord, record_key
from tests.integration.conftest import MinioServer, cli_env, free_port, quarry
from tests.integration.ray_nodes import RayNodes
from tests.integration.test_faults import finished, wait_for
from workers.store import JOURNAL, ObjectStore

CAP = 2
IMAGES = 50


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayNodes]:
    cluster = RayNodes(3, tmp_path_factory.mktemp("control-cache"))
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def own_minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    server = MinioServer(tmp_path_factory.mktemp("control-minio"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cenv(own_minio, nodes, tmp_path_factory) -> dict[str, str]:
    env = cli_env(own_minio.config, tmp_path_factory.mktemp("control-home"), nodes.address)
    env.update(
        RAY_AUTH_MODE="disabled",
        QUARRY_METRICS_PORT=str(free_port()),
        QUARRY_SEGMENT_MIB="4",
        QUARRY_MAX_IN_FLIGHT=str(CAP),
    )
    return env


@pytest.fixture(scope="module")
def ostore(own_minio) -> ObjectStore:
    return ObjectStore(own_minio.config)


def job_ids(out: str) -> list[str]:
    return re.findall(r"^job (\S+) submitted", out, re.M)


def slots_used(env: dict[str, str]) -> float | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{env['QUARRY_METRICS_PORT']}/metrics", timeout=2) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("quarry_task_slots_used "):
            return float(line.split()[1])
    return None


def test_a_batch_of_fifty_images_in_three_cases(cenv, ostore, tmp_path) -> None:
    digests = {}
    lines = ["case,image,expect,profile"]
    for i in range(IMAGES):
        data = os.urandom(1 << 20) + i.to_bytes(4, "big")
        path = tmp_path / f"item{i:02d}.dd"
        path.write_bytes(data)
        digests[str(path)] = hashlib.sha256(data).hexdigest()
        md5 = hashlib.md5(data).hexdigest()
        lines.append(f"case-{i % 3},{path.name},md5:{md5},{'triage' if i % 2 else 'standard'}")
    manifest = tmp_path / "batch.csv"
    manifest.write_text("\n".join(lines) + "\n")

    seen: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            value = slots_used(cenv)
            if value is not None:
                seen.append(value)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        done = quarry(["submit", "--batch", str(manifest)], cenv, timeout=900)
    finally:
        stop.set()
        sampler.join()
    assert done.returncode == 0, done.stderr[-3000:]
    ids = job_ids(done.stdout)
    assert len(ids) == 6  # three cases, two profiles
    images = 0
    for job_id in ids:
        job = JobRecord(**ostore.get_json(JOURNAL, record_key(job_id)))
        assert job.state == "done" and job.summary is not None
        for img in job.summary["images"]:
            images += 1
            assert img["digests"]["sha256"] == digests[img["path"]]
            assert img["verification"]["result"] == "match"
    assert images == IMAGES
    assert seen and max(seen) <= CAP and max(seen) > 0


def test_a_bad_manifest_line_submits_nothing(cenv, ostore, tmp_path) -> None:
    good = tmp_path / "good.dd"
    good.write_bytes(os.urandom(4096))
    manifest = tmp_path / "bad.csv"
    manifest.write_text(f"case,image,expect\nc1,{good},\nc2,{good},md5:xyz\n")
    before = ostore.list_keys(JOURNAL, "jobs/")
    done = quarry(["submit", "--batch", str(manifest)], cenv)
    assert done.returncode == 2
    assert str(manifest) in done.stderr and "line 3" in done.stderr
    assert ostore.list_keys(JOURNAL, "jobs/") == before


def test_a_higher_priority_job_goes_first(cenv, ostore, forged, tmp_path) -> None:
    # The routine job must still have work queued when the urgent one is done: four copies
    # of the forged image make 64 segments of work behind the cap of two tasks.
    forged_bytes = Path(forged[0]).read_bytes()
    path = tmp_path / "routine.dd"
    path.write_bytes(forged_bytes * 4)
    small = tmp_path / "urgent.dd"
    small.write_bytes(forged_bytes[: 8 << 20])
    low = quarry(["submit", "--no-wait", "--case", "routine", str(path)], cenv)
    assert low.returncode == 0, low.stderr[-2000:]
    (low_id,) = job_ids(low.stdout)
    wait_for(ostore, low_id, lambda j: j.segments_done >= 1)
    high = quarry(["submit", "--no-wait", "--priority", "10", "--case", "urgent", str(small)], cenv)
    assert high.returncode == 0, high.stderr[-2000:]
    (high_id,) = job_ids(high.stdout)
    urgent = finished(ostore, high_id)
    routine = JobRecord(**ostore.get_json(JOURNAL, record_key(low_id)))
    assert urgent.state == "done"
    assert routine.state == "running" and routine.segments_done < routine.segments_total
    listing = quarry(["jobs", "--json", "--state", "running"], cenv)
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert [r["id"] for r in rows] == [low_id]
    (img,) = rows[0]["images"]
    assert img["path"] == str(path) and img["size"] == path.stat().st_size and 0 < img["bytes_done"] < img["size"]
    assert finished(ostore, low_id).state == "done"
