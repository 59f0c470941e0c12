"""The custody audit log against a real MinIO: entries and hashes checked with hashlib over the
canonical form docs/custody.md defines (and with sed, sha256sum and jq); concurrent writers;
tampering in a locked bucket refused or detected; a corrupted chain written by hand in an
unlocked bucket, named at its first broken link; `quarry audit` exit codes and output."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import re
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from minio.commonconfig import COMPLIANCE, GOVERNANCE
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.objectlockconfig import DAYS

from cluster.audit import AuditLog, _Conflict, lock_buckets
from tests.servers import REPO
from workers.store import JOURNAL, ObjectStore, StoreConfig

GENESIS = "0" * 64


def canonical(doc: dict[str, Any]) -> bytes:
    """docs/custody.md's canonical form, written out here rather than taken from cluster.audit."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_of(doc: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in doc.items() if k != "hash"})).hexdigest()


def key(seq: int) -> str:
    return f"log/{seq:012d}.json"


def fresh_name(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


def locked_log(store: ObjectStore, mode: str = COMPLIANCE, days: int = 1) -> AuditLog:
    log = AuditLog(store, fresh_name("audit"))
    log.ensure(days=days, mode=mode)
    return log


def event(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "actor": "alice",
        "role": "examiner",
        "action": "artifact.read",
        "outcome": "allowed",
        "case": "case-1",
        "target": f"{n:064x}",
        "reason": f"review {n}",
        "details": {"n": n},
        **extra,
    }


def stored(store: ObjectStore, bucket: str, seq: int) -> bytes:
    return store.get_bytes(bucket, key(seq))


def test_appended_entries_chain_by_sha256_of_their_canonical_bytes(store):
    log = locked_log(store)
    returned = [log.append(**event(n)) for n in range(5)]
    prev = GENESIS
    for n, entry in enumerate(returned):
        data = stored(store, log.bucket, n)
        doc = json.loads(data)
        assert data == canonical(doc), "the object is its entry's canonical bytes"
        assert doc == entry
        assert doc["seq"] == n and doc["prev"] == prev
        assert doc["hash"] == sha256_of(doc)
        assert (doc["actor"], doc["role"], doc["action"], doc["outcome"]) == (
            "alice",
            "examiner",
            "artifact.read",
            "allowed",
        )
        assert (doc["case"], doc["reason"], doc["details"]) == ("case-1", f"review {n}", {"n": n})
        assert abs(datetime.fromisoformat(doc["time"].replace("Z", "+00:00")) - datetime.now(UTC)) < timedelta(
            minutes=5
        )
        prev = doc["hash"]
    assert store.list_keys(log.bucket) == [key(n) for n in range(5)]
    verdict = log.verify()
    assert verdict.ok and verdict.count == 5 and verdict.head == prev
    assert AuditLog(store, log.bucket).verify(anchor=(2, returned[2]["hash"])).ok


def test_a_new_writer_finds_the_end_of_a_long_log(store):
    log = locked_log(store)
    for n in range(37):
        log.append(**event(n))
    later = AuditLog(ObjectStore(store.config), log.bucket)  # no cache: probes, then lists from there
    entry = later.append(**event(99))
    assert entry["seq"] == 37
    assert entry["prev"] == json.loads(stored(store, log.bucket, 36))["hash"]
    stale = log.append(**event(100))  # `log` still believes 36 is the end: refused once, then 38
    assert stale["seq"] == 38 and stale["prev"] == entry["hash"]
    assert log.verify().count == 39


def test_minio_refuses_a_second_conditional_create_of_a_key(store):
    """The server built here honours If-None-Match: * on PutObject, which appends rely on."""
    log = locked_log(store)
    log.append(**event(0))
    with pytest.raises(S3Error) as refused:
        store.client._put_object(log.bucket, key(0), b"{}", {"If-None-Match": "*"})
    assert refused.value.code == "PreconditionFailed"
    assert json.loads(stored(store, log.bucket, 0))["seq"] == 0


def test_a_resent_write_of_the_same_entry_counts_as_written(store):
    """A PUT whose answer was lost and that the client sends again is refused (the key exists);
    the writer recognises its own entry by id rather than appending it a second time."""
    log = locked_log(store)
    entry = log.append(**event(0))
    log._create(key(0), stored(store, log.bucket, 0), entry["id"])  # no error: it is ours
    with pytest.raises(_Conflict):
        log._create(key(0), stored(store, log.bucket, 0), "someone-else")
    assert len(list(store.client.list_objects(log.bucket, prefix=key(0), include_version=True))) == 1


def _writer(config: StoreConfig, bucket: str, name: str, count: int) -> None:
    """One process with two threads, each its own client and cache, appending `count` entries."""

    def appends(thread: int) -> None:
        log = AuditLog(ObjectStore(config), bucket)
        for i in range(count):
            log.append(actor=f"{name}-{thread}", role="system", action="job.step", outcome="allowed", details={"i": i})

    threads = [threading.Thread(target=appends, args=(t,)) for t in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_concurrent_writers_lose_and_duplicate_no_number(store):
    log = locked_log(store)
    count = 25
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(store.config, log.bucket, f"p{p}", count)) for p in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    total = 2 * 2 * count
    assert store.list_keys(log.bucket) == [key(n) for n in range(total)]
    seen: dict[tuple[str, int], int] = {}
    prev = GENESIS
    for n in range(total):
        doc = json.loads(stored(store, log.bucket, n))
        assert doc["seq"] == n and doc["prev"] == prev and doc["hash"] == sha256_of(doc)
        seen[(doc["actor"], doc["details"]["i"])] = seen.get((doc["actor"], doc["details"]["i"]), 0) + 1
        prev = doc["hash"]
    expected = {(f"p{p}-{t}", i) for p in range(2) for t in range(2) for i in range(count)}
    assert set(seen) == expected and set(seen.values()) == {1}, "every append stored exactly once"
    for name in {a for a, _ in expected}:  # each writer's own entries keep its order
        mine = [d for d in (json.loads(stored(store, log.bucket, n)) for n in range(total)) if d["actor"] == name]
        assert [d["details"]["i"] for d in mine] == list(range(count))
    verdict = log.verify()
    assert verdict.ok and verdict.count == total and verdict.head == prev


def test_the_hand_checks_in_the_docs_agree(store, tmp_path):
    log = locked_log(store)
    log.append(
        **event(0, reason="Durchsuchung gemäß § 102 StPO — “Beschluss” 東京", details={"a": 1, "hash": "f" * 64})
    )
    log.append(**event(1, reason="two\tlines\nhere", details={"nested": {"z": [1, "x", None, True], "b": -(2**52)}}))
    log.append(**event(2))
    files = []
    for n in range(3):
        path = tmp_path / key(n).split("/")[1]
        path.write_bytes(stored(store, log.bucket, n))
        files.append(path)

    def sh(cmd: str, path: Path) -> str:
        return subprocess.run(["bash", "-c", cmd, "-", str(path)], check=True, capture_output=True, text=True).stdout

    for n, path in enumerate(files):
        doc = json.loads(path.read_bytes())
        by_sed = sh("""sed -E 's/(.*),"hash":"[0-9a-f]{64}"/\\1/' "$1" | sha256sum | cut -d' ' -f1""", path).strip()
        by_jq = sh("""jq -cSj 'del(.hash)' "$1" | sha256sum | cut -d' ' -f1""", path).strip()
        assert by_sed == by_jq == doc["hash"] == sha256_of(doc)
        assert sh('jq -cSj . "$1"', path).encode() == path.read_bytes(), "jq -cS reproduces the stored bytes"
        if n:
            assert doc["prev"] == json.loads(files[n - 1].read_bytes())["hash"]

    script = re.search(
        r"## Verifying by hand.*?```sh\n.*?```.*?```sh\n(.*?)```", (REPO / "docs/custody.md").read_text(), re.S
    )
    assert script, "docs/custody.md has the whole-log script"
    (tmp_path / "check.sh").write_text(script.group(1))
    lines = b"".join(stored(store, log.bucket, n) + b"\n" for n in range(3))
    (tmp_path / "audit.jsonl").write_bytes(lines)
    r = subprocess.run(["bash", "check.sh"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f"INTACT 3 entries, head {log.verify().head}", r.stdout + r.stderr
    second = json.loads(stored(store, log.bucket, 1))
    edited = lines.replace(b"two\\tlines", b"two\\tLINES")
    (tmp_path / "audit.jsonl").write_bytes(edited)
    r = subprocess.run(["bash", "check.sh"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout.strip() == f"BROKEN at {second['seq']}: hash mismatch", r.stdout


# -- tampering in a locked bucket: refused, or detected ----------------------------------------


def test_an_overwritten_entry_keeps_its_original_and_is_named(store):
    log = locked_log(store)
    for n in range(4):
        log.append(**event(n))
    original = stored(store, log.bucket, 2)
    forged = json.loads(original)
    forged["reason"] = "nothing to see"
    forged["hash"] = sha256_of(forged)
    store.put_bytes(log.bucket, key(2), canonical(forged), "application/json")  # allowed: it adds a version
    verdict = log.verify()
    assert not verdict.ok and verdict.count == 2
    assert (verdict.broken.seq, verdict.broken.key, verdict.broken.problem) == (2, key(2), "overwritten")
    versions = list(store.client.list_objects(log.bucket, prefix=key(2), include_version=True))
    assert len(versions) == 2
    oldest = store.client.get_object(log.bucket, key(2), version_id=versions[-1].version_id)
    assert oldest.read() == original
    oldest.close()
    oldest.release_conn()


def test_deleting_a_locked_entry_is_refused(store):
    log = locked_log(store)
    for n in range(3):
        log.append(**event(n))
    (version,) = list(store.client.list_objects(log.bucket, prefix=key(1), include_version=True))
    with pytest.raises(S3Error) as refused:
        store.client.remove_object(log.bucket, key(1), version_id=version.version_id)
    assert refused.value.code == "InvalidRequest" and "WORM" in refused.value.message
    # COMPLIANCE: not even the MinIO root, asking to bypass governance, may delete it.
    errors = list(store.client.remove_objects(log.bucket, [DeleteObject(key(1), version.version_id)], True))
    assert [e.name for e in errors] == [key(1)]
    assert json.loads(stored(store, log.bucket, 1))["seq"] == 1
    assert log.verify().ok


def test_a_delete_marker_is_named_and_the_entry_stays_readable(store):
    log = locked_log(store)
    for n in range(3):
        log.append(**event(n))
    (version,) = list(store.client.list_objects(log.bucket, prefix=key(1), include_version=True))
    store.client.remove_object(log.bucket, key(1))  # without a version: a delete marker hides it
    verdict = log.verify()
    assert (verdict.broken.seq, verdict.broken.problem, verdict.count) == (1, "deleted", 1)
    kept = store.client.get_object(log.bucket, key(1), version_id=version.version_id)
    assert json.loads(kept.read())["seq"] == 1
    kept.close()
    kept.release_conn()
    after = log.append(**event(3))  # the log goes on at its end, not into the hidden slot
    assert after["seq"] == 3


def test_governance_can_be_bypassed_by_the_root_and_the_gap_is_named(store):
    log = locked_log(store, mode=GOVERNANCE)
    for n in range(3):
        log.append(**event(n))
    (version,) = list(store.client.list_objects(log.bucket, prefix=key(1), include_version=True))
    with pytest.raises(S3Error):
        store.client.remove_object(log.bucket, key(1), version_id=version.version_id)
    errors = list(store.client.remove_objects(log.bucket, [DeleteObject(key(1), version.version_id)], True))
    assert errors == []
    verdict = log.verify()
    assert (verdict.broken.seq, verdict.broken.key, verdict.broken.problem) == (1, key(1), "missing")


def test_lock_buckets_sets_the_default_retention_of_new_objects(store):
    bucket = fresh_name("results-locked")
    store.client.make_bucket(bucket, object_lock=True)
    lock_buckets(store, 2, "governance", [bucket])
    config = store.client.get_object_lock_config(bucket)
    assert (config.mode, config.duration, config.duration_unit) == (GOVERNANCE, 2, DAYS)
    assert store.client.get_bucket_versioning(bucket).status == "Enabled"
    manifest = b"PAR1 manifest"
    store.put_bytes(bucket, "case/job/manifest.parquet", manifest, "application/octet-stream")
    stat = store.client.stat_object(bucket, "case/job/manifest.parquet")
    until = datetime.fromisoformat(stat.metadata["x-amz-object-lock-retain-until-date"].replace("Z", "+00:00"))
    assert timedelta(days=2) - timedelta(minutes=5) < until - datetime.now(UTC) <= timedelta(days=2)
    store.put_bytes(bucket, "case/job/manifest.parquet", b"PAR1 other", "application/octet-stream")
    versions = list(store.client.list_objects(bucket, prefix="case/job/", include_version=True))
    assert len(versions) == 2
    with pytest.raises(S3Error) as refused:
        store.client.remove_object(bucket, "case/job/manifest.parquet", version_id=versions[-1].version_id)
    assert refused.value.code == "InvalidRequest"


def test_lock_buckets_refuses_buckets_made_without_lock_and_bad_settings(store):
    audit = locked_log(store)
    with pytest.raises(ValueError, match=rf"bucket {JOURNAL} was created without object lock"):
        lock_buckets(store, 30, "compliance", [audit.bucket, JOURNAL])
    assert store.client.get_object_lock_config(audit.bucket).duration == 1, "nothing changed before the refusal"
    with pytest.raises(ValueError, match="retention mode 'forever'"):
        lock_buckets(store, 30, "forever", [audit.bucket])
    with pytest.raises(ValueError, match="retention days 0"):
        lock_buckets(store, 0, "compliance", [audit.bucket])
    with pytest.raises(ValueError, match="bucket no-such-bucket-here does not exist"):
        lock_buckets(store, 30, "compliance", ["no-such-bucket-here"])
    with pytest.raises(ValueError, match=f"bucket {JOURNAL} was created without object lock"):
        AuditLog(store, JOURNAL).ensure()


# -- a corrupted chain written by hand in an unlocked bucket -----------------------------------


def handmade(n: int) -> list[dict[str, Any]]:
    """A valid chain of `n` entries, built here from the documented format."""
    entries, prev = [], GENESIS
    for seq in range(n):
        e = {
            "seq": seq,
            "time": f"2025-03-01T12:00:{seq:02d}.000000Z",
            "actor": "bob",
            "role": "operator",
            "action": "job.submit",
            "case": "c",
            "target": f"job-{seq}",
            "reason": None,
            "outcome": "allowed",
            "details": {},
            "id": f"{seq:032x}",
            "format": 1,
            "prev": prev,
        }
        e["hash"] = sha256_of(e)
        entries.append(e)
        prev = e["hash"]
    return entries


def scratch(store: ObjectStore, entries: list[dict[str, Any]], raw: dict[int, bytes] | None = None) -> AuditLog:
    bucket = fresh_name("scratch")
    store.client.make_bucket(bucket)
    for e in entries:
        data = (raw or {}).get(e["seq"], canonical(e))
        store.client.put_object(bucket, key(e["seq"]), io.BytesIO(data), len(data))
    return AuditLog(store, bucket)


def test_an_intact_handmade_chain_verifies(store):
    entries = handmade(6)
    verdict = scratch(store, entries).verify()
    assert verdict.ok and verdict.count == 6 and verdict.head == entries[-1]["hash"]


def test_an_edited_entry_is_a_hash_mismatch(store):
    entries = handmade(6)
    entries[3]["target"] = "job-999"  # hash left as it was
    verdict = scratch(store, entries).verify()
    assert (verdict.broken.seq, verdict.broken.key, verdict.broken.problem) == (3, key(3), "hash mismatch")
    assert verdict.count == 3 and verdict.head == entries[2]["hash"]
    assert sha256_of(entries[3]) in verdict.broken.detail


def test_an_edited_and_rehashed_entry_breaks_the_next_link(store):
    entries = handmade(6)
    entries[3]["target"] = "job-999"
    entries[3]["hash"] = sha256_of(entries[3])
    verdict = scratch(store, entries).verify()
    assert (verdict.broken.seq, verdict.broken.problem) == (4, "prev mismatch")
    assert verdict.count == 4 and verdict.head == entries[3]["hash"]


def test_a_missing_entry_is_named(store):
    entries = handmade(6)
    del entries[2]
    verdict = scratch(store, entries).verify()
    assert (verdict.broken.seq, verdict.broken.key, verdict.broken.problem) == (2, key(2), "missing")
    assert key(3) in verdict.broken.detail


@pytest.mark.parametrize(
    ("damage", "seq", "problem"),
    [
        ("genesis", 0, "prev mismatch"),
        ("spaces", 1, "not canonical"),
        ("seq", 2, "seq mismatch"),
        ("field", 2, "malformed"),
        ("json", 4, "unreadable"),
        ("empty", 3, "unreadable"),
        ("stray", 5, "unexpected object"),
    ],
)
def test_other_damage_is_named_at_its_entry(store, damage, seq, problem):
    entries = handmade(5)
    raw: dict[int, bytes] = {}
    if damage == "genesis":
        entries[0]["prev"] = "1" * 64
        entries[0]["hash"] = sha256_of(entries[0])
    elif damage == "spaces":
        raw[1] = json.dumps(entries[1], sort_keys=True, indent=1).encode()
    elif damage == "seq":
        entries[2]["seq"] = 7
        entries[2]["hash"] = sha256_of(entries[2])
        raw[2] = canonical(entries[2])
    elif damage == "field":
        entries[2]["extra"] = 1
        entries[2]["hash"] = sha256_of(entries[2])
    elif damage == "json":
        raw[4] = b"{not json"
    elif damage == "empty":
        raw[3] = b""
    log = scratch(store, entries, raw)
    if damage == "seq":  # written under key 2 with seq 7 inside
        store.client.put_object(log.bucket, key(2), io.BytesIO(raw[2]), len(raw[2]))
    if damage == "stray":
        store.client.put_object(log.bucket, "log/notes.txt", io.BytesIO(b"x"), 1)
    verdict = log.verify()
    assert (verdict.broken.seq, verdict.broken.problem) == (seq, problem), verdict


def test_a_log_longer_than_a_listing_page_is_walked_whole(store):
    """Over 1000 keys: the listing comes in pages, and each page of versions carries its delete
    markers apart (minio-py yields them after the page's versions)."""
    entries = handmade(1203)
    bucket = locked_log(store).bucket  # written directly, as a long-lived log would have been

    def put(e: dict[str, Any]) -> None:
        data = canonical(e)
        store.client.put_object(bucket, key(e["seq"]), io.BytesIO(data), len(data))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, entries))
    log = AuditLog(store, bucket)
    verdict = log.verify()
    assert verdict.ok and verdict.count == 1203 and verdict.head == entries[-1]["hash"]
    assert sum(1 for _ in log.entries()) == 1203
    assert [e["seq"] for e in log.entries(1190)] == list(range(1190, 1203))
    store.client.remove_object(bucket, key(1101))  # a delete marker on the second page
    verdict = log.verify()
    assert (verdict.broken.seq, verdict.broken.problem, verdict.count) == (1101, "deleted", 1101)
    assert AuditLog(store, bucket).append(**event(0))["seq"] == 1203, "a new writer finds the end past the gap"


def test_an_anchor_catches_a_rewritten_or_shortened_log(store):
    entries = handmade(5)
    anchor = (3, entries[3]["hash"])
    assert scratch(store, entries).verify(anchor=anchor).ok
    rewritten = handmade(5)
    for e in rewritten:  # a consistent chain with different content: only an anchor tells
        e["reason"] = "rewritten"
    prev = GENESIS
    for e in rewritten:
        e["prev"] = prev
        e["hash"] = prev = sha256_of(e)
    log = scratch(store, rewritten)
    assert log.verify().ok
    verdict = log.verify(anchor=anchor)
    assert (verdict.broken.seq, verdict.broken.problem) == (3, "anchor mismatch")
    verdict = scratch(store, entries[:3]).verify(anchor=anchor)
    assert (verdict.broken.seq, verdict.broken.problem, verdict.count) == (3, "missing", 3)


# -- what append refuses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"token": "abc"}, r"details\.token: a field named like a secret"),
        ({"user": {"Password": "hunter2"}}, r"details\.user\.Password: a field named like a secret"),
        ({"list": [{"api_key": "k"}]}, r"details\.list\[0\]\.api_key"),
        ({"AWS_SECRET_ACCESS_KEY": "k"}, "named like a secret"),
        ({"session_id": "s"}, "named like a secret"),
        ({"private-key": "s"}, "named like a secret"),
        ({"header": "Bearer eyJhbGciOi"}, r"details\.header looks like a credential"),
        ({"pem": "-----BEGIN RSA PRIVATE KEY-----\nMII"}, "looks like a credential"),
        ({"size": 1.5}, "is a float"),
        ({"size": 2**60}, "beyond 2"),
        ({"name": "a\x1b[31mred"}, "control character"),
        ({1: "x"}, "not a string"),
    ],
)
def test_append_refuses_secrets_and_what_json_tools_disagree_on(store, details, message):
    log = locked_log(store)
    with pytest.raises(ValueError, match=message) as refused:
        log.append(**event(0, details=details))
    for value in ("abc", "hunter2", "eyJhbGciOi", "MII"):
        assert value not in str(refused.value), "the refusal never repeats the secret"
    assert store.list_keys(log.bucket) == []


def test_append_refuses_the_store_secret_anywhere(store):
    log = locked_log(store)
    for where in ("reason", "target", "actor"):
        with pytest.raises(ValueError, match=f"{where} looks like a credential") as refused:
            log.append(**event(0, **{where: f"x {store.config.secret_key} y"}))
        assert store.config.secret_key not in str(refused.value)
    with pytest.raises(ValueError, match=r"details\.note\[1\] looks like a credential"):
        log.append(**event(0, details={"note": ["ok", store.config.secret_key]}))
    assert store.list_keys(log.bucket) == []
    log.append(**event(0, details={"key": "sha256/ab/abcd", "sort_key": "time", "author": "x"}))  # allowed names
    assert store.list_keys(log.bucket) == [key(0)]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("role", "janitor", "role 'janitor' is not one of"),
        ("outcome", "maybe", "outcome 'maybe' is not one of"),
        ("action", "Download Artifact", "action 'Download Artifact' must be dotted lower case"),
        ("actor", "", "actor must be a non-empty string"),
        ("case", "a/b", "case 'a/b' contains '/'"),
        ("details", ["x"], "details must be a JSON object"),
        ("details", [], "details must be a JSON object"),
    ],
)
def test_append_refuses_bad_fields(store, field, value, message):
    log = locked_log(store)
    with pytest.raises(ValueError, match=re.escape(message)):
        log.append(**event(0, **{field: value}))


# -- the command ----------------------------------------------------------------------------

RUN_CLI = (
    "import sys, cluster.commands as c\n"
    "c.NAMES = c.NAMES if 'audit' in c.NAMES else (*c.NAMES, 'audit')\n"
    "from cluster.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def audit_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`quarry audit ARGS` in a process of its own (with `audit` among the commands even before
    cluster/commands/__init__.py lists it)."""
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, "audit", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_quarry_audit_verify_exit_codes(store, env):
    log = locked_log(store)
    for n in range(3):
        log.append(**event(n))
    head = log.verify().head
    r = audit_cli(["verify", "--bucket", log.bucket], env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"audit log {log.bucket}: INTACT, 3 entries" in r.stdout
    assert f"head 2:{head}" in r.stdout and "retention: COMPLIANCE 1 days" in r.stdout
    r = audit_cli(["verify", "--bucket", log.bucket, "--anchor", f"2:{head}", "--json"], env)
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["ok"] and doc["count"] == 3 and doc["head"] == head
    assert doc["retention"] == {"mode": "COMPLIANCE", "days": 1}

    entries = handmade(4)
    entries[2]["reason"] = "edited"
    broken = scratch(store, entries)
    r = audit_cli(["verify", "--bucket", broken.bucket], env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"BROKEN at seq 2 ({key(2)}): hash mismatch" in r.stdout
    assert "entries 0..1 are intact" in r.stdout and "retention: NONE" in r.stdout
    r = audit_cli(["verify", "--bucket", broken.bucket, "--json"], env)
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and not doc["ok"] and doc["broken"]["seq"] == 2
    assert doc["broken"]["problem"] == "hash mismatch"

    r = audit_cli(["verify", "--bucket", "no-such-audit-bucket"], env)
    assert r.returncode == 2 and "quarry: error: no audit log: bucket no-such-audit-bucket does not exist" in r.stderr
    r = audit_cli(["verify", "--anchor", "three:abc"], env)
    assert r.returncode == 2 and "bad anchor 'three:abc'" in r.stderr


def test_quarry_audit_show_filters_and_streams(store, env):
    log = locked_log(store)
    log.append(**event(0, actor="alice", case="c1"))
    log.append(**event(1, actor="bob", case="c2", action="artifact.download", reason='say "hi"\nfake line'))
    log.append(**event(2, actor="alice", case="c2"))
    log.append(**event(3, actor="bob", role="admin", case=None, action="admin.user.add", outcome="denied"))
    r = audit_cli(["show", "--bucket", log.bucket, "--json"], env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.encode() == b"".join(stored(store, log.bucket, n) + b"\n" for n in range(4))
    r = audit_cli(["show", "--bucket", log.bucket, "--case", "c2", "--json"], env)
    assert [json.loads(line)["seq"] for line in r.stdout.splitlines()] == [1, 2]
    r = audit_cli(["show", "--bucket", log.bucket, "--actor", "bob", "--limit", "1", "--json"], env)
    assert [json.loads(line)["seq"] for line in r.stdout.splitlines()] == [1]
    r = audit_cli(["show", "--bucket", log.bucket, "--from", "2", "--json"], env)
    assert [json.loads(line)["seq"] for line in r.stdout.splitlines()] == [2, 3]
    r = audit_cli(["show", "--bucket", log.bucket, "--action", "admin.user.add"], env)
    (line,) = r.stdout.splitlines()
    assert re.fullmatch(
        r"\s+3 \S+Z bob \(admin\) admin\.user\.add denied target=0+3 reason=\"review 3\" \{\"n\":3\}", line
    ), line
    r = audit_cli(["show", "--bucket", log.bucket], env)
    lines = r.stdout.splitlines()
    assert len(lines) == 4, "a newline in a reason does not make a line"
    assert 'reason="say \\"hi\\"\\nfake line"' in lines[1]
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = audit_cli(["show", "--bucket", log.bucket, "--since", future], env)
    assert r.returncode == 0 and r.stdout == ""
    r = audit_cli(["show", "--bucket", log.bucket, "--since", "2020-01-01"], env)
    assert len(r.stdout.splitlines()) == 4
    r = audit_cli(["show", "--bucket", log.bucket, "--since", "yesterday"], env)
    assert r.returncode == 2 and "quarry: error: bad time 'yesterday'" in r.stderr
    r = audit_cli(["show", "--bucket", log.bucket, "--limit", "0"], env)
    assert r.returncode == 2 and "bad number '0'" in r.stderr


def test_quarry_audit_lock(store, env):
    bucket = fresh_name("evidence-locked")
    store.client.make_bucket(bucket, object_lock=True)
    r = audit_cli(["lock", "--days", "3", "--mode", "governance", "--bucket", bucket], env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{bucket}: versioning on, default retention GOVERNANCE 3 days" in r.stdout
    config = store.client.get_object_lock_config(bucket)
    assert (config.mode, config.duration) == (GOVERNANCE, 3)
    r = audit_cli(["lock", "--days", "3", "--bucket", JOURNAL], env)  # the journal is rewritten: never locked
    assert r.returncode == 2 and f"bucket {JOURNAL} was created without object lock" in r.stderr


def test_the_default_bucket_is_created_locked_on_first_append(store, env):
    log = AuditLog(store)
    first = log.append(**event(0, actor="first-append-test"))
    config = store.client.get_object_lock_config(log.bucket)
    assert (config.mode, config.duration) == (COMPLIANCE, 3650)
    assert json.loads(store.get_bytes(log.bucket, key(first["seq"])))["actor"] == "first-append-test"
    r = audit_cli(["verify"], env)
    assert r.returncode == 0 and "INTACT" in r.stdout, r.stdout + r.stderr
