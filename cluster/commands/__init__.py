"""One module per `quarry` subcommand; each offers `register(subparsers)`."""

from cluster.commands import find, forge, hashset, jobs, submit, upload, verify

MODULES = (forge, upload, submit, jobs, find, verify, hashset)
