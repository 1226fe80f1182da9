#!/usr/bin/env bash
# Starts the backends of the integration tests on loopback ports of their own, without Docker:
#   PostgreSQL (Debian package, own initdb data dir), Redis (no persistence), Kafka (KRaft,
#   one combined broker/controller, jars fetched from Maven Central by test/infra/kafka/pom.xml).
# Writes REDIS_URL, KAFKA_BROKERS and DATABASE_URL to test/.infra/env.
#
# A backend whose URL is already set in the environment (REDIS_URL, KAFKA_BROKERS, DATABASE_URL)
# is not started: the given URL is written instead (e.g. backends run with Docker). The binaries
# and the Kafka jars are installed all the same: the fault tests (test/cluster/*faults*,
# kafka-down) and `pnpm chaos` start private servers of their own that they may kill.
# Idempotent: a backend this script started that still answers is reused. stop.sh stops only
# what this script started (the pid files under test/.infra/run).
#
# Ports: IM_TEST_PG_PORT (55432), IM_TEST_REDIS_PORT (56379), IM_TEST_KAFKA_PORT (59092),
# IM_TEST_KAFKA_CONTROLLER_PORT (59093).
set -euo pipefail

# The servers started here outlive this script: they must not inherit the callers' lock files
# (scripts/test.sh runs us under `flock start.lock` while holding users.lock on fd 9), or they
# would hold those locks for as long as they run and every later `flock start.lock` would hang.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  # 3..99 only: bash reads this very script through fd 255.
  if [ "$fd" -gt 2 ] 2>/dev/null && [ "$fd" -lt 100 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

INFRA=$ROOT/test/.infra
RUN=$INFRA/run
LOGS=$INFRA/logs
mkdir -p "$RUN" "$LOGS"

PG_PORT=${IM_TEST_PG_PORT:-55432}
REDIS_PORT=${IM_TEST_REDIS_PORT:-56379}
KAFKA_PORT=${IM_TEST_KAFKA_PORT:-59092}
KAFKA_CONTROLLER_PORT=${IM_TEST_KAFKA_CONTROLLER_PORT:-59093}
PG_TIMEOUT=${IM_TEST_PG_TIMEOUT:-30}
REDIS_TIMEOUT=${IM_TEST_REDIS_TIMEOUT:-15}
KAFKA_TIMEOUT=${IM_TEST_KAFKA_TIMEOUT:-120}

# ---------------------------------------------------------------- packages (fresh machine)

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

ensure_packages() {
  local missing=()
  pg_bindir >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  # promtool checks deploy/prometheus (test/deploy/monitoring.test.ts); Debian ships it in prometheus.
  command -v promtool >/dev/null || missing+=(prometheus)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# ---------------------------------------------------------------- PostgreSQL

# initdb refuses root: the server runs as `postgres` (the Debian package's user) when we are root.
pg_run() {
  # From / : the server's user may not be allowed into the caller's working directory.
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The data dir lives under test/.infra/pg unless the server's user cannot reach it (a checkout
# under /root): then under /tmp, with test/.infra/pg a symlink to it.
pg_dir() {
  local want=$INFRA/pg
  if [ -L "$want" ]; then
    if [ -d "$(readlink "$want")" ]; then readlink "$want"; return; fi
    rm -f "$want" # its /tmp target was cleaned up
  fi
  if [ "$(id -u)" != 0 ] || runuser -u postgres -- test -x "$INFRA"; then
    mkdir -p "$want"
    [ "$(id -u)" = 0 ] && chown postgres: "$want"
    echo "$want"
    return
  fi
  local tmp
  tmp=$(mktemp -d /tmp/im-test-pg.XXXXXX)
  chown postgres: "$tmp"
  ln -s "$tmp" "$want"
  echo "$tmp"
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U postgres; }

start_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    log "postgres: using DATABASE_URL from the environment"
    return
  fi
  local bin dir data logf
  bin=$(pg_bindir) || die 'postgres: initdb not found'
  dir=$(pg_dir)
  data=$dir/data
  # The server writes its log itself, so the log lives where its user can write (linked from logs/).
  logf=$dir/postgres.log
  ln -sfn "$logf" "$LOGS/postgres.log"
  export PATH="$bin:$PATH"
  if [ -f "$data/postmaster.pid" ] && [ -f "$RUN/postgres.started" ] && pg_ready; then
    log "postgres: already running on $PG_PORT (reused)"
  else
    port_in_use "$PG_PORT" && die "postgres: port $PG_PORT is taken by another process (set IM_TEST_PG_PORT)"
    # A fresh cluster per run (initdb takes about a second): no state leaks between runs.
    rm -rf "$data"
    pg_run initdb -D "$data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$LOGS/initdb.log" 2>&1 \
      || { log_tail "$LOGS/initdb.log"; die 'postgres: initdb failed'; }
    : >"$logf"
    [ "$(id -u)" = 0 ] && chown postgres: "$logf"
    # TCP on loopback only, no unix socket (the checkout path may be too long for one);
    # durability is irrelevant for tests, speed is not.
    pg_run pg_ctl -D "$data" -l "$logf" -w -t "$PG_TIMEOUT" start \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories= -c fsync=off \
          -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
          -c shared_buffers=64MB" >/dev/null \
      || { log_tail "$logf"; die 'postgres: did not start'; }
    echo "$data" >"$RUN/postgres.started"
  fi
  wait_until "$PG_TIMEOUT" postgres pg_ready || { log_tail "$logf"; die 'postgres: not ready'; }
  # Role and database `im` (idempotent).
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL' \
    || die 'postgres: could not create role/database im'
SELECT 'CREATE ROLE im LOGIN PASSWORD ''im'''
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'im') \gexec
SELECT 'CREATE DATABASE im OWNER im'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'im') \gexec
SQL
  log "postgres: ready on 127.0.0.1:$PG_PORT"
  DATABASE_URL=postgres://im:im@127.0.0.1:$PG_PORT/im
}

# ---------------------------------------------------------------- Redis

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

start_redis() {
  if [ -n "${REDIS_URL:-}" ]; then
    log "redis: using REDIS_URL from the environment"
    return
  fi
  local logf=$LOGS/redis.log pidf=$RUN/redis.pid
  if [ -n "$(live_pid "$pidf")" ] && redis_ready; then
    log "redis: already running on $REDIS_PORT (reused)"
  else
    port_in_use "$REDIS_PORT" && die "redis: port $REDIS_PORT is taken by another process (set IM_TEST_REDIS_PORT)"
    mkdir -p "$INFRA/redis"
    : >"$logf"
    # No persistence: a test run starts from an empty keyspace.
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
      --dir "$INFRA/redis" --daemonize yes --pidfile "$pidf" --logfile "$logf" \
      || { log_tail "$logf"; die 'redis: did not start'; }
  fi
  wait_until "$REDIS_TIMEOUT" redis redis_ready || { log_tail "$logf"; die 'redis: not ready'; }
  log "redis: ready on 127.0.0.1:$REDIS_PORT"
  REDIS_URL=redis://127.0.0.1:$REDIS_PORT
}

# ---------------------------------------------------------------- Kafka

KAFKA_HOME=$INFRA/kafka
KAFKA_LIBS=$KAFKA_HOME/libs
KAFKA_POM=$ROOT/test/infra/kafka/pom.xml

# Downloads the broker jars once; the stamp holds the pom's checksum, so editing the pom refetches.
fetch_kafka() {
  local stamp=$KAFKA_LIBS/.pom.sha256 sum
  sum=$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return; fi
  log 'kafka: fetching the broker jars from Maven Central (first run only)'
  rm -rf "$KAFKA_LIBS"
  mkdir -p "$KAFKA_LIBS"
  (cd "$ROOT/test/infra/kafka" && mvn -q -B dependency:copy-dependencies -Dkafka.libs="$KAFKA_LIBS") \
    >"$LOGS/maven.log" 2>&1 || { log_tail "$LOGS/maven.log"; die 'kafka: maven could not fetch the broker jars'; }
  echo "$sum" >"$stamp"
}

kafka_ready() { node "$ROOT/test/infra/kafka/ready.mjs" "127.0.0.1:$KAFKA_PORT"; }

KAFKA_STARTED=
# Launches the broker without waiting (it starts while postgres and redis do); see wait_kafka.
launch_kafka() {
  if [ -n "${KAFKA_BROKERS:-}" ]; then
    log "kafka: using KAFKA_BROKERS from the environment"
    return
  fi
  local pidf=$RUN/kafka.pid logf=$LOGS/kafka.log
  if [ -n "$(live_pid "$pidf")" ] && kafka_ready 2>/dev/null; then
    log "kafka: already running on $KAFKA_PORT (reused)"
    return
  fi
  if [ -n "$(live_pid "$pidf")" ]; then kill "$(cat "$pidf")" 2>/dev/null || true; sleep 1; fi
  port_in_use "$KAFKA_PORT" && die "kafka: port $KAFKA_PORT is taken by another process (set IM_TEST_KAFKA_PORT)"
  port_in_use "$KAFKA_CONTROLLER_PORT" \
    && die "kafka: port $KAFKA_CONTROLLER_PORT is taken by another process (set IM_TEST_KAFKA_CONTROLLER_PORT)"
  fetch_kafka
  local cp="$KAFKA_LIBS/*" data=$KAFKA_HOME/data conf=$KAFKA_HOME/server.properties
  local jvm=(-Xms64m -Xmx384m -XX:+UseSerialGC -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$ROOT/test/infra/kafka/log4j2.properties")
  # Fresh KRaft storage per run: formatted once with a new cluster id (22 chars of base64url). Never
  # one that starts with '-': the format tool would read it as an option and fail (1 run in 64).
  rm -rf "$data"
  sed -e "s#@BROKER_PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
    -e "s#@LOG_DIR@#$data#g" "$ROOT/test/infra/kafka/server.properties" >"$conf"
  local cluster_id
  cluster_id=$(node -e "let id; do id = require('node:crypto').randomBytes(16).toString('base64url'); while (id.startsWith('-')); process.stdout.write(id)")
  java "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$conf" \
    >"$LOGS/kafka-format.log" 2>&1 || { log_tail "$LOGS/kafka-format.log"; die 'kafka: storage format failed'; }
  : >"$logf"
  # setsid: the broker outlives this script and ignores the caller's terminal signals.
  setsid java "${jvm[@]}" -cp "$cp" kafka.Kafka "$conf" >"$logf" 2>&1 </dev/null &
  echo $! >"$pidf"
  KAFKA_STARTED=1
}

wait_kafka() {
  [ -n "${KAFKA_BROKERS:-}" ] && return
  local logf=$LOGS/kafka.log pid
  pid=$(live_pid "$RUN/kafka.pid")
  [ -n "$pid" ] || { log_tail "$logf"; die 'kafka: the broker exited during startup'; }
  wait_until "$KAFKA_TIMEOUT" kafka kafka_ready || { log_tail "$logf"; die 'kafka: not ready'; }
  [ -n "$KAFKA_STARTED" ] && log "kafka: ready on 127.0.0.1:$KAFKA_PORT"
  KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
}

# ---------------------------------------------------------------- main

# --install-only: the binaries and the Kafka jars, no server (scripts/chaos.sh starts its own).
if [ "${1:-}" = --install-only ]; then
  ensure_packages
  ensure_node
  fetch_kafka
  exit 0
fi

started_at=$(date +%s)
ensure_packages
ensure_node
# The private brokers of the fault tests need the jars even when KAFKA_BROKERS is given.
fetch_kafka
launch_kafka
start_postgres
start_redis
wait_kafka

cat >"$INFRA/env" <<EOF
REDIS_URL=$REDIS_URL
KAFKA_BROKERS=$KAFKA_BROKERS
DATABASE_URL=$DATABASE_URL
EOF
log "ready in $(($(date +%s) - started_at))s; URLs in test/.infra/env"
