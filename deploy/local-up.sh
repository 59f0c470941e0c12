#!/usr/bin/env bash
# Start Quarry's local services (MinIO, Ray head, Prometheus) and write $QUARRY_HOME/quarry.env,
# which the quarry CLI reads. deploy/local-down.sh stops them again.
source "$(dirname "$0")/common.sh"
"$REPO/deploy/minio.sh" start "${QUARRY_MINIO_PORT:-9000}"
"$REPO/deploy/ray.sh" start "${QUARRY_RAY_PORT:-6380}"
"$REPO/deploy/prometheus.sh" start "${QUARRY_PROMETHEUS_PORT:-9090}" "${QUARRY_METRICS_PORT:-9464}"
{ cat "$QUARRY_HOME/minio.env" "$QUARRY_HOME/ray.env"; echo "QUARRY_METRICS_PORT=${QUARRY_METRICS_PORT:-9464}"; } \
  >"$QUARRY_HOME/quarry.env"
chmod 600 "$QUARRY_HOME/quarry.env"
say "settings in $QUARRY_HOME/quarry.env"
