#!/usr/bin/env bash
# Fuzzes the REST API from its own OpenAPI document (`make test-fuzz`): the release server
# on a fresh SQLite file with the demo data, an organization admin's key on every request, a
# bounded number of examples per operation (and a portal session's token where one is taken),
# in two passes:
# 1. every schemathesis check, with the rate limits off, so each operation's own behaviour
#    is reached thousands of times a minute;
# 2. the shipped rate limits, so requests are refused with 429 as a real client's would be:
#    every answer must still be a documented status, with the documented body and headers.
set -euo pipefail
bin=${1:?usage: schemathesis.sh QUOTABOARD_BINARY SCHEMATHESIS}
schemathesis=${2:?usage: schemathesis.sh QUOTABOARD_BINARY SCHEMATHESIS}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export QUOTABOARD_CONFIG="$root/Leptos.toml"
export DATABASE_URL="sqlite://$work/quotaboard.db"
export LEPTOS_SITE_ADDR="127.0.0.1:$port"
export LEPTOS_SITE_ROOT="$root/target/site"
export RUST_LOG=error
# Webhook URLs naming private addresses are refused (400) unless allowed: which addresses are
# private is not something an OpenAPI document can state, so the fuzzed server allows them.
export QUOTABOARD_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true
# Our own checks (tests/fuzz/hooks.py).
export PYTHONPATH="$root/tests/fuzz${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks

"$bin" demo >/dev/null
QB_FUZZ_KEY=$("$bin" keys create --org acme --role admin --name schemathesis | tail -n 1)
export QB_FUZZ_KEY
server=
stop_server() {
  [ -n "$server" ] || return 0
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
}
trap 'stop_server; rm -rf "$work"' EXIT

# Serves with the environment given (NAME=VALUE ...) until stop_server.
start_server() {
  env "$@" "$bin" serve 2>>"$work/server.log" &
  server=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not start:" >&2
  cat "$work/server.log" >&2
  exit 1
}

# Fails when the server died or panicked.
server_survived() {
  if ! kill -0 "$server" 2>/dev/null; then
    echo "the server died during fuzzing:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  if grep -q "panicked" "$work/server.log"; then
    echo "the server panicked during fuzzing:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
}

# The key goes where each operation's security schemes say (tests/fuzz/schemathesis.toml).
# One worker: schemathesis's workers are threads, and with two of them Debian's Python 3.11.7
# crashed inside hypothesis ("SystemError: AST constructor recursion depth mismatch" while
# describing a strategy; CPython gh-106905: the AST constructor's depth counter).
fuzz() {
  "$schemathesis" --config-file "$root/tests/fuzz/schemathesis.toml" \
    run "http://127.0.0.1:$port/api/openapi.json" \
    --max-examples "${QB_FUZZ_EXAMPLES:-20}" \
    --workers 1 \
    --seed "${QB_FUZZ_SEED:-7}" \
    --generation-database none \
    "$@"
}

status=0
# schemathesis keeps its cache in the working directory: the throwaway one.
cd "$work"

echo "schemathesis, pass 1 of 2: every check, rate limits off"
start_server QUOTABOARD_RATE_LIMIT_PER_KEY=0 QUOTABOARD_RATE_LIMIT_PER_ORGANIZATION=0 QUOTABOARD_RATE_LIMIT_PER_ADDRESS=0
# A portal session's token for the usage reads that take one (a day: both passes).
QB_FUZZ_PORTAL=$(curl -fsS -X POST "http://127.0.0.1:$port/api/v1/portal/sessions" \
  -H "x-api-key: $QB_FUZZ_KEY" -H 'content-type: application/json' -d '{"expiresInMinutes": 1440}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
export QB_FUZZ_PORTAL
fuzz --checks all || status=$?
server_survived
stop_server

echo "schemathesis, pass 2 of 2: the shipped rate limits; every answer documented"
# Refusals are logged as warnings: counted below, so the pass shows it met the limits.
start_server RUST_LOG=error,quotaboard::server::http::middleware=warn
# The checks that hold whatever the rate: a refusal with 429 is a documented answer, but not
# the acceptance of valid data the first pass checks.
fuzz --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  || status=$?
server_survived
refused=$(grep -c "rate limit reached" "$work/server.log" || true)
echo "pass 2: $refused requests refused with 429"
if [ "$refused" -eq 0 ]; then
  echo "pass 2 never reached a rate limit, so it showed nothing about 429" >&2
  status=1
fi
exit "$status"
