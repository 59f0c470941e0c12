"""`quarry nodes`: every node's throughput, tasks and load as a live table, from Prometheus.

The numbers come from Prometheus (cluster/prometheus_query.py), not from Ray: the table
works wherever Prometheus is reachable, and shows nodes that have died (UP "down").
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from cluster.prometheus_query import DEFAULT_URL, PrometheusError, PrometheusUnreachable, node_rows

Row = Mapping[str, Any]


def interval(text: str) -> float:
    """An argument type: seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"bad interval {text!r}: give a number of seconds above 0")
    return value


def human(n: float | None, suffix: str = "") -> str:
    """Bytes with binary units: 1536 -> '1.5 KiB'; '-' when unknown."""
    if n is None or math.isnan(n):
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}{suffix}" if unit == "B" else f"{n:.1f} {unit}{suffix}"
        n /= 1024
    raise AssertionError("unreachable")


def count(n: float | None) -> str:
    return "-" if n is None or math.isnan(n) else str(int(n))


def used_of(used: float | None, total: float | None) -> str:
    if used is None and total is None:
        return "-"
    return f"{human(used)} / {human(total)}"


def up(v: float | None) -> Text:
    if v is None or math.isnan(v):
        return Text("?")
    return Text("up", style="green") if v >= 1 else Text("down", style="bold red")


def table(rows: list[Row], url: str) -> Table:
    t = Table(title=f"Quarry nodes (Prometheus {url}, {dt.datetime.now().strftime('%H:%M:%S')})", title_justify="left")
    for name in ("NODE", "UP"):
        t.add_column(name, no_wrap=True)
    for name in ("BYTES/S", "BYTES", "TASKS", "FAILED", "RETRIED", "CPU %", "MEMORY", "OBJECT STORE"):
        t.add_column(name, justify="right", no_wrap=True)
    for r in rows:
        cpu = r["cpu_percent"]
        t.add_row(
            str(r["node"])[:12],
            up(r["up"]),
            human(r["bytes_per_s"], "/s"),
            count(r["bytes"]),
            count(r["tasks"]),
            count(r["failed"]),
            count(r["retried"]),
            "-" if cpu is None or math.isnan(cpu) else f"{cpu:.0f}",
            used_of(r["memory_used"], r["memory_total"]),
            used_of(r["object_store_used"], r["object_store_total"]),
        )
    if not rows:
        t.caption = "no node series yet: is Prometheus scraping the job manager's /metrics?"
    return t


def console() -> Console:
    """The console on stdout; wide when stdout is no terminal (a pipe, a file, a test), so
    the node ids are never cut, unless COLUMNS says otherwise."""
    c = Console()
    if not c.is_terminal and "COLUMNS" not in os.environ:
        c.width = 200
    return c


def run(args: argparse.Namespace) -> int:
    url = (args.prometheus or os.environ.get("QUARRY_PROMETHEUS_URL") or DEFAULT_URL).rstrip("/")
    try:
        rows = node_rows(url)
    except PrometheusUnreachable as exc:
        print(f"quarry nodes: {exc}: start it with deploy/prometheus.sh start or pass --prometheus", file=sys.stderr)
        return 2
    except PrometheusError as exc:
        print(f"quarry nodes: {exc}", file=sys.stderr)
        return 2
    out = console()
    if args.once:
        out.print(table(rows, url))
        return 0
    # Live: a failed refresh keeps the last table and says why beneath it, until Prometheus answers again.
    with Live(table(rows, url), console=out, auto_refresh=False) as live:
        while True:
            time.sleep(args.interval)
            try:
                rows = node_rows(url)
                live.update(table(rows, url), refresh=True)
            except PrometheusError as exc:
                live.update(Group(table(rows, url), Text(f"refresh failed: {exc}", style="red")), refresh=True)


def register(sub: argparse._SubParsersAction) -> None:
    n = sub.add_parser("nodes", help="a live table of every node's throughput, tasks and load (from Prometheus)")
    n.add_argument(
        "--prometheus",
        metavar="URL",
        help=f"Prometheus to ask (default: $QUARRY_PROMETHEUS_URL, else {DEFAULT_URL})",
    )
    n.add_argument("--once", action="store_true", help="print the table once and exit")
    n.add_argument(
        "--interval", type=interval, default=2.0, metavar="SECONDS", help="seconds between refreshes (default 2)"
    )
    n.set_defaults(func=run)
