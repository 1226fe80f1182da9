#!/usr/bin/env bash
# THE test command (README): bash scripts/test.sh [vitest args...]
#   - installs pnpm 12.4.2 when missing and the workspace's packages, strace (durability test) and
#     Chromium (the web chat test);
#   - starts Redis, Kafka and PostgreSQL (test/infra/start.sh) and stops them on exit;
#   - typechecks (tsc --noEmit) and lints (biome), then runs vitest over the repo (or the paths/args given);
#   - with no paths/args: then a 60-second chaos run with a fixed seed (scripts/chaos/: the cluster
#     under traffic while every component is killed, frozen and restarted), counted as one test;
#   - ends with the plain line `N passed, M failed, K skipped` from vitest's own counts.
# SKIP_INFRA=1 runs without the backends: the integration tests are then skipped, not failed, and
# there is no chaos run. IM_CHAOS=0 leaves the chaos run out (a quicker local run; CI never sets
# it); IM_CHAOS_SEED (1) and IM_CHAOS_MINUTES (1) change it.
# Exit code: non-zero when the typecheck, the lint or any test failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
IM_LOG_PREFIX=test
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"

REPORT=$ROOT/test/.infra/vitest-report.$$.json
started_at=$(date +%s)

ensure_node_deps
# test/e2e/durability.test.ts traces the embedded server's fsyncs; without strace that one test is skipped.
command -v strace >/dev/null || (apt_install strace) || log 'strace not installed: the fsync-order test will be skipped'
# test/web drives Debian's Chromium (test/support/chromium.ts); fonts so the pages render text.
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || (apt_install chromium fonts-dejavu-core) || log 'chromium not installed: the web chat test will be skipped'

# test/deploy renders deploy/ with kubectl or kustomize; the pinned kustomize is built with Go when neither is here.
log "deploy renderer: $(node --import tsx -e "import('./test/deploy/kustomize-render.ts').then((m) => console.log(m.ensureRenderer().describe))")"

mkdir -p "$ROOT/test/.infra"
if [ "${SKIP_INFRA:-}" = 1 ]; then
  log 'SKIP_INFRA=1: no backends; integration tests are skipped'
  export SKIP_INFRA=1
else
  use_backends
fi

log 'typecheck: tsc --noEmit -p .; lint: biome check .'
typecheck_rc=0
pnpm tsc --noEmit -p . || typecheck_rc=$?
pnpm biome check . >&2 || typecheck_rc=$?

rm -f "$REPORT"
vitest_rc=0
pnpm vitest run --reporter=default --reporter=json --outputFile="$REPORT" "$@" || vitest_rc=$?

# Stop the shared backends now: the chaos run starts its own, and the summary must be the last line.
if [ "${SKIP_INFRA:-}" != 1 ]; then stop_backends; fi

also=()
if [ $# -eq 0 ] && [ "${SKIP_INFRA:-}" != 1 ] && [ "${IM_CHAOS:-1}" != 0 ]; then
  log "chaos: ${IM_CHAOS_MINUTES:-1} min, seed ${IM_CHAOS_SEED:-1} (IM_CHAOS=0 leaves it out)"
  chaos_rc=0
  node --import tsx scripts/chaos/main.ts --minutes "${IM_CHAOS_MINUTES:-1}" --seed "${IM_CHAOS_SEED:-1}" \
    || chaos_rc=$?
  also=(--also "chaos=$chaos_rc")
fi

summary_rc=0
summary=$(node "$ROOT/scripts/lib/summarize.mjs" "$REPORT" "$vitest_rc" "${also[@]}") || summary_rc=$?

log "took $(($(date +%s) - started_at))s"
[ "$typecheck_rc" = 0 ] || log "typecheck or lint FAILED (exit $typecheck_rc)"
rm -f "$REPORT"
echo "$summary"
if [ "$typecheck_rc" != 0 ] || [ "$vitest_rc" != 0 ] || [ "$summary_rc" != 0 ]; then exit 1; fi
