"""One module per `quarry` subcommand; each offers `register(subparsers)`."""

from cluster.commands import find, forge, jobs, submit

MODULES = (forge, submit, jobs, find)
