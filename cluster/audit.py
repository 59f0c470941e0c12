"""The custody audit log: an append-only, hash-chained record of who did what, when and why.

Each entry is one small JSON object in its own bucket (`quarry-audit`), under a sequential key
(`log/000000000123.json`), and carries the SHA-256 of the entry before it, so an edit, a removal
or a reordering breaks the chain at a place `verify` names. The bucket is created with MinIO's
object lock (versioning implied) and a default retention, so within that period an entry can be
neither deleted nor overwritten: a second write of a key only adds a version, which `verify`
reports. Several processes append at once (API, job manager, CLI); each takes the next number
with a conditional create (`If-None-Match: *`), so two writers never share a number and none is
skipped. The format and how to check it by hand are in docs/custody.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import itertools
import json
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from minio.commonconfig import COMPLIANCE, ENABLED, GOVERNANCE
from minio.datatypes import Object
from minio.error import S3Error
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.versioningconfig import VersioningConfig

from workers.store import FAILURES, ObjectStore, StoreUnavailable

AUDIT = "quarry-audit"
PREFIX = "log/"
FORMAT = 1
GENESIS = "0" * 64  # the `prev` of entry 0: no entry comes before it
FIELDS = frozenset("action actor case details format hash id outcome prev reason role seq target time".split())
ROLES = ("operator", "examiner", "admin", "system", "anonymous")
OUTCOMES = ("allowed", "denied", "failed")
MODES = (GOVERNANCE, COMPLIANCE)
# A lab keeps custody records for years, and nobody, the MinIO root included, should be able to
# shorten that: COMPLIANCE. An admin may choose GOVERNANCE (lock_buckets) where a privileged
# user must be able to remove entries, e.g. a test install. Entries are a few hundred bytes.
DEFAULT_MODE = COMPLIANCE
DEFAULT_DAYS = 3650
MAX_ENTRY = 64 << 10  # bytes of one stored entry; a bigger object in the log is itself a break
MAX_DEPTH = 8  # nesting of `details`
MAX_INT = 1 << 53  # integers any JSON tool (jq, JavaScript) reads exactly
ATTEMPTS = 256  # conflicts one append survives (each means another writer got on) before giving up
KEY = re.compile(r"log/(\d{12})\.json")
ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
# Names of details that would hold a secret. `key` alone is allowed (an object key, a sort key).
SECRET_NAME = re.compile(
    r"token|secret|passw|passphrase|credential|cookie|bearer|authori[sz]ation|^auth$|session[-_]?id"
    r"|(api|access|private|signing|encryption|master|session|ssh|hmac)[-_]?key",
    re.IGNORECASE,
)
SECRET_VALUE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|^\s*Bearer\s+\S", re.IGNORECASE)
# Control characters (terminal escapes among them) are refused in every string; tab and newline are kept.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
NOT_FOUND = ("NoSuchKey", "NoSuchObject", "ResourceNotFound", "NoSuchVersion")


def canonical(doc: dict[str, Any]) -> bytes:
    """The one byte form of an entry that is hashed and stored: keys sorted at every level, no
    spaces, UTF-8 (not \\u escapes), and no NaN (see docs/custody.md)."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of the entry's canonical bytes without its own `hash` field."""
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def entry_key(seq: int) -> str:
    return f"{PREFIX}{seq:012d}.json"


def key_seq(key: str) -> int | None:
    """The number in an entry's key, or None for a key that is not an entry's."""
    m = KEY.fullmatch(key)
    return int(m.group(1)) if m else None


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or time (UTC when no offset is given), for `show --since`."""
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"bad time {text!r}: use ISO 8601, e.g. 2025-03-01 or 2025-03-01T12:00:00Z") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Break:
    """The first broken link: which entry and what is wrong with it."""

    seq: int
    key: str
    problem: str  # missing, deleted, overwritten, unexpected object, oversized, unreadable, not canonical,
    #               malformed, seq mismatch, hash mismatch, prev mismatch, anchor mismatch
    detail: str


@dataclass(frozen=True)
class Verdict:
    """What verify found: `count` entries intact in order from 0, the hash of the last of them
    (GENESIS when none), and the first break after them, if any."""

    bucket: str
    count: int
    head: str
    broken: Break | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


@dataclass(frozen=True)
class Retention:
    """A bucket's default object-lock retention."""

    mode: str
    days: int


class _Conflict(Exception):
    """Another writer took the sequence number first."""


def _check_text(where: str, value: str, secrets: Sequence[str]) -> None:
    if CONTROL.search(value):
        raise ValueError(f"audit entry {where} contains a control character")
    if SECRET_VALUE.search(value) or any(s and s in value for s in secrets):
        raise ValueError(f"audit entry {where} looks like a credential; audit entries never hold secrets")


def _check_value(where: str, value: Any, secrets: Sequence[str], depth: int = 0) -> None:
    """Refuse what cannot be hashed the same way by every JSON tool, and anything that looks like a secret."""
    if depth > MAX_DEPTH:
        raise ValueError(f"audit entry {where} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for name, item in value.items():
            if not isinstance(name, str):
                raise ValueError(f"audit entry {where} has a key that is not a string: {name!r}")
            _check_text(f"{where} key", name, secrets)
            if SECRET_NAME.search(name):
                raise ValueError(f"audit entry {where}.{name}: a field named like a secret is refused")
            _check_value(f"{where}.{name}", item, secrets, depth + 1)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(f"{where}[{i}]", item, secrets, depth + 1)
    elif isinstance(value, str):
        _check_text(where, value, secrets)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if not -MAX_INT < value < MAX_INT:
            raise ValueError(f"audit entry {where} is an integer beyond 2^53; give it as a string")
    elif isinstance(value, float):
        raise ValueError(f"audit entry {where} is a float; give it as a string or an integer")
    else:
        raise ValueError(f"audit entry {where} has type {type(value).__name__}, which JSON cannot hold")


def _optional(where: str, value: str | None, limit: int) -> None:
    if value is not None and (not isinstance(value, str) or not value or len(value) > limit):
        raise ValueError(f"audit entry {where} must be a non-empty string of at most {limit} characters, or none")


class AuditLog:
    """One bucket's audit log. Safe to share between threads of a process and to use from several
    processes at once; each instance caches where the log ends."""

    def __init__(self, store: ObjectStore, bucket: str = AUDIT) -> None:
        self.store = store
        self.client = store.client
        self.bucket = bucket
        self._lock = threading.Lock()
        self._ready = False
        self._tail: tuple[int, str] | None = None  # (last seq, its hash) as this process last saw it
        self._hint = -1  # a seq known to exist: listing for the end starts after it

    # -- the bucket -------------------------------------------------------------------------

    def ensure(self, days: int = DEFAULT_DAYS, mode: str = DEFAULT_MODE) -> None:
        """Create the bucket with object lock and this default retention if missing. An existing
        bucket keeps its retention (an admin changes it with lock_buckets), but one made without
        object lock is refused: entries there could be rewritten without a trace."""
        mode = _mode(mode)
        _days(days)
        try:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket, object_lock=True)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
                else:
                    self.client.set_object_lock_config(self.bucket, ObjectLockConfig(mode, days, DAYS))
        except FAILURES as exc:
            raise self.store._fail(f"creating bucket {self.bucket}", exc) from None
        if retention(self.store, self.bucket, required=True) is None:
            # Made by another process that has not set the default yet, or by an admin without one.
            try:
                self.client.set_object_lock_config(self.bucket, ObjectLockConfig(mode, days, DAYS))
            except FAILURES as exc:
                raise self.store._fail(f"setting retention of {self.bucket}", exc) from None
        self._ready = True

    # -- appending --------------------------------------------------------------------------

    def append(
        self,
        *,
        actor: str,
        role: str,
        action: str,
        outcome: str,
        case: str | None = None,
        target: str | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record one event and return the entry as stored (with its seq and hash).

        `action` is dotted lower case (`artifact.download`, `job.submit`, `admin.user.add`);
        `target` what it acted on (a job id, an artifact's SHA-256); `reason` the user's stated
        purpose; `details` a small JSON object without floats and without anything named like a
        credential. Bad input raises ValueError before anything is written."""
        body = self._body(actor, role, action, outcome, case, target, reason, {} if details is None else details)
        with self._lock:
            if not self._ready:
                self.ensure()
            for attempt in range(ATTEMPTS):
                seq, prev = self._next()
                entry = {**body, "seq": seq, "prev": prev, "time": utc_now()}
                entry["hash"] = entry_hash(entry)
                data = canonical(entry)
                if len(data) > MAX_ENTRY:
                    raise ValueError(f"audit entry is {len(data)} bytes; at most {MAX_ENTRY} (shorten details)")
                try:
                    self._create(entry_key(seq), data, body["id"])
                except _Conflict:
                    self._tail, self._hint = None, max(self._hint, seq)
                    time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 25)))
                    continue
                self._tail, self._hint = (seq, entry["hash"]), seq
                return entry
        raise StoreUnavailable(f"audit log {self.bucket}: no free sequence number after {ATTEMPTS} tries")

    def _body(
        self,
        actor: str,
        role: str,
        action: str,
        outcome: str,
        case: str | None,
        target: str | None,
        reason: str | None,
        details: dict[str, Any],
    ) -> dict[str, Any]:
        if not isinstance(actor, str) or not actor or len(actor) > 256:
            raise ValueError("audit entry actor must be a non-empty string of at most 256 characters")
        if role not in ROLES:
            raise ValueError(f"audit entry role {role!r} is not one of {', '.join(ROLES)}")
        if not isinstance(action, str) or len(action) > 64 or not ACTION.fullmatch(action):
            raise ValueError(f"audit entry action {action!r} must be dotted lower case, e.g. artifact.download")
        if outcome not in OUTCOMES:
            raise ValueError(f"audit entry outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        _optional("case", case, 256)
        if case is not None and "/" in case:
            raise ValueError(f"audit entry case {case!r} contains '/'")
        _optional("target", target, 1024)
        _optional("reason", reason, 4096)
        if not isinstance(details, dict):
            raise ValueError("audit entry details must be a JSON object (a dict)")
        # The store's secret key must never be copied into an entry (its access key is a name, not a secret).
        secret = self.store.config.secret_key
        secrets = (secret,) if len(secret) >= 8 else ()
        for name, value in (("actor", actor), ("case", case), ("target", target), ("reason", reason)):
            if value is not None:
                _check_text(name, value, secrets)
        _check_value("details", details, secrets)
        return {
            "format": FORMAT,
            "id": uuid.uuid4().hex,
            "actor": actor,
            "role": role,
            "action": action,
            "outcome": outcome,
            "case": case,
            "target": target,
            "reason": reason,
            "details": details,
        }

    def _create(self, key: str, data: bytes, entry_id: str) -> None:
        """Write `key` only if no object has it now. A refusal whose object is this very entry
        (the client resent a PUT whose answer was lost) counts as written."""
        headers = {"Content-Type": "application/json", "If-None-Match": "*"}
        try:
            # minio-py's put_object cannot send If-None-Match (its `metadata` becomes x-amz-meta-*),
            # so the single-part PutObject underneath it is called with the header.
            self.client._put_object(self.bucket, key, data, headers)
            return
        except S3Error as exc:
            if exc.code != "PreconditionFailed":
                raise self.store._fail(f"append {self.bucket}/{key}", exc) from None
        except FAILURES as exc:
            raise self.store._fail(f"append {self.bucket}/{key}", exc) from None
        theirs = self._read(key)
        try:
            if theirs is not None and json.loads(theirs).get("id") == entry_id:
                return
        except (ValueError, AttributeError):
            pass
        raise _Conflict(key)

    def _next(self) -> tuple[int, str]:
        """The next free sequence number and the hash its entry must name as `prev`."""
        if self._tail is None:
            self._tail = self._find_tail()
        seq, head = self._tail
        return seq + 1, head

    def _find_tail(self) -> tuple[int, str]:
        """(last seq, hash of that entry), or (-1, GENESIS) for an empty log. Lists the keys after
        the last one this process knows of (found by probing when it knows none)."""
        start = self._hint if self._hint >= 0 else self._probe()
        last = start
        try:
            after = entry_key(start) if start >= 0 else None
            for obj in self.client.list_objects(self.bucket, prefix=PREFIX, start_after=after):
                seq = key_seq(obj.object_name or "")
                if seq is not None and seq > last:
                    last = seq
        except FAILURES as exc:
            raise self.store._fail(f"list {self.bucket}/{PREFIX}", exc) from None
        if last < 0:
            return -1, GENESIS
        data = self._read(entry_key(last))
        if data is None:  # the hinted entry has gone (a delete marker): look from the start
            if start < 0:
                return -1, GENESIS
            self._hint = -1
            return self._find_tail()
        try:
            return last, entry_hash(json.loads(data))
        except (ValueError, AttributeError):
            # A damaged last entry: chain onto its bytes as they are; verify names the damage.
            return last, hashlib.sha256(data).hexdigest()

    def _probe(self) -> int:
        """The last seq of the unbroken run from 0, by doubling then halving (about 2 log2 n
        requests); listing from there finds the real end even past a deleted entry."""
        if not self.store.exists(self.bucket, entry_key(0)):
            return -1
        lo, hi = 0, 1
        while self.store.exists(self.bucket, entry_key(hi)):
            lo, hi = hi, hi * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if self.store.exists(self.bucket, entry_key(mid)) else (lo, mid)
        return lo

    def _read(self, key: str, version_id: str | None = None) -> bytes | None:
        """At most MAX_ENTRY + 1 bytes of an entry (an oversized object is not read whole), or None."""
        try:
            resp = self.client.get_object(self.bucket, key, offset=0, length=MAX_ENTRY + 1, version_id=version_id)
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()
        except S3Error as exc:
            if exc.code in NOT_FOUND:
                return None
            if exc.code == "InvalidRange":  # an empty object has no byte 0 to start a range at
                return b""
            raise self.store._fail(f"get {self.bucket}/{key}", exc) from None
        except FAILURES as exc:
            raise self.store._fail(f"get {self.bucket}/{key}", exc) from None

    # -- reading and verifying --------------------------------------------------------------

    def _bucket_present(self) -> None:
        try:
            present = self.client.bucket_exists(self.bucket)
        except FAILURES as exc:
            raise self.store._fail(f"checking bucket {self.bucket}", exc) from None
        if not present:
            raise ValueError(f"no audit log: bucket {self.bucket} does not exist")

    def _prefetched(
        self, items: Iterable[tuple[Any, str | None, str | None]], depth: int = 32
    ) -> Iterator[tuple[Any, Future[bytes | None] | None]]:
        """Each item with its object read ahead by a few threads, in order, at most `depth`
        reads in flight or waiting: the log is read at network speed in bounded memory."""
        pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="audit-read")
        window: deque[tuple[Any, Future[bytes | None] | None]] = deque()
        try:
            for item, key, version_id in items:
                window.append((item, pool.submit(self._read, key, version_id) if key else None))
                if len(window) >= depth:
                    yield window.popleft()
            while window:
                yield window.popleft()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _versions(self) -> Iterator[tuple[str, list[Object]]]:
        """Every key under the log's prefix with all its versions and delete markers, in key order.
        minio-py yields each page's versions before that page's delete markers, so versions and
        markers are listed apart (each in key order) and merged."""

        def listing(markers: bool) -> Iterator[Object]:
            try:
                for o in self.client.list_objects(self.bucket, prefix=PREFIX, recursive=True, include_version=True):
                    if o.is_delete_marker == markers:
                        yield o
            except FAILURES as exc:
                raise self.store._fail(f"list versions {self.bucket}/{PREFIX}", exc) from None

        merged = heapq.merge(listing(False), listing(True), key=lambda o: o.object_name or "")
        for name, group in itertools.groupby(merged, key=lambda o: o.object_name or ""):
            yield name, list(group)

    def verify(self, anchor: tuple[int, str] | None = None) -> Verdict:
        """Walk the log in order, recompute every entry's hash and link, and return the first
        break: a missing number, an entry deleted or written twice (extra versions), bytes that
        are not the canonical form, a wrong seq, hash or prev. `anchor` (seq, hash) is a head
        recorded earlier (in a report, a case file): the chain must still pass through it, which
        catches a log rewritten or cut short by someone able to bypass the lock."""
        if anchor is not None and (anchor[0] < 0 or not re.fullmatch(r"[0-9a-f]{64}", anchor[1])):
            raise ValueError(f"bad anchor {anchor!r}: give SEQ:SHA256 with a 64-digit lower-case hex hash")
        self._bucket_present()
        expected, prev = 0, GENESIS

        def planned() -> Iterator[tuple[Any, str | None, str | None]]:
            for name, versions in self._versions():
                whole = len(versions) == 1 and not versions[0].is_delete_marker and key_seq(name) is not None
                version_id = versions[0].version_id if whole and versions[0].version_id != "null" else None
                yield (name, versions), name if whole else None, version_id

        with contextlib.closing(self._prefetched(planned())) as reads:
            for (name, versions), read in reads:
                seq = key_seq(name)
                if seq is None:
                    return self._broken(expected, prev, expected, name, "unexpected object", "not an entry's key")
                if seq > expected:
                    return self._broken(expected, prev, expected, entry_key(expected), "missing", f"next is {name}")
                if seq < expected:
                    return self._broken(expected, prev, seq, name, "unexpected object", "listed out of order")
                if any(v.is_delete_marker for v in versions):
                    hidden = sum(1 for v in versions if not v.is_delete_marker)
                    detail = f"a delete request left a marker; {hidden} version(s) kept"
                    return self._broken(expected, prev, seq, name, "deleted", detail)
                if len(versions) > 1:
                    detail = f"{len(versions)} versions: the entry was written again"
                    return self._broken(expected, prev, seq, name, "overwritten", detail)
                problem, computed = self._check(seq, prev, read.result() if read else None, anchor)
                if problem:
                    return self._broken(expected, prev, seq, name, *problem)
                prev, expected = computed, expected + 1
        if anchor is not None and anchor[0] >= expected:
            detail = f"the anchor's entry is past the end of the log ({expected} entries)"
            return self._broken(expected, prev, anchor[0], entry_key(anchor[0]), "missing", detail)
        return Verdict(self.bucket, expected, prev)

    def _broken(self, count: int, head: str, seq: int, key: str, problem: str, detail: str) -> Verdict:
        return Verdict(self.bucket, count, head, Break(seq, key, problem, detail))

    @staticmethod
    def _check(
        seq: int, prev: str, data: bytes | None, anchor: tuple[int, str] | None
    ) -> tuple[tuple[str, str] | None, str]:
        """What is wrong with entry `seq`'s bytes given the hash before it (None: nothing), and its hash."""
        if data is None:
            return ("missing", "removed while being verified"), ""
        if len(data) > MAX_ENTRY:
            return ("oversized", f"more than {MAX_ENTRY} bytes"), ""
        try:
            doc = json.loads(data)
        except ValueError as exc:
            return ("unreadable", f"not JSON ({exc})"), ""
        if not isinstance(doc, dict):
            return ("unreadable", "not a JSON object"), ""
        fields = set(doc)
        if fields != FIELDS:
            missing, extra = sorted(FIELDS - fields), sorted(fields - FIELDS)
            return ("malformed", f"missing fields {missing}, unexpected fields {extra}"), ""
        try:
            if canonical(doc) != data:
                return ("not canonical", "the stored bytes are not the canonical form of their content"), ""
        except ValueError as exc:
            return ("unreadable", str(exc)), ""
        computed = entry_hash(doc)
        if doc["seq"] != seq:
            return ("seq mismatch", f"the entry says seq {doc['seq']!r}"), computed
        if doc["hash"] != computed:
            return ("hash mismatch", f"stored {doc['hash']}, computed {computed}"), computed
        if doc["prev"] != prev:
            return ("prev mismatch", f"prev {doc['prev']}, but the entry before hashes to {prev}"), computed
        if anchor is not None and anchor[0] == seq and anchor[1] != computed:
            return ("anchor mismatch", f"anchored {anchor[1]}, now {computed}"), computed
        return None, computed

    def entries(self, from_seq: int = 0) -> Iterator[dict[str, Any]]:
        """The entries in seq order from `from_seq`, as stored (not verified: use verify)."""
        self._bucket_present()

        def planned() -> Iterator[tuple[Any, str | None, str | None]]:
            after = entry_key(from_seq - 1) if from_seq > 0 else None
            try:
                for obj in self.client.list_objects(self.bucket, prefix=PREFIX, start_after=after):
                    if key_seq(obj.object_name or "") is not None:
                        yield obj.object_name, obj.object_name, None
            except FAILURES as exc:
                raise self.store._fail(f"list {self.bucket}/{PREFIX}", exc) from None

        with contextlib.closing(self._prefetched(planned())) as reads:
            for key, read in reads:
                data = read.result() if read else None
                if data is None:
                    continue  # removed since listed
                try:
                    doc = json.loads(data)
                except ValueError:
                    raise ValueError(f"audit entry {key} is not JSON: run `quarry audit verify`") from None
                if not isinstance(doc, dict):
                    raise ValueError(f"audit entry {key} is not a JSON object: run `quarry audit verify`")
                yield doc


def _mode(mode: str) -> str:
    m = str(mode).upper()
    if m not in MODES:
        raise ValueError(f"retention mode {mode!r} is not one of governance, compliance")
    return m


def _days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 36500:
        raise ValueError(f"retention days {days!r} must be a whole number from 1 to 36500")


def retention(store: ObjectStore, bucket: str, required: bool = False) -> Retention | None:
    """A bucket's default retention, or None when it has object lock but no default. A bucket
    made without object lock is None, or a ValueError when `required`."""
    try:
        config = store.client.get_object_lock_config(bucket)
    except S3Error as exc:
        if exc.code == "NoSuchBucket":
            raise ValueError(f"bucket {bucket} does not exist") from None
        if exc.code == "ObjectLockConfigurationNotFoundError":
            if required:
                raise ValueError(
                    f"bucket {bucket} was created without object lock, which can only be turned on when a "
                    "bucket is created: its objects could be overwritten or deleted"
                ) from None
            return None
        raise store._fail(f"object lock of {bucket}", exc) from None
    except FAILURES as exc:
        raise store._fail(f"object lock of {bucket}", exc) from None
    if config.mode is None or config.duration is None:
        return None
    days = config.duration * (365 if config.duration_unit == "Years" else 1)
    return Retention(config.mode, days)


def lock_buckets(store: ObjectStore, days: int, mode: str = DEFAULT_MODE, buckets: Sequence[str] = (AUDIT,)) -> None:
    """Give buckets created with object lock versioning and this default retention: from now on
    every object written there can be neither deleted nor overwritten for `days` days (COMPLIANCE:
    by nobody; GOVERNANCE: by nobody without the bypass permission). Objects already there keep
    the retention they were written with. All buckets are checked before any is changed."""
    mode = _mode(mode)
    _days(days)
    for bucket in buckets:
        retention(store, bucket, required=True)
    for bucket in buckets:
        try:
            store.client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
            store.client.set_object_lock_config(bucket, ObjectLockConfig(mode, days, DAYS))
        except FAILURES as exc:
            raise store._fail(f"locking {bucket}", exc) from None
