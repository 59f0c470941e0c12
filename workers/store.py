"""MinIO, the system of record: content-addressed artifacts, results and the job journal.

One small wrapper so every step writes the same way: idempotent keys, bounded timeouts,
and errors that name the endpoint (never the credentials).
"""

from __future__ import annotations

import functools
import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
import urllib3
from minio import Minio
from minio.error import S3Error
from pyarrow import fs

ARTIFACTS = "quarry-artifacts"
RESULTS = "quarry-results"
JOURNAL = "quarry-journal"
HASHSETS = "quarry-hashsets"
EVIDENCE = "quarry-evidence"
RULES = "quarry-rules"
PDQSETS = "quarry-pdqsets"  # known-image lists of PDQ hashes (workers/known_images.py)
BUCKETS = (ARTIFACTS, RESULTS, JOURNAL, HASHSETS, EVIDENCE, RULES, PDQSETS)
# Created with object lock (versioning comes with it): once an admin sets their retention
# (`quarry audit lock`), nothing written there can be deleted or overwritten before it ends.
LOCKED = (ARTIFACTS, RESULTS, EVIDENCE)
PARQUET = "application/vnd.apache.parquet"
# What a request to MinIO can raise when the server is down, unreachable or refuses.
FAILURES = (S3Error, urllib3.exceptions.HTTPError, OSError)


@dataclass
class StoreStats:
    """What a task's writes to MinIO cost: bytes written, each upload's seconds, and
    failed requests by kind; taken per task and counted by the job manager (metrics)."""

    bytes_written: int = 0
    uploads: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)


class StoreUnavailable(Exception):
    """The object store cannot be reached or refused a request; names the endpoint."""


@dataclass(frozen=True)
class StoreConfig:
    """How to reach MinIO. The secret never appears in repr or messages."""

    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)
    secure: bool = False

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"


def parquet_bytes(table: pa.Table) -> bytes:
    """A table as the bytes of one zstd-compressed Parquet file."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def artifact_key(sha256: str) -> str:
    """Content address of an artifact: one object per distinct content."""
    return f"sha256/{sha256[:2]}/{sha256}"


class ObjectStore:
    """Typed access to Quarry's buckets."""

    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        self.stats = StoreStats()
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3.0, read=60.0),
            retries=urllib3.Retry(total=2, backoff_factor=0.5, status_forcelist=(500, 502, 503, 504)),
            maxsize=16,
        )
        self.client = Minio(
            config.endpoint,
            access_key=config.access_key,
            secret_key=config.secret_key,
            secure=config.secure,
            http_client=http,
        )

    def take_stats(self) -> StoreStats:
        """The writes and failures since the last call (one task's, when called at its ends)."""
        stats, self.stats = self.stats, StoreStats()
        return stats

    def _uploaded(self, length: int, started: float) -> None:
        self.stats.bytes_written += length
        self.stats.uploads.append(time.monotonic() - started)

    def _fail(self, action: str, exc: Exception) -> StoreUnavailable:
        reason = getattr(exc, "code", None) or type(exc).__name__
        if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
            reason = type(exc.reason).__name__
        self.stats.errors[reason] = self.stats.errors.get(reason, 0) + 1
        return StoreUnavailable(f"object store at {self.config.url} is unavailable ({action}: {reason})")

    def ensure_buckets(self) -> None:
        """Create Quarry's buckets if missing; the first call that proves MinIO is up."""
        try:
            for bucket in BUCKETS:
                if not self.client.bucket_exists(bucket):
                    self.client.make_bucket(bucket, object_lock=bucket in LOCKED)
        except FAILURES as exc:
            raise self._fail("checking buckets", exc) from None

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self.client.stat_object(bucket, key)
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise self._fail(f"stat {bucket}/{key}", exc) from None
        except FAILURES as exc:
            raise self._fail(f"stat {bucket}/{key}", exc) from None

    def put_bytes(self, bucket: str, key: str, data: bytes | memoryview, content_type: str) -> None:
        started = time.monotonic()
        try:
            self.client.put_object(bucket, key, io.BytesIO(data), len(data), content_type=content_type)
        except FAILURES as exc:
            raise self._fail(f"put {bucket}/{key}", exc) from None
        self._uploaded(len(data), started)

    def put_table(self, bucket: str, key: str, table: pa.Table) -> None:
        """A table as one Parquet object (results are written whole, under deterministic keys)."""
        self.put_bytes(bucket, key, parquet_bytes(table), PARQUET)

    def put_rows(self, bucket: str, key: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
        self.put_table(bucket, key, pa.Table.from_pylist(rows, schema=schema))

    def put_stream(self, bucket: str, key: str, stream: BinaryIO, length: int) -> None:
        """Upload `length` bytes read from a file object (multipart when large)."""
        started = time.monotonic()
        try:
            self.client.put_object(bucket, key, stream, length, content_type="application/octet-stream")
        except FAILURES as exc:
            raise self._fail(f"put {bucket}/{key}", exc) from None
        self._uploaded(length, started)

    def put_artifact(self, sha256: str, data: bytes | memoryview) -> bool:
        """Store content under its digest unless already there; True when newly stored."""
        key = artifact_key(sha256)
        if self.exists(ARTIFACTS, key):
            return False
        self.put_bytes(ARTIFACTS, key, data, "application/octet-stream")
        return True

    def put_file(self, bucket: str, key: str, path: str, content_type: str) -> None:
        started = time.monotonic()
        try:
            self.client.fput_object(bucket, key, path, content_type=content_type)
        except FAILURES as exc:
            raise self._fail(f"upload {bucket}/{key}", exc) from None
        self._uploaded(os.path.getsize(path), started)

    def get_bytes(self, bucket: str, key: str) -> bytes:
        return self.get_range(bucket, key, 0, 0)

    def size(self, bucket: str, key: str) -> int | None:
        """An object's size in bytes, or None when there is no such object."""
        try:
            return self.client.stat_object(bucket, key).size
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound", "NoSuchBucket"):
                return None
            raise self._fail(f"stat {bucket}/{key}", exc) from None
        except FAILURES as exc:
            raise self._fail(f"stat {bucket}/{key}", exc) from None

    def get_range(self, bucket: str, key: str, offset: int, length: int) -> bytes:
        """`length` bytes of an object from `offset` (fewer at its end; 0: to the end)."""
        try:
            resp = self.client.get_object(bucket, key, offset=offset, length=length)
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()
        except FAILURES as exc:
            raise self._fail(f"get {bucket}/{key}" + (f" at {offset}" if offset else ""), exc) from None

    def get_file(self, bucket: str, key: str, path: str) -> None:
        """Download an object to a local file (for objects too big to hold in memory)."""
        try:
            self.client.fget_object(bucket, key, path)
        except FAILURES as exc:
            raise self._fail(f"download {bucket}/{key}", exc) from None

    def iter_chunks(self, bucket: str, key: str, chunk: int = 1 << 20) -> Iterator[bytes]:
        """An object's bytes in bounded chunks."""
        try:
            resp = self.client.get_object(bucket, key)
            try:
                yield from resp.stream(chunk)
            finally:
                resp.close()
                resp.release_conn()
        except FAILURES as exc:
            raise self._fail(f"get {bucket}/{key}", exc) from None

    def remove(self, bucket: str, key: str) -> None:
        """Delete one object (absent is fine: the outcome is the same)."""
        try:
            self.client.remove_object(bucket, key)
        except FAILURES as exc:
            raise self._fail(f"remove {bucket}/{key}", exc) from None

    def put_json(self, bucket: str, key: str, doc: dict[str, Any]) -> None:
        data = json.dumps(doc, indent=1, sort_keys=True).encode()
        self.put_bytes(bucket, key, data, "application/json")

    def get_json(self, bucket: str, key: str) -> dict[str, Any]:
        return json.loads(self.get_bytes(bucket, key))

    def list_keys(self, bucket: str, prefix: str = "", suffix: str = "") -> list[str]:
        """Keys under `prefix` ending in `suffix`, in key order."""
        try:
            names = [o.object_name for o in self.client.list_objects(bucket, prefix=prefix, recursive=True)]
        except FAILURES as exc:
            raise self._fail(f"list {bucket}/{prefix}", exc) from None
        return sorted(n for n in names if n is not None and n.endswith(suffix))


@functools.cache
def shared_store(config: StoreConfig) -> ObjectStore:
    """One client (one connection pool) per process and endpoint, for steps that run many
    tasks in the same worker process."""
    return ObjectStore(config)


def s3_filesystem(config: StoreConfig) -> fs.S3FileSystem:
    """The same MinIO as a pyarrow filesystem, for reading Parquet by row group or column
    without downloading whole objects."""
    return fs.S3FileSystem(
        access_key=config.access_key,
        secret_key=config.secret_key,
        endpoint_override=config.endpoint,
        scheme="https" if config.secure else "http",
        region="us-east-1",
        connect_timeout=3,
        request_timeout=30,
    )
