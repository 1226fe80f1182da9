#!/usr/bin/env bash
# The README's "run the server" command: embedded mode (the whole cluster in one process).
# Does its own set-up on a fresh machine (pnpm, the workspace's packages), then runs the server;
# extra environment (IM_EDGE_PORT, IM_DATA_DIR, ...) is passed through, see the README.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
IM_LOG_PREFIX=setup
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"
ensure_node_deps
exec node --import tsx services/embedded/src/main.ts "$@"
