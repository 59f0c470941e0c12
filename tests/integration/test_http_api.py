"""The HTTP API (`quarry serve`, run as a user runs it) over a real MinIO and real jobs: its
pages hold exactly what was planted, and exactly what `quarry find --format json` prints for
the same filters; the bytes it streams hash (hashlib) to the planted digest, and a tampered
object reaches the client cut short, never whole.

The answers are the forge's key (a planted file's offset, length and SHA-256) and what this
module plants itself in an image of zeros at offsets it chooses: the forged JPEG again, a
ZIP larger than the server's 1 MiB read chunk, a card number and an e-mail address. The
content is forged with a seed of this module's, so no other module's job holds it.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cluster import api
from cluster.forge import forge_image
from tests.conftest import REPO
from tests.integration.conftest import cli_env, free_port, quarry, stop, wait_http
from workers.store import ARTIFACTS, StoreConfig, artifact_key

MiB = 1 << 20
SEED = 7417
B_AT = MiB + 77  # the forged JPEG again (unaligned)
CARD_AT = MiB + (3 << 18)  # the card networks' Visa test number
MAIL_AT = CARD_AT + 4096
ZIP_AT = 2 * MiB + 4096 + 3  # a stored ZIP of about 2.5 MiB, crossing a 4 MiB segment edge
CARD = "4111111111111111"
MAIL = "examiner.api@quarry-test.example"
FILES = ("jpeg", "png", "pdf", "zip")


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict:
    """Image A, forged with its key; image B: zeros holding A's first intact JPEG, a card
    number, an e-mail address and a large stored ZIP, each at an offset chosen here."""
    root = tmp_path_factory.mktemp("api-images")
    a = root / "api-a.img"
    key = forge_image(a, 4 * MiB, seed=SEED)
    item = next(i for i in key["items"] if i["kind"] == "jpeg" and i["status"] == "intact")
    jpeg = a.read_bytes()[item["offset"] : item["offset"] + item["length"]]
    assert hashlib.sha256(jpeg).hexdigest() == item["sha256"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        # bytes 0x80-0xff over and over: no text for the feature scanner, no file signature
        z.writestr("pattern.bin", bytes(range(0x80, 0x100)) * (20 * 1024 + 37))
    big = out.getvalue()
    assert len(big) > 2 * MiB
    b = root / "api-b.img"
    image = bytearray(6 * MiB)
    image[B_AT : B_AT + len(jpeg)] = jpeg
    image[CARD_AT - 1 : CARD_AT + len(CARD) + 1] = f" {CARD}\n".encode()
    image[MAIL_AT - 1 : MAIL_AT + len(MAIL) + 1] = f" {MAIL}\n".encode()
    image[ZIP_AT : ZIP_AT + len(big)] = big
    b.write_bytes(image)
    return {"a": a, "b": b, "key": key, "item": item, "jpeg": jpeg, "zip": big}


@pytest.fixture(scope="module")
def jobs(settings, images) -> dict:
    """Job one in case api-a over A; job two in case api-b over A and B."""
    first = api.submit(settings, "api-a", [str(images["a"])])
    second = api.submit(settings, "api-b", [str(images["a"]), str(images["b"])])
    done = {name: api.wait(settings, job.id) for name, job in (("one", first), ("two", second))}
    for job in done.values():
        assert job.state == "done", job.error
    return done


AUTH: dict[str, str] = {}  # the bearer token `call` sends: an examiner of api-a and api-b


@pytest.fixture(scope="module")
def server(minio, tmp_path_factory):
    """`quarry serve` on a free loopback port, its log in a file; the base URL and the log.
    Requests carry the token of an examiner assigned both of this module's cases."""
    home = tmp_path_factory.mktemp("api-home")
    log = home / "serve.log"
    port = free_port()
    added = quarry(
        ["admin", "user", "add", "api-examiner", "--role", "examiner", "--case", "api-a", "--case", "api-b"],
        cli_env(minio.config, home),
    )
    assert added.returncode == 0, added.stderr
    AUTH["token"] = added.stdout.rsplit(": ", 1)[1].strip()
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cluster.cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=cli_env(minio.config, home),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        try:
            wait_http(f"http://127.0.0.1:{port}/v1/health", timeout=60)
        except TimeoutError as exc:
            raise AssertionError(f"quarry serve did not start:\n{log.read_text()[-3000:]}") from exc
        yield {"base": f"http://127.0.0.1:{port}", "log": log}
    finally:
        stop(proc)


def call(base: str, path: str, params: dict | None = None) -> tuple[int, dict, bytes]:
    """GET path?params: the status, the headers and the whole body."""
    url = base + path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {AUTH.get('token', '')}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def page(base: str, path: str, params: dict) -> dict:
    status, headers, body = call(base, path, params)
    assert status == 200, body
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(body)


def find_json(env: dict, params: dict) -> list[dict]:
    """`quarry find --format json` with the same filters, as rows."""
    args = ["find", "--format", "json"]
    for name, value in params.items():
        if name == "all_cases":
            args.append("--all-cases")
        elif name == "reveal":
            args.append("--reveal")
        elif name == "reason":
            args += ["--reason", value]
        elif name == "feature":
            args += ["--feature", value, *([params["value"]] if "value" in params else [])]
        elif name != "value":
            for v in value if isinstance(value, list) else [value]:
                args += [f"--{name.replace('_', '-')}", str(v)]
    r = quarry(args, env)
    assert r.returncode in (0, 1), r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def logged(server: dict, *lines: str, timeout: float = 10) -> str:
    """The server's log once it holds every one of `lines` (a request is logged after its
    answer has gone, so a client can be quicker than the line)."""
    deadline = time.monotonic() + timeout
    while True:
        log = server["log"].read_text()
        if all(line in log for line in lines) or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


def places(rows: list[dict]) -> set[tuple]:
    return {(r["case"], r["job"], r["image_path"], r["offset"], r["length"], r["sha256"]) for r in rows}


def test_health(server):
    status, headers, body = call(server["base"], "/v1/health")
    assert status == 200 and json.loads(body) == {"ok": True}
    assert headers["Content-Type"] == "application/json; charset=utf-8"


def test_filters_return_the_planted_items_and_what_quarry_find_prints(server, env, jobs, images):
    base, key, a, b = server["base"], images["key"], str(images["a"]), str(images["b"])
    one, two = jobs["one"].id, jobs["two"].id
    intact = [i for i in key["items"] if i["kind"] in FILES and i["status"] == "intact"]
    chosen, jpeg, big = images["item"], images["jpeg"], images["zip"]

    def planted(kinds: tuple[str, ...]) -> set[tuple]:
        return {("api-a", one, a, i["offset"], i["length"], i["sha256"]) for i in intact if i["kind"] in kinds}

    b_sha256 = hashlib.sha256(images["b"].read_bytes()).hexdigest()
    zip_place = ("api-b", two, b, ZIP_AT, len(big), hashlib.sha256(big).hexdigest())
    everywhere = {
        ("api-a", one, a, chosen["offset"], chosen["length"], chosen["sha256"]),
        ("api-b", two, a, chosen["offset"], chosen["length"], chosen["sha256"]),
        ("api-b", two, b, B_AT, chosen["length"], chosen["sha256"]),
    }
    cases = [
        ({"case": "api-a", "type": "jpeg", "status": "complete"}, planted(("jpeg",))),
        ({"case": "api-a", "type": ["png", "pdf"], "status": "complete"}, planted(("png", "pdf"))),
        ({"case": "api-a", "type": "png,pdf", "status": "complete"}, planted(("png", "pdf"))),
        ({"case": "api-a,api-b", "digest": chosen["sha256"]}, everywhere),
        ({"case": ["api-a", "api-b"], "digest": hashlib.md5(jpeg).hexdigest().upper()}, everywhere),
        ({"case": "api-b", "image": b_sha256, "min_size": "1M"}, {zip_place}),
        ({"case": "api-b", "image": "*/api-b.img"}, {zip_place, ("api-b", two, b, B_AT, len(jpeg), chosen["sha256"])}),
    ]
    assert planted(("jpeg",)) and planted(("png", "pdf"))
    for params, expected in cases:
        doc = page(base, "/v1/artifacts", {**params, "limit": 10000})
        assert places(doc["rows"]) == expected, params
        assert doc["total"] == len(doc["rows"]) == len(expected) and (doc["offset"], doc["limit"]) == (0, 10000)
        assert doc["rows"] == find_json(env, {**params, "limit": 10000}), params


def test_feature_hits_are_redacted_unless_revealed_as_quarry_find_does(server, env, jobs, images):
    base, two, b = server["base"], jobs["two"].id, str(images["b"])
    params = {"case": "api-b", "feature": "ccn"}
    doc = page(base, "/v1/features", params)
    assert doc["total"] == 1
    (hit,) = doc["rows"]
    assert (hit["job"], hit["image_path"], hit["offset"], hit["kind"]) == (two, b, CARD_AT, "ccn")
    assert hit["value"] == "411111******1111" and hit["context"] == "[redacted]"
    assert doc["rows"] == find_json(env, params)
    status, _, body = call(base, "/v1/features", {**params, "reveal": "1"})
    assert status == 400 and "state why in reason=" in json.loads(body)["error"]
    why = {"reveal": "1", "reason": "warrant 17/2026, card fraud"}
    shown = page(base, "/v1/features", {**params, **why})
    assert shown["rows"][0]["value"] == CARD and CARD in shown["rows"][0]["context"]
    assert shown["rows"] == find_json(env, {**params, **why})

    params = {"all_cases": "1", "feature": "email", "value": MAIL}
    doc = page(base, "/v1/features", params)
    assert [(r["case"], r["image_path"], r["offset"], r["value"]) for r in doc["rows"]] == [("api-b", b, MAIL_AT, MAIL)]
    assert doc["rows"] == find_json(env, params)
    revealed = "GET /v1/features?case=api-b&feature=ccn&reveal=1&reason=warrant+17/2026,+card+fraud 200 rows=1 "
    found = "GET /v1/features?all_cases=1&feature=email&value=[redacted] 200 rows=1 "
    log = logged(server, revealed, found)
    assert revealed in log and found in log
    assert MAIL not in log and CARD not in log


def test_pages_of_three_make_up_the_whole_result_without_overlap(server, jobs):
    base = server["base"]
    params = {"case": "api-a,api-b", "known": "good,bad,unknown", "sort": "-length"}
    whole = page(base, "/v1/artifacts", {**params, "limit": 10000})
    assert whole["total"] == len(whole["rows"]) > 9
    lengths = [r["length"] for r in whole["rows"]]
    assert lengths == sorted(lengths, reverse=True)
    pages = []
    for offset in range(0, whole["total"] + 3, 3):
        doc = page(base, "/v1/artifacts", {**params, "limit": 3, "offset": offset})
        assert (doc["total"], doc["offset"], doc["limit"]) == (whole["total"], offset, 3)
        assert len(doc["rows"]) == max(0, min(3, whole["total"] - offset))
        pages += doc["rows"]
    assert pages == whole["rows"]
    identity = [(r["case"], r["job"], r["image_index"], r["offset"], r["path"], r["sha256"], r["step"]) for r in pages]
    assert len(set(identity)) == len(identity)


@pytest.mark.parametrize(
    ("params", "message", "cli"),
    [
        ({"case": "api-a", "min_size": "lots"}, "min_size 'lots': give a number of bytes", ["--min-size", "lots"]),
        ({"case": "api-a", "digest": "xyz"}, "digest 'xyz': give the hex MD5 (32), SHA-1 (40)", ["--digest", "xyz"]),
        ({"case": "api-a", "origin": "stolen"}, "origin 'stolen': use one of allocated,", ["--origin", "stolen"]),
        ({"case": "api-a", "after": "yesterday"}, "after 'yesterday': give an ISO-8601 date", None),
        ({"case": "api-a", "colour": "red"}, "unknown filter 'colour'", None),
        ({"type": "jpeg"}, "no case given: name the case(s) to search", None),
        ({"case": "api-a", "limit": "0"}, "limit 0: the API serves pages; give 1 to 10000", None),
        ({"case": "api-a", "limit": "10001"}, "limit 10001: must be between 1 and 10000", None),
        ({"case": "api-a", "sort": "colour"}, "sort 'colour': sort by one of case, job", None),
    ],
)
def test_a_malformed_filter_is_a_400_naming_it(server, env, params, message, cli):
    status, headers, body = call(server["base"], "/v1/artifacts", params)
    assert status == 400 and headers["Content-Type"] == "application/json; charset=utf-8"
    error = json.loads(body)["error"]
    assert error.startswith(message), error
    if cli:  # the CLI's parser is the same one: the same words
        r = quarry(["find", "--case", "api-a", *cli], env)
        assert r.returncode == 2 and r.stderr.strip() == f"quarry: error: {error}"


def test_feature_requests_that_cannot_be_answered_are_400s(server):
    base = server["base"]
    for path, params, message in [
        ("/v1/features", {"case": "api-b"}, "feature: name the kind of feature hits (feature=KIND), one of email,"),
        ("/v1/features", {"case": "api-b", "feature": "shoe_size"}, "feature kind 'shoe_size': use one of email,"),
        ("/v1/features", {"case": "api-b", "feature": "ccn", "reveal": "maybe"}, "reveal 'maybe': give 1 or 0"),
        ("/v1/artifacts", {"case": "api-b", "feature": "ccn"}, "feature hits are served at /v1/features"),
    ]:
        status, _, body = call(base, path, params)
        assert status == 400 and json.loads(body)["error"].startswith(message), body


def test_a_case_not_assigned_is_a_403_and_an_unknown_path_a_404(server, jobs, images):
    base = server["base"]
    for path, params in [
        ("/v1/artifacts", {"case": "api-no-such-case"}),
        ("/v1/features", {"case": "api-no-such-case", "feature": "email"}),
        ("/v1/artifacts", {"case": "api-a,api-no-such-case"}),
    ]:
        status, _, body = call(base, path, params)
        assert status == 403 and json.loads(body)["error"] == "case 'api-no-such-case' is not assigned to you"
    status, _, body = call(base, "/v1/nothing-here")
    assert status == 404 and json.loads(body)["error"].startswith("no endpoint /v1/nothing-here; endpoints: ")
    sha = images["item"]["sha256"]
    unknown = hashlib.sha256(f"never planted {SEED}".encode()).hexdigest()
    for path, params in [
        (f"/v1/artifacts/{unknown}/provenance", None),
        (f"/v1/artifacts/{unknown}/content", None),
    ]:
        status, _, body = call(base, path, params)
        assert status == 404 and json.loads(body)["error"].startswith("no artifact with sha256 "), body
    status, _, body = call(base, f"/v1/artifacts/{sha}/content", {"case": "api-no-such-case"})
    assert status == 403, body
    status, _, body = call(base, "/v1/artifacts/xyz/content")
    assert status == 400 and json.loads(body)["error"].startswith("sha256 'xyz': expected 64 hexadecimal digits")


def test_content_is_the_planted_bytes_with_their_digest(server, jobs, images):
    for sha256, data in ((images["item"]["sha256"], images["jpeg"]), (None, images["zip"])):
        sha256 = sha256 or hashlib.sha256(data).hexdigest()
        status, headers, body = call(server["base"], f"/v1/artifacts/{sha256.upper()}/content", {"case": "api-b"})
        assert status == 200
        assert hashlib.sha256(body).hexdigest() == sha256 and body == data
        assert headers["Content-Type"] == "application/octet-stream"
        assert int(headers["Content-Length"]) == len(data)
        assert headers["Repr-Digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode()}:"
    line = f"/content?case=api-b 200 bytes={len(images['zip'])} "
    assert line in logged(server, line)


def read_all(base: str, path: str) -> tuple[int, int, bytes, bool]:
    """GET path read to the end or to a cut: status, Content-Length, the bytes, whether whole."""
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {AUTH['token']}"})
        resp = conn.getresponse()
        length = int(resp.headers.get("Content-Length") or -1)
        try:
            return resp.status, length, resp.read(), True
        except http.client.IncompleteRead as exc:
            return resp.status, length, exc.partial, False
    finally:
        conn.close()


def test_a_tampered_object_reaches_the_client_cut_short(server, jobs, store, images):
    data = images["zip"]
    sha256 = hashlib.sha256(data).hexdigest()
    key = artifact_key(sha256)
    assert store.get_bytes(ARTIFACTS, key) == data
    altered = bytearray(data)
    altered[len(altered) // 2] ^= 0xFF
    store.put_bytes(ARTIFACTS, key, bytes(altered), "application/octet-stream")
    try:
        status, length, got, whole = read_all(server["base"], f"/v1/artifacts/{sha256}/content")
        assert status == 200 and length == len(data)
        assert not whole and 0 < len(got) < len(data)  # chunks before the last, never all of it
        assert got == bytes(altered[: len(got)])
        cut = f"cut short of {len(data)} bytes: DIGEST MISMATCH: stored artifact {sha256} "
        log = logged(server, cut)
        assert cut in log
        assert f"sha256 {sha256} asked for, {hashlib.sha256(altered).hexdigest()} read" in log

        store.remove(ARTIFACTS, key)
        status, _, body = call(server["base"], f"/v1/artifacts/{sha256}/content")
        assert status == 502 and json.loads(body)["error"].startswith(f"MISSING: artifact {sha256} is listed")
    finally:
        store.put_bytes(ARTIFACTS, key, data, "application/octet-stream")  # later tests see it whole
    status, _, got, whole = read_all(server["base"], f"/v1/artifacts/{sha256}/content")
    assert status == 200 and whole and hashlib.sha256(got).hexdigest() == sha256


def test_provenance_lists_the_planted_offsets_as_quarry_get_does(server, env, jobs, images, tmp_path):
    item, a, b = images["item"], str(images["a"]), str(images["b"])
    one, two = jobs["one"].id, jobs["two"].id
    status, headers, body = call(server["base"], f"/v1/artifacts/{item['sha256']}/provenance")
    assert status == 200 and headers["Transfer-Encoding"] == "chunked"
    doc = json.loads(body)
    assert (doc["sha256"], doc["case"]) == (item["sha256"], None)
    assert {(p["case"], p["job"], p["image_path"], p["offset"], p["length"]) for p in doc["places"]} == {
        ("api-a", one, a, item["offset"], item["length"]),
        ("api-b", two, a, item["offset"], item["length"]),
        ("api-b", two, b, B_AT, item["length"]),
    }
    assert {j["job"] for j in doc["jobs"]} == {one, two}

    status, _, body = call(server["base"], f"/v1/artifacts/{item['sha256']}/provenance", {"case": "api-b"})
    doc = json.loads(body)
    assert {(p["image_path"], p["offset"]) for p in doc["places"]} == {(a, item["offset"]), (b, B_AT)}
    r = quarry(["get", item["sha256"], "--out", str(tmp_path), "--case", "api-b", "--json"], env)
    assert r.returncode == 0, r.stderr
    cli = json.loads(r.stdout)
    assert cli.pop("file")["sha256"] == item["sha256"]
    assert doc == cli


def test_one_connection_carries_many_requests_and_many_connections_run_at_once(server, jobs, images):
    """Keep-alive framing (Content-Length, chunked) holds across answers of every kind, and
    concurrent queries over the one shared catalog give what a lone query gives."""
    url = urllib.parse.urlsplit(server["base"])
    sha256 = images["item"]["sha256"]
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    try:
        answers = []
        for path in [
            "/v1/artifacts?case=api-a&type=jpeg&status=complete",
            "/v1/nothing-here",
            f"/v1/artifacts/{sha256}/provenance?case=api-a",
            f"/v1/artifacts/{sha256}/content?case=api-a",
            "/v1/artifacts?case=api-a&min_size=lots",
            "/v1/health",
        ]:
            conn.request("GET", path, headers={"Authorization": f"Bearer {AUTH['token']}"})
            resp = conn.getresponse()
            answers.append((resp.status, resp.read()))
    finally:
        conn.close()
    assert [status for status, _ in answers] == [200, 404, 200, 200, 400, 200]
    assert json.loads(answers[0][1])["total"] == sum(
        1 for i in images["key"]["items"] if i["kind"] == "jpeg" and i["status"] == "intact"
    )
    assert [p["offset"] for p in json.loads(answers[2][1])["places"]] == [images["item"]["offset"]]
    assert hashlib.sha256(answers[3][1]).hexdigest() == sha256
    assert json.loads(answers[5][1]) == {"ok": True}

    params = {"case": "api-a,api-b", "known": "good,bad,unknown", "limit": 4}
    alone = [page(server["base"], "/v1/artifacts", {**params, "offset": o}) for o in range(0, 36, 4)]
    with ThreadPoolExecutor(8) as pool:
        together = list(
            pool.map(lambda o: page(server["base"], "/v1/artifacts", {**params, "offset": o}), range(0, 36, 4))
        )
    assert together == alone


def test_a_store_that_is_down_is_a_503_naming_it(tmp_path: Path):
    """A server whose MinIO does not answer: queries are 503s with the store's message."""
    port, dead = free_port(), free_port()
    env = cli_env(StoreConfig(f"127.0.0.1:{dead}", "nobody", "wrong-secret"), tmp_path)
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cluster.cli", "serve", "--port", str(port)], cwd=REPO, env=env, stderr=err
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/health", timeout=60)
        AUTH.setdefault("token", "qry_" + "x" * 43)  # well formed: only the store can tell
        status, _, body = call(f"http://127.0.0.1:{port}", "/v1/artifacts", {"case": "api-a"})
        assert status == 503, body  # the token cannot even be checked
        error = json.loads(body)["error"]
        assert error.startswith("store unavailable: ") and f"127.0.0.1:{dead}" in error, error
    finally:
        stop(proc)
    assert "GET /v1/artifacts?case=api-a 503 " in log.read_text()


def test_serve_refuses_a_port_it_cannot_listen_on(server, env):
    port = urllib.parse.urlsplit(server["base"]).port
    r = quarry(["serve", "--port", str(port)], env, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().startswith(f"quarry: error: --host 127.0.0.1 --port {port}: cannot listen: ")
