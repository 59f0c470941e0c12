#!/usr/bin/env bash
# MinIO for local use and tests: install (build with Go at the pinned version), start on
# loopback with generated credentials, stop.
#   deploy/minio.sh install | start [PORT] | stop | env
source "$(dirname "$0")/common.sh"
DATA="$QUARRY_HOME/minio-data"
PIDFILE="$QUARRY_HOME/minio.pid"
CREDS="$QUARRY_HOME/minio.credentials"

install_minio() {
  if [ -x "$MINIO_BIN" ]; then return 0; fi
  command -v go >/dev/null || { say "Go toolchain not found: it is needed to build MinIO"; exit 1; }
  say "building MinIO $MINIO_VERSION with the Go toolchain (first time only, a few minutes)"
  local tmp
  tmp=$(mktemp -d)
  GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION"
  mkdir -p "$(dirname "$MINIO_BIN")"
  mv "$tmp/minio" "$MINIO_BIN"
  rmdir "$tmp"
}

credentials() {
  if [ ! -f "$CREDS" ]; then
    umask 077
    printf 'MINIO_ROOT_USER=quarry-%s\nMINIO_ROOT_PASSWORD=%s\n' \
      "$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
      "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$CREDS"
  fi
  # shellcheck disable=SC1090
  source "$CREDS"
}

start_minio() {
  local port=${1:-9000}
  install_minio
  credentials
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    say "MinIO already running (pid $(cat "$PIDFILE"))"
    return 0
  fi
  mkdir -p "$DATA"
  MINIO_ROOT_USER="$MINIO_ROOT_USER" MINIO_ROOT_PASSWORD="$MINIO_ROOT_PASSWORD" MINIO_BROWSER=off \
    nohup "$MINIO_BIN" server --quiet --address "127.0.0.1:$port" --console-address "127.0.0.1:$((port + 1))" \
    "$DATA" >"$QUARRY_HOME/minio.log" 2>&1 &
  echo $! >"$PIDFILE"
  wait_port "$port" 60 || { say "MinIO did not start; see $QUARRY_HOME/minio.log"; exit 1; }
  say "MinIO on 127.0.0.1:$port (data $DATA)"
  { echo "QUARRY_S3_ENDPOINT=127.0.0.1:$port"
    echo "QUARRY_S3_ACCESS_KEY=$MINIO_ROOT_USER"
    echo "QUARRY_S3_SECRET_KEY=$MINIO_ROOT_PASSWORD"; } >"$QUARRY_HOME/minio.env"
  chmod 600 "$QUARRY_HOME/minio.env"
}

case "${1:-}" in
  install) install_minio; echo "$MINIO_BIN" ;;
  start) start_minio "${2:-9000}" ;;
  stop) stop_pidfile "$PIDFILE"; say "MinIO stopped" ;;
  bin) install_minio >&2; echo "$MINIO_BIN" ;;
  *) echo "usage: $0 install|start [PORT]|stop|bin" >&2; exit 2 ;;
esac
