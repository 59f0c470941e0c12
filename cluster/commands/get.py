"""`quarry get SHA256`: download an artifact, re-verify its digest, print its provenance.

The object is streamed into a temporary file beside the destination and hashed on the way;
only content whose SHA-256 is the one asked for is renamed into place, so a file under the
final name is always verified content (the reading and checking are cluster/retrieval.py's,
shared with the HTTP API). Exit codes (docs/retrieval.md): 0 written and
verified, 1 no such artifact (in the case asked), 2 bad input, 3 the stored content is
missing or is not what the manifest recorded (nothing written).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from cluster import custody
from cluster.api_client import api_client
from cluster.commands import via_api
from cluster.config import load_settings
from cluster.provenance import JobProvenance, Provenance, parse_sha256, split_step_version
from cluster.retrieval import EXIT_NOT_FOUND, GetFailed, VerifiedRead
from workers.store import ObjectStore

TIMES = ("mtime", "atime", "ctime", "crtime")


@dataclass
class Fetched:
    """The file written and the digests taken of exactly the bytes written."""

    path: str
    size: int
    sha256: str
    md5: str
    sha1: str
    verified: bool = True


def destination(out: str | None, sha256: str, force: bool) -> Path:
    """Where the artifact goes: FILE, DIR/<sha256> for an existing directory, or ./<sha256>.
    An existing file is refused unless `force`; checked before anything is read."""
    dest = Path(out) if out else Path(sha256)
    if dest.is_dir():
        dest = dest / sha256
    if not dest.parent.is_dir():
        raise ValueError(f"--out {out}: directory {dest.parent} does not exist")
    if dest.is_dir():
        raise ValueError(f"--out {dest}: is a directory")
    if (dest.exists() or dest.is_symlink()) and not force:
        raise ValueError(f"{dest} already exists (--force replaces it)")
    return dest


def _place(tmp: str, dest: Path, force: bool) -> None:
    """Put the verified temporary file under its final name; without `force`, never over a
    file that appeared meanwhile (a hard link fails where a rename would replace)."""
    if force:
        os.replace(tmp, dest)
        return
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise ValueError(f"{dest} already exists (--force replaces it)") from None
    except OSError:  # a filesystem without hard links
        if dest.exists() or dest.is_symlink():
            raise ValueError(f"{dest} already exists (--force replaces it)") from None
        os.replace(tmp, dest)
        return
    os.unlink(tmp)


def fetch_verified(
    store: ObjectStore, sha256: str, dest: Path, recorded: dict[str, Any], force: bool = False
) -> Fetched:
    """Stream the artifact into a temporary file beside `dest`, hashing as it goes, and
    rename it into place only when its SHA-256 is `sha256` and its MD5 and SHA-1 are those
    the manifest recorded (`recorded`, a manifest row). Otherwise nothing is left behind."""
    try:
        read = VerifiedRead(store, sha256, recorded)
    except GetFailed as exc:
        raise GetFailed(f"{exc}; nothing written", exc.code) from None
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in read.chunks():
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        _place(tmp, dest, force)
    except GetFailed as exc:
        raise GetFailed(f"{exc}; nothing written to {dest}", exc.code) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    assert read.digests is not None  # every chunk was read and verified
    return Fetched(str(dest), read.size, read.digests["sha256"], read.digests["md5"], read.digests["sha1"])


def utc(seconds: int | None) -> str | None:
    """A manifest time (seconds since the epoch, UTC) in ISO form; evidence can hold any
    number, so one no calendar holds is shown as it is."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return f"{seconds} (not a date)"


def describe_place(number: int, row: dict[str, Any], job: JobProvenance) -> list[str]:
    """One place, as lines: the job and image, where in it, what produced it, what matched it."""
    image = job.image(row["image_index"])
    lines = [
        f"[{number}] case {row['case']}  job {row['job']}",
        f"    image {row['image_index']} {row['image_path']}",
        f"      sha256 {row.get('image_sha256') or (image.digests.get('sha256') if image else None) or '-'}",
    ]
    kind = row.get("type") or "?"
    if row.get("subtype"):
        kind += f" ({row['subtype']})"
    status = f" {row['status']}" if row.get("status") else ""
    if row.get("path") is not None:
        lines.append(
            f"    file {row['path']}  inode {row.get('inode')}  {row.get('origin') or '?'}  "
            f"{row['length']} bytes{status}"
        )
        of_kind = "" if kind == "file" else f"; type {kind}"
        lines.append(f"      in the filesystem at image offset {row.get('fs_offset')}{of_kind}")
        times = [f"{name} {utc(row[name])}" for name in TIMES if row.get(name) is not None]
        lines.append("      " + ("  ".join(times) if times else "no times recorded"))
    else:
        confidence = f", confidence {row['confidence']}" if row.get("confidence") is not None else ""
        lines.append(f"    {row.get('origin') or 'carved'} {kind}{status}{confidence}")
        if row.get("runs"):
            runs = ", ".join(f"{at}+{n}" for at, n in row["runs"])
            lines.append(f"      byte runs (offset+length): {runs}  ({row['length']} bytes, fragmented)")
        else:
            end = row["offset"] + row["length"] - 1 if row["length"] else row["offset"]
            lines.append(f"      offset {row['offset']}, {row['length']} bytes (image bytes {row['offset']}..{end})")
        if row.get("missing"):
            lines.append(f"      {row['missing']} bytes missing")
    if row.get("parent_sha256") or row.get("parent_offset") is not None:
        lines.append(f"    inside the carve at offset {row.get('parent_offset')} (sha256 {row.get('parent_sha256')})")
    version, core = split_step_version(row.get("step_version"))
    lines.append(f"    found by {row.get('step')} {version or '?'}" + (f" (core {core})" if core else ""))
    if row.get("known"):
        sets = ", ".join(f"{s} {job.hash_sets.get(s, '?')}" for s in row.get("known_sets") or [])
        lines.append(f"    known-{row['known']}: {sets}")
    if row.get("yara"):
        rules = ", ".join(f"{r} ({job.rule_sets.get(r.split('/', 1)[0], '?')})" for r in row["yara"])
        lines.append(f"    yara: {rules}")
    return lines


def _verification(v: dict[str, Any] | None) -> str:
    if not v:
        return "not recorded"
    checks = "; ".join(f"{c['algorithm']} {c['result']} ({c.get('source', '?')})" for c in v.get("checks", []))
    return v["result"] + (f": {checks}" if checks else " (no acquisition digest was given)")


def describe_job(job: JobProvenance) -> list[str]:
    """A job's pinned sets, versions, times and images, as lines."""
    if job.missing_record:
        return [f"job {job.job}  case {job.case}: its record is not in the journal"]
    lines = [
        f"job {job.job}  case {job.case}  {job.state}  ({job.places} place{'s' if job.places != 1 else ''})",
        f"    submitted {job.submitted or '-'}  started {job.started or '-'}  finished {job.finished or '-'}"
        + (f"  ({job.seconds} s)" if job.seconds is not None else ""),
        "    hash sets: " + (", ".join(f"{n} {v}" for n, v in job.hash_sets.items()) or "none"),
        "    rule sets: " + (", ".join(f"{n} {v}" for n, v in job.rule_sets.items()) or "none"),
        "    steps: "
        + (", ".join(f"{s} {'/'.join(v) or '?'}" for s, v in sorted(job.steps.items())) or "-")
        + ("; core " + ", ".join(job.core) if job.core else ""),
    ]
    for img in job.images_found():
        lines.append(f"    image {img.index} {img.path}  {img.format or '?'}  {img.size} bytes")
        for name, value in img.digests.items():
            lines.append(f"      {name:6} {value}")
        lines.append(f"      intake verification: {_verification(img.verification)}")
    return lines


def print_text(fetched: Fetched, prov: Provenance, out: TextIO) -> None:
    print(f"wrote {fetched.path} ({fetched.size} bytes): sha256 verified, md5 and sha1 equal the manifest's", file=out)
    for name in ("sha256", "md5", "sha1"):
        print(f"  {name:6} {getattr(fetched, name)}", file=out)
    scope = f" in case {prov.case}" if prov.case else ""
    print(f"\nfound{scope}:", file=out)
    count = 0
    for row in prov.places():
        count += 1
        print("\n".join(describe_place(count, row, prov.jobs[row["job"]])), file=out)
    cases = {j.case for j in prov.jobs.values()}
    print(
        f"\n{count} place{'s' if count != 1 else ''} in {len(prov.jobs)} job{'s' if len(prov.jobs) != 1 else ''}, "
        f"{len(cases)} case{'s' if len(cases) != 1 else ''}\n\njobs:",
        file=out,
    )
    for job in prov.jobs.values():
        print("\n".join(describe_job(job)), file=out)


def print_json(fetched: Fetched, prov: Provenance, out: TextIO) -> None:
    """One JSON document, written as the places stream in (never held whole)."""
    head = {"sha256": prov.sha256, "case": prov.case, "file": asdict(fetched)}
    out.write(json.dumps(head)[:-1] + ', "places": [')
    for i, row in enumerate(prov.places()):
        out.write((", " if i else "") + json.dumps(row))
    out.write('], "jobs": ' + json.dumps([j.as_dict() for j in prov.jobs.values()]) + "}\n")


def run(args: argparse.Namespace) -> int:
    client = api_client()
    if client is not None:
        return via_api.get(client, args)
    sha256 = parse_sha256(args.sha256)
    dest = destination(args.out, sha256, args.force)
    prov = Provenance(ObjectStore(load_settings().store), sha256, args.case)
    try:
        first = prov.first()
        if first is None:
            scope = f" in case {args.case!r}" if args.case else ""
            raise GetFailed(f"no artifact with sha256 {sha256}{scope}; nothing written", EXIT_NOT_FOUND)
        custody.record(prov.store, "artifact.download", case=args.case, target=sha256, to=str(dest))
        fetched = fetch_verified(prov.store, sha256, dest, first, args.force)
    except GetFailed as exc:
        print(f"quarry: error: {exc}", file=sys.stderr)
        return exc.code
    (print_json if args.json else print_text)(fetched, prov, sys.stdout)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser(
        "get", help="download an artifact, re-verify its digest and print where it was found (provenance)"
    )
    g.add_argument("sha256", metavar="SHA256", help="the artifact's SHA-256 (64 hex digits, either case)")
    g.add_argument("--out", metavar="FILE", help="where to write it (default ./SHA256; a directory: DIR/SHA256)")
    g.add_argument("--case", help="only this case: the artifact must have been found in it")
    g.add_argument("--json", action="store_true", help="the provenance as one JSON document")
    g.add_argument("--force", action="store_true", help="replace FILE if it exists")
    g.set_defaults(func=run)
