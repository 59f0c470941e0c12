"""The examiners' HTTP API (`quarry serve`): the catalog's queries, an artifact's provenance
and its verified bytes, as JSON over HTTP for tools and notebooks (docs/api.md).

Query parameters go through the parser `quarry find` uses (cluster/query.py), so the API and
the CLI accept the same names and return the same rows; what the parser refuses is a 400
carrying its message. Pages only: a whole result is the CLI's export, not a response.

Artifact bytes are streamed through cluster/retrieval.py, which holds the last chunk back
until the content is verified: on a mismatch the connection is cut short of the promised
Content-Length, so a client never receives a complete, wrong file.

Every endpoint but /v1/health asks for a bearer token (issued by `quarry admin user add`)
and answers only within the user's role and assigned cases (cluster/auth.py): an examiner
reads the artifacts of their cases, an operator submits, follows and cancels jobs in theirs,
an admin lists users. Every request, allowed or denied, is entered in the audit log
(cluster/audit.py) with who, what and (for revealing sensitive features) why.
"""

from __future__ import annotations

import base64
import json
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlencode, urlsplit

import duckdb

from cluster.audit import AuditLog
from cluster.auth import User, Users
from cluster.catalog import ArtifactNotFound
from cluster.provenance import Provenance, parse_sha256
from cluster.query import MAX_PAGE, NAME, Query, QueryError, parse_query, parse_ranked_query
from cluster.query_engine import catalog_for
from cluster.retrieval import GetFailed, VerifiedRead
from cluster.similar import find_similar
from cluster.similar_images import (
    DEFAULT_DISTANCE,
    Reference,
    parse_distance,
    parse_pdq,
    reference_of_artifact,
    similar_pictures,
)
from workers.features import KINDS, redact_row
from workers.store import ObjectStore, StoreConfig, StoreUnavailable

QUERY_SLOTS = 4  # catalog queries cut at once (each a DuckDB connection with its own memory limit)
MAX_FIELDS = 200  # query parameters per request
FLUSH_BYTES = 64 << 10  # a streamed JSON document is sent in pieces of about this size
# Parameters whose values never reach the log: a feature value can be a card number or a key.
SECRET_PARAMS = frozenset({"value"})
SECRET_WORDS = ("token", "secret", "password", "key")
ENDPOINTS = (
    "/v1/artifacts, /v1/features, /v1/artifacts/SHA256/provenance, /v1/artifacts/SHA256/content, "
    "/v1/artifacts/SHA256/similar, /v1/similar-images, /v1/jobs, "
    "POST /v1/jobs, POST /v1/jobs/JOB/cancel, /v1/admin/users, /v1/health"
)
SIMILAR_BOUNDS = {"min_ssdeep": 1, "max_tlsh": 100}  # /v1/artifacts/SHA256/similar's defaults, as the CLI's
MAX_BODY = 64 << 10  # bytes of a POST body (a job submission)
MIN_REASON = 4  # characters of a stated reason for revealing sensitive features
JSON_TYPE = "application/json; charset=utf-8"
_log_lock = threading.Lock()


class ApiError(Exception):
    """A request answered with an error status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Outcome:
    """What a request's log line reports."""

    status: int | None = None
    rows: int | None = None
    sent: int | None = None  # artifact bytes
    note: str = ""


def loggable(raw: str) -> str:
    """The request's path and parameters as the log shows them: secrets replaced, everything
    percent-encoded (no control character from a request reaches the log)."""
    url = urlsplit(raw)
    path = quote(unquote(url.path), safe="/")
    try:
        pairs = parse_qsl(url.query, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        return f"{path}?[too many parameters]"
    shown = [
        (k, "[redacted]" if k in SECRET_PARAMS or any(w in k.lower() for w in SECRET_WORDS) else v) for k, v in pairs
    ]
    return path + ("?" + urlencode(shown, safe=",*[]:/") if shown else "")


def log_line(text: str) -> None:
    with _log_lock:
        sys.stderr.write(f"quarry serve: {text}\n")
        sys.stderr.flush()


def _flag(name: str, values: Sequence[str] | None) -> bool:
    if not values:
        return False
    if len(values) > 1:
        raise QueryError(f"{name} given {len(values)} times; give it once")
    text = values[0].strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("", "0", "false", "no"):
        return False
    raise QueryError(f"{name} {values[0]!r}: give 1 or 0")


def _scope(params: dict[str, list[str]]) -> str | None:
    """The one case a retrieval is confined to, or None for every case (as `quarry get`)."""
    unknown = sorted(set(params) - {"case", "all_cases"})
    if unknown:
        raise QueryError(f"unknown parameter {unknown[0]!r}: give case=CASE, or nothing for every case")
    cases = params.get("case") or []
    if len(cases) > 1:
        raise QueryError(f"case given {len(cases)} times; give it once")
    if not cases:
        return None
    if not NAME.fullmatch(cases[0]):
        raise QueryError(f"case {cases[0]!r}: letters, digits and . _ @ + = - only")
    return cases[0]


class ApiServer(ThreadingHTTPServer):
    """One process's server: a thread per connection, one catalog and store client for all."""

    daemon_threads = True

    def __init__(self, config: StoreConfig, host: str, port: int, settings: Any = None) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.settings = settings  # cluster settings, for submitting jobs (None: submission refused)
        self.store = ObjectStore(config)
        self.users = Users(self.store)
        self.audit = AuditLog(self.store)
        self.catalog = catalog_for(config)
        self.slots = threading.BoundedSemaphore(QUERY_SLOTS)
        super().__init__((host, port), Handler)


class Handler(BaseHTTPRequestHandler):
    """One connection; requests on it answered in turn (HTTP/1.1 keep-alive)."""

    protocol_version = "HTTP/1.1"
    server_version = "quarry"
    timeout = 60  # an idle or stalled connection gives its thread back
    server: ApiServer

    # -- dispatch ------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.handle_request()

    def do_POST(self) -> None:  # noqa: N802
        self.handle_request()

    def handle_request(self) -> None:
        started = time.monotonic()
        self.outcome = Outcome()
        self.streaming = False
        self.user: User | None = None
        self.action = "api.request"
        self.case: str | None = None
        self.target: str | None = None
        self.reason: str | None = None
        self.granted = False
        if self.command == "GET" and (
            self.headers.get("Content-Length", "0").strip() not in ("", "0") or "Transfer-Encoding" in self.headers
        ):
            self.close_connection = True  # a body this server never reads must not be taken for a request
        try:
            self.route()
        except ApiError as exc:
            self.fail(exc.status, str(exc))
        except (QueryError, ValueError) as exc:
            self.fail(400, str(exc))
        except (StoreUnavailable, duckdb.IOException) as exc:
            self.fail(503, f"store unavailable: {exc}")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
            self.outcome.note = "client gone"
        except Exception as exc:  # a bug: logged whole, the client told only that it happened
            traceback.print_exc(file=sys.stderr)
            self.fail(500, f"internal error ({type(exc).__name__}); see the server's log")
        finally:
            self.log_outcome(started)
            self.record()

    def refuse_method(self) -> None:
        started = time.monotonic()
        self.outcome = Outcome()
        self.close_connection = True
        self.send_json(
            405, {"error": f"{self.command}: the API answers GET and POST (docs/api.md)"}, {"Allow": "GET, POST"}
        )
        self.log_outcome(started)

    do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse_method  # noqa: N815

    def route(self) -> None:
        url = urlsplit(self.path)
        try:
            params = parse_qs(url.query, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except ValueError:
            raise ApiError(400, f"more than {MAX_FIELDS} query parameters") from None
        path = unquote(url.path)
        if path == "/v1/health" and self.command == "GET":
            self.action = ""  # not an access to anything: not audited
            self.send_json(200, {"ok": True})
            return
        self.authenticate()
        if self.command == "POST":
            if path == "/v1/jobs":
                self.submit_job()
            elif path.startswith("/v1/jobs/") and path.endswith("/cancel") and path.count("/") == 4:
                self.cancel_job(path.split("/")[3])
            else:
                raise ApiError(404, f"no endpoint POST {quote(path, safe='/')}; endpoints: {ENDPOINTS}")
        elif path == "/v1/artifacts":
            self.page(params, features=False)
        elif path == "/v1/features":
            self.page(params, features=True)
        elif path.startswith("/v1/artifacts/") and path.count("/") == 4 and path.endswith("/similar"):
            self.similar(parse_sha256(path.split("/")[3]), params)
        elif path.startswith("/v1/artifacts/") and path.count("/") == 4 and path.endswith(("/provenance", "/content")):
            _, _, _, digest, what = path.split("/")
            self.action = "artifact.provenance" if what == "provenance" else "artifact.download"
            sha256 = parse_sha256(digest)
            self.target = sha256
            cases = self.scope(_scope(params))
            (self.provenance if what == "provenance" else self.content)(sha256, cases)
        elif path == "/v1/similar-images":
            self.similar_images(params)
        elif path == "/v1/jobs":
            self.list_jobs()
        elif path == "/v1/admin/users":
            self.list_users()
        else:
            raise ApiError(404, f"no endpoint {quote(path, safe='/')}; endpoints: {ENDPOINTS}")

    # -- who may do what -----------------------------------------------------------------

    def authenticate(self) -> None:
        """The request's user from its bearer token; 401 without a valid one."""
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = self.server.users.authenticate(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            self.action = "auth.refused"
            why = "no bearer token" if not header else "the token is unknown, replaced or disabled"
            raise ApiError(401, f"authentication required: {why} (Authorization: Bearer TOKEN)")
        self.user = user

    def need(self, role: str, action: str) -> User:
        """The user, who must hold `role` for `action`; 403 (audited as denied) otherwise."""
        self.action = action
        assert self.user is not None
        if self.user.role != role:
            raise ApiError(403, f"{action}: not allowed to the {self.user.role} role")
        return self.user

    def scope(self, case: str | None) -> tuple[str, ...]:
        """The cases a request may read: the one it names, which must be assigned to the user,
        or all of the user's cases."""
        user = self.need("examiner", self.action)
        if case is not None:
            self.case = case
            if case not in user.cases:
                raise ApiError(403, f"case {case!r} is not assigned to you")
            return (case,)
        return user.cases

    def record(self) -> None:
        """A refused or failed request's entry in the audit log (an allowed one was entered
        before it was served; secrets and feature values never enter it)."""
        if not self.action or self.granted:
            return
        status = self.outcome.status or 0
        outcome = "allowed" if 200 <= status < 400 else "denied" if status in (401, 403, 404) else "failed"
        user = self.user
        try:
            self.server.audit.append(
                actor=user.name if user else "anonymous",
                role=user.role if user else "anonymous",
                action=self.action,
                outcome=outcome,
                case=self.case,
                target=self.target,
                reason=self.reason,
                details={
                    "request": f"{self.command} {loggable(self.path)}"[:2000],
                    "status": status,
                    "client": self.client_address[0],
                    **({"rows": self.outcome.rows} if self.outcome.rows is not None else {}),
                    **({"bytes": self.outcome.sent} if self.outcome.sent is not None else {}),
                },
            )
        except Exception as exc:  # the response has gone; the failure to record it must be seen
            log_line(f"AUDIT LOG WRITE FAILED for {self.command} {loggable(self.path)}: {type(exc).__name__}: {exc}")

    # -- endpoints -----------------------------------------------------------------------

    def page(self, params: dict[str, list[str]], features: bool) -> None:
        """A page of artifacts or of feature hits, parsed exactly as `quarry find` parses,
        confined to the user's cases."""
        self.action = "feature.query" if features else "artifact.query"
        reveal = _flag("reveal", params.pop("reveal", None)) if features else False
        reasons = params.pop("reason", None) or []
        if features and "feature" not in params:
            raise QueryError(f"feature: name the kind of feature hits (feature=KIND), one of {', '.join(KINDS)}")
        if not features and ("feature" in params or "value" in params):
            raise QueryError("feature hits are served at /v1/features, not /v1/artifacts")
        limits = params.get("limit") or []
        if len(limits) == 1 and limits[0].strip().isdigit() and int(limits[0]) > MAX_PAGE:
            raise QueryError(f"limit {int(limits[0])}: must be between 1 and {MAX_PAGE}; page with offset")
        query = parse_query(params, KINDS)
        if query.limit == 0:
            raise QueryError(f"limit 0: the API serves pages; give 1 to {MAX_PAGE} and page with offset")
        if reveal:
            self.action = "feature.reveal"
            self.reason = reasons[0].strip() if len(reasons) == 1 else ""
            if len(self.reason) < MIN_REASON:
                raise QueryError("reveal=1: state why in reason=... (it is entered in the audit log)")
        query = self.confine(query)
        if not query.cases:
            self.send_json(200, {"total": 0, "offset": query.offset, "limit": query.limit, "rows": []})
            return
        with self.server.slots:
            page = self.server.catalog.page(query)
        rows = page.rows if reveal or not features else [redact_row(r) for r in page.rows]
        self.outcome.rows = len(rows)
        self.send_json(200, {"total": page.total, "offset": query.offset, "limit": query.limit, "rows": rows})

    def confine(self, query: Query) -> Query:
        """The query within the examiner's cases: those it names, which must all be theirs,
        or all of theirs."""
        user = self.need("examiner", self.action)
        if query.cases is None:
            return replace(query, cases=user.cases)
        self.case = query.cases[0] if len(query.cases) == 1 else None
        refused = [c for c in query.cases if c not in user.cases]
        if refused:
            raise ApiError(403, f"case {refused[0]!r} is not assigned to you")
        return query

    def user_cases(self) -> tuple[str, ...]:
        assert self.user is not None
        return self.user.cases

    def similar(self, sha256: str, params: dict[str, list[str]]) -> None:
        """Artifacts ranked by ssdeep score, then TLSH distance, to an artifact of the user's
        cases (min_ssdeep=, default 1; max_tlsh=, default 100), narrowed by any artifact filter."""
        self.action = "artifact.similar"
        self.target = sha256
        bounds = {name: params.pop(name, None) or [str(default)] for name, default in SIMILAR_BOUNDS.items()}
        if any(len(v) != 1 for v in bounds.values()):
            raise QueryError("min_ssdeep and max_tlsh: give each at most once")
        try:
            min_ssdeep, max_tlsh = (int(v[0]) for v in bounds.values())
        except ValueError:
            raise QueryError("min_ssdeep and max_tlsh: give whole numbers") from None
        query = self.confine(parse_ranked_query(params, "similar artifacts"))
        try:
            with self.server.slots:
                ref, rows = find_similar(
                    self.server.catalog, self.server.store, query, sha256, min_ssdeep, max_tlsh, self.user_cases()
                )
        except ArtifactNotFound:
            raise ApiError(404, f"no artifact with sha256 {sha256} in your cases") from None
        self.outcome.rows = len(rows)
        about = {"sha256": ref.sha256, "ssdeep": ref.ssdeep, "tlsh": ref.tlsh}
        self.send_json(200, {"reference": about, "rows": rows})

    def similar_images(self, params: dict[str, list[str]]) -> None:
        """Pictures ranked by PDQ distance to a picture of the user's cases (sha256=) or to a
        PDQ hash (pdq=), within distance= bits (default 31), narrowed by any artifact filter."""
        self.action = "artifact.similar_image"
        sha = params.pop("sha256", None) or []
        pdq = params.pop("pdq", None) or []
        distances = params.pop("distance", None) or [str(DEFAULT_DISTANCE)]
        if len(sha) + len(pdq) != 1 or len(distances) != 1:
            raise QueryError("give the picture as sha256=SHA256 or pdq=HEX (once), and distance= at most once")
        distance = parse_distance(distances[0])
        query = self.confine(parse_ranked_query(params, "similar pictures"))
        if pdq:
            reference = Reference(parse_pdq(pdq[0]), None, "pdq")
        else:
            self.target = parse_sha256(sha[0])
            try:
                with self.server.slots:
                    reference = reference_of_artifact(self.server.store, self.target, self.user_cases())
            except ArtifactNotFound:
                raise ApiError(404, f"no artifact with sha256 {self.target} in your cases") from None
            except ValueError as exc:
                raise ApiError(422, str(exc)) from None
        self.target = self.target or reference.pdq
        rows: list[dict[str, Any]] = []
        if query.cases:
            with self.server.slots:
                rows = similar_pictures(self.server.catalog, query, reference, distance, query.limit)
        self.outcome.rows = len(rows)
        about = {"pdq": reference.pdq, "quality": reference.quality, "sha256": reference.sha256, "distance": distance}
        self.send_json(200, {"reference": about, "rows": rows})

    def _known(self, sha256: str, cases: tuple[str, ...]) -> tuple[Provenance, dict[str, Any]]:
        prov = Provenance(self.server.store, sha256, self.case, within=cases)
        with self.server.slots:
            first = prov.first() if cases else None
        if first is None:
            scope = f"case {self.case!r}" if self.case else "your cases"
            raise ApiError(404, f"no artifact with sha256 {sha256} in {scope}")
        return prov, first

    def provenance(self, sha256: str, cases: tuple[str, ...]) -> None:
        """`quarry get --json`'s document without the file: streamed place by place (a digest
        can lie in any number of places), in chunked encoding, so a cut is visible."""
        prov, _ = self._known(sha256, cases)
        self.start(200, JSON_TYPE, {"Transfer-Encoding": "chunked"})
        pending = [json.dumps({"sha256": prov.sha256, "case": prov.case})[:-1] + ', "places": [']
        size, count = len(pending[0]), 0
        for row in prov.places():
            text = (", " if count else "") + json.dumps(row)
            pending.append(text)
            size += len(text)
            count += 1
            if size >= FLUSH_BYTES:
                self.chunk("".join(pending))
                pending, size = [], 0
        pending.append('], "jobs": ' + json.dumps([j.as_dict() for j in prov.jobs.values()]) + "}")
        self.chunk("".join(pending))
        self.wfile.write(b"0\r\n\r\n")
        self.outcome.rows = count

    def content(self, sha256: str, cases: tuple[str, ...]) -> None:
        """The artifact's bytes, verified as they stream; cut before the last chunk when they
        are not the content recorded."""
        _, first = self._known(sha256, cases)
        try:
            read = VerifiedRead(self.server.store, sha256, first)
        except GetFailed as exc:
            raise ApiError(502, str(exc)) from None
        digest = base64.b64encode(bytes.fromhex(sha256)).decode()
        headers = {
            "Content-Length": str(read.size),
            "Repr-Digest": f"sha-256=:{digest}:",
            "Digest": f"SHA-256={digest}",
            "Content-Disposition": f'attachment; filename="{sha256}"',
            "X-Content-Type-Options": "nosniff",
        }
        self.start(200, "application/octet-stream", headers)
        self.outcome.sent = 0
        chunks = read.chunks()
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.outcome.sent += len(chunk)
        except GetFailed as exc:
            self.close_connection = True
            self.outcome.note = f"cut short of {read.size} bytes: {exc}"
        finally:
            chunks.close()

    def body(self) -> dict[str, Any]:
        """A POST's JSON object body, bounded."""
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            raise ApiError(411, "a POST needs a Content-Length") from None
        if length > MAX_BODY or length < 0:
            self.close_connection = True
            raise ApiError(413, f"request body of {length} bytes; at most {MAX_BODY}")
        try:
            doc = json.loads(self.rfile.read(length) or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"request body is not JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise ApiError(400, "request body must be a JSON object")
        return doc

    def operator_case(self, case: Any, action: str) -> str:
        user = self.need("operator", action)
        if not isinstance(case, str) or not NAME.fullmatch(case):
            raise ApiError(400, f"case {case!r}: letters, digits and . _ @ + = - only")
        self.case = case
        if case not in user.cases:
            raise ApiError(403, f"case {case!r} is not assigned to you")
        return case

    def submit_job(self) -> None:
        """POST /v1/jobs {"case", "images": [...], "profile"?, "priority"?, "expect"?}: a job
        on images the server's cluster sees, in one of the operator's cases."""
        self.action = "job.submit"
        doc = self.body()
        case = self.operator_case(doc.get("case"), "job.submit")
        from cluster import api
        from cluster.profiles import DEFAULT_PROFILE, load_profile

        unknown = sorted(set(doc) - {"case", "images", "profile", "priority", "expect"})
        if unknown:
            raise ApiError(400, f"unknown field {unknown[0]!r}: give case, images, profile, priority, expect")
        images = doc.get("images")
        if not isinstance(images, list) or not images or not all(isinstance(i, str) for i in images):
            raise ApiError(400, "images: a non-empty list of image paths")
        if self.server.settings is None:
            raise ApiError(503, "this server was started without cluster settings; it cannot submit jobs")
        profile = load_profile(str(doc.get("profile") or DEFAULT_PROFILE))
        priority = doc.get("priority", profile.priority)
        if not isinstance(priority, int):
            raise ApiError(400, f"priority {priority!r}: an integer")
        expect = doc.get("expect") or []
        job = api.prepare(
            self.server.settings,
            case,
            images,
            profile.hash_plan(),
            expect=expect,
            carve=profile.carve,
            yara_raw=profile.yara_raw,
            yara_timeout=profile.yara_timeout,
            priority=priority,
            task_timeout=profile.task_timeout,
            profile=profile.name,
        )
        self.target = job.id
        self.grant()  # recorded before the job exists: nothing runs unrecorded
        try:
            api.launch(self.server.settings, job)
        except ConnectionError as exc:
            raise ApiError(503, f"the Ray cluster cannot be reached: {exc}") from None
        self.send_json(201, {"job": job.id, "case": case, "images": len(job.images), "bytes": job.bytes_total})

    def cancel_job(self, job_id: str) -> None:
        from cluster import api
        from cluster.jobs import Journal

        self.action, self.target = "job.cancel", job_id
        job = Journal(self.server.store).find(job_id)
        self.operator_case(job.case, "job.cancel")
        if self.server.settings is None:
            raise ApiError(503, "this server was started without cluster settings; it cannot cancel jobs")
        self.grant()
        state = api.cancel(self.server.settings, job_id)
        self.send_json(200, {"job": job_id, "state": state})

    def list_jobs(self) -> None:
        """The jobs of the user's cases (operators and examiners), newest last."""
        from cluster.jobs import Journal

        self.action = "job.list"
        user = self.user
        assert user is not None
        if user.role not in ("operator", "examiner"):
            raise ApiError(403, f"job.list: not allowed to the {user.role} role")
        jobs = [j for j in Journal(self.server.store).all() if j.case in user.cases]
        rows = [
            {"id": j.id, "case": j.case, "state": j.state, "priority": j.priority, "progress": round(j.progress, 4)}
            for j in jobs
        ]
        self.outcome.rows = len(rows)
        self.send_json(200, {"jobs": rows})

    def list_users(self) -> None:
        self.need("admin", "admin.user.list")
        rows = [
            {"name": u.name, "role": u.role, "cases": list(u.cases), "disabled": u.disabled}
            for u in self.server.users.all()
        ]
        self.outcome.rows = len(rows)
        self.send_json(200, {"users": rows})

    def grant(self) -> None:
        """Enter the allowed access in the audit log before anything is served: if the log
        cannot be written, nothing is (503)."""
        if self.granted or not self.action:
            return
        user = self.user
        self.server.audit.append(
            actor=user.name if user else "anonymous",
            role=user.role if user else "anonymous",
            action=self.action,
            outcome="allowed",
            case=self.case,
            target=self.target,
            reason=self.reason,
            details={"request": f"{self.command} {loggable(self.path)}"[:2000], "client": self.client_address[0]},
        )
        self.granted = True

    # -- writing -------------------------------------------------------------------------

    def start(self, status: int, content_type: str, headers: dict[str, str] | None = None) -> None:
        """The status line and headers; from here on an error can only cut the connection.
        An allowed access is in the audit log before its first byte leaves."""
        if status < 400:
            self.grant()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-store")  # evidence is not for caches
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.streaming = True
        self.outcome.status = status

    def chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def send_json(self, status: int, doc: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = json.dumps(doc).encode()  # ASCII: escapes keep any odd path text intact
        self.start(status, JSON_TYPE, {"Content-Length": str(len(body)), **(headers or {})})
        if self.command != "HEAD":
            self.wfile.write(body)

    def fail(self, status: int, message: str) -> None:
        """An error as JSON, or, once a response is under way, a cut connection."""
        if self.streaming:
            self.close_connection = True
            self.outcome.note = f"cut: {message}"
            return
        self.outcome.note = message
        try:
            self.send_json(status, {"error": message})
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def log_outcome(self, started: float) -> None:
        """The request's one log line: method, path (secrets withheld), status, rows or bytes, time."""
        o = self.outcome
        counts = f" rows={o.rows}" if o.rows is not None else ""
        counts += f" bytes={o.sent}" if o.sent is not None else ""
        note = f"  {o.note}" if o.note else ""
        ms = (time.monotonic() - started) * 1000
        log_line(f"{self.command} {loggable(self.path)} {o.status or '-'}{counts} {ms:.0f} ms{note}")

    def version_string(self) -> str:
        return self.server_version  # not Python's version: nothing an attacker can use

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are logged once, by do_GET, with what they returned."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        log_line(format % args)
