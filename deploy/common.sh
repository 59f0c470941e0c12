# Shared settings of Quarry's local deploy scripts (sourced, not run).
# QUARRY_HOME holds the generated credentials, logs, data and pid files of local services.
set -euo pipefail
QUARRY_HOME="${QUARRY_HOME:-$HOME/.local/share/quarry}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${QUARRY_VENV:-$REPO/.venv}"
# MinIO is built from source with the Go toolchain at this pinned module version.
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
TOOLS="${QUARRY_TOOLS:-$HOME/.cache/quarry}"
MINIO_BIN="$TOOLS/minio-$MINIO_VERSION/minio"
mkdir -p "$QUARRY_HOME"

say() { printf '[quarry] %s\n' "$*" >&2; }

# Wait until a TCP port on loopback answers, or fail after $2 seconds.
wait_port() {
  local port=$1 secs=${2:-30} i
  for ((i = 0; i < secs * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Stop the process recorded in a pid file, if it is still ours and alive.
stop_pidfile() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}
