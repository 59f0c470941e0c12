"""Shared test helpers: where the public test data lies, and forged images."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cluster.forge import forge_image
from tests.servers import REPO

TESTDATA = REPO.parent / "shared" / "testdata"


@pytest.fixture(scope="session")
def testdata() -> Path:
    assert TESTDATA.is_dir(), f"public test data not found at {TESTDATA} (../shared beside the repository)"
    return TESTDATA


@pytest.fixture(scope="session")
def forged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A 64 MiB forged image and its answer key (written once per test session)."""
    path = tmp_path_factory.mktemp("forged") / "evidence.img"
    forge_image(path, 64 << 20, seed=2026)
    return path, json.loads(Path(f"{path}.key.json").read_text())


def e2fs(*argv: str) -> str:
    """Run an e2fsprogs tool (mke2fs, debugfs, dumpe2fs), which tests use to build and
    describe ext filesystems independently of The Sleuth Kit; its stdout."""
    tool = shutil.which(argv[0]) or shutil.which(argv[0], path="/usr/sbin:/sbin")
    assert tool, f"{argv[0]} (e2fsprogs) is needed to build this test's filesystem"
    return subprocess.run([tool, *argv[1:]], check=True, capture_output=True, text=True).stdout
