#!/usr/bin/env bash
# Run a single-node OpenSearch 2.19.6 (embedded, jars from Maven Central) for OCOP Mart.
# Usage: services/opensearch/run.sh [port] [data-dir]   (or env OPENSEARCH_PORT, OPENSEARCH_DATA)
# With no data dir a fresh temp dir is used and deleted on exit.
# Prints "OPENSEARCH READY http://127.0.0.1:PORT ..." on stdout once HTTP answers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${1:-${OPENSEARCH_PORT:-9200}}"
data="${2:-${OPENSEARCH_DATA:-}}"
stamp="$here/target/.built"

needs_build() {
  [[ ! -d "$here/target/lib" || ! -f "$stamp" ]] && return 0
  [[ -n "$(find "$here/pom.xml" "$here/src" -newer "$stamp" -print -quit)" ]]
}

if needs_build; then
  rm -rf "$here/target/lib"
  # Offline first so a machine with a warm ~/.m2 needs no network; fall back to Maven Central.
  if ! mvn -q -B -o -f "$here/pom.xml" package >/dev/null 2>&1; then
    mvn -q -B -f "$here/pom.xml" package >&2
  fi
  touch "$stamp"
fi

# OPENSEARCH_JAVA_OPTS: more JVM options (the failure-injection tests start nodes with a quicker-starting JIT).
# shellcheck disable=SC2086
exec java -Xms512m -Xmx512m ${OPENSEARCH_JAVA_OPTS:-} -cp "$here/target/classes:$here/target/lib/*" \
  mart.ocop.search.EngineMain "$port" "$data"
