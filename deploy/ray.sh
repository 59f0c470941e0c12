#!/usr/bin/env bash
# A local Ray head node: start (blocks in the background so stop can end exactly it), stop.
#   deploy/ray.sh start [PORT] | stop
source "$(dirname "$0")/common.sh"
PIDFILE="$QUARRY_HOME/ray.pid"

case "${1:-}" in
  start)
    port=${2:-6380}
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      say "Ray head already running (pid $(cat "$PIDFILE"))"; exit 0
    fi
    # Token authentication: the token lives in ~/.ray/auth_token (copy it to every node of a lab).
    [ -s "$HOME/.ray/auth_token" ] || RAY_AUTH_MODE=token "$VENV/bin/ray" get-auth-token --generate >/dev/null
    chmod 600 "$HOME/.ray/auth_token"  # Ray writes it readable by everyone
    RAY_AUTH_MODE=token RAY_USAGE_STATS_ENABLED=0 nohup "$VENV/bin/ray" start --head --block --port "$port" \
      --node-ip-address 127.0.0.1 --include-dashboard=false --disable-usage-stats \
      >"$QUARRY_HOME/ray.log" 2>&1 &
    echo $! >"$PIDFILE"
    wait_port "$port" 90 || { say "Ray did not start; see $QUARRY_HOME/ray.log"; exit 1; }
    sleep 2
    echo "QUARRY_RAY_ADDRESS=127.0.0.1:$port" >"$QUARRY_HOME/ray.env"
    say "Ray head on 127.0.0.1:$port"
    ;;
  stop) stop_pidfile "$PIDFILE"; say "Ray stopped" ;;
  *) echo "usage: $0 start [PORT]|stop" >&2; exit 2 ;;
esac
