#!/usr/bin/env bash
# The README's "run the server" command: embedded mode (the whole cluster in one process).
# Does its own set-up on a fresh machine: pnpm, then the workspace's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_node_deps
exec node --import tsx services/embedded/src/main.ts "$@"
