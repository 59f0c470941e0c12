#!/usr/bin/env bash
# Stop the local services started by deploy/local-up.sh (only those, by their pid files).
source "$(dirname "$0")/common.sh"
"$REPO/deploy/prometheus.sh" stop
"$REPO/deploy/ray.sh" stop
"$REPO/deploy/minio.sh" stop
