"""The command line as an API user: `quarry find`, `get`, `jobs`, `submit` and `cancel` speak
to `quarry serve` with the user's token when QUARRY_API_URL is set, so an examiner or an
operator needs no MinIO credentials, and sees and does only what their role and cases allow
(the server decides, and enters each request in the audit log)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cluster.config import file_settings

CHUNK = 1 << 20


class ApiRefused(ValueError):
    """The server said no (401, 403, 404, 400...): its message, with the status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status


class ApiClient:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url.rstrip("/"), token

    def _open(self, method: str, path: str, params: dict[str, list[str]] | None = None, body: bytes | None = None):
        query = "?" + urllib.parse.urlencode(params, doseq=True) if params else ""
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path + query, data=body, method=method, headers=headers)
        try:
            return urllib.request.urlopen(request, timeout=300)
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read())["error"]
            except (ValueError, KeyError):
                message = exc.reason
            raise ApiRefused(exc.code, f"{self.url}: {message}") from None
        except urllib.error.URLError as exc:
            raise ConnectionError(f"Quarry API at {self.url} cannot be reached: {exc.reason}") from None

    def get(self, path: str, params: dict[str, list[str]] | None = None) -> dict[str, Any]:
        with self._open("GET", path, params) as resp:
            return json.load(resp)

    def post(self, path: str, doc: dict[str, Any]) -> dict[str, Any]:
        with self._open("POST", path, body=json.dumps(doc).encode()) as resp:
            return json.load(resp)

    def pages(self, path: str, params: dict[str, list[str]], page: int) -> Iterator[dict[str, Any]]:
        """Every row of a query, page after page (an export without holding it whole)."""
        offset = int(params.get("offset", ["0"])[0])
        while True:
            doc = self.get(path, {**params, "limit": [str(page)], "offset": [str(offset)]})
            yield from doc["rows"]
            offset += len(doc["rows"])
            if not doc["rows"] or offset >= doc["total"]:
                return

    def download(self, path: str, params: dict[str, list[str]], dest: Path, sha256: str) -> int:
        """Stream content into `dest`, put in place only once its SHA-256 is the one asked
        for (checked here, whatever the server checked); its size."""
        fd, tmp = tempfile.mkstemp(prefix=".quarry-get-", dir=dest.parent)
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out, self._open("GET", path, params) as resp:
                while chunk := resp.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha256:
                raise ApiRefused(502, f"{self.url}: DIGEST MISMATCH: asked for {sha256}, received {digest.hexdigest()}")
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size


def api_client() -> ApiClient | None:
    """The client when QUARRY_API_URL is set (with QUARRY_TOKEN), from the environment or
    $QUARRY_HOME/quarry.env; None on the control plane."""
    values = {**file_settings(), **{k: v for k, v in os.environ.items() if k.startswith("QUARRY_")}}
    url = values.get("QUARRY_API_URL")
    if not url:
        return None
    token = values.get("QUARRY_TOKEN")
    if not token:
        raise ValueError("QUARRY_API_URL is set but QUARRY_TOKEN is not: set the token your admin gave you")
    return ApiClient(url, token)
