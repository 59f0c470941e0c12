"""Chain of custody on a MinIO of its own whose buckets an admin has locked (`quarry audit
lock`): a stored artifact, a manifest or an audit entry cannot be deleted inside its
retention, and what can be done (a delete marker, a second version) is detected by
`quarry verify` and `quarry audit verify`; the MinIO secret appears nowhere."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator

import pytest
from minio.error import S3Error

from cluster.audit import AUDIT
from cluster.results import manifest_key
from tests.integration.conftest import MinioServer, cli_env, free_port, quarry
from tests.integration.ray_nodes import RayNodes
from workers.store import ARTIFACTS, JOURNAL, RESULTS, ObjectStore, artifact_key


@pytest.fixture(scope="module")
def own_minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    server = MinioServer(tmp_path_factory.mktemp("custody-minio"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayNodes]:
    cluster = RayNodes(2, tmp_path_factory.mktemp("custody-cache"))
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def cenv(own_minio, nodes, tmp_path_factory) -> dict[str, str]:
    env = cli_env(own_minio.config, tmp_path_factory.mktemp("custody-home"), nodes.address)
    env.update(RAY_AUTH_MODE="disabled", QUARRY_METRICS_PORT=str(free_port()), QUARRY_SEGMENT_MIB="4")
    return env


@pytest.fixture(scope="module")
def job(cenv, own_minio, forged) -> dict:
    """The buckets locked for a day (COMPLIANCE), then a job; its record and what it printed."""
    locked = quarry(["audit", "lock", "--days", "1", "--mode", "compliance"], cenv)
    assert locked.returncode == 0, locked.stderr
    for bucket in (ARTIFACTS, RESULTS, "quarry-evidence", AUDIT):
        assert f"{bucket}: versioning on, default retention COMPLIANCE 1 days" in locked.stdout
    done = quarry(["submit", "--case", "custody", str(forged[0])], cenv, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    job_id = re.search(r"^job (\S+) submitted", done.stdout, re.M).group(1)  # type: ignore[union-attr]
    record = ObjectStore(own_minio.config).get_json(JOURNAL, f"jobs/{job_id}.json")
    return {"record": record, "outputs": [locked, done]}


def versions(store: ObjectStore, bucket: str, key: str) -> list:
    return [o for o in store.client.list_objects(bucket, prefix=key, include_version=True) if o.object_name == key]


def test_a_locked_artifact_cannot_be_deleted_and_a_hidden_one_is_found_missing(job, cenv, own_minio, forged) -> None:
    store = ObjectStore(own_minio.config)
    item = next(i for i in forged[1]["items"] if i["kind"] == "jpeg" and i["status"] == "intact")
    key = artifact_key(item["sha256"])
    (version,) = versions(store, ARTIFACTS, key)
    with pytest.raises(S3Error) as refused:
        store.client.remove_object(ARTIFACTS, key, version_id=version.version_id)
    assert refused.value.code in ("InvalidRequest", "AccessDenied")
    assert hashlib.sha256(store.get_bytes(ARTIFACTS, key)).hexdigest() == item["sha256"]
    # A plain delete only hides it behind a marker: verify says it is missing; the bytes stay.
    store.client.remove_object(ARTIFACTS, key)
    checked = quarry(["verify", job["record"]["id"], "--artifacts"], cenv, timeout=600)
    assert checked.returncode == 1 and f"MISSING {item['sha256']}" in checked.stdout
    kept = store.client.get_object(ARTIFACTS, key, version_id=version.version_id)
    try:
        assert hashlib.sha256(kept.read()).hexdigest() == item["sha256"]
    finally:
        kept.close()
        kept.release_conn()
    store.client.copy_object(ARTIFACTS, key, _source(key, version.version_id))  # restored for the next test


def _source(key: str, version_id: str):
    from minio.commonconfig import CopySource

    return CopySource(ARTIFACTS, key, version_id=version_id)


def test_an_overwritten_manifest_is_detected_and_its_first_version_kept(job, cenv, own_minio) -> None:
    store = ObjectStore(own_minio.config)
    record = job["record"]
    key = manifest_key(record["case"], record["id"])
    original = store.get_bytes(RESULTS, key)
    sealed = {s["key"]: s for s in record["summary"]["seals"]}[key]
    assert sealed["sha256"] == hashlib.sha256(original).hexdigest() and sealed["bytes"] == len(original)
    assert quarry(["verify", record["id"]], cenv, timeout=600).returncode == 0
    store.put_bytes(RESULTS, key, original[:-1] + bytes([original[-1] ^ 1]), "application/octet-stream")
    checked = quarry(["verify", record["id"]], cenv, timeout=600)
    assert checked.returncode == 1 and f"results {key}: CHANGED" in checked.stdout
    (first,) = [v for v in versions(store, RESULTS, key) if str(v.is_latest).lower() != "true"]
    with pytest.raises(S3Error):
        store.client.remove_object(RESULTS, key, version_id=first.version_id)
    kept = store.client.get_object(RESULTS, key, version_id=first.version_id)
    try:
        assert kept.read() == original
    finally:
        kept.close()
        kept.release_conn()


def test_an_edited_audit_entry_is_named_and_cannot_be_removed(job, cenv, own_minio) -> None:
    store = ObjectStore(own_minio.config)
    assert quarry(["audit", "verify"], cenv).returncode == 0
    entries = [json.loads(line) for line in quarry(["audit", "show", "--json"], cenv).stdout.splitlines()]
    submitted = next(e for e in entries if e["action"] == "job.submit" and e["target"] == job["record"]["id"])
    verified = [e for e in entries if e["action"] == "intake.verify" and e["target"] == job["record"]["id"]]
    assert len(verified) == 1 and verified[0]["details"]["result"] == "absent"
    key = f"log/{submitted['seq']:012d}.json"
    (version,) = versions(store, AUDIT, key)
    with pytest.raises(S3Error):
        store.client.remove_object(AUDIT, key, version_id=version.version_id)
    edited = {**submitted, "actor": "someone-else"}
    store.put_bytes(AUDIT, key, json.dumps(edited).encode(), "application/json")
    checked = quarry(["audit", "verify"], cenv)
    assert checked.returncode == 1 and str(submitted["seq"]) in checked.stdout and "overwritten" in checked.stdout


def test_the_minio_secret_appears_nowhere(job, cenv, own_minio) -> None:
    secret = own_minio.config.secret_key
    store = ObjectStore(own_minio.config)
    for out in job["outputs"]:
        assert secret not in out.stdout + out.stderr
    record = job["record"]
    texts = [json.dumps(record), store.get_bytes(RESULTS, f"{record['case']}/{record['id']}/summary.json").decode()]
    texts += [store.get_bytes(AUDIT, k).decode() for k in store.list_keys(AUDIT, "log/")]
    texts.append(store.get_bytes(JOURNAL, "manager.json").decode())
    for text in texts:
        assert secret not in text
    down = quarry(["jobs"], {**cenv, "QUARRY_S3_ENDPOINT": f"127.0.0.1:{free_port()}"})
    assert down.returncode != 0 and secret not in down.stdout + down.stderr
