#!/usr/bin/env bash
# Start the Ray head node of a lab's Quarry cluster on this machine (docs/deploy.md).
#   deploy/lab-head.sh start --node-ip-address THIS_IP [--port 6380]
#                            [--num-cpus N] [--num-gpus N] [--resources JSON] [--evidence LABEL=PATH]...
#   deploy/lab-head.sh stop | status
#
# Token authentication as in deploy/ray.sh: the token is generated into ~/.ray/auth_token (mode
# 600) if there is none; copy it to every node. The head writes QUARRY_RAY_ADDRESS=IP:PORT to
# $QUARRY_HOME/ray.env (and into $QUARRY_HOME/quarry.env when that exists): the address operators
# give Quarry and worker nodes give deploy/lab-node.sh --address. --num-cpus 0 keeps the head free
# of processing tasks (the job manager needs no CPU). Ports and --evidence: see deploy/lab-node.sh.
# shellcheck source-path=SCRIPTDIR source=lab-node.sh
source "$(dirname "${BASH_SOURCE[0]}")/lab-node.sh"

# Use the token the environment names, or generate ~/.ray/auth_token if there is none yet;
# check_token then makes the file readable by its owner only (Ray writes it world-readable).
ensure_token() {
  if [ -z "${RAY_AUTH_TOKEN:-}" ] && [ -z "${RAY_AUTH_TOKEN_PATH:-}" ] && [ ! -s "$HOME/.ray/auth_token" ]; then
    RAY_AUTH_MODE=token "$VENV/bin/ray" get-auth-token --generate >/dev/null
    say "generated the cluster's Ray token in $HOME/.ray/auth_token: copy it to every node"
  fi
  check_token
}

# Set QUARRY_RAY_ADDRESS in an existing settings file, keeping its other lines and its mode.
update_settings() {
  local file=$1 address=$2 tmp
  [ -f "$file" ] || return 0
  tmp=$(mktemp "$file.XXXXXX")
  grep -v '^QUARRY_RAY_ADDRESS=' "$file" >"$tmp" || true
  echo "QUARRY_RAY_ADDRESS=$address" >>"$tmp"
  chmod --reference="$file" "$tmp"
  mv "$tmp" "$file"
}

head_main() {
  local cmd=${1:-} port=6380 address
  [ "$#" -eq 0 ] || shift
  case "$cmd" in
    start)
      while [ "$#" -gt 0 ]; do
        parse_node_option "$@"
        if [ "$USED" -eq 0 ]; then
          case "$1" in
            --port) need_value "$@"; port=$2; USED=2 ;;
            *) fail "unknown option $1 (see the usage at the top of $0)" ;;
          esac
        fi
        shift "$USED"
      done
      if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
        fail "--port must be a TCP port (1-65535), not '$port'"
      fi
      check_node_options
      ensure_token
      start_ray_node --head --port "$port" --include-dashboard=false
      address="$NODE_IP:$port"
      echo "QUARRY_RAY_ADDRESS=$address" >"$QUARRY_HOME/ray.env"
      update_settings "$QUARRY_HOME/quarry.env" "$address"
      say "Ray head on $address; join workers with: deploy/lab-node.sh start --address $address --node-ip-address IP"
      ;;
    stop) stop_pidfile "$LAB_PIDFILE"; say "lab Ray head stopped" ;;
    status) lab_status ;;
    *) echo "usage: $0 start --node-ip-address IP [--port PORT] [options] | stop | status" >&2; exit 2 ;;
  esac
}

head_main "$@"
