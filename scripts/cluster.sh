#!/usr/bin/env bash
# The README's "run the cluster locally (processes)": storage, presence, message (and the admin API
# when it exists) and two edges, each a process of its own, on this machine:
#   edges     127.0.0.1:7101 and :7102 (ops /healthz /readyz /metrics on 7181, 7182)
#   services  message 7201, presence 7202, storage 7203 (ops on 7281, 7282, 7283)
# Backends: REDIS_URL, KAFKA_BROKERS and DATABASE_URL when set; otherwise the test backends
# (test/infra/start.sh: PostgreSQL, Redis and Kafka on loopback ports of their own, installed on
# first use), stopped again on exit unless a test run still uses them.
# Any IM_* setting of packages/core/src/config.ts is passed to every process (e.g. LOG_LEVEL=debug).
# IM_CLUSTER_EDGES (2), IM_CLUSTER_BASE_PORT (7100), IM_CLUSTER_PREFIX (local), IM_CLUSTER_LOG_DIR
# (.data/cluster-logs), IM_CLUSTER_NODE_ARGS (extra node flags for every process, e.g. --cpu-prof).
# Follows until Ctrl-C, then stops everything (edges drain first).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
IM_LOG_PREFIX=cluster
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"
ensure_node_deps

if [ -z "${REDIS_URL:-}" ] || [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${DATABASE_URL:-}" ]; then
  use_backends
  log "backends: REDIS_URL=$REDIS_URL KAFKA_BROKERS=$KAFKA_BROKERS DATABASE_URL=$DATABASE_URL"
fi

# Not exec: the trap above stops the backends after the cluster has stopped.
node --import tsx scripts/cluster/run.ts "$@" || rc=$?
exit "${rc:-0}"
