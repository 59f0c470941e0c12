#!/usr/bin/env bash
# Quarry's own Prometheus (Debian package binary), scraping the job manager's /metrics.
#   deploy/prometheus.sh start [PORT] [METRICS_PORT] | stop
source "$(dirname "$0")/common.sh"
PIDFILE="$QUARRY_HOME/prometheus.pid"

case "${1:-}" in
  start)
    port=${2:-9090}; metrics_port=${3:-9464}
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      say "Prometheus already running (pid $(cat "$PIDFILE"))"; exit 0
    fi
    sed "s/__METRICS_TARGET__/127.0.0.1:$metrics_port/" "$REPO/deploy/prometheus/prometheus.yml" \
      >"$QUARRY_HOME/prometheus.yml"
    cp "$REPO/deploy/prometheus/alerts.yml" "$QUARRY_HOME/alerts.yml"
    mkdir -p "$QUARRY_HOME/prometheus-data"
    nohup prometheus --config.file="$QUARRY_HOME/prometheus.yml" --storage.tsdb.path="$QUARRY_HOME/prometheus-data" \
      --web.listen-address="127.0.0.1:$port" >"$QUARRY_HOME/prometheus.log" 2>&1 &
    echo $! >"$PIDFILE"
    wait_port "$port" 30 || { say "Prometheus did not start; see $QUARRY_HOME/prometheus.log"; exit 1; }
    say "Prometheus on 127.0.0.1:$port scraping 127.0.0.1:$metrics_port"
    ;;
  stop) stop_pidfile "$PIDFILE"; say "Prometheus stopped" ;;
  *) echo "usage: $0 start [PORT] [METRICS_PORT]|stop" >&2; exit 2 ;;
esac
