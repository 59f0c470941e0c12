"""The alert rules and the Grafana dashboard, checked by promtool and run against a real Prometheus.

No Quarry job runs here: Prometheus scrapes a port nothing listens on, so queries come back empty,
but every expression is parsed and evaluated by the real server. What the rules mean is checked by
`promtool test rules` over series written in this file. The dashboard may name only the metrics the
job manager exposes (the contract below, described in docs/metrics.md), and must show all of them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml  # PyYAML comes with Ray (a dependency of Quarry)

from tests.conftest import REPO
from tests.integration.conftest import free_port, render_prometheus_config, running_prometheus

ALERTS = REPO / "deploy/prometheus/alerts.yml"
CONFIG = REPO / "deploy/prometheus/prometheus.yml"
SCRIPT = REPO / "deploy/prometheus.sh"
DASHBOARD = REPO / "deploy/grafana/quarry-dashboard.json"
DOC = REPO / "docs/metrics.md"

# The metrics contract of issue 8: what the job manager's /metrics exposes, by exposed name.
COUNTERS = {
    "quarry_bytes_processed_total",
    "quarry_busy_seconds_total",
    "quarry_tasks_started_total",
    "quarry_tasks_finished_total",
    "quarry_tasks_failed_total",
    "quarry_tasks_retried_total",
    "quarry_artifacts_total",
    "quarry_yara_matches_total",
    "quarry_known_bad_hits_total",
    "quarry_features_total",
    "quarry_intake_verifications_total",
    "quarry_store_bytes_written_total",
    "quarry_store_errors_total",
}
HISTOGRAMS = {"quarry_store_upload_seconds"}
GAUGES = {
    "quarry_jobs",
    "quarry_jobs_waiting",
    "quarry_task_slots_used",
    "quarry_task_slots",
    "quarry_tasks_pending",
    "quarry_running_bytes_total",
    "quarry_running_bytes_done",
    "quarry_running_eta_seconds",
    "quarry_node_up",
    "quarry_node_cpu_utilization",
    "quarry_node_memory_used_bytes",
    "quarry_node_memory_total_bytes",
    "quarry_node_object_store_used_bytes",
    "quarry_node_object_store_total_bytes",
}
CONTRACT = COUNTERS | HISTOGRAMS | GAUGES
EXPOSED = CONTRACT | {h + s for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count")}
METRIC = re.compile(r"quarry_[a-z_]+")

# Grafana's built-in variables, as Grafana would fill them in for a 5 minute range and a 15 s step.
BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}
BUILTIN = re.compile(r"\$\{(__\w+)\}|\$(__\w+)")
# A dashboard variable: $name, ${name}, ${name:format} or [[name]].
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    path = shutil.which("promtool")
    assert path, "promtool (Debian package prometheus) is not installed: run `make install`"
    return subprocess.run([path, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=60)


def rule_names() -> list[str]:
    """Every rule name of alerts.yml, read from the file itself."""
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [r.get("alert") or r["record"] for g in groups for r in g["rules"]]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """prometheus.yml rendered as deploy/prometheus.sh renders it, with the rule files beside it."""
    return render_prometheus_config(tmp_path_factory.mktemp("prometheus-home"), free_port(), scrape_interval=None)


@pytest.fixture(scope="module")
def prometheus(prometheus_bin: str, rendered: Path) -> Iterator[str]:
    with running_prometheus(prometheus_bin, rendered) as url:
        yield url


def api(base: str, path: str, **params: str | float) -> dict:
    """One Prometheus HTTP API call; its JSON answer, errors included (they come with HTTP 400/422)."""
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        return json.load(e)


def run_expr(base: str, expr: str) -> list[str]:
    """Problems Prometheus has with `expr` as an instant query and as a range query over the last
    5 minutes (empty when both succeed)."""
    now = time.time()
    answers = {
        "query": api(base, "/api/v1/query", query=expr, time=now),
        "query_range": api(base, "/api/v1/query_range", query=expr, start=now - 300, end=now, step=15),
    }
    failed = {kind: a for kind, a in answers.items() if a["status"] != "success"}
    return [f"{kind}: {a.get('errorType')}: {a.get('error')}" for kind, a in failed.items()]


def panels(items: list[dict]) -> Iterator[dict]:
    """Every panel, rows' nested panels included."""
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))


def dashboard_targets() -> list[tuple[str, dict]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(p["title"], t) for p in panels(dashboard["panels"]) for t in p.get("targets", [])]


def as_grafana_sends(expr: str) -> str:
    """`expr` with variables filled in the way Grafana does: built-ins by their values for a 5 minute
    range, dashboard variables by "All" (.*), which only a regex matcher (=~) may take."""
    expr = BUILTIN.sub(lambda m: BUILTINS[m[1] or m[2]], expr)

    def all_values(m: re.Match) -> str:
        assert expr[: m.start()].endswith('=~"'), f"variable {m[0]} outside a =~ matcher in {expr}"
        return ".*"

    return VARIABLE.sub(all_values, expr)


def test_promtool_checks_rules() -> None:
    result = promtool("check", "rules", ALERTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rule_names())} rules found" in result.stdout


def test_promtool_checks_rendered_config(rendered: Path) -> None:
    assert "__METRICS_TARGET__" not in rendered.read_text()
    result = promtool("check", "config", rendered)
    assert result.returncode == 0, result.stdout + result.stderr
    # The script must copy every rule file the config names, or the relative path resolves to nothing.
    for name in yaml.safe_load(rendered.read_text())["rule_files"]:
        assert f"deploy/prometheus/{name}" in SCRIPT.read_text(), f"deploy/prometheus.sh does not copy {name}"


# Series in promtool's notation, and the alerts expected from them. 'a+bxn' counts from a by b, n times.
RULE_TESTS = """
evaluation_interval: 1m
tests:
  - name: node and manager down
    interval: 1m
    input_series:
      - {series: 'quarry_node_up{job="quarry",instance="m:9464",node="aa"}', values: '1 1 0 0 0 0'}
      - {series: 'quarry_node_up{job="quarry",instance="m:9464",node="bb"}', values: '1 1 1 1 1 1'}
      - {series: 'up{job="quarry",instance="m:9464"}', values: '1 0 0 0 0 0'}
    alert_rule_test:
      - {eval_time: 2m, alertname: QuarryNodeDown, exp_alerts: []}
      - eval_time: 4m
        alertname: QuarryNodeDown
        exp_alerts: [{exp_labels: {severity: critical, node: aa, job: quarry, instance: "m:9464"}}]
      - {eval_time: 2m, alertname: QuarryManagerDown, exp_alerts: []}
      - eval_time: 4m
        alertname: QuarryManagerDown
        exp_alerts: [{exp_labels: {severity: critical, job: quarry, instance: "m:9464"}}]

  - name: throughput of one node drops to a tenth while a job runs
    interval: 1m
    input_series:
      - {series: 'quarry_bytes_processed_total{node="aa",step="scan_segment"}', values: '0+600x60 36000+60x40'}
      - {series: 'quarry_bytes_processed_total{node="bb",step="scan_segment"}', values: '0+600x100'}
      - {series: 'quarry_jobs{state="running"}', values: '1x100'}
    alert_rule_test:
      - {eval_time: 60m, alertname: QuarryThroughputDrop, exp_alerts: []}
      - {eval_time: 68m, alertname: QuarryThroughputDrop, exp_alerts: []}
      - eval_time: 90m
        alertname: QuarryThroughputDrop
        exp_alerts: [{exp_labels: {severity: warning, node: aa}}]

  - name: the same drop with no job running
    interval: 1m
    input_series:
      - {series: 'quarry_bytes_processed_total{node="aa",step="scan_segment"}', values: '0+600x60 36000+60x40'}
      - {series: 'quarry_jobs{state="running"}', values: '0x100'}
      - {series: 'quarry_jobs{state="done"}', values: '1x100'}
    alert_rule_test:
      - {eval_time: 90m, alertname: QuarryThroughputDrop, exp_alerts: []}

  - name: one failure in eleven tasks of one step
    interval: 1m
    input_series:
      - {series: 'quarry_tasks_finished_total{node="aa",step="scan_segment"}', values: '0+10x30'}
      - {series: 'quarry_tasks_failed_total{node="aa",step="scan_segment"}', values: '0+1x30'}
      - {series: 'quarry_tasks_finished_total{node="aa",step="hash_image"}', values: '0+10x30'}
      - {series: 'quarry_tasks_failed_total{node="aa",step="hash_image"}', values: '0x30'}
    alert_rule_test:
      - eval_time: 20m
        alertname: QuarryTaskFailureRate
        exp_alerts: [{exp_labels: {severity: warning, step: scan_segment}}]

  - name: one failure in a hundred tasks
    interval: 1m
    input_series:
      - {series: 'quarry_tasks_finished_total{node="aa",step="scan_segment"}', values: '0+99x30'}
      - {series: 'quarry_tasks_failed_total{node="aa",step="scan_segment"}', values: '0+1x30'}
    alert_rule_test:
      - {eval_time: 20m, alertname: QuarryTaskFailureRate, exp_alerts: []}

  - name: a job waits and nothing moves, before any byte was ever counted
    interval: 1m
    input_series:
      - {series: 'quarry_jobs_waiting', values: '1x40'}
    alert_rule_test:
      - {eval_time: 10m, alertname: QuarryQueueStuck, exp_alerts: []}
      - {eval_time: 35m, alertname: QuarryQueueStuck, exp_alerts: [{exp_labels: {severity: warning}}]}

  - name: tasks pending while bytes still move, then stop
    interval: 1m
    input_series:
      - {series: 'quarry_tasks_pending{step="scan_segment"}', values: '4x80'}
      - {series: 'quarry_jobs_waiting', values: '0x80'}
      - {series: 'quarry_bytes_processed_total{node="aa",step="scan_segment"}', values: '0+100x30 3000x50'}
    alert_rule_test:
      - {eval_time: 30m, alertname: QuarryQueueStuck, exp_alerts: []}
      - {eval_time: 50m, alertname: QuarryQueueStuck, exp_alerts: []}
      - {eval_time: 65m, alertname: QuarryQueueStuck, exp_alerts: [{exp_labels: {severity: warning}}]}

  - name: MinIO timeouts from one node
    interval: 1m
    input_series:
      - {series: 'quarry_store_errors_total{node="aa",kind="timeout"}', values: '0+1x20'}
      - {series: 'quarry_store_errors_total{node="bb",kind="timeout"}', values: '0x20'}
    alert_rule_test:
      - {eval_time: 3m, alertname: QuarryStoreErrors, exp_alerts: []}
      - eval_time: 15m
        alertname: QuarryStoreErrors
        exp_alerts: [{exp_labels: {severity: warning, node: aa, kind: timeout}}]
"""


def test_alerts_fire_as_meant(tmp_path: Path) -> None:
    # Annotations are left out: promtool compares them verbatim, and `check rules` parses their templates.
    rules = yaml.safe_load(ALERTS.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump(rules))
    tests = yaml.safe_load(RULE_TESTS)
    tests["rule_files"] = ["alerts.yml"]
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests))
    tested = {t["alertname"] for case in tests["tests"] for t in case["alert_rule_test"]}
    assert tested == set(rule_names()), "every alert needs a case here"
    result = promtool("test", "rules", "tests.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_loads_every_rule(prometheus: str, rendered: Path) -> None:
    want = sorted(rule_names())
    deadline = time.monotonic() + 20
    while True:
        groups = api(prometheus, "/api/v1/rules")["data"]["groups"]
        got = sorted(r["name"] for g in groups for r in g["rules"])
        if got == want or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert got == want
    assert {(g["name"], g["file"]) for g in groups} == {("quarry", str(rendered.parent / "alerts.yml"))}
    for group in groups:
        for rule in group["rules"]:
            assert rule["health"] != "err", (rule["name"], rule.get("lastError"))
            assert not run_expr(prometheus, rule["query"]), rule["name"]


def test_dashboard_exprs_run(prometheus: str) -> None:
    targets = dashboard_targets()
    assert len(targets) >= 20
    problems = []
    for title, target in targets:
        assert target.get("expr"), f"panel {title!r}: a target without an expr"
        expr = as_grafana_sends(target["expr"])
        assert "$" not in expr and "[[" not in expr, f"panel {title!r}: unfilled variable in {expr}"
        problems += [f"{title}: {expr}: {p}" for p in run_expr(prometheus, expr)]
    assert not problems, "\n".join(problems)


def test_checker_catches_a_broken_expr(prometheus: str) -> None:
    assert run_expr(prometheus, as_grafana_sends("rate(quarry_bytes_processed_total[$__rate_interval])")) == []
    problems = run_expr(prometheus, as_grafana_sends("rate(quarry_bytes_processed_total[$__rate_interval]"))
    assert len(problems) == 2 and all("bad_data" in p for p in problems), problems
    with pytest.raises(AssertionError, match="outside a =~ matcher"):
        as_grafana_sends('quarry_node_up{node="$node"}')


def test_dashboard_is_importable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 36 and dashboard["uid"] and dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in panels(dashboard["panels"])]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    kinds = {"row", "timeseries", "stat", "bargauge", "table"}
    for panel in panels(dashboard["panels"]):
        assert panel["type"] in kinds, panel["title"]
        if panel["type"] != "row":
            assert panel["targets"], f"panel {panel['title']!r} has no query"
            for target in [panel, *panel["targets"]]:
                assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]


def test_dashboard_names_only_and_all_contract_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    texts = [t["expr"] for _, t in dashboard_targets()]
    texts += [v["definition"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    used = {m for text in texts for m in METRIC.findall(text)}
    assert used <= EXPOSED, f"not exposed by the job manager: {sorted(used - EXPOSED)}"
    shown = {next((h for h in HISTOGRAMS if m.startswith(h)), m) for m in used}
    assert CONTRACT <= shown, f"no panel shows {sorted(CONTRACT - shown)}"
    # The alert rules name only exposed metrics too.
    rules = yaml.safe_load(ALERTS.read_text())["groups"]
    in_rules = {m for g in rules for r in g["rules"] for m in METRIC.findall(r["expr"])}
    assert in_rules <= EXPOSED, sorted(in_rules - EXPOSED)


def test_docs_describe_every_metric() -> None:
    text = DOC.read_text()
    missing = sorted(m for m in CONTRACT if f"`{m}" not in text)
    assert not missing, f"docs/metrics.md does not describe {missing}"
