#!/usr/bin/env bash
# Join this machine to a lab's Quarry cluster as a Ray worker node (docs/deploy.md).
#   deploy/lab-node.sh start --address HEAD_IP:PORT --node-ip-address THIS_IP
#                            [--num-cpus N] [--num-gpus N] [--resources JSON] [--evidence LABEL=PATH]...
#   deploy/lab-node.sh stop | status
#
# Token authentication as in deploy/ray.sh: copy ~/.ray/auth_token from the head first (or set
# RAY_AUTH_TOKEN_PATH). Every port Ray opens is fixed, so a firewall can name them (docs/deploy.md):
# the defaults below, each overridable by its environment variable.
#
# --evidence LABEL=PATH says that the evidence share LABEL is mounted at PATH on this node: the
# path is checked (a directory that lists within 10 s) and the node advertises the Ray resource
# evidence_LABEL (1 unit), so a task that asks for a sliver of it (0.001) runs only where the share is.
#
# deploy/lab-head.sh sources this file for the node start it shares; run directly, it joins a node.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

LAB_PIDFILE="$QUARRY_HOME/ray-lab.pid"
LAB_LOG="$QUARRY_HOME/ray-lab.log"
NODE_MANAGER_PORT="${QUARRY_RAY_NODE_MANAGER_PORT:-6381}"
OBJECT_MANAGER_PORT="${QUARRY_RAY_OBJECT_MANAGER_PORT:-6382}"
RUNTIME_ENV_AGENT_PORT="${QUARRY_RAY_RUNTIME_ENV_AGENT_PORT:-6383}"
DASHBOARD_AGENT_GRPC_PORT="${QUARRY_RAY_DASHBOARD_AGENT_GRPC_PORT:-6384}"
DASHBOARD_AGENT_LISTEN_PORT="${QUARRY_RAY_DASHBOARD_AGENT_LISTEN_PORT:-6385}"
METRICS_EXPORT_PORT="${QUARRY_RAY_METRICS_EXPORT_PORT:-6386}"
MIN_WORKER_PORT="${QUARRY_RAY_MIN_WORKER_PORT:-10002}"
MAX_WORKER_PORT="${QUARRY_RAY_MAX_WORKER_PORT:-10999}"

# Options both roles take, filled by parse_node_option.
NODE_IP=""
NUM_CPUS=""
NUM_GPUS=""
RESOURCES_JSON="{}"
EVIDENCE=()
USED=0
RESOURCES="{}"

fail() { say "error: $*"; exit 2; }

need_value() { if [ -z "${2:-}" ]; then fail "$1 needs a value"; fi; }

is_count() { [[ "$1" =~ ^[0-9]+$ ]]; }

# Take one option shared by head and worker nodes; USED says how many arguments it took (0: not ours).
parse_node_option() {
  USED=2
  case "$1" in
    --node-ip-address) need_value "$@"; NODE_IP=$2 ;;
    --num-cpus) need_value "$@"; is_count "$2" || fail "--num-cpus must be a whole number, not '$2'"; NUM_CPUS=$2 ;;
    --num-gpus) need_value "$@"; is_count "$2" || fail "--num-gpus must be a whole number, not '$2'"; NUM_GPUS=$2 ;;
    --resources) need_value "$@"; RESOURCES_JSON=$2 ;;
    --evidence) need_value "$@"; EVIDENCE+=("$2") ;;
    *) USED=0 ;;
  esac
}

# Fail unless every evidence LABEL=PATH names a well-formed label and a directory this node can list.
check_evidence() {
  local item label path
  for item in "${EVIDENCE[@]}"; do
    [[ "$item" == *=* ]] || fail "--evidence '$item' must be LABEL=PATH"
    label=${item%%=*}; path=${item#*=}
    [[ "$label" =~ ^[A-Za-z0-9_-]+$ ]] || fail "--evidence label '$label' may hold only letters, digits, _ and -"
    [ -d "$path" ] || fail "--evidence $label: $path is not a directory on this node (is the share mounted?)"
    timeout 10 ls "$path" >/dev/null 2>&1 || fail "--evidence $label: $path cannot be listed within 10 s"
  done
}

# The JSON for ray start --resources: --resources merged with evidence_LABEL = 1 for each share.
resources_json() {
  local labels=() item
  for item in "${EVIDENCE[@]}"; do labels+=("${item%%=*}"); done
  "$VENV/bin/python" - "$RESOURCES_JSON" "${labels[@]}" <<'PY'
import json
import sys

try:
    resources = json.loads(sys.argv[1])
except json.JSONDecodeError as exc:
    sys.exit(f"[quarry] error: --resources is not JSON: {exc}")
if not isinstance(resources, dict) or not all(
    isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
    for k, v in resources.items()
):
    sys.exit("[quarry] error: --resources must be a JSON object of names to non-negative numbers")
for label in sys.argv[2:]:
    resources[f"evidence_{label}"] = 1
print(json.dumps(resources, sort_keys=True))
PY
}

# Ray's token must be on this node before it starts; tighten a token file others could read.
check_token() {
  local file="${RAY_AUTH_TOKEN_PATH:-$HOME/.ray/auth_token}"
  if [ -n "${RAY_AUTH_TOKEN:-}" ]; then return 0; fi
  [ -s "$file" ] || fail "no Ray token at $file: copy ~/.ray/auth_token from the head node (mode 600)"
  if [ -O "$file" ] && [ -n "$(find "$file" -perm /077)" ]; then
    chmod 600 "$file"
    say "made $file readable by its owner only"
  fi
}

# Wait until `ray start` says the node is up (its log line), or fail when it exits or time runs out.
wait_started() {
  local pid=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if grep -q "Ray runtime started" "$LAB_LOG"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Check the options both roles share, before anything starts; RESOURCES becomes --resources' JSON.
check_node_options() {
  [ -n "$NODE_IP" ] || fail "--node-ip-address is required: the address of this node on the lab network"
  check_evidence
  RESOURCES=$(resources_json) || exit 2
}

# Start `ray start --block` with this node's fixed ports and options plus the role's arguments
# ($@: --head --port P, or --address HEAD), in the background, recorded in the pid file.
start_ray_node() {
  if [ -f "$LAB_PIDFILE" ] && kill -0 "$(cat "$LAB_PIDFILE")" 2>/dev/null; then
    say "a lab Ray node already runs here (pid $(cat "$LAB_PIDFILE")); stop it first"; exit 1
  fi
  local args
  args=(--node-ip-address "$NODE_IP"
    --node-manager-port "$NODE_MANAGER_PORT" --object-manager-port "$OBJECT_MANAGER_PORT"
    --runtime-env-agent-port "$RUNTIME_ENV_AGENT_PORT"
    --dashboard-agent-grpc-port "$DASHBOARD_AGENT_GRPC_PORT"
    --dashboard-agent-listen-port "$DASHBOARD_AGENT_LISTEN_PORT"
    --metrics-export-port "$METRICS_EXPORT_PORT"
    --min-worker-port "$MIN_WORKER_PORT" --max-worker-port "$MAX_WORKER_PORT"
    --resources "$RESOURCES" --disable-usage-stats)
  [ -z "$NUM_CPUS" ] || args+=(--num-cpus "$NUM_CPUS")
  [ -z "$NUM_GPUS" ] || args+=(--num-gpus "$NUM_GPUS")
  RAY_AUTH_MODE=token RAY_USAGE_STATS_ENABLED=0 nohup "$VENV/bin/ray" start --block "$@" "${args[@]}" \
    >"$LAB_LOG" 2>&1 &
  echo $! >"$LAB_PIDFILE"
  if ! wait_started "$!" 120; then
    if grep -q InvalidAuthToken "$LAB_LOG"; then
      say "the head refused this node's Ray token: copy ~/.ray/auth_token from the head node"
    fi
    say "Ray did not start; see $LAB_LOG"
    stop_pidfile "$LAB_PIDFILE"
    exit 1
  fi
  [ "$RESOURCES" = "{}" ] || say "custom resources: $RESOURCES"
}

# Print the cluster's nodes and resources as Ray sees them, for the address in ray.env.
lab_status() {
  local address
  address=$(sed -n 's/^QUARRY_RAY_ADDRESS=//p' "$QUARRY_HOME/ray.env" 2>/dev/null)
  [ -n "$address" ] || fail "no QUARRY_RAY_ADDRESS in $QUARRY_HOME/ray.env: start a node first"
  RAY_AUTH_MODE=token "$VENV/bin/ray" status --address "$address"
}

node_main() {
  local cmd=${1:-} head=""
  [ "$#" -eq 0 ] || shift
  case "$cmd" in
    start)
      while [ "$#" -gt 0 ]; do
        parse_node_option "$@"
        if [ "$USED" -eq 0 ]; then
          case "$1" in
            --address) need_value "$@"; head=$2; USED=2 ;;
            *) fail "unknown option $1 (see the usage at the top of $0)" ;;
          esac
        fi
        shift "$USED"
      done
      [[ "$head" =~ ^[^:]+:[0-9]+$ ]] || fail "--address must be the head's HOST:PORT (QUARRY_RAY_ADDRESS on the head)"
      check_node_options
      check_token
      start_ray_node --address "$head"
      echo "QUARRY_RAY_ADDRESS=$head" >"$QUARRY_HOME/ray.env"
      say "Ray worker node $NODE_IP joined $head"
      ;;
    stop) stop_pidfile "$LAB_PIDFILE"; say "lab Ray node stopped" ;;
    status) lab_status ;;
    *) echo "usage: $0 start --address HEAD:PORT --node-ip-address IP [options] | stop | status" >&2; exit 2 ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then node_main "$@"; fi
