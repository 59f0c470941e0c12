"""`quarry admin user ...`: the API's users, their roles and cases, and their tokens.

Run on the control plane with the cluster's MinIO credentials (which examiners never hold);
every change is entered in the audit log under the system account that ran it.
"""

from __future__ import annotations

import argparse
import getpass
import json

from cluster.audit import AuditLog
from cluster.auth import ROLES, Users
from cluster.config import load_settings
from cluster.query import NAME
from workers.store import ObjectStore


def _cases(values: list[str]) -> list[str]:
    for case in values:
        if not NAME.fullmatch(case):
            raise ValueError(f"case {case!r}: letters, digits and . _ @ + = - only")
    return values


def run(args: argparse.Namespace) -> int:
    store = ObjectStore(load_settings().store)
    users = Users(store)
    actor = f"cli:{getpass.getuser()}"

    def audit(action: str, target: str, details: dict[str, object]) -> None:
        AuditLog(store).append(
            actor=actor, role="admin", action=action, outcome="allowed", target=target, details=details
        )

    if args.what == "list":
        for u in users.all():
            doc = {"name": u.name, "role": u.role, "cases": list(u.cases), "disabled": u.disabled, "created": u.created}
            print(
                json.dumps(doc)
                if args.json
                else f"{u.name:24} {u.role:9} {'DISABLED ' if u.disabled else ''}{','.join(u.cases)}"
            )
        return 0
    if args.what == "add":
        token = users.add(args.name, args.role, _cases(args.case))
        audit("admin.user.add", args.name, {"role": args.role, "cases": sorted(set(args.case))})
        print(f"user {args.name} ({args.role}) added; cases: {', '.join(sorted(set(args.case))) or 'none yet'}")
        print(f"token (shown once; give it to {args.name} alone): {token}")
    elif args.what == "token":
        token = users.new_token(args.name)
        audit("admin.user.token", args.name, {})
        print(f"new token for {args.name} (the old one no longer works): {token}")
    elif args.what == "assign":
        user = users.assign(args.name, _cases(args.case), _cases(args.remove))
        audit("admin.user.assign", args.name, {"added": args.case, "removed": args.remove})
        print(f"user {user.name}: cases {', '.join(user.cases) or 'none'}")
    elif args.what == "disable":
        users.disable(args.name)
        audit("admin.user.disable", args.name, {})
        print(f"user {args.name} disabled: their token no longer works")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("admin", help="manage the API's users (roles, cases, tokens)")
    user = a.add_subparsers(dest="group", required=True).add_parser("user", help="users of the HTTP API")
    what = user.add_subparsers(dest="what", required=True)
    add = what.add_parser("add", help="a new user with a role; prints their token once")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--case", action="append", default=[], help="a case assigned to them (repeatable)")
    token = what.add_parser("token", help="a new token for a user (the old one stops working)")
    token.add_argument("name")
    assign = what.add_parser("assign", help="assign cases to a user, or take them away")
    assign.add_argument("name")
    assign.add_argument("--case", action="append", default=[], help="case to assign (repeatable)")
    assign.add_argument("--remove", action="append", default=[], help="case to take away (repeatable)")
    disable = what.add_parser("disable", help="stop a user's token working")
    disable.add_argument("name")
    listing = what.add_parser("list", help="every user with role and cases")
    listing.add_argument("--json", action="store_true")
    a.set_defaults(func=run)
