"""Reading Quarry's metrics back from Prometheus's HTTP API (instant queries, urllib only).

The PromQL of the node table and the merging of its answers into one row per node live
here, apart from the rendering (cluster/commands/nodes.py). Metric names follow the
metrics contract of the job manager (cluster/metrics.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_URL = "http://127.0.0.1:9090"


class PrometheusError(Exception):
    """Prometheus answered, but with an error (a bad query, a failed evaluation)."""


class PrometheusUnreachable(PrometheusError):
    """No answer from Prometheus at the URL (nothing listening, a timeout, not Prometheus)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Prometheus at {url} is unreachable ({reason})")
        self.url, self.reason = url, reason


def instant(url: str, promql: str, timeout: float = 5) -> list[tuple[dict[str, str], float]]:
    """The value of `promql` now: one (labels, value) per series of a vector (a scalar is
    one series with no labels). NaN and ±Inf come back as floats."""
    base = url.rstrip("/")
    request = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            doc = json.load(resp)
    except urllib.error.HTTPError as exc:
        # A bad query is answered 400/422 with the reason in a JSON body.
        try:
            doc = json.load(exc)
        except (ValueError, OSError):
            raise PrometheusUnreachable(base, f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise PrometheusUnreachable(base, str(exc.reason)) from None
    except (OSError, ValueError) as exc:  # timeouts, resets, an answer that is not JSON
        raise PrometheusUnreachable(base, str(exc) or type(exc).__name__) from None
    if not isinstance(doc, dict) or doc.get("status") != "success":
        error = doc.get("error", doc) if isinstance(doc, dict) else doc
        raise PrometheusError(f"Prometheus at {base} answered an error to {promql!r}: {error}")
    data = doc["data"]
    if data["resultType"] == "vector":
        return [(dict(s["metric"]), float(s["value"][1])) for s in data["result"]]
    if data["resultType"] == "scalar":
        return [({}, float(data["result"][1]))]
    raise PrometheusError(f"Prometheus at {base}: {promql!r} is a {data['resultType']}, not an instant vector")


# One column of the node table per query, each already reduced to one series per node.
NODE_QUERIES = {
    "up": "max by (node) (quarry_node_up)",
    "bytes_per_s": "sum by (node) (rate(quarry_bytes_processed_total[1m]))",
    "bytes": "sum by (node) (quarry_bytes_processed_total)",
    "tasks": "sum by (node) (quarry_tasks_finished_total)",
    "failed": "sum by (node) (quarry_tasks_failed_total)",
    "retried": "sum by (node) (quarry_tasks_retried_total)",
    "cpu_percent": "max by (node) (quarry_node_cpu_utilization) * 100",
    "memory_used": "max by (node) (quarry_node_memory_used_bytes)",
    "memory_total": "max by (node) (quarry_node_memory_total_bytes)",
    "object_store_used": "max by (node) (quarry_node_object_store_used_bytes)",
    "object_store_total": "max by (node) (quarry_node_object_store_total_bytes)",
}


def node_rows(url: str, timeout: float = 5) -> list[dict[str, Any]]:
    """One dict per node that has any of the node table's series, sorted by node id:
    {"node": id, and each NODE_QUERIES key: its value, or None when the node lacks it}."""
    rows: dict[str, dict[str, Any]] = {}
    for column, promql in NODE_QUERIES.items():
        for labels, value in instant(url, promql, timeout):
            node = labels.get("node")
            if not node:
                continue
            row = rows.setdefault(node, {"node": node, **dict.fromkeys(NODE_QUERIES)})
            row[column] = value
    return [rows[n] for n in sorted(rows)]
