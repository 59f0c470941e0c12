"""Add a YARA rule set as a new version in MinIO, list rule sets, remove one.

Rules are compiled here, at upload, with the external variables Quarry supplies at scan
time (workers/yara_scan.py), so a rule that does not compile is refused with its file, line
and message before anything is written. Then the sources go up, the compiled rules, the
version's meta.json, and only then `current.json`, the one object jobs follow: until that
last write, jobs keep the previous version. Versions are never overwritten, so a job's
summary naming a version names exactly the rules it ran.

Each file is its own namespace (its path relative to the uploaded folder), so rule names
may repeat across files as they do in public collections. `include` is refused: what is
stored is exactly what is compiled, on any node.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from pathlib import Path

import yara

from cluster.published import check_label, publish, remove_versions, version_docs
from workers.published import current_doc, meta_key
from workers.store import RULES, ObjectStore
from workers.yara_scan import (
    EXTERNAL_DEFAULTS,
    RuleSetInfo,
    StoredFile,
    compiled_key,
    current_rule_sets,
    source_key,
)

SUFFIXES = (".yar", ".yara")


class RuleSetError(ValueError):
    """A rule set that cannot be added: `path:line: problem` (or `path: problem`). A
    ValueError, so the CLI prints it as one line and exits 2."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        self.path, self.problem, self.line = str(path), problem, line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


def rule_files(path: Path) -> dict[str, Path]:
    """The rule files to compile, by namespace: a .yar/.yara file (its name), or every such
    file under a folder (its relative path, '/'-separated), in name order."""
    if path.is_file():
        if path.suffix.lower() not in SUFFIXES:
            raise RuleSetError(path, "not a .yar or .yara file")
        return {path.name: path}
    if not path.is_dir():
        raise RuleSetError(path, "no such file or folder")
    found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
    if not found:
        raise RuleSetError(path, "no .yar or .yara files in this folder")
    return {p.relative_to(path).as_posix(): p for p in found}


def compile_error(message: str, files: dict[str, Path], root: Path) -> RuleSetError:
    """yara's "PATH(LINE): MESSAGE" as file, line and message (else the message, on `root`)."""
    for p in files.values():
        prefix = f"{p}("
        if message.startswith(prefix):
            line, sep, problem = message[len(prefix) :].partition("): ")
            if sep and line.isdigit():
                return RuleSetError(p, problem, int(line))
    return RuleSetError(root, message)


def compile_files(files: dict[str, Path], root: Path) -> yara.Rules:
    """Compile the files as one rule set, each in its namespace, with Quarry's externals."""
    try:
        return yara.compile(
            filepaths={ns: str(p) for ns, p in files.items()}, externals=EXTERNAL_DEFAULTS, includes=False
        )
    except yara.Error as exc:
        raise compile_error(str(exc), files, root) from None


def _stored(key: str, data: bytes) -> StoredFile:
    return StoredFile(key, len(data), hashlib.sha256(data).hexdigest())


def current_version(store: ObjectStore, name: str) -> RuleSetInfo | None:
    """The version of `name` in use, or None if there is no such rule set."""
    doc = current_doc(store, RULES, name)
    return RuleSetInfo.from_dict(doc) if doc else None


def _new_version(store: ObjectStore, name: str, version: str | None, now: dt.datetime) -> str:
    if version is not None:
        check_label("version", version)
        if store.exists(RULES, meta_key(name, version)):
            raise ValueError(f"rule set {name} already has version {version}; versions are kept as added: give another")
        return version
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    label, n = stamp, 1
    while store.exists(RULES, meta_key(name, label)):  # two adds within a second
        n += 1
        label = f"{stamp}-{n}"
    return label


def add_rule_set(store: ObjectStore, path: Path, name: str, version: str | None = None) -> RuleSetInfo:
    """Compile `path` (a rule file or a folder of them) and publish it as version `version`
    (default: the time now) of rule set `name`, made current. Any error leaves the store as
    it was."""
    check_label("rule set name", name)
    files = rule_files(path)
    sources = {ns: p.read_bytes() for ns, p in files.items()}
    rules = compile_files(files, path)
    count = sum(1 for _ in rules)
    if count == 0:
        raise RuleSetError(path, "no rules in this rule set")
    with tempfile.TemporaryFile(prefix="quarry-rules-") as f:
        rules.save(file=f)
        f.seek(0)
        compiled = f.read()
    now = dt.datetime.now(dt.UTC)
    store.ensure_buckets()
    version = _new_version(store, name, version, now)
    info = RuleSetInfo(
        name=name,
        version=version,
        added_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        yara_version=yara.__version__,
        rules=count,
        files={ns: _stored(source_key(name, version, ns), data) for ns, data in sources.items()},
        compiled=_stored(compiled_key(name, version), compiled),
        warnings=tuple(rules.warnings),
    )
    for ns, data in sources.items():
        store.put_bytes(RULES, info.files[ns].key, data, "text/plain")
    store.put_bytes(RULES, info.compiled.key, compiled, "application/octet-stream")
    publish(store, RULES, name, version, info.to_dict())
    return info


def list_rule_sets(store: ObjectStore) -> list[RuleSetInfo]:
    """Every rule set's version in use, by name."""
    store.ensure_buckets()
    return current_rule_sets(store)


def versions(store: ObjectStore, name: str) -> list[RuleSetInfo]:
    """Every version of `name` kept in MinIO, oldest first."""
    store.ensure_buckets()
    infos = (RuleSetInfo.from_dict(doc) for doc in version_docs(store, RULES, name))
    return sorted(infos, key=lambda i: (i.added_at, i.version))


def remove_rule_set(store: ObjectStore, name: str) -> int:
    """Stop using rule set `name` (its pointer goes first) and delete every version;
    returns the number of objects removed."""
    return remove_versions(store, RULES, name, "rule set")
