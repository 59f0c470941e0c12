"""`quarry pdqset`: import, list and remove the known-image lists (PDQ hashes) pictures are matched against."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cluster.commands.hashset import _size
from cluster.config import load_settings
from cluster.hashsets.errors import HashSetError
from cluster.pdqsets import FORMATS, current_version, import_set, list_sets, remove_set, versions
from workers.known_files import KINDS
from workers.known_images import PdqSetInfo
from workers.store import ObjectStore


def _store() -> ObjectStore:
    return ObjectStore(load_settings().store)


def _describe(info: PdqSetInfo) -> str:
    return (
        f"{info.name} {info.version} ({info.kind}): {info.count:,} hashes, {info.labels:,} labels "
        f"from {info.rows:,} lines, {_size(info.bytes)}"
    )


def run_import(args: argparse.Namespace) -> int:
    store = _store()
    try:
        info = import_set(store, Path(args.file), args.name, args.kind, args.version, args.format, args.work_dir)
    except HashSetError:
        before = current_version(store, args.name)
        still = f"still uses version {before.version}" if before else "was not created"
        print(f"quarry: PDQ set {args.name} {still}", file=sys.stderr)
        raise
    print(f"imported {_describe(info)}")
    print(f"  source {info.source['file']} ({info.format}), sha256 {info.source['sha256']}")
    if info.low_quality:
        print(f"  {info.low_quality:,} hashes have a PDQ quality under 50 (unreliable matches)")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = _store()
    infos = versions(store, args.versions) if args.versions else list_sets(store)
    if args.json:
        for info in infos:
            print(json.dumps(info.to_dict(), sort_keys=True))
        return 0
    if not infos:
        print("no PDQ sets" if not args.versions else f"no PDQ set named {args.versions!r}", file=sys.stderr)
        return 1 if args.versions else 0
    print(f"{'NAME':20} {'KIND':10} {'VERSION':18} {'HASHES':>12} {'SIZE':>10}  {'FORMAT':14} IMPORTED")
    for i in infos:
        size = _size(i.bytes)
        print(f"{i.name:20} {i.kind:10} {i.version:18} {i.count:12,} {size:>10}  {i.format:14} {i.imported_at}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    removed = remove_set(_store(), args.name)
    print(f"removed PDQ set {args.name} ({removed} objects); pictures are no longer matched against it")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    h = sub.add_parser("pdqset", help="known-image lists of PDQ hashes (perceptual matches within a distance)")
    hsub = h.add_subparsers(dest="pdqset_command", required=True)

    i = hsub.add_parser("import", help="import a PDQ hash list as the new version of a set")
    i.add_argument("file", help="lines HEX64[,LABEL], or pdq-photo-hasher/ThreatExchange CSV HEX64,QUALITY[,LABEL]")
    i.add_argument("--name", required=True, help="the set's name (letters, digits, '.', '_', '-')")
    i.add_argument("--kind", required=True, choices=KINDS, help="known-good pictures are hidden, known-bad raised")
    i.add_argument("--version", help="the version's label (default: the time of import)")
    i.add_argument("--format", default="auto", choices=("auto", *FORMATS), help="input format (default: detected)")
    i.add_argument("--work-dir", type=Path, help="where the index is built (default: the temp dir)")
    i.set_defaults(func=run_import)

    ls = hsub.add_parser("list", help="the sets in use, with their versions")
    ls.add_argument("--versions", metavar="NAME", help="every kept version of one set instead")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=run_list)

    rm = hsub.add_parser("remove", help="stop using a set and delete all its versions")
    rm.add_argument("name")
    rm.set_defaults(func=run_remove)
