# Shared by scripts/server.sh and scripts/test.sh: pnpm at the pinned version, then the
# workspace's node_modules (skipped when the lockfile has not changed since the last install).
PNPM_VERSION=12.4.2

ensure_node_deps() {
  if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm -v 2>/dev/null)" != "$PNPM_VERSION" ]; then
    echo "[setup] installing pnpm@$PNPM_VERSION" >&2
    npm i -g "pnpm@$PNPM_VERSION" >/dev/null
  fi
  local stamp=node_modules/.install-stamp
  if [ ! -f "$stamp" ] || ! cmp -s pnpm-lock.yaml "$stamp"; then
    echo "[setup] pnpm install" >&2
    pnpm install --frozen-lockfile >&2
    cp pnpm-lock.yaml "$stamp"
  fi
}
