"""The examiners' HTTP API (`quarry serve`): the catalog's queries, an artifact's provenance
and its verified bytes, as JSON over HTTP for tools and notebooks (docs/api.md).

Query parameters go through the parser `quarry find` uses (cluster/query.py), so the API and
the CLI accept the same names and return the same rows; what the parser refuses is a 400
carrying its message. Pages only: a whole result is the CLI's export, not a response.

Artifact bytes are streamed through cluster/retrieval.py, which holds the last chunk back
until the content is verified: on a mismatch the connection is cut short of the promised
Content-Length, so a client never receives a complete, wrong file.

There is no authentication yet (the security issue brings tokens and per-case roles): the
server binds the loopback address by default and must not be exposed beyond the host.
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
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlencode, urlsplit

import duckdb

from cluster.provenance import Provenance, parse_sha256
from cluster.query import MAX_PAGE, NAME, QueryError, parse_query
from cluster.query_engine import catalog_for
from cluster.retrieval import GetFailed, VerifiedRead
from workers.features import KINDS, redact_row
from workers.store import ObjectStore, StoreConfig, StoreUnavailable

QUERY_SLOTS = 4  # catalog queries cut at once (each a DuckDB connection with its own memory limit)
MAX_FIELDS = 200  # query parameters per request
FLUSH_BYTES = 64 << 10  # a streamed JSON document is sent in pieces of about this size
# Parameters whose values never reach the log: a feature value can be a card number or a key.
SECRET_PARAMS = frozenset({"value"})
SECRET_WORDS = ("token", "secret", "password", "key")
ENDPOINTS = "/v1/artifacts, /v1/features, /v1/artifacts/SHA256/provenance, /v1/artifacts/SHA256/content, /v1/health"
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

    def __init__(self, config: StoreConfig, host: str, port: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.store = ObjectStore(config)
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
        started = time.monotonic()
        self.outcome = Outcome()
        self.streaming = False
        if self.headers.get("Content-Length", "0").strip() not in ("", "0") or "Transfer-Encoding" in self.headers:
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

    def refuse_method(self) -> None:
        started = time.monotonic()
        self.outcome = Outcome()
        self.close_connection = True
        self.send_json(405, {"error": f"{self.command}: the API answers GET only (docs/api.md)"}, {"Allow": "GET"})
        self.log_outcome(started)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse_method  # noqa: N815

    def route(self) -> None:
        url = urlsplit(self.path)
        try:
            params = parse_qs(url.query, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except ValueError:
            raise ApiError(400, f"more than {MAX_FIELDS} query parameters") from None
        path = unquote(url.path)
        if path == "/v1/health":
            self.send_json(200, {"ok": True})
        elif path == "/v1/artifacts":
            self.page(params, features=False)
        elif path == "/v1/features":
            self.page(params, features=True)
        elif path.startswith("/v1/artifacts/") and path.count("/") == 4 and path.endswith(("/provenance", "/content")):
            _, _, _, digest, what = path.split("/")
            sha256 = parse_sha256(digest)
            case = _scope(params)
            (self.provenance if what == "provenance" else self.content)(sha256, case)
        else:
            raise ApiError(404, f"no endpoint {quote(path, safe='/')}; endpoints: {ENDPOINTS}")

    # -- endpoints -----------------------------------------------------------------------

    def page(self, params: dict[str, list[str]], features: bool) -> None:
        """A page of artifacts or of feature hits, parsed exactly as `quarry find` parses."""
        reveal = _flag("reveal", params.pop("reveal", None)) if features else False
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
        with self.server.slots:
            page = self.server.catalog.page(query)
        rows = page.rows if reveal or not features else [redact_row(r) for r in page.rows]
        self.outcome.rows = len(rows)
        self.send_json(200, {"total": page.total, "offset": query.offset, "limit": query.limit, "rows": rows})

    def _known(self, sha256: str, case: str | None) -> tuple[Provenance, dict[str, Any]]:
        prov = Provenance(self.server.store, sha256, case)
        with self.server.slots:
            first = prov.first()
        if first is None:
            scope = f" in case {case!r}" if case else ""
            raise ApiError(404, f"no artifact with sha256 {sha256}{scope}")
        return prov, first

    def provenance(self, sha256: str, case: str | None) -> None:
        """`quarry get --json`'s document without the file: streamed place by place (a digest
        can lie in any number of places), in chunked encoding, so a cut is visible."""
        prov, _ = self._known(sha256, case)
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

    def content(self, sha256: str, case: str | None) -> None:
        """The artifact's bytes, verified as they stream; cut before the last chunk when they
        are not the content recorded."""
        _, first = self._known(sha256, case)
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

    # -- writing -------------------------------------------------------------------------

    def start(self, status: int, content_type: str, headers: dict[str, str] | None = None) -> None:
        """The status line and headers; from here on an error can only cut the connection."""
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
