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

# Node.js 24 LTS. When the machine's node is older, npm's node-linux-<arch> package (the official
# binary inside an npm package, nothing downloaded at install time) goes into .tools/ (git-ignored)
# and is put first on PATH for this script and everything it starts. The machine's node and npm
# are only used to fetch it.
NODE_MAJOR=24
NODE_VERSION=24.22.3
ensure_node() {
  local have
  have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  [ "$have" -ge "$NODE_MAJOR" ] 2>/dev/null && return 0
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no Node.js $NODE_MAJOR package for $(uname -m): install Node.js $NODE_MAJOR by hand" ;;
  esac
  local os
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "no Node.js $NODE_MAJOR package for $(uname -s): install Node.js $NODE_MAJOR by hand" ;;
  esac
  local pkg=node-$os-$arch
  local dir=${ROOT:?}/.tools/node-$NODE_VERSION
  local bin=$dir/node_modules/$pkg/bin
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null || die "neither Node.js $NODE_MAJOR nor npm found: install Node.js $NODE_MAJOR"
    log "node $(node --version 2>/dev/null || echo none) is older than $NODE_MAJOR: installing $pkg@$NODE_VERSION into .tools/"
    mkdir -p "$dir"
    npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" "$pkg@$NODE_VERSION" >&2 \
      || die "could not install $pkg@$NODE_VERSION from the npm registry"
  fi
  export PATH="$bin:$PATH"
  hash -r
  [ "$(node -p 'process.versions.node.split(".")[0]')" -ge "$NODE_MAJOR" ] || die "node on PATH is not $NODE_MAJOR after the install"
}

# pnpm at the pinned version, then the workspace's packages (the lockfile is the truth).
PNPM_VERSION=12.4.2
ensure_node_deps() {
  ensure_node
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
