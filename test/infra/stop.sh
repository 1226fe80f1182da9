#!/usr/bin/env bash
# Stops what test/infra/start.sh started (and only that: its pid files under test/.infra/run).
# Safe to run twice, or when nothing was started.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

INFRA=$ROOT/test/.infra
RUN=$INFRA/run

# stop_pid NAME PIDFILE GRACE_SECONDS: SIGTERM, then SIGKILL after the grace period.
stop_pid() {
  local name=$1 pidf=$2 grace=$3 pid
  pid=$(live_pid "$pidf")
  rm -f "$pidf"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  local deadline=$(($(date +%s) + grace))
  while pid_alive "$pid"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "$name: did not stop in ${grace}s, killing"
      kill -9 "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  log "$name: stopped"
}

stop_postgres() {
  local marker=$RUN/postgres.started data
  [ -f "$marker" ] || return 0
  data=$(cat "$marker")
  rm -f "$marker"
  [ -f "$data/postmaster.pid" ] || return 0
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
  else
    "$bin/pg_ctl" -D "$data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
  fi
  log 'postgres: stopped'
}

# SIGTERM lets the broker shut down cleanly (about 3 s); its storage is formatted anew on each start anyway.
stop_pid kafka "$RUN/kafka.pid" 10
stop_pid redis "$RUN/redis.pid" 10
stop_postgres
rm -f "$INFRA/env"
