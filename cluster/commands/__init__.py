"""One module per `quarry` subcommand; each offers `register(subparsers)`."""

from cluster.commands import carve, find, forge, hashset, jobs, rules, scan, submit, upload, verify

MODULES = (forge, upload, submit, jobs, find, verify, hashset, rules, carve, scan)
