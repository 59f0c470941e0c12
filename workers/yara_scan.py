"""YARA on a worker: the job's pinned rule sets, loaded once per worker process, and the
scans of carved files, extracted files and raw segment windows.

MinIO layout (bucket quarry-rules), written by `quarry rules add` (cluster/rules.py):

    <name>/<version>/sources/<namespace>   each rule file as uploaded (namespace: its path
                                           relative to the uploaded folder, or its file name)
    <name>/<version>/compiled.yarc         yara's Rules.save of all of them
    <name>/<version>/meta.json             files with SHA-256, rule count, yara version, when
    <name>/current.json                    the version in use (a copy of its meta.json),
                                           written last, so a failed add changes nothing

A job pins the current version of every rule set at submit (JobContext.rule_sets). A worker
process loads each pinned (name, version) once and keeps it: the compiled file when it was
saved by the same yara version, else the stored sources compiled again. Sets of thousands
of rules are therefore compiled once per process, never per task or per file.

What a scan reports, per rule set: the rule, its namespace, tags and meta, and each matched
string instance (identifier, offset, length). Offsets are relative to the file for carved
and extracted files, and absolute in the image for raw windows. A raw window reports only
the string instances that start in the segment's owned range (see `owned_strings`), so the
overlap between windows never reports an instance twice. A scan that times out or fails is
recorded as an error of that file and rule set, and the task goes on.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import posixpath
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import yara

from workers.artifacts import store_stream
from workers.published import current_docs, meta_key, pin
from workers.steps import JobContext
from workers.store import RESULTS, RULES, ObjectStore, StoreConfig, shared_store

EXTERNALS = ("filename", "filepath", "extension", "filetype")  # what Quarry supplies (LOKI's names)
SPOOL_LIMIT = 64 << 20  # an extracted file up to this size is scanned in memory, larger ones from a temp file
MAX_STRINGS = 1000  # string instances kept per match record (strings_total counts them all)
CACHE_LIMIT = 16  # rule set versions a worker process keeps loaded

STRING = pa.struct([("identifier", pa.string()), ("offset", pa.uint64()), ("length", pa.uint32())])
YARA_SCHEMA = pa.schema(
    [
        ("case", pa.string()),
        ("job", pa.string()),
        ("image_index", pa.int32()),
        ("source", pa.string()),  # carved, file (extracted from a filesystem) or raw (a segment window)
        ("offset", pa.uint64()),  # carved: the carve's offset in the image; raw: the first reported string's
        ("path", pa.string()),  # extracted files: the escaped full path
        ("sha256", pa.string()),  # the artifact's; null for raw windows
        ("rule_set", pa.string()),
        ("rule_set_version", pa.string()),
        ("namespace", pa.string()),
        ("rule", pa.string()),  # null on an error row
        ("tags", pa.list_(pa.string())),
        ("meta", pa.string()),  # the rule's meta as a JSON object
        ("strings", pa.list_(STRING)),  # offsets: in the file, or absolute in the image for raw
        ("strings_total", pa.uint64()),  # instances reported (strings holds the first MAX_STRINGS)
        ("error", pa.string()),  # a timeout or yara error of this file and rule set; null on a match
    ]
)


def source_key(name: str, version: str, namespace: str) -> str:
    return f"{name}/{version}/sources/{namespace}"


def compiled_key(name: str, version: str) -> str:
    return f"{name}/{version}/compiled.yarc"


def yara_part_key(part_key: str) -> str:
    """A task's match details, beside its manifest part."""
    return part_key.removesuffix(".parquet") + "-yara.parquet"


class RuleSetUnusable(Exception):
    """A pinned rule set cannot be loaded on this node (a download that does not match, or
    sources this node's yara no longer compiles): the task fails, naming the set."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class RuleSetInfo:
    """One version of a rule set: its metadata (meta.json, and current.json when in use)."""

    name: str
    version: str
    added_at: str
    yara_version: str
    rules: int
    files: dict[str, StoredFile]  # by namespace
    compiled: StoredFile
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "added_at": self.added_at,
            "yara_version": self.yara_version,
            "rules": self.rules,
            "files": {ns: vars(f) for ns, f in sorted(self.files.items())},
            "compiled": vars(self.compiled),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> RuleSetInfo:
        return cls(
            name=doc["name"],
            version=doc["version"],
            added_at=doc["added_at"],
            yara_version=doc["yara_version"],
            rules=doc["rules"],
            files={ns: StoredFile(**f) for ns, f in doc["files"].items()},
            compiled=StoredFile(**doc["compiled"]),
            warnings=tuple(doc.get("warnings", ())),
        )


def current_rule_sets(store: ObjectStore) -> list[RuleSetInfo]:
    """The version in use of every rule set, by name."""
    return [RuleSetInfo.from_dict(doc) for doc in current_docs(store, RULES)]


def pin_current(store: ObjectStore) -> tuple[tuple[str, str], ...]:
    return pin(current_rule_sets(store))


def externals(path: str | None = None, filetype: str = "") -> dict[str, str]:
    """The external variables of one scan: filename, filepath, extension (lower case, with
    its dot, as LOKI and THOR give it) and filetype; "" where unknown (carved files and raw
    windows have no name)."""
    filepath = path or ""
    filename = posixpath.basename(filepath)
    extension = posixpath.splitext(filename)[1].lower()
    return {"filename": filename, "filepath": filepath, "extension": extension, "filetype": filetype}


EXTERNAL_DEFAULTS = externals()  # declared at compile time, so rules may use them


@dataclass(frozen=True)
class LoadedRuleSet:
    name: str
    version: str
    rules: yara.Rules
    how: str  # "compiled" (the saved file) or "sources" (compiled again on this node)


def _checked(data: bytes, f: StoredFile) -> bytes:
    got = hashlib.sha256(data).hexdigest()
    if got != f.sha256:
        raise RuleSetUnusable(f"{RULES}/{f.key}: downloaded copy has sha256 {got}, expected {f.sha256}")
    return data


def load_rule_set(store: ObjectStore, info: RuleSetInfo) -> LoadedRuleSet:
    """A version's rules: the saved compiled file when this node runs the yara version that
    saved it, else its sources compiled here (a saved file is only readable by its own
    yara version)."""
    if info.yara_version == yara.__version__:
        data = _checked(store.get_bytes(RULES, info.compiled.key), info.compiled)
        try:
            return LoadedRuleSet(info.name, info.version, yara.load(file=io.BytesIO(data)), "compiled")
        except yara.Error:
            pass  # not loadable here after all (another build of the same version): compile
    with tempfile.TemporaryDirectory(prefix="quarry-rules-") as tmp:
        paths = {}
        for namespace, f in info.files.items():
            local = Path(tmp, f"{len(paths):05d}.yar")
            local.write_bytes(_checked(store.get_bytes(RULES, f.key), f))
            paths[namespace] = str(local)
        try:
            rules = yara.compile(filepaths=paths, externals=EXTERNAL_DEFAULTS, includes=False)
        except yara.Error as exc:
            raise RuleSetUnusable(
                f"rule set {info.name} {info.version} does not compile with yara {yara.__version__}: {exc}"
            ) from None
    return LoadedRuleSet(info.name, info.version, rules, "sources")


class RuleCache:
    """The rule set versions one worker process has loaded, most recently used last."""

    def __init__(self, store: ObjectStore, limit: int = CACHE_LIMIT) -> None:
        self.store, self.limit = store, limit
        self.loaded: OrderedDict[tuple[str, str], LoadedRuleSet] = OrderedDict()
        self.loads = 0  # versions actually loaded (a test's check that the cache holds)
        self.lock = threading.Lock()

    def get(self, pinned: Sequence[tuple[str, str]]) -> list[LoadedRuleSet]:
        out = []
        with self.lock:
            for name, version in pinned:
                key = (name, version)
                if key not in self.loaded:
                    info = RuleSetInfo.from_dict(self.store.get_json(RULES, meta_key(name, version)))
                    self.loaded[key] = load_rule_set(self.store, info)
                    self.loads += 1
                self.loaded.move_to_end(key)
                out.append(self.loaded[key])
            while len(self.loaded) > max(self.limit, len(pinned)):
                self.loaded.popitem(last=False)
        return out


@functools.cache
def rule_cache(config: StoreConfig) -> RuleCache:
    """This process's cache (one per process and store)."""
    return RuleCache(shared_store(config))


def rule_sets_for(config: StoreConfig, pinned: Sequence[tuple[str, str]]) -> list[LoadedRuleSet]:
    """The pinned versions, loaded once per worker process."""
    return rule_cache(config).get(pinned)


def owned_strings(
    instances: Iterable[tuple[str, int, int]], shift: int = 0, owned: tuple[int, int] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The string instances (identifier, offset, length) to report, offsets moved by `shift`
    (a raw window's place in the image), in offset order, at most MAX_STRINGS of them, and
    how many there were. With `owned` = (start, end), only instances starting in
    [start, end) count: each instance belongs to the one segment owning its first byte, so
    overlapping windows never report it twice."""
    kept = sorted(
        (at + shift, identifier, length)
        for identifier, at, length in instances
        if owned is None or owned[0] <= at + shift < owned[1]
    )
    strings = [{"identifier": i, "offset": at, "length": n} for at, i, n in kept[:MAX_STRINGS]]
    return strings, len(kept)


def _instances(match: yara.Match) -> Iterator[tuple[str, int, int]]:
    for s in match.strings:
        for instance in s.instances:
            yield s.identifier, instance.offset, instance.matched_length


def match_record(
    loaded: LoadedRuleSet, match: yara.Match, shift: int = 0, owned: tuple[int, int] | None = None
) -> dict[str, Any] | None:
    """One match as a detail row (without where it was found); None for a raw window's match
    with no string instance in the owned range: another segment reports it, or it matched on
    a condition alone, which says nothing about where in the image."""
    strings, total = owned_strings(_instances(match), shift, owned)
    if owned is not None and not total:
        return None
    row = {
        "rule_set": loaded.name,
        "rule_set_version": loaded.version,
        "namespace": match.namespace,
        "rule": match.rule,
        "tags": list(match.tags),
        "meta": json.dumps(match.meta, sort_keys=True, default=str),
        "strings": strings,
        "strings_total": total,
    }
    if owned is not None:
        row["offset"] = strings[0]["offset"]  # a raw match is placed by its first reported string
    return row


def scan_one(
    loaded: LoadedRuleSet,
    target: bytes | bytearray | memoryview | Path,
    names: dict[str, str],
    timeout: int,
    shift: int = 0,
    owned: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """Scan bytes (or a file, by path) with one rule set: its match rows, or one error row
    when yara timed out or failed (the caller's file is not lost, only this set's verdict)."""
    try:
        if isinstance(target, Path):
            matches = loaded.rules.match(filepath=str(target), externals=names, timeout=timeout)
        else:
            matches = loaded.rules.match(data=target, externals=names, timeout=timeout)
    except yara.TimeoutError:
        return [_error_row(loaded, f"timed out after {timeout} s")]
    except yara.Error as exc:
        return [_error_row(loaded, f"yara error: {exc}")]
    rows = (match_record(loaded, m, shift, owned) for m in matches)
    return [r for r in rows if r is not None]


def _error_row(loaded: LoadedRuleSet, error: str) -> dict[str, Any]:
    return {"rule_set": loaded.name, "rule_set_version": loaded.version, "error": error}


def labels(rows: Iterable[Mapping[str, Any]]) -> list[str] | None:
    """The manifest's `yara` column: "set/namespace/rule" of each match, or None."""
    out = [f"{r['rule_set']}/{r['namespace']}/{r['rule']}" for r in rows if r.get("error") is None]
    return out or None


class ContentSpool:
    """A copy of content passing by in chunks, for scanning once it has all passed: in
    memory up to `limit` bytes, then in a temporary file, so a file of any size costs
    bounded memory."""

    def __init__(self, limit: int = SPOOL_LIMIT) -> None:
        self.limit = limit
        self.buffer = bytearray()
        self.file: Any = None  # a NamedTemporaryFile once the content outgrew `limit`

    def tee(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            if self.file is None and len(self.buffer) + len(chunk) > self.limit:
                self.file = tempfile.NamedTemporaryFile(prefix="quarry-yara-", suffix=".bin")  # noqa: SIM115
                self.file.write(self.buffer)
                self.buffer = bytearray()
            if self.file is not None:
                self.file.write(chunk)
            else:
                self.buffer += chunk
            yield chunk

    def target(self) -> bytearray | Path:
        """What yara scans: the bytes, or the temporary file's path."""
        if self.file is None:
            return self.buffer
        self.file.flush()
        return Path(self.file.name)

    def __enter__(self) -> ContentSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()


@dataclass
class TaskScan:
    """YARA for one task (a segment, a batch of files): scans with the job's pinned rule
    sets and keeps the detail rows until `write` stores them beside the task's part."""

    ctx: JobContext
    image_index: int
    part_key: str
    sets: list[LoadedRuleSet]
    rows: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def for_task(cls, config: StoreConfig, ctx: JobContext, image_index: int, part_key: str) -> TaskScan:
        sets = rule_sets_for(config, ctx.rule_sets) if ctx.rule_sets else []
        return cls(ctx, image_index, yara_part_key(part_key), sets)

    def _keep(self, rows: list[dict[str, Any]], **where: Any) -> list[dict[str, Any]]:
        base = {"case": self.ctx.case, "job": self.ctx.job_id, "image_index": self.image_index}
        kept = [base | where | r for r in rows]
        self.rows += kept
        return kept

    def _scan(self, target: bytes | bytearray | memoryview | Path, names: dict[str, str]) -> list[dict[str, Any]]:
        return [row for s in self.sets for row in scan_one(s, target, names, self.ctx.yara_timeout)]

    def carved(self, data: memoryview, offset: int, kind: str, sha256: str) -> list[str] | None:
        """Scan one carved file (its bytes are in memory already); its manifest labels."""
        if not self.sets:
            return None
        found = self._scan(data, externals(filetype=kind.upper()))
        return labels(self._keep(found, source="carved", offset=offset, sha256=sha256))

    def stored_file(
        self, store: ObjectStore, chunks: Iterable[bytes], path: str
    ) -> tuple[dict[str, Any], bool, list[str] | None]:
        """Store an extracted file's content (workers/artifacts.py) and scan the same bytes
        on their way: (digests, newly stored, manifest labels)."""
        if not self.sets:
            return (*store_stream(store, chunks), None)
        with ContentSpool() as spool:
            digests, new = store_stream(store, spool.tee(chunks))
            found = self._scan(spool.target(), externals(path))
        return digests, new, labels(self._keep(found, source="file", path=path, sha256=digests["sha256"]))

    def raw_window(self, start: int, length: int) -> Callable[[memoryview, int], None] | None:
        """When the job asked for raw scans: what scans a segment's window (its bytes, and
        where they start in the image), reporting what starts in [start, start + length)."""
        if not (self.sets and self.ctx.yara_raw):
            return None

        def scan(window: memoryview, at: int) -> None:
            names, owned = externals(), (start, start + length)
            for s in self.sets:
                found = scan_one(s, window, names, self.ctx.yara_timeout, shift=at, owned=owned)
                for row in found:
                    if row.get("error") is not None:
                        row["offset"] = start  # the window that failed, by its owned start
                self._keep(found, source="raw")

        return scan

    def write(self, store: ObjectStore) -> int:
        """The task's detail rows, written once under a deterministic key (always, when the
        job has rule sets, so a retried task replaces what an earlier attempt wrote); the
        number of matches among them."""
        if not self.sets:
            return 0
        store.put_rows(RESULTS, self.part_key, self.rows, YARA_SCHEMA)
        return sum(1 for row in self.rows if row.get("error") is None)
