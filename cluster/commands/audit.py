"""`quarry audit`: check the custody log's hash chain, read it, and set its retention."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

from cluster import custody
from cluster.audit import AUDIT, DEFAULT_MODE, AuditLog, canonical, lock_buckets, parse_time, retention
from cluster.config import load_settings
from workers.store import LOCKED, ObjectStore


def parse_anchor(text: str) -> tuple[int, str]:
    """'SEQ:SHA256' (as `quarry audit verify` prints the head) -> (seq, hash)."""
    m = re.fullmatch(r"(\d+):([0-9a-f]{64})", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"bad anchor {text!r}: give SEQ:SHA256, e.g. 41:9f86d0...")
    return int(m.group(1)), m.group(2)


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"bad number {text!r}: give a whole number of at least 1")
    return int(text)


def whole(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"bad number {text!r}: give a whole number")
    return int(text)


def verify(args: argparse.Namespace) -> int:
    store = ObjectStore(load_settings().store)
    verdict = AuditLog(store, args.bucket).verify(anchor=args.anchor)
    kept = retention(store, args.bucket)
    if args.json:
        doc = {**asdict(verdict), "ok": verdict.ok, "retention": asdict(kept) if kept else None}
        print(json.dumps(doc))
        return 0 if verdict.ok else 1
    if verdict.ok:
        print(f"audit log {args.bucket}: INTACT, {verdict.count} entries")
        if verdict.count:
            print(f"  head {verdict.count - 1}:{verdict.head}  (keep it: --anchor checks the log still holds it)")
    else:
        b = verdict.broken
        assert b is not None
        print(f"audit log {args.bucket}: BROKEN at seq {b.seq} ({b.key}): {b.problem}")
        print(f"  {b.detail}")
        print(f"  entries 0..{verdict.count - 1} are intact" if verdict.count else "  no entry before it is intact")
    print(f"  retention: {kept.mode} {kept.days} days" if kept else "  retention: NONE (the log can be rewritten)")
    return 0 if verdict.ok else 1


def selected(args: argparse.Namespace, entries: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    since: datetime | None = parse_time(args.since) if args.since else None
    shown = 0
    for e in entries:
        if args.case is not None and e.get("case") != args.case:
            continue
        if args.actor is not None and e.get("actor") != args.actor:
            continue
        if args.action is not None and e.get("action") != args.action:
            continue
        if since is not None:
            try:
                if parse_time(str(e.get("time"))) < since:
                    continue
            except ValueError:
                pass  # a damaged time is shown, not hidden; verify names the damage
        yield e
        shown += 1
        if args.limit is not None and shown >= args.limit:
            return


def line(e: dict[str, Any]) -> str:
    """One entry on one line; free text JSON-quoted so a newline in a reason cannot fake an entry."""
    parts = [f"{e.get('seq', '?'):>6}", str(e.get("time")), f"{e.get('actor')} ({e.get('role')})"]
    parts += [str(e.get("action")), str(e.get("outcome"))]
    for name in ("case", "target", "reason"):
        if e.get(name) is not None:
            value = e[name]
            parts.append(f"{name}={value}" if re.fullmatch(r"[\w.:@-]+", str(value)) else f"{name}={json.dumps(value)}")
    if e.get("details"):
        parts.append(json.dumps(e["details"], sort_keys=True, separators=(",", ":")))
    return " ".join(parts)


def show(args: argparse.Namespace) -> int:
    if args.since:
        parse_time(args.since)  # a bad time is refused before anything is read
    log = AuditLog(ObjectStore(load_settings().store), args.bucket)
    for e in selected(args, log.entries(args.start)):
        print(canonical(e).decode() if args.json else line(e))
    return 0


def lock(args: argparse.Namespace) -> int:
    store = ObjectStore(load_settings().store)
    store.ensure_buckets()
    AuditLog(store).ensure()
    buckets = args.bucket or [*LOCKED, AUDIT]
    custody.record(store, "admin.retention", role="admin", days=args.days, mode=args.mode, buckets=buckets)
    lock_buckets(store, args.days, args.mode, buckets)
    for b in buckets:
        kept = retention(store, b)
        print(f"{b}: versioning on, default retention {kept.mode if kept else '?'} {kept.days if kept else '?'} days")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("audit", help="verify, read and lock the hash-chained custody log")
    cmds = a.add_subparsers(dest="audit_command", required=True)

    v = cmds.add_parser("verify", help="recompute the hash chain; exit 1 and name the first broken link")
    v.add_argument("--anchor", type=parse_anchor, help="SEQ:SHA256 recorded earlier that the chain must still hold")
    v.add_argument("--bucket", default=AUDIT, help=f"the log's bucket (default {AUDIT})")
    v.add_argument("--json", action="store_true", help="print the verdict as one JSON object")
    v.set_defaults(func=verify)

    s = cmds.add_parser("show", help="print entries in order (streamed)")
    s.add_argument("--case", help="only this case's entries")
    s.add_argument("--actor", help="only this user's entries")
    s.add_argument("--action", help="only this action (e.g. artifact.download)")
    s.add_argument("--since", help="only entries at or after this time (ISO 8601; UTC unless an offset is given)")
    s.add_argument("--from", dest="start", type=whole, default=0, help="start at this sequence number")
    s.add_argument("--limit", type=positive, help="at most this many entries")
    s.add_argument("--bucket", default=AUDIT, help=f"the log's bucket (default {AUDIT})")
    s.add_argument("--json", action="store_true", help="one JSON object per line, as stored")
    s.set_defaults(func=show)

    lk = cmds.add_parser("lock", help="admin: versioning and default object-lock retention on buckets")
    lk.add_argument("--days", type=positive, required=True, help="days each new object is kept unchangeable")
    lk.add_argument(
        "--mode",
        type=str.upper,
        choices=("COMPLIANCE", "GOVERNANCE"),
        default=DEFAULT_MODE,
        help="COMPLIANCE: nobody can shorten it; GOVERNANCE: users with the bypass permission can (default "
        f"{DEFAULT_MODE})",
    )
    lk.add_argument(
        "--bucket",
        action="append",
        help=f"a bucket created with object lock (repeatable; default {', '.join([*LOCKED, AUDIT])})",
    )
    lk.set_defaults(func=lock)
