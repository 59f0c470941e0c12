"""`quarry rules`: add, list and remove the YARA rule sets every job scans its files with."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cluster.config import load_settings
from cluster.rules import add_rule_set, current_version, list_rule_sets, remove_rule_set, versions
from workers.store import ObjectStore
from workers.yara_scan import RuleSetInfo


def _store() -> ObjectStore:
    return ObjectStore(load_settings().store)


def run_add(args: argparse.Namespace) -> int:
    info = add_rule_set(_store(), Path(args.path), args.name, args.version)
    print(
        f"added rule set {info.name} {info.version}: {info.rules:,} rule(s) from {len(info.files)} file(s), "
        f"compiled by yara {info.yara_version}"
    )
    for warning in info.warnings:
        print(f"  yara warning: {warning}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = _store()
    infos: list[RuleSetInfo] = versions(store, args.name) if args.name else list_rule_sets(store)
    if args.json:
        for info in infos:
            print(json.dumps(info.to_dict(), sort_keys=True))
        return 0
    if not infos:
        print(f"no rule set named {args.name!r}" if args.name else "no rule sets", file=sys.stderr)
        return 1 if args.name else 0
    in_use = current_version(store, args.name).version if args.name else None
    print(f"{'NAME':20} {'VERSION':20} {'RULES':>8} {'FILES':>6}  {'YARA':8} ADDED")
    for i in infos:
        mark = " (in use)" if in_use == i.version else ""
        print(f"{i.name:20} {i.version:20} {i.rules:8,} {len(i.files):6}  {i.yara_version:8} {i.added_at}{mark}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    removed = remove_rule_set(_store(), args.name)
    print(f"removed rule set {args.name} ({removed} objects); later jobs no longer scan with it")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("rules", help="YARA rule sets every job scans carved and extracted files with")
    rsub = r.add_subparsers(dest="rules_command", required=True)

    a = rsub.add_parser("add", help="compile a rule file or folder and make it the new version of a set")
    a.add_argument("name", help="the rule set's name (letters, digits, '.', '_', '-')")
    a.add_argument("path", help="a .yar/.yara file, or a folder of them (each file its own namespace)")
    a.add_argument("--version", help="the version's label (default: the time of the add)")
    a.set_defaults(func=run_add)

    ls = rsub.add_parser("list", help="the rule sets in use, or every kept version of one")
    ls.add_argument("name", nargs="?", help="list every kept version of this set")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=run_list)

    rm = rsub.add_parser("remove", help="stop using a rule set and delete all its versions")
    rm.add_argument("name")
    rm.set_defaults(func=run_remove)
