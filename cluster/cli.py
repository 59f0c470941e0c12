"""`quarry`: the command line of operators, examiners and trainers.

Every failure the user can fix prints one line naming the input and the problem and
exits non-zero; nothing already done is lost. Each subcommand lives in cluster/commands/.
"""

from __future__ import annotations

import argparse
import os
import sys


def user_errors() -> tuple[type[Exception], ...]:
    """Failures the user can fix (imported when needed: the store's client is heavy)."""
    from cluster.config import ConfigError
    from workers.evidence import EvidenceError
    from workers.store import StoreUnavailable

    return (EvidenceError, StoreUnavailable, ConfigError, ValueError, ConnectionError)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for every subcommand, or only for the one `argv` names (so it alone is imported)."""
    # Quarry's Ray clusters use token authentication (deploy/ray.sh starts them so; the token
    # is in ~/.ray/auth_token or RAY_AUTH_TOKEN). Ray reads the mode once, when first imported,
    # so it is set here, before the subcommands (which import Ray) are loaded.
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    from cluster.commands import NAMES, load

    named = argv[0] if argv else None
    p = argparse.ArgumentParser(prog="quarry", description="Distributed processing of forensic evidence images.")
    sub = p.add_subparsers(dest="command", required=True)
    for module in load((named,) if named in NAMES else NAMES):
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if not isinstance(exc, user_errors()):
            raise
        print(f"quarry: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
