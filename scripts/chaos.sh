#!/usr/bin/env bash
# `pnpm chaos [--minutes N] [--seed S] [--edges E] [--users U] [--rate R] [--notify-bound-ms B]`:
# the local cluster under traffic and seeded faults, then its checks as a table (scripts/chaos/).
# It starts PostgreSQL, Redis and Kafka of its own (it kills them), so it needs their binaries and
# the Kafka jars: installed here on first use, as for the tests (test/infra/start.sh --install-only).
# Exit code: 0 no violation, 1 violations or a failed run, 2 bad arguments.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
IM_LOG_PREFIX=chaos
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"
ensure_node_deps
bash "$ROOT/test/infra/start.sh" --install-only
exec node --import tsx scripts/chaos/main.ts "$@"
