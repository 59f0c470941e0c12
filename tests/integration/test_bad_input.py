"""Bad input at submit: a clear error naming the input, exit status 2, and no job created."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.integration.conftest import cli_env, free_port, quarry
from workers.store import JOURNAL, StoreConfig


@pytest.fixture
def env(minio, store, tmp_path):
    return cli_env(minio.config, tmp_path / "home")


def journal_keys(store):
    return store.list_keys(JOURNAL)


@pytest.mark.parametrize("case", ["missing", "empty", "directory"])
def test_bad_image_is_refused_and_creates_no_job(case, env, store, tmp_path):
    target = {"missing": tmp_path / "nope.dd", "empty": tmp_path / "empty.dd", "directory": tmp_path}[case]
    if case == "empty":
        target.write_bytes(b"")
    expected = {"missing": "no such file", "empty": "image is empty (0 bytes)", "directory": "is a directory"}[case]
    before = journal_keys(store)
    r = quarry(["submit", "--case", "c1", str(target)], env)
    assert r.returncode == 2, r.stderr
    assert f"{target}: {expected}" in r.stderr
    assert journal_keys(store) == before


def test_unreadable_image_is_refused_and_creates_no_job(env, store, tmp_path):
    image = tmp_path / "secret.dd"
    image.write_bytes(b"x" * 4096)
    image.chmod(0)
    prefix = []
    if os.geteuid() == 0:
        # root reads anything; drop the capabilities that let it, as an operator's account lacks them.
        assert shutil.which("setpriv"), "setpriv (util-linux) is needed to test unreadable files as root"
        prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"]
    before = journal_keys(store)
    r = quarry(["submit", "--case", "c1", str(image)], env, prefix)
    assert r.returncode == 2, r.stderr
    assert f"{image}: not readable (permission denied)" in r.stderr
    assert journal_keys(store) == before


def test_unreachable_minio_names_the_endpoint_and_not_the_secret(tmp_path, forged):
    path, _ = forged
    dead = StoreConfig(f"127.0.0.1:{free_port()}", "someone", "do-not-print-this-secret")
    r = quarry(["submit", "--case", "c1", str(path)], cli_env(dead, tmp_path))
    assert r.returncode == 2
    assert f"object store at http://{dead.endpoint} is unavailable" in r.stderr
    assert "do-not-print-this-secret" not in r.stderr + r.stdout


def test_missing_settings_say_how_to_get_them(tmp_path, forged):
    path, _ = forged
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_")}
    env["QUARRY_HOME"] = str(tmp_path)
    r = quarry(["submit", "--case", "c1", str(path)], env)
    assert r.returncode == 2
    assert "missing QUARRY_S3_ENDPOINT" in r.stderr and "deploy/local-up.sh" in r.stderr
