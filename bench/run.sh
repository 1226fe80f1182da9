#!/usr/bin/env bash
# Benchmark wrapper (docs/benchmarks.md). Runs from any directory; loopback only.
#   bench/run.sh embedded [load.ts options]  embedded server (child process) at 1k,5k,10k,30k msg/s
#   bench/run.sh memory   [load.ts options]  the same with the bench-only in-memory store (no database)
#   bench/run.sh idle     [idle.ts options]  RSS of 19,000 idle logged-in connections on one edge;
#                         with --cluster 100,000 over the edges of a cluster (backends as for cluster)
#   bench/run.sh profile  [load.ts options]  CPU profile of the embedded server under load + summary
#   bench/run.sh cluster  [cluster-bench.ts options]  starts the cluster, CPU per message of every
#                         process (backends: REDIS_URL, KAFKA_BROKERS, DATABASE_URL, else the test ones)
#   bench/run.sh peers    [peers-bench.ts options]  embedded vs aedes vs Mosquitto (installed when missing)
# Environment: BENCH_RATES (default 1k,5k,10k,30k), BENCH_DURATION (s, default 12), BENCH_OUT
# (figures as JSON, default bench/results), BENCH_CONNECTIONS (default 1000); cluster and peers
# take their options from the command line only (--help) and write their chart under docs/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
IM_LOG_PREFIX=bench
# shellcheck source=../scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
ensure_node_deps
OUT=${BENCH_OUT:-bench/results}
RATES=${BENCH_RATES:-1k,5k,10k,30k}
DURATION=${BENCH_DURATION:-12}
CONNECTIONS=${BENCH_CONNECTIONS:-1000}
mkdir -p "$OUT"
# Each socket is a file descriptor in the client processes too: use the whole hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# node --import tsx (not the tsx CLI): one process, so signals and exit codes are the tool's own.
run() { node --import tsx "$@"; }

what=${1:-}
[ $# -gt 0 ] && shift
case "$what" in
  embedded)
    run bench/src/load.ts --embedded --rate "$RATES" --duration "$DURATION" --warmup 3 \
      --connections "$CONNECTIONS" --json "$OUT/embedded.json" "$@"
    ;;
  memory)
    run bench/src/load.ts --embedded --server memory --rate "$RATES" --duration "$DURATION" --warmup 3 \
      --connections "$CONNECTIONS" --json "$OUT/memory.json" "$@"
    ;;
  idle)
    if [[ " $* " == *" --cluster "* ]]; then
      if [ -z "${REDIS_URL:-}" ] || [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${DATABASE_URL:-}" ]; then
        use_backends
      fi
      run bench/src/idle.ts --json "$OUT/idle-cluster.json" "$@"
    else
      run bench/src/idle.ts --json "$OUT/idle.json" "$@"
    fi
    ;;
  profile)
    prof="$OUT/profile"
    rm -rf "$prof" && mkdir -p "$prof"
    run bench/src/load.ts --embedded --rate "${BENCH_PROFILE_RATE:-30k}" --duration 10 --warmup 3 \
      --connections "$CONNECTIONS" --server-cpu-prof "$prof" --json "$OUT/profile-run.json" "$@"
    # The server's main thread writes the largest profile; worker threads (module loader) write small ones.
    main=$(ls -S "$prof"/*.cpuprofile | head -1)
    run bench/src/profile-summary.ts "$main" --top 30 | tee "$OUT/profile-summary.md"
    ;;
  cluster)
    # The cluster's backends: the caller's, else the test backends (stopped on exit unless in use).
    if [ -z "${REDIS_URL:-}" ] || [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${DATABASE_URL:-}" ]; then
      use_backends
      log "backends: REDIS_URL=$REDIS_URL KAFKA_BROKERS=$KAFKA_BROKERS DATABASE_URL=$DATABASE_URL"
    fi
    # Not exec: the EXIT trap of use_backends stops the backends afterwards.
    run bench/src/cluster-bench.ts --json "$OUT/cluster.json" --svg docs/bench-cluster.svg "$@"
    ;;
  peers)
    command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || apt_install mosquitto
    run bench/src/peers-bench.ts --json "$OUT/peers.json" --svg docs/bench-peers.svg "$@"
    ;;
  *)
    sed -n '2,10p' "$0"
    exit 2
    ;;
esac
