"""`quarry hashset`: import, list and remove the known-file hash sets artifacts are checked against."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cluster.config import load_settings
from cluster.hashsets.errors import HashSetError
from cluster.hashsets.formats import FORMATS
from cluster.hashsets.publish import current_version, import_set, list_sets, remove_set, versions
from workers.known_files import KINDS, SetInfo
from workers.store import ObjectStore


def _store() -> ObjectStore:
    return ObjectStore(load_settings().store)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _describe(info: SetInfo) -> str:
    algorithms = ", ".join(f"{f.count:,} {f.algorithm}" for f in info.files)
    return f"{info.name} {info.version} ({info.kind}): {algorithms} from {info.rows:,} rows, {_size(info.bytes)}"


def run_import(args: argparse.Namespace) -> int:
    store = _store()
    try:
        info = import_set(store, Path(args.file), args.name, args.kind, args.version, args.format, args.work_dir)
    except HashSetError:
        before = current_version(store, args.name)
        still = f"still uses version {before.version}" if before else "was not created"
        print(f"quarry: hash set {args.name} {still}", file=sys.stderr)
        raise
    print(f"imported {_describe(info)}")
    print(f"  source {info.source['file']} ({info.format}), sha256 {info.source['sha256']}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = _store()
    infos = versions(store, args.versions) if args.versions else list_sets(store)
    if args.json:
        for info in infos:
            print(json.dumps(info.to_dict(), sort_keys=True))
        return 0
    if not infos:
        print("no hash sets" if not args.versions else f"no hash set named {args.versions!r}", file=sys.stderr)
        return 1 if args.versions else 0
    print(f"{'NAME':20} {'KIND':10} {'VERSION':18} {'DIGESTS':>12} {'SIZE':>10}  {'FORMAT':9} IMPORTED")
    for i in infos:
        size = _size(i.bytes)
        print(f"{i.name:20} {i.kind:10} {i.version:18} {i.count:12,} {size:>10}  {i.format:9} {i.imported_at}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    removed = remove_set(_store(), args.name)
    print(f"removed hash set {args.name} ({removed} objects); artifacts are no longer checked against it")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    h = sub.add_parser("hashset", help="known-file hash sets (NSRL, hashdeep, md5sum lists)")
    hsub = h.add_subparsers(dest="hashset_command", required=True)

    i = hsub.add_parser("import", help="import a hash list as the new version of a set")
    i.add_argument("file", help="NSRL RDSv3 database, NSRLFile.txt, hashdeep/md5deep or md5sum/sha256sum list")
    i.add_argument("--name", required=True, help="the set's name (letters, digits, '.', '_', '-')")
    i.add_argument("--kind", required=True, choices=KINDS, help="known-good files are hidden, known-bad raised")
    i.add_argument("--version", help="the version's label (default: the time of import)")
    i.add_argument("--format", default="auto", choices=("auto", *FORMATS), help="input format (default: detected)")
    i.add_argument("--work-dir", type=Path, help="where sorted runs go while building (default: the temp dir)")
    i.set_defaults(func=run_import)

    ls = hsub.add_parser("list", help="the sets in use, with their versions")
    ls.add_argument("--versions", metavar="NAME", help="every kept version of one set instead")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=run_list)

    rm = hsub.add_parser("remove", help="stop using a set and delete all its versions")
    rm.add_argument("name")
    rm.set_defaults(func=run_remove)
