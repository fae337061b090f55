#!/usr/bin/env bash
# Schemathesis against the running shop (issue 6): the OpenAPI document at /api/v1/openapi.json must
# describe what the code answers. Starts its own gunicorn on a free 127.0.0.1 port over a temporary
# SQLite database seeded with the demo shop (never instance/), fuzzes every operation anonymously and
# with an admin token, prints the number of requests and failures, stops the app, and exits non-zero
# on any failure.
#   SCHEMATHESIS_EXAMPLES  test cases per operation in each run's fuzzing phase (default 60)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.venv/bin"
EXAMPLES="${SCHEMATHESIS_EXAMPLES:-60}"
MIN_REQUESTS=1000
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance
CHECKS+=,response_schema_conformance,negative_data_rejection

WORK="$(mktemp -d)"
APP_PID=""
stop_app() {
    if [ -n "$APP_PID" ] && kill -0 "$APP_PID" 2>/dev/null; then
        kill "$APP_PID"
        wait "$APP_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap stop_app EXIT

# The embedded profile, entirely inside $WORK: no broker, no search node, no Stripe, no instance/.
export DATABASE_URL="sqlite:///$WORK/shop.sqlite" SECRET_KEY="schemathesis-$RANDOM$RANDOM" \
    MAIL_OUTBOX="$WORK/outbox" SEARCH_URL=builtin RATELIMIT_STORAGE_URI="memory://" \
    PUBLIC_URL="http://127.0.0.1"
# The code next to this script, whatever the virtualenv's editable install points at.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
unset CELERY_BROKER_URL CELERY_RESULT_BACKEND STRIPE_API_KEY STRIPE_API_BASE STRIPE_WEBHOOK_SECRET

cd "$ROOT"
"$BIN/flask" --app storefront db upgrade >"$WORK/migrate.log" 2>&1 \
    || { cat "$WORK/migrate.log"; echo "schemathesis: flask db upgrade failed"; exit 1; }
"$BIN/flask" --app storefront seed --demo >"$WORK/seed.log" 2>&1 \
    || { cat "$WORK/seed.log"; echo "schemathesis: flask seed --demo failed"; exit 1; }

PORT="$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
# --limit-request-line 0: the app itself refuses a query string over MAX_QUERY_STRING with a JSON 400;
# gunicorn's own limit (4094 bytes) would answer an HTML 414 before the app, which no API document can describe.
"$BIN/gunicorn" --workers 2 --bind "127.0.0.1:$PORT" --limit-request-line 0 --log-level warning \
    --error-logfile "$WORK/app.log" 'storefront:create_app()' &
APP_PID=$!
for _ in $(seq 1 60); do
    curl -fsS -o /dev/null "$BASE/api/v1/openapi.json" 2>/dev/null && break
    kill -0 "$APP_PID" 2>/dev/null || { cat "$WORK/app.log"; echo "schemathesis: the app did not start"; exit 1; }
    sleep 0.5
done
curl -fsS -o "$WORK/openapi.json" "$BASE/api/v1/openapi.json" \
    || { cat "$WORK/app.log"; echo "schemathesis: no OpenAPI document at $BASE/api/v1/openapi.json"; exit 1; }

TOKEN="$(curl -fsS -H 'Content-Type: application/json' \
    -d '{"email": "admin@ocop.example", "password": "demo-password"}' "$BASE/api/v1/auth/token" \
    | "$BIN/python" -c 'import json, sys; print(json.load(sys.stdin)["token"])')" \
    || { echo "schemathesis: no admin token from POST /api/v1/auth/token"; exit 1; }

# One worker: with several, hypothesis parses its strategies' source in parallel threads and CPython 3.11's
# parser fails under that now and then ("AST constructor recursion depth mismatch"), a tool error, not ours.
run() {  # name, extra schemathesis arguments…: one run; its JUnit report is $WORK/<name>.xml
    local name=$1
    shift
    echo "--- schemathesis: $name"
    # From $WORK: schemathesis and hypothesis keep caches in the working directory, which must not be the tree.
    (cd "$WORK" && "$BIN/schemathesis" run "$BASE/api/v1/openapi.json" --url "$BASE" \
        --checks "$CHECKS" --max-examples "$EXAMPLES" --workers 1 \
        --generation-database none --no-color --report junit,har \
        --report-junit-path "$WORK/$name.xml" --report-har-path "$WORK/$name.har" "$@")
}

set +e
run anonymous
ANONYMOUS_STATUS=$?
run admin -H "Authorization: Bearer $TOKEN"
ADMIN_STATUS=$?
set -e

# The HAR files hold one entry per request sent. The JUnit reports hold a <failure> per failing scenario whose
# message lists the failed checks' codes (ST201, …): a failure here is one check failed in one scenario;
# an <error> is the tool failing to test an operation at all.
read -r REQUESTS FAILURES ERRORS < <("$BIN/python" - "$WORK" <<'PY'
import json, pathlib, sys
import xml.etree.ElementTree as ElementTree
work = pathlib.Path(sys.argv[1])
requests = sum(len(json.loads(har.read_text())["log"]["entries"]) for har in work.glob("*.har"))
failures = errors = 0
for junit in work.glob("*.xml"):
    tree = ElementTree.parse(junit)
    failures += sum(len(failure.get("message", "?").split(",")) for failure in tree.iter("failure"))
    errors += sum(1 for _ in tree.iter("error"))
print(requests, failures, errors)
PY
)
# Missing reports count as no requests, which fails below.
REQUESTS="${REQUESTS:-0}" FAILURES="${FAILURES:-0}" ERRORS="${ERRORS:-0}"
echo "schemathesis: $REQUESTS requests, $FAILURES failures, $ERRORS errors" \
    "(anonymous run exit $ANONYMOUS_STATUS, admin run exit $ADMIN_STATUS)"
if [ "$ANONYMOUS_STATUS" -ne 0 ] || [ "$ADMIN_STATUS" -ne 0 ] || [ "$FAILURES" -ne 0 ] || [ "$ERRORS" -ne 0 ]; then
    echo "schemathesis: FAILED"
    exit 1
fi
if [ "$REQUESTS" -lt "$MIN_REQUESTS" ]; then
    echo "schemathesis: only $REQUESTS requests, fewer than $MIN_REQUESTS: raise SCHEMATHESIS_EXAMPLES"
    exit 1
fi
