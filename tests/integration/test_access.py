"""Who may do what through the HTTP API, against a real `quarry serve`, a real MinIO and real
jobs in two cases: every role on every endpoint, in its own case and in the other, allowed or
denied as docs/api.md says; no token or a bad one is a 401; denied attempts are in the audit
log, whose chain verifies; hostile input gets a clear 4xx and leaks nothing."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from cluster import api
from cluster.audit import AuditLog
from cluster.forge import forge_image
from tests.conftest import REPO
from tests.integration.conftest import cli_env, free_port, quarry, stop, wait_http

MiB = 1 << 20
OWN, OTHER = "sec-own", "sec-other"


@pytest.fixture(scope="module")
def cases(settings, tmp_path_factory) -> dict[str, Any]:
    """A job in each case, on images of their own (forged with seeds of this module), and an
    intact JPEG of each image (its SHA-256 from the forge's key)."""
    root = tmp_path_factory.mktemp("access")
    out: dict[str, Any] = {}
    for case, seed in ((OWN, 5101), (OTHER, 5102)):
        path = root / f"{case}.img"
        key = forge_image(path, 4 * MiB, seed=seed)
        job = api.wait(settings, api.submit(settings, case, [str(path)]).id)
        assert job.state == "done", job.error
        jpeg = next(i for i in key["items"] if i["kind"] == "jpeg" and i["status"] == "intact")
        pictures = [i for i in key["items"] if i["kind"] in ("jpeg", "png") and i["status"] == "intact"]
        out[case] = {"job": job.id, "sha256": jpeg["sha256"], "path": path, "pictures": pictures}
    # The first planted picture that the job hashed (the forge's pictures are mostly decodable).
    for case in (OWN, OTHER):
        rows = catalog_rows(settings, case)
        hashed = {r["sha256"] for r in rows if r.get("pdq")}
        out[case]["picture"] = next(p["sha256"] for p in out[case]["pictures"] if p["sha256"] in hashed)
    return out


def catalog_rows(settings, case: str) -> list[dict[str, Any]]:
    from cluster.query import Query
    from cluster.query_engine import catalog_for

    return list(catalog_for(settings.store).rows(Query(cases=(case,), limit=0)))


@pytest.fixture(scope="module")
def server(minio, ray_cluster, cases, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """`quarry serve` with users of every role: the examiner and the operator are assigned
    OWN only; their tokens; the log."""
    home = tmp_path_factory.mktemp("access-home")
    env = cli_env(minio.config, home, ray_cluster["gcs_address"])  # Ray's token auth, as the session's Ray
    tokens = {}
    for name, role, case in (("exa", "examiner", OWN), ("ope", "operator", OWN), ("adm", "admin", None)):
        added = quarry(["admin", "user", "add", name, "--role", role, *(["--case", case] if case else [])], env)
        assert added.returncode == 0, added.stderr
        tokens[role] = added.stdout.rsplit(": ", 1)[1].strip()
    gone = quarry(["admin", "user", "add", "gone", "--role", "examiner", "--case", OWN], env)
    tokens["disabled"] = gone.stdout.rsplit(": ", 1)[1].strip()
    assert quarry(["admin", "user", "disable", "gone"], env).returncode == 0
    port = free_port()
    log = home / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cluster.cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/health", timeout=60)
        yield {"port": port, "tokens": tokens, "log": log, "env": env}
    finally:
        stop(proc)


def request(
    server: dict[str, Any], method: str, path: str, token: str | None, body: bytes | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=120)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def endpoints(cases: dict[str, Any], case: str) -> list[tuple[str, str, bytes | None, str]]:
    """(method, path, body, the role allowed) of every endpoint, aimed at `case`."""
    sha, job = cases[case]["sha256"], cases[case]["job"]
    submit = json.dumps({"case": case, "images": [str(cases[case]["path"])], "profile": "triage"}).encode()
    return [
        ("GET", f"/v1/artifacts?case={case}", None, "examiner"),
        ("GET", f"/v1/features?case={case}&feature=email", None, "examiner"),
        ("GET", f"/v1/artifacts/{sha}/provenance?case={case}", None, "examiner"),
        ("GET", f"/v1/artifacts/{sha}/content?case={case}", None, "examiner"),
        ("GET", f"/v1/similar-images?sha256={cases[case]['picture']}&case={case}", None, "examiner"),
        ("GET", f"/v1/artifacts/{sha}/similar?case={case}&max_tlsh=300", None, "examiner"),
        ("POST", "/v1/jobs", submit, "operator"),
        ("POST", f"/v1/jobs/{job}/cancel", b"{}", "operator"),
    ]


def test_every_role_on_every_endpoint_in_its_case_and_the_other(server, cases) -> None:
    tokens = server["tokens"]
    for case in (OWN, OTHER):
        for method, path, body, allowed in endpoints(cases, case):
            for role in ("examiner", "operator", "admin"):
                status, answer = request(server, method, path, tokens[role], body)
                if role == allowed and case == OWN:
                    assert status in (200, 201), (role, method, path, answer)
                else:
                    assert status == 403, (role, method, path, status, answer)
                    assert "error" in json.loads(answer)
    # Jobs: each sees those of their own cases; the admin lists users and nothing else.
    for role in ("examiner", "operator"):
        status, answer = request(server, "GET", "/v1/jobs", tokens[role])
        assert status == 200 and {j["case"] for j in json.loads(answer)["jobs"]} == {OWN}
    assert request(server, "GET", "/v1/jobs", tokens["admin"])[0] == 403
    status, answer = request(server, "GET", "/v1/admin/users", tokens["admin"])
    assert status == 200 and {u["name"] for u in json.loads(answer)["users"]} >= {"exa", "ope", "adm", "gone"}
    assert "token_sha256" not in answer.decode()
    for role in ("examiner", "operator"):
        assert request(server, "GET", "/v1/admin/users", tokens[role])[0] == 403


def test_every_case_means_the_users_cases(server, cases) -> None:
    tokens = server["tokens"]
    status, answer = request(server, "GET", "/v1/artifacts?all_cases=1&limit=1000", tokens["examiner"])
    assert status == 200
    rows = json.loads(answer)["rows"]
    assert rows and {r["case"] for r in rows} == {OWN}
    # Content found only in the other case is not there for this examiner, by any way of asking.
    other = cases[OTHER]["sha256"]
    for path in (
        f"/v1/artifacts/{other}/content",
        f"/v1/artifacts/{other}/provenance",
        f"/v1/artifacts?all_cases=1&digest={other}",
    ):
        status, answer = request(server, "GET", path, tokens["examiner"])
        assert status == 404 or json.loads(answer)["total"] == 0, (path, status, answer)


def test_no_token_or_a_bad_one_is_a_401(server, cases) -> None:
    tokens = server["tokens"]
    for method, path, body, _ in endpoints(cases, OWN) + [
        ("GET", "/v1/jobs", None, ""),
        ("GET", "/v1/admin/users", None, ""),
    ]:
        for token in (None, "qry_" + "A" * 43, tokens["examiner"][:-1] + "x", "not-a-token", tokens["disabled"]):
            status, answer = request(server, method, path, token, body)
            assert status == 401, (method, path, token, status)
            assert json.loads(answer)["error"].startswith("authentication required")
    assert request(server, "GET", "/v1/health", None)[0] == 200


def test_denied_attempts_are_in_the_audit_log_and_its_chain_holds(server, cases, store) -> None:
    tokens = server["tokens"]
    sha = cases[OTHER]["sha256"]
    assert request(server, "GET", f"/v1/artifacts/{sha}/content?case={OTHER}", tokens["examiner"])[0] == 403
    assert request(server, "GET", f"/v1/artifacts?case={OTHER}", None)[0] == 401
    log = AuditLog(store)
    entries = list(log.entries())
    denied = [e for e in entries if e["outcome"] == "denied"]
    assert any(
        e["actor"] == "exa" and e["action"] == "artifact.download" and e["case"] == OTHER and e["target"] == sha
        for e in denied
    )
    assert any(e["actor"] == "anonymous" and e["action"] == "auth.refused" for e in denied)
    allowed = [e for e in entries if e["outcome"] == "allowed" and e["actor"] == "exa"]
    assert any(e["action"] == "artifact.download" and e["case"] == OWN for e in allowed)
    assert log.verify().ok
    text = json.dumps(entries)
    for token in tokens.values():
        assert token not in text


def test_hostile_input_gets_a_clear_error_and_leaks_nothing(server, cases, minio) -> None:
    token = server["tokens"]["examiner"]
    for path, status_wanted in [
        ("/v1/artifacts?case=" + urllib.parse.quote("sec-own' OR '1'='1"), 400),
        ("/v1/artifacts?case=sec-own&type=" + urllib.parse.quote("jpeg'); DROP TABLE t; --"), 200),
        ("/v1/artifacts?case=sec-own&sort=" + urllib.parse.quote("length; DROP TABLE t"), 400),
        ("/v1/artifacts?case=sec-own&path=" + urllib.parse.quote("../../../etc/passwd"), 200),
        ("/v1/artifacts/" + urllib.parse.quote("../../etc/passwd", safe="") + "/content", 404),
        ("/v1/artifacts/%2e%2e%2f%2e%2e/content", 404),
        ("/v1/features?case=sec-own&feature=email&value=" + urllib.parse.quote("x' OR 1=1 --"), 200),
    ]:
        status, answer = request(server, "GET", path, token)
        assert status == status_wanted, (path, status, answer)
        if status == 200:
            assert json.loads(answer)["total"] == 0, path
        else:
            assert json.loads(answer)["error"], path
    operator = server["tokens"]["operator"]
    for job in ("..%2F..%2Fjobs", "x" * 300):
        status, answer = request(server, "POST", f"/v1/jobs/{job}/cancel", operator, b"{}")
        assert status in (400, 404), (job, status, answer)
    traversal = json.dumps({"case": "../sec-other", "images": ["/etc/passwd"]}).encode()
    assert request(server, "POST", "/v1/jobs", operator, traversal)[0] == 400
    status, answer = request(server, "POST", "/v1/jobs", operator, b"{" + b" " * (1 << 20) + b"}")
    assert status == 413
    status, _ = request(server, "GET", "/v1/artifacts?case=sec-own&type=" + "j" * 70000, token)
    assert status == 414
    log = server["log"].read_text()
    for secret in [minio.config.secret_key, *server["tokens"].values()]:
        assert secret not in log
    assert "Traceback" not in log


def test_an_operator_submits_over_the_api_and_the_job_runs(server, cases, settings) -> None:
    body = json.dumps({"case": OWN, "images": [str(cases[OWN]["path"])], "profile": "triage"}).encode()
    status, answer = request(server, "POST", "/v1/jobs", server["tokens"]["operator"], body)
    assert status == 201, answer
    job = api.wait(settings, json.loads(answer)["job"])
    assert job.state == "done" and job.case == OWN and job.profile == "triage"
    data = cases[OWN]["path"].read_bytes()
    assert job.summary is not None and job.summary["images"][0]["digests"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert os.path.getsize(cases[OWN]["path"]) == len(data)


def token_env(server: dict[str, Any], role: str, home) -> dict[str, str]:
    """A user's environment: the API's address and their token, and no MinIO credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_")}
    env.update(
        QUARRY_HOME=str(home),
        QUARRY_API_URL=f"http://127.0.0.1:{server['port']}",
        QUARRY_TOKEN=server["tokens"][role],
    )
    return env


def test_the_cli_speaks_to_the_api_with_the_users_token(server, cases, tmp_path) -> None:
    examiner = token_env(server, "examiner", tmp_path / "examiner-home")
    found = quarry(["find", "--case", OWN, "--type", "jpeg", "--format", "json", "--limit", "0"], examiner)
    assert found.returncode == 0, found.stderr
    rows = [json.loads(line) for line in found.stdout.splitlines()]
    status, answer = request(
        server, "GET", f"/v1/artifacts?case={OWN}&type=jpeg&limit=1000", server["tokens"]["examiner"]
    )
    assert status == 200 and rows == json.loads(answer)["rows"] and rows
    assert cases[OWN]["sha256"] in {r["sha256"] for r in rows}
    refused = quarry(["find", "--case", OTHER], examiner)
    assert refused.returncode == 2 and f"case '{OTHER}' is not assigned to you (HTTP 403)" in refused.stderr
    out = tmp_path / "got.jpg"
    got = quarry(["get", cases[OWN]["sha256"], "--case", OWN, "--out", str(out)], examiner)
    assert got.returncode == 0, got.stderr
    assert hashlib.sha256(out.read_bytes()).hexdigest() == cases[OWN]["sha256"]
    missing = quarry(["get", cases[OTHER]["sha256"], "--out", str(tmp_path / "other.jpg")], examiner)
    assert missing.returncode == 2 and "(HTTP 404)" in missing.stderr and not (tmp_path / "other.jpg").exists()
    assert quarry(["submit", "--case", OWN, str(cases[OWN]["path"])], examiner).returncode == 2

    # Similar pictures over the API: only the examiner's case, the picture itself first.
    picture = cases[OWN]["picture"]
    similar = quarry(["find", "--similar-image", picture, "--all-cases", "--distance", "256", "--json"], examiner)
    assert similar.returncode == 0, similar.stderr
    ranked = [json.loads(line) for line in similar.stdout.splitlines()]
    assert ranked[0]["sha256"] == picture and ranked[0]["pdq_distance"] == 0
    assert {r["case"] for r in ranked} == {OWN} and len(ranked) == 20
    elsewhere = quarry(["find", "--similar-image", cases[OTHER]["picture"], "--all-cases"], examiner)
    assert elsewhere.returncode == 2 and "(HTTP 404)" in elsewhere.stderr
    wide = ["--all-cases", "--max-tlsh", "999", "--json"]
    alike = quarry(["find", "--similar-to", cases[OWN]["sha256"], *wide], examiner)
    assert alike.returncode == 0, alike.stderr
    assert {json.loads(line)["case"] for line in alike.stdout.splitlines()} == {OWN}
    hidden = quarry(["find", "--similar-to", cases[OTHER]["sha256"], "--all-cases"], examiner)
    assert hidden.returncode == 2 and "(HTTP 404)" in hidden.stderr

    operator = token_env(server, "operator", tmp_path / "operator-home")
    done = quarry(["submit", "--case", OWN, "--profile", "triage", str(cases[OWN]["path"])], operator, timeout=600)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^job \S+: done$", done.stdout, re.M), done.stdout
    listed = [json.loads(line) for line in quarry(["jobs", "--json"], operator).stdout.splitlines()]
    assert listed and {j["case"] for j in listed} == {OWN}
    assert quarry(["find", "--case", OWN], operator).returncode == 2


def test_a_killed_api_server_loses_no_job(server, cases, tmp_path) -> None:
    """The API keeps no state: a job submitted through it finishes while the server is
    killed, and a new server answers for it."""
    env = server["env"]

    def serve() -> tuple[subprocess.Popen, dict[str, Any]]:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "cluster.cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_http(f"http://127.0.0.1:{port}/v1/health", timeout=60)
        return proc, {**server, "port": port}

    first, at = serve()
    body = json.dumps({"case": OWN, "images": [str(cases[OWN]["path"])], "profile": "standard"}).encode()
    status, answer = request(at, "POST", "/v1/jobs", server["tokens"]["operator"], body)
    assert status == 201, answer
    job_id = json.loads(answer)["job"]
    first.kill()
    first.wait()
    second, at = serve()
    try:
        deadline = time.monotonic() + 300
        state = None
        while time.monotonic() < deadline:
            status, answer = request(at, "GET", "/v1/jobs", server["tokens"]["operator"])
            state = next(j["state"] for j in json.loads(answer)["jobs"] if j["id"] == job_id)
            if state in ("done", "partial", "failed", "cancelled"):
                break
            time.sleep(0.5)
        assert state == "done"
    finally:
        stop(second)
