"""`quarry serve`: the examiners' HTTP API on this host (cluster/http_api.py, docs/api.md).

Every request needs a user's bearer token (`quarry admin user add`). It speaks plain HTTP, so
it listens on the loopback address unless told otherwise, and warns when told otherwise: put
a TLS reverse proxy in front of it before the network sees tokens.
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
from types import FrameType

from cluster.config import load_settings

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8470


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the server as Ctrl-C does


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port {args.port}: give 0 to 65535 (0: any free port)")
    settings = load_settings()
    from cluster.http_api import ApiServer

    try:
        server = ApiServer(settings.store, args.host, args.port, settings)
    except OSError as exc:
        raise ValueError(f"--host {args.host} --port {args.port}: cannot listen: {exc.strerror or exc}") from None
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    print(f"quarry serve: listening on http://{shown}:{port}/v1/ (MinIO {settings.store.endpoint})", file=sys.stderr)
    if not is_loopback(args.host):
        print(
            f"quarry serve: WARNING: {args.host} is not a loopback address and this server speaks plain HTTP: "
            "bearer tokens cross the network in the clear; put it behind a TLS reverse proxy",
            file=sys.stderr,
        )
    sys.stderr.flush()
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("quarry serve: stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "serve",
        help="serve the examiners' HTTP API (JSON queries, provenance, verified downloads)",
        description="Bearer tokens from `quarry admin user add`; plain HTTP: keep it on loopback or behind TLS.",
    )
    s.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    s.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free port)")
    s.set_defaults(func=run)
