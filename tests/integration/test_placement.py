"""Placement on a real three-node Ray cluster: an image on an evidence share that only one
node mounts is worked on that node alone; an image on a share no node mounts is refused at
submission; other images are spread over every node; the perceptual step, which declares a
GPU, runs only on the node that has one (a GPU declared to Ray; its tensor code falls back to
the CPU there, as no real GPU is present)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import MinioServer, cli_env, free_port, quarry
from tests.integration.ray_nodes import RayNodes
from workers.store import JOURNAL, ObjectStore


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayNodes]:
    cluster = RayNodes(3, tmp_path_factory.mktemp("placement-cache"), ('{"evidence_lab1": 1}', '{"GPU": 1}'))
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def own_minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    server = MinioServer(tmp_path_factory.mktemp("placement-minio"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shares(forged, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The forged image on share lab1, on share lab2 and on a disk every node has."""
    root = tmp_path_factory.mktemp("shares")
    out = {}
    for name in ("lab1", "lab2", "local"):
        (root / name).mkdir()
        out[name] = root / name / "evidence.img"
        shutil.copyfile(forged[0], out[name])
    return out


@pytest.fixture(scope="module")
def penv(own_minio, nodes, shares, tmp_path_factory) -> dict[str, str]:
    env = cli_env(own_minio.config, tmp_path_factory.mktemp("placement-home"), nodes.address)
    env.update(
        RAY_AUTH_MODE="disabled",
        QUARRY_METRICS_PORT=str(free_port()),
        QUARRY_SEGMENT_MIB="4",
        QUARRY_EVIDENCE_ROOTS=f"lab1={shares['lab1'].parent},lab2={shares['lab2'].parent}",
    )
    return env


def nodes_that_worked(store: ObjectStore, case: str, job_id: str, step: str = "") -> set[str]:
    """The node of every task attempt of the job (of one step), from the attempt markers."""
    names = store.list_keys(JOURNAL, f"{case}/{job_id}/attempts/{step}")
    assert names
    return {name.rsplit("/", 1)[1].split("-", 1)[1] for name in names}


def job_id_of(out: str) -> str:
    found = re.search(r"^job (\S+) submitted", out, re.M)
    assert found, out
    return found.group(1)


def test_an_image_on_a_share_is_worked_only_where_it_is_mounted(penv, own_minio, nodes, shares) -> None:
    done = quarry(["submit", "--case", "share", "--perceptual", "off", str(shares["lab1"])], penv, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    mounted = {n for n, res in nodes.resources.items() if "evidence_lab1" in res}
    assert len(mounted) == 1
    assert nodes_that_worked(ObjectStore(own_minio.config), "share", job_id_of(done.stdout)) == mounted


def test_an_image_on_a_share_no_node_mounts_is_refused(penv, own_minio, shares) -> None:
    store = ObjectStore(own_minio.config)
    before = store.list_keys(JOURNAL, "jobs/")
    done = quarry(["submit", "--case", "nowhere", str(shares["lab2"])], penv)
    assert done.returncode == 2
    assert str(shares["lab2"]) in done.stderr and "evidence_lab2" in done.stderr
    assert store.list_keys(JOURNAL, "jobs/") == before  # no job was recorded


def test_other_images_use_every_node(penv, own_minio, shares) -> None:
    done = quarry(["submit", "--case", "anywhere", "--perceptual", "off", str(shares["local"])], penv, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(nodes_that_worked(ObjectStore(own_minio.config), "anywhere", job_id_of(done.stdout))) > 1
    assert os.path.getsize(shares["local"]) > 0


def test_the_gpu_step_runs_only_where_a_gpu_is(penv, own_minio, nodes, shares, tmp_path) -> None:
    small = tmp_path / "small.img"  # 16 MiB of the forged image: pictures enough, four segments
    with shares["local"].open("rb") as f:
        small.write_bytes(f.read(16 << 20))
    done = quarry(["submit", "--case", "gpu", str(small)], penv, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    job_id = job_id_of(done.stdout)
    gpu = {n for n, res in nodes.resources.items() if res.get("GPU")}
    store = ObjectStore(own_minio.config)
    assert nodes_that_worked(store, "gpu", job_id, "perceptual/") == gpu
    assert len(nodes_that_worked(store, "gpu", job_id, "scan_segment/")) > 1
    summary = store.get_json(JOURNAL, f"jobs/{job_id}.json")["summary"]["perceptual"]
    assert summary["pictures"] > 0 and summary["engines"] == ["cpu"]  # the tensor path, on that node's CPU
