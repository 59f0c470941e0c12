"""Faults in the middle of a job, on a real three-node Ray cluster and a real MinIO: a worker
process killed, a node removed, MinIO stopped for 20 s, the job manager killed, a task that
hangs, a task that keeps failing, a job cancelled and taken up again.

After each, the job's manifest must equal a clean run's on the same image byte for byte
(a manifest does not store its case and job), with every artifact stored once; tasks
finished before the fault must not have run again."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from cluster.jobs import JobRecord, record_key
from cluster.results import manifest_key
from cluster.task_results import done_prefix
from tests.integration.conftest import MinioServer, cli_env, free_port, quarry
from tests.integration.ray_nodes import RayNodes
from workers.steps import attempts_prefix
from workers.store import ARTIFACTS, JOURNAL, RESULTS, ObjectStore, StoreUnavailable, artifact_key

SEGMENT_MIB = 4
STEP = "scan_segment"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayNodes]:
    cluster = RayNodes(3, tmp_path_factory.mktemp("faults-hashset-cache"))
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def own_minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    """A MinIO of this module's own, which a test stops and starts again."""
    server = MinioServer(tmp_path_factory.mktemp("faults-minio"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fenv(own_minio: MinioServer, nodes: RayNodes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = cli_env(own_minio.config, tmp_path_factory.mktemp("faults-home"), nodes.address)
    env.update(
        RAY_AUTH_MODE="disabled",
        QUARRY_METRICS_PORT=str(free_port()),
        QUARRY_SEGMENT_MIB=str(SEGMENT_MIB),
        QUARRY_MAX_IN_FLIGHT="3",
    )
    return env


@pytest.fixture(scope="module")
def ostore(own_minio: MinioServer) -> ObjectStore:
    return ObjectStore(own_minio.config)


def submit(env: dict[str, str], case: str, image: Path, *options: str) -> str:
    done = quarry(["submit", "--no-wait", "--case", case, *options, str(image)], env)
    assert done.returncode == 0, done.stderr[-3000:]
    found = re.search(r"^job (\S+) submitted", done.stdout, re.M)
    assert found, done.stdout
    return found.group(1)


def record(store: ObjectStore, job_id: str) -> JobRecord | None:
    """The job's record, or None while MinIO is down."""
    try:
        return JobRecord(**store.get_json(JOURNAL, record_key(job_id)))
    except StoreUnavailable:
        return None


def wait_for(store: ObjectStore, job_id: str, until: Any, timeout: float = 300) -> JobRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = record(store, job_id)
        if job is not None and until(job):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not get there in {timeout} s: {record(store, job_id)}")


def finished(store: ObjectStore, job_id: str, timeout: float = 300) -> JobRecord:
    return wait_for(store, job_id, lambda j: j.state in ("done", "partial", "failed", "cancelled"), timeout)


def manifest_bytes(store: ObjectStore, job: JobRecord) -> bytes:
    return store.get_bytes(RESULTS, manifest_key(job.case, job.id))


def rows_of(data: bytes) -> list[dict[str, Any]]:
    table = pq.read_table(io.BytesIO(data))
    assert "case" not in table.column_names and "job" not in table.column_names  # the key names them
    return table.to_pylist()


def manifest(store: ObjectStore, job: JobRecord) -> list[dict[str, Any]]:
    return rows_of(manifest_bytes(store, job))


def attempts(store: ObjectStore, job: JobRecord, step: str, key: str) -> list[str]:
    return store.list_keys(JOURNAL, attempts_prefix(job.case, job.id, step, key))


def done_tasks(store: ObjectStore, job: JobRecord) -> set[tuple[str, str]]:
    prefix = done_prefix(job.case, job.id)
    names = store.list_keys(JOURNAL, prefix, ".json")
    return {tuple(n[len(prefix) : -len(".json")].split("/", 1)) for n in names}  # type: ignore[misc]


def segment_key(index: int) -> str:
    return f"img0000-seg{index:07d}"


def metric(env: dict[str, str], name: str) -> float:
    """The sum of a metric's samples on the manager's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{env['QUARRY_METRICS_PORT']}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


@pytest.fixture(scope="module")
def clean_manifest(fenv, ostore, forged) -> bytes:
    """The manifest of a run on which nothing went wrong, as stored."""
    path, _ = forged
    job = finished(ostore, submit(fenv, "clean", path))
    assert job.state == "done", job.error
    return manifest_bytes(ostore, job)


@pytest.fixture(scope="module")
def clean(clean_manifest) -> list[dict[str, Any]]:
    rows = rows_of(clean_manifest)
    assert rows
    return rows


def assert_same_as_clean(store: ObjectStore, job: JobRecord, clean_manifest: bytes) -> None:
    assert job.state == "done", (job.state, job.error, job.failed_tasks)
    data = manifest_bytes(store, job)
    rows = rows_of(data)
    assert rows == rows_of(clean_manifest)
    assert data == clean_manifest  # the same rows in the same row groups, the same file
    for sha in {r["sha256"] for r in rows}:
        assert len(store.list_keys(ARTIFACTS, artifact_key(sha))) == 1


def test_a_killed_worker_process_is_retried_and_counted_once(fenv, ostore, forged, clean_manifest) -> None:
    path, _ = forged
    size = path.stat().st_size
    finished_before = metric(fenv, "quarry_tasks_finished_total")
    bytes_before = metric(fenv, "quarry_bytes_processed_total")
    retried_before = metric(fenv, "quarry_tasks_retried_total")
    victim = segment_key(3)
    job_id = submit(fenv, "kill-worker", path, "--inject-fault", f"hang:{STEP}:{victim}")
    job = wait_for(ostore, job_id, lambda j: bool(attempts(ostore, j, STEP, victim)))
    marker = attempts(ostore, job, STEP, victim)[0]
    pid = json.loads(ostore.get_bytes(JOURNAL, marker))["pid"]
    os.kill(pid, signal.SIGKILL)
    job = finished(ostore, job_id)
    assert_same_as_clean(ostore, job, clean_manifest)
    assert len(attempts(ostore, job, STEP, victim)) == 2
    segments = -(-size // (SEGMENT_MIB << 20))
    # Each task counted once as finished, each carved byte once, the one retry once.
    processed = metric(fenv, "quarry_bytes_processed_total") - bytes_before
    assert processed == 2 * size  # carving and hashing each count the image once
    assert metric(fenv, "quarry_tasks_retried_total") - retried_before == 1
    assert metric(fenv, "quarry_tasks_finished_total") - finished_before >= segments


def test_a_removed_node_loses_nothing(fenv, ostore, forged, clean_manifest, nodes) -> None:
    path, _ = forged
    job_id = submit(fenv, "lose-node", path)
    wait_for(ostore, job_id, lambda j: j.segments_done >= 2)
    nodes.remove_a_node()
    job = finished(ostore, job_id)
    assert_same_as_clean(ostore, job, clean_manifest)


def test_minio_down_for_20_seconds_is_waited_out(fenv, ostore, own_minio, forged, clean_manifest) -> None:
    path, _ = forged
    job_id = submit(fenv, "minio-down", path)
    wait_for(ostore, job_id, lambda j: j.segments_done >= 2)
    own_minio.stop()
    time.sleep(20)
    own_minio.start()
    job = finished(ostore, job_id)
    assert_same_as_clean(ostore, job, clean_manifest)


def test_a_killed_job_manager_is_restarted_and_redoes_nothing(fenv, ostore, forged, clean_manifest) -> None:
    path, _ = forged
    before = ostore.get_json(JOURNAL, "manager.json")
    job_id = submit(fenv, "kill-manager", path)
    job = wait_for(ostore, job_id, lambda j: j.segments_done >= 3)
    kept = done_tasks(ostore, job)
    manager = ostore.get_json(JOURNAL, "manager.json")
    os.kill(manager["pid"], signal.SIGKILL)
    job = finished(ostore, job_id)
    assert_same_as_clean(ostore, job, clean_manifest)
    assert ostore.get_json(JOURNAL, "manager.json")["pid"] not in (manager["pid"], before["pid"])
    assert kept, "nothing had finished before the kill"
    for step, key in kept:
        assert len(attempts(ostore, job, step, key)) == 1, f"{step} {key} ran again after the restart"


def test_a_hung_task_is_stopped_at_its_timeout_and_retried(fenv, ostore, forged, clean_manifest) -> None:
    path, _ = forged
    victim = segment_key(5)
    job_id = submit(fenv, "hang", path, "--task-timeout", "8", "--inject-fault", f"hang:{STEP}:{victim}")
    job = finished(ostore, job_id)
    assert_same_as_clean(ostore, job, clean_manifest)
    assert len(attempts(ostore, job, STEP, victim)) == 2


def test_a_segment_that_keeps_failing_is_named_and_the_rest_completes(fenv, ostore, forged, clean) -> None:
    path, _ = forged
    index = 4
    start, end = index * (SEGMENT_MIB << 20), (index + 1) * (SEGMENT_MIB << 20)
    done = quarry(
        ["submit", "--case", "failing", "--inject-fault", f"fail:{STEP}:{segment_key(index)}", str(path)], fenv
    )
    assert done.returncode == 4, done.stderr[-3000:]
    assert f"FAILED {STEP} {segment_key(index)}" in done.stdout
    assert "FAILED TASKS" in done.stderr
    job_id = re.search(r"^job (\S+) submitted", done.stdout, re.M).group(1)  # type: ignore[union-attr]
    job = finished(ostore, job_id)
    assert job.state == "partial"
    assert [(t["step"], t["key"], t["offset"], t["length"]) for t in job.failed_tasks] == [
        (STEP, segment_key(index), start, SEGMENT_MIB << 20)
    ]
    assert "InjectedFault" in job.failed_tasks[0]["error"] and job.failed_tasks[0]["attempts"] == 3
    assert job.summary is not None and job.summary["failed_tasks"] == job.failed_tasks
    # Everything but the failed segment's carves is there, exactly as in the clean run.
    expected = [r for r in clean if not (r["origin"] == "carved" and start <= r["offset"] < end)]
    assert len(expected) < len(clean)
    assert manifest(ostore, job) == expected


def test_a_cancelled_job_keeps_its_work_and_a_rerun_finishes_it(fenv, ostore, forged, clean_manifest) -> None:
    path, _ = forged
    victim = segment_key(6)
    job_id = submit(fenv, "cancel", path, "--inject-fault", f"hang:{STEP}:{victim}")
    wait_for(ostore, job_id, lambda j: j.segments_done >= 8)
    cancelled = quarry(["cancel", job_id], fenv)
    assert cancelled.returncode == 0, cancelled.stderr[-2000:]
    job = finished(ostore, job_id, timeout=60)
    assert job.state == "cancelled"
    kept = done_tasks(ostore, job)
    assert len([k for k in kept if k[0] == STEP]) >= 8
    rerun = quarry(["rerun", job_id], fenv)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    job = finished(ostore, job_id)
    assert_same_as_clean(ostore, job, clean_manifest)
    for step, key in kept:
        assert len(attempts(ostore, job, step, key)) == 1, f"{step} {key} ran again in the rerun"
