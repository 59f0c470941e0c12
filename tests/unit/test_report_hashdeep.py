"""The report's hashdeep list, audited by the real hashdeep (Debian package `hashdeep`): files
laid out as the artifact store names them pass `hashdeep -a`, a changed file fails it, and
content found twice is listed once (hashdeep's audit expects each known file once).
Digests come from hashlib, not from Quarry."""

from __future__ import annotations

import hashlib
import io
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from cluster.report.hashdeep import HashdeepWriter
from workers.store import artifact_key


@pytest.fixture(scope="module")
def hashdeep() -> str:
    path = shutil.which("hashdeep")
    assert path, "hashdeep (Debian package hashdeep) is needed: apt-get install hashdeep"
    return path


def row(data: bytes) -> dict:
    return {"length": len(data), "md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest()}


def audit(hashdeep: str, known: Path, root: Path, *mode: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [hashdeep, *mode, "-k", str(known), "-r", "-l", "sha256"], cwd=root, capture_output=True, text=True
    )


def test_a_folder_named_as_the_store_passes_the_audit(hashdeep, tmp_path) -> None:
    rng = random.Random(4)
    contents = [rng.randbytes(n) for n in (1, 100, 5000, 70000)] + [b"comma, in content\n"]
    out = io.StringIO()
    writer = HashdeepWriter(out, ["Case: c", "Job: j"])
    for data in [*contents, contents[1]]:  # found twice: listed once
        writer.add(row(data))
    assert writer.rows == len(contents)
    known = tmp_path / "hashdeep.txt"
    known.write_text(out.getvalue())
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["%%%% HASHDEEP-1.0", "%%%% size,md5,sha256,filename"] and lines[2] == "## Case: c"
    root = tmp_path / "artifacts"
    for data in contents:
        target = root / artifact_key(hashlib.sha256(data).hexdigest())
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    done = audit(hashdeep, known, root, "-a")
    assert done.returncode == 0 and "Audit passed" in done.stdout, done.stdout + done.stderr

    changed = root / artifact_key(hashlib.sha256(contents[2]).hexdigest())
    changed.write_bytes(b"x" + contents[2][1:])
    done = audit(hashdeep, known, root, "-a")
    assert done.returncode != 0 and "Audit failed" in done.stdout
    matched = audit(hashdeep, known, root, "-m").stdout.split()
    assert len(matched) == len(contents) - 1 and str(changed.relative_to(root)) not in matched
