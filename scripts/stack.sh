#!/usr/bin/env bash
# The full OCOP Mart stack on one machine: PostgreSQL, Redis, an OpenSearch node, stripe-mock,
# a Celery worker and beat, and the shop under gunicorn. Data, logs and pids live in instance/stack/.
#   scripts/stack.sh start   — start every part, or stop what it started and explain which part failed
#   scripts/stack.sh stop    — stop exactly the processes it started (by their recorded pids)
#   scripts/stack.sh status  — show each part
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="$ROOT/instance/stack"
LOGS="$STACK/logs"
PIDS="$STACK/pids"
# Ports sit below the ephemeral range (32768+) so an outgoing connection can never hold one.
PG_PORT="${STACK_PG_PORT:-15432}"
REDIS_PORT="${STACK_REDIS_PORT:-16379}"
CACHE_PORT="${STACK_CACHE_PORT:-16380}"
SEARCH_PORT="${STACK_SEARCH_PORT:-19200}"
STRIPE_PORT="${STACK_STRIPE_PORT:-12211}"
WEB_PORT="${STACK_WEB_PORT:-8000}"
# The shop's workers, threads and keep-alive come from gunicorn.conf.py, as in production; WEB_CONCURRENCY (or the
# older STACK_WEB_WORKERS) sets the number of workers, WEB_THREADS the threads in each.
if [ -n "${STACK_WEB_WORKERS:-}" ]; then export WEB_CONCURRENCY="$STACK_WEB_WORKERS"; fi
STRIPE_MOCK_VERSION="v0.203.0"
VENV="$ROOT/.venv/bin"

export DATABASE_URL="postgresql://ocop:ocop@127.0.0.1:$PG_PORT/ocop"
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
export RATELIMIT_STORAGE_URI="redis://127.0.0.1:$REDIS_PORT/1"
export CACHE_REDIS_URL="redis://127.0.0.1:$CACHE_PORT/0"
export SEARCH_URL="opensearch://127.0.0.1:$SEARCH_PORT"
export STRIPE_API_KEY="${STRIPE_API_KEY:-sk_test_ocopstack}"
export STRIPE_API_BASE="${STRIPE_API_BASE:-http://127.0.0.1:$STRIPE_PORT}"
export MAIL_OUTBOX="$ROOT/instance/outbox"

say() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*"; }

fail() {  # part, message, fix
  say "FAILED: $1 — $2"
  [ -n "${3:-}" ] && say "  fix: $3"
  say "stopping what was started…"
  stop_all >/dev/null 2>&1 || true
  exit 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

require_port() {  # part, port, variable
  port_free "$2" || fail "$1" "port $2 is already in use" "stop whatever listens there (ss -ltnp 'sport = :$2') or set $3"
}

wait_for() {  # part, seconds, log, command…
  local part="$1" seconds="$2" log="$3"; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then fail "$part" "not ready after ${seconds}s" "read $log"; fi
    sleep 0.5
  done
}

spawn() {  # name, log, command… — runs in the background, records the pid
  local name="$1" log="$2"; shift 2
  setsid nohup "$@" >"$log" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name.pid"
}

alive() { [ -f "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

check_prerequisites() {
  [ -x "$VENV/flask" ] || fail "python" "no virtualenv" "run 'make install' first"
  [ -n "$(pg_bin)" ] || fail "postgresql" "PostgreSQL server binaries missing" "apt-get install postgresql"
  command -v redis-server >/dev/null || fail "redis" "redis-server missing" "apt-get install redis-server"
  command -v java >/dev/null || fail "opensearch" "java missing" "apt-get install openjdk-17-jre-headless"
  command -v mvn >/dev/null || [ -d "$ROOT/services/opensearch/target/lib" ] || fail "opensearch" "mvn missing" "apt-get install maven"
  STRIPE_MOCK="$(command -v stripe-mock || echo "$(go env GOPATH 2>/dev/null)/bin/stripe-mock")"
  if [ ! -x "$STRIPE_MOCK" ]; then
    command -v go >/dev/null || fail "stripe-mock" "stripe-mock and go missing" "install Go, or put stripe-mock on PATH"
    say "installing stripe-mock $STRIPE_MOCK_VERSION (go install)…"
    go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" || fail "stripe-mock" "go install failed" "check the Go module proxy"
  fi
}

start_postgres() {
  local data="$STACK/pg" bin; bin="$(pg_bin)"
  require_port postgresql "$PG_PORT" STACK_PG_PORT
  if [ -d "$data" ] && [ ! -f "$data/PG_VERSION" ]; then
    fail postgresql "stale data directory $data (no PG_VERSION)" "rm -rf $data"
  fi
  if [ ! -d "$data" ]; then
    say "postgresql: initdb in $data"
    mkdir -p "$data" && chown postgres "$data" 2>/dev/null || true
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$LOGS/postgres-init.log" 2>&1 \
      || fail postgresql "initdb failed" "read $LOGS/postgres-init.log"
  fi
  touch "$LOGS/postgres.log" && chown postgres "$LOGS/postgres.log" 2>/dev/null || true
  as_postgres "$bin/pg_ctl" -D "$data" -l "$LOGS/postgres.log" -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1" \
    -w -t 30 start >/dev/null || fail postgresql "did not start" "read $LOGS/postgres.log"
  head -n 1 "$data/postmaster.pid" > "$PIDS/postgres.pid"
  as_postgres "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='ocop'" | grep -q 1 \
    || as_postgres "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE ROLE ocop LOGIN PASSWORD 'ocop'"
  as_postgres "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='ocop'" | grep -q 1 \
    || as_postgres "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres -O ocop ocop
  say "postgresql: up on $PG_PORT"
}

start_redis() {
  require_port redis "$REDIS_PORT" STACK_REDIS_PORT
  spawn redis "$LOGS/redis.log" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no
  wait_for redis 10 "$LOGS/redis.log" redis-cli -p "$REDIS_PORT" ping
  say "redis: up on $REDIS_PORT"
}

# The page cache has a Redis of its own: it may forget anything when full (LRU), which the broker and the
# limiter's counters must not.
start_redis_cache() {
  require_port redis-cache "$CACHE_PORT" STACK_CACHE_PORT
  spawn redis-cache "$LOGS/redis-cache.log" redis-server --port "$CACHE_PORT" --bind 127.0.0.1 --save "" \
    --appendonly no --maxmemory 256mb --maxmemory-policy allkeys-lru
  wait_for redis-cache 10 "$LOGS/redis-cache.log" redis-cli -p "$CACHE_PORT" ping
  say "redis-cache: up on $CACHE_PORT (256 MB, least recently used evicted)"
}

start_search() {
  require_port opensearch "$SEARCH_PORT" STACK_SEARCH_PORT
  mkdir -p "$STACK/opensearch"
  local started=$SECONDS
  spawn opensearch "$LOGS/opensearch.log" "$ROOT/services/opensearch/run.sh" "$SEARCH_PORT" "$STACK/opensearch"
  wait_for opensearch 180 "$LOGS/opensearch.log" grep -q "OPENSEARCH READY" "$LOGS/opensearch.log"
  say "opensearch: up on $SEARCH_PORT in $((SECONDS - started))s"
}

start_stripe_mock() {
  require_port stripe-mock "$STRIPE_PORT" STACK_STRIPE_PORT
  spawn stripe-mock "$LOGS/stripe-mock.log" "$STRIPE_MOCK" -http-addr "127.0.0.1:$STRIPE_PORT" \
    -https-addr "127.0.0.1:$((STRIPE_PORT + 1))"
  wait_for stripe-mock 20 "$LOGS/stripe-mock.log" bash -c "exec 3<>/dev/tcp/127.0.0.1/$STRIPE_PORT"
  say "stripe-mock: up on $STRIPE_PORT"
}

prepare_database() {
  (cd "$ROOT" && "$VENV/flask" --app storefront db upgrade >"$LOGS/migrate.log" 2>&1) \
    || fail migrations "flask db upgrade failed" "read $LOGS/migrate.log"
  (cd "$ROOT" && "$VENV/flask" --app storefront seed --demo --if-empty >"$LOGS/seed.log" 2>&1) \
    || fail seed "seeding failed" "read $LOGS/seed.log"
  say "database: migrated and seeded"
}

start_celery() {
  spawn celery-worker "$LOGS/celery-worker.log" "$VENV/celery" -A make_celery worker --loglevel INFO --concurrency 2
  spawn celery-beat "$LOGS/celery-beat.log" "$VENV/celery" -A make_celery beat --loglevel INFO \
    --schedule "$STACK/celerybeat-schedule"
  wait_for celery-worker 60 "$LOGS/celery-worker.log" grep -q "ready." "$LOGS/celery-worker.log"
  alive celery-beat || fail celery-beat "exited" "read $LOGS/celery-beat.log"
  say "celery: worker and beat up"
}

start_web() {
  require_port web "$WEB_PORT" STACK_WEB_PORT
  spawn web "$LOGS/gunicorn.log" "$VENV/gunicorn" -c "$ROOT/gunicorn.conf.py" --bind "127.0.0.1:$WEB_PORT" \
    --access-logfile - "storefront:create_app()"
  wait_for web 30 "$LOGS/gunicorn.log" curl -fsS "http://127.0.0.1:$WEB_PORT/health"
  say "shop: http://127.0.0.1:$WEB_PORT  (health: http://127.0.0.1:$WEB_PORT/health)"
}

stop_all() {
  local name pid
  for name in web celery-beat celery-worker stripe-mock opensearch redis-cache redis; do
    [ -f "$PIDS/$name.pid" ] || continue
    pid="$(cat "$PIDS/$name.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      say "$name: stopped (pid $pid)"
    fi
    rm -f "$PIDS/$name.pid"
  done
  if [ -f "$PIDS/postgres.pid" ]; then
    as_postgres "$(pg_bin)/pg_ctl" -D "$STACK/pg" -m fast -w stop >/dev/null 2>&1 || true
    rm -f "$PIDS/postgres.pid"
    say "postgresql: stopped"
  fi
}

status() {
  local name
  for name in postgres redis redis-cache opensearch stripe-mock celery-worker celery-beat web; do
    if alive "$name"; then say "$name: running (pid $(cat "$PIDS/$name.pid"))"; else say "$name: stopped"; fi
  done
}

case "${1:-start}" in
  start)
    mkdir -p "$LOGS" "$PIDS"
    for name in postgres redis redis-cache opensearch stripe-mock celery-worker celery-beat web; do
      alive "$name" && { say "the stack is already running ($name); run 'make stack-stop' first"; exit 1; }
    done
    started=$SECONDS
    check_prerequisites
    start_postgres
    start_redis
    start_redis_cache
    start_search
    start_stripe_mock
    prepare_database
    start_celery
    start_web
    say "stack up in $((SECONDS - started))s; logs in $LOGS; stop with 'make stack-stop'"
    ;;
  stop) stop_all ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
