"""`quarry verify`: after a job, alter one byte of the image and one stored artifact, and
the report names the changed window and the altered artifact."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess

import pytest

from cluster import api
from tests.integration.conftest import cli_env, quarry
from workers.store import ARTIFACTS, artifact_key


def verify(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return quarry(["verify", *args], env)


@pytest.fixture(scope="module")
def copied_job(settings, forged, tmp_path_factory):
    path, key = forged
    copy = tmp_path_factory.mktemp("verify") / "copy.dd"
    shutil.copyfile(path, copy)
    job = api.wait(settings, api.submit(settings, "verify", [str(copy)]).id)
    assert job.state == "done", job.error
    return job, copy, key


def test_an_untouched_job_verifies_clean(copied_job, minio, tmp_path):
    job, copy, key = copied_job
    r = verify([job.id, "--artifacts"], cli_env(minio.config, tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"image {copy}: UNCHANGED" in r.stdout
    assert f"artifacts: {job.summary['artifacts']} checked, 0 missing, 0 altered" in r.stdout


def test_one_changed_byte_is_located_to_its_window(copied_job, minio, tmp_path):
    job, copy, key = copied_job
    offset = 5 * (1 << 20) + 12345
    with open(copy, "r+b") as f:
        f.seek(offset)
        before = f.read(1)
        f.seek(offset)
        f.write(bytes([before[0] ^ 0xFF]))
    try:
        r = verify([job.id], cli_env(minio.config, tmp_path))
        assert r.returncode == 1, r.stdout + r.stderr
        assert f"image {copy}: CHANGED" in r.stdout
        assert f"sha256: recorded {key['sha256']}" in r.stdout
        assert f"now      {hashlib.sha256(copy.read_bytes()).hexdigest()}" in r.stdout
        assert "windows: 1 of 64 changed" in r.stdout
        assert f"bytes {5 << 20}..{(6 << 20) - 1}" in r.stdout
    finally:
        with open(copy, "r+b") as f:
            f.seek(offset)
            f.write(before)


def test_altered_and_missing_artifacts_are_named(copied_job, store, minio, tmp_path):
    job, copy, key = copied_job
    intact = [i for i in key["items"] if i["status"] == "intact" and i["kind"] in ("png", "pdf")]
    altered, missing = intact[0]["sha256"], intact[1]["sha256"]
    original = store.get_bytes(ARTIFACTS, artifact_key(altered))
    gone = store.get_bytes(ARTIFACTS, artifact_key(missing))
    store.put_bytes(ARTIFACTS, artifact_key(altered), original[:-1] + b"\x00", "application/octet-stream")
    store.client.remove_object(ARTIFACTS, artifact_key(missing))
    try:
        r = verify([job.id, "--artifacts"], cli_env(minio.config, tmp_path))
        assert r.returncode == 1, r.stdout + r.stderr
        assert f"ALTERED {altered}" in r.stdout and f"MISSING {missing}" in r.stdout
    finally:
        store.put_bytes(ARTIFACTS, artifact_key(altered), io.BytesIO(original).getvalue(), "application/octet-stream")
        store.put_bytes(ARTIFACTS, artifact_key(missing), gone, "application/octet-stream")


def test_unknown_job_is_a_clear_error(minio, store, tmp_path):
    r = verify(["20990101T000000Z-nothere"], cli_env(minio.config, tmp_path))
    assert r.returncode == 2
    assert "no job '20990101T000000Z-nothere'" in r.stderr
