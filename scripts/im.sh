#!/usr/bin/env bash
# `pnpm im ...`: the im CLI (packages/cli) on the project's Node.js (24; installed into .tools/ when
# the machine's node is older, scripts/lib/common.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IM_LOG_PREFIX=im
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"
ensure_node
exec node --import tsx "$ROOT/packages/cli/src/main.ts" "$@"
