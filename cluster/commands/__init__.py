"""One module per `quarry` subcommand; each offers `register(subparsers)`."""

from cluster.commands import find, forge, hashset, jobs, submit, verify

MODULES = (forge, submit, jobs, find, verify, hashset)
