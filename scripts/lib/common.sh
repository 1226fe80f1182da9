# Shared helpers for scripts/test.sh and test/infra/*.sh (sourced, not executed).
# Every message goes to stderr with a prefix so it stands out from the test runner's output.

IM_LOG_PREFIX=${IM_LOG_PREFIX:-infra}

log() { printf '[%s] %s\n' "$IM_LOG_PREFIX" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$IM_LOG_PREFIX" "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo (a developer's machine).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# apt-get update runs at most once per process tree (fresh CI machines have no package lists).
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
  if [ -z "${IM_APT_UPDATED:-}" ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die 'apt-get update failed'
    export IM_APT_UPDATED=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.25 s until it succeeds.
wait_until() {
  local timeout=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "$what not ready after ${timeout}s"
      return 1
    fi
    sleep 0.25
  done
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# The pid stored in FILE when that process is still alive; empty otherwise.
live_pid() {
  local pid
  [ -f "$1" ] || return 0
  pid=$(cat "$1" 2>/dev/null)
  if pid_alive "$pid"; then echo "$pid"; fi
}

# True when something listens on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints the last lines of a log file to stderr (for a clear failure report).
log_tail() {
  [ -f "$1" ] || return 0
  log "---- last lines of $1 ----"
  tail -n "${2:-40}" "$1" >&2
  log '---- end ----'
}

# pnpm at the pinned version, then the workspace's packages (the lockfile is the truth).
PNPM_VERSION=12.4.2
ensure_node_deps() {
  command -v node >/dev/null || die 'node not found (Node 20.19+ is required)'
  if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    log "installing pnpm $PNPM_VERSION"
    npm i -g "pnpm@$PNPM_VERSION" >&2 || die 'could not install pnpm'
  fi
  pnpm install --frozen-lockfile >&2 || die 'pnpm install --frozen-lockfile failed (is pnpm-lock.yaml up to date?)'
}

# Starts the test backends (test/infra/start.sh; it skips any whose URL is already set) and
# exports REDIS_URL, KAFKA_BROKERS, DATABASE_URL. Several runs in one checkout share them: each
# holds a shared lock while it uses them, and only the last to finish (the one that can take the
# lock exclusively) stops them, from an EXIT trap or an explicit `stop_backends`.
use_backends() {
  mkdir -p "$ROOT/test/.infra"
  exec 9>"$ROOT/test/.infra/users.lock"
  flock -s 9
  trap stop_backends EXIT
  # -o and 9>&-: the backends start.sh leaves running must not inherit (and hold forever) a lock.
  flock -o "$ROOT/test/.infra/start.lock" bash "$ROOT/test/infra/start.sh" 9>&- \
    || die 'the backends did not start (see above)'
  set -a
  # shellcheck disable=SC1091
  source "$ROOT/test/.infra/env"
  set +a
}

stop_backends() {
  trap - EXIT
  if flock -n -x 9; then
    bash "$ROOT/test/infra/stop.sh"
  else
    log 'backends left running: another run in this checkout still uses them'
  fi
}
