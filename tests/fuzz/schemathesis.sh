#!/usr/bin/env bash
# Fuzzes the REST API from its own OpenAPI document (`make test-fuzz`): the release server
# on a fresh SQLite file with the demo data, an organization admin's key on every request,
# every schemathesis check, a bounded number of examples per operation.
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
# The fuzzer is one client sending thousands of requests a minute.
export QUOTABOARD_RATE_LIMIT_PER_KEY=0 QUOTABOARD_RATE_LIMIT_PER_ADDRESS=0
# Webhook URLs naming private addresses are refused (400) unless allowed: which addresses are
# private is not something an OpenAPI document can state, so the fuzzed server allows them.
export QUOTABOARD_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true
# Our own checks (tests/fuzz/hooks.py).
export PYTHONPATH="$root/tests/fuzz${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks

"$bin" demo >/dev/null
QB_FUZZ_KEY=$("$bin" keys create --org acme --role admin --name schemathesis | tail -n 1)
export QB_FUZZ_KEY
"$bin" serve 2>"$work/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

status=0
# schemathesis keeps its cache in the working directory: the throwaway one.
cd "$work"
# The key goes where each operation's security schemes say (tests/fuzz/schemathesis.toml).
# One worker: schemathesis's workers are threads, and with two of them Debian's Python 3.11.7
# crashed inside hypothesis ("SystemError: AST constructor recursion depth mismatch" while
# describing a strategy; CPython gh-106905: the AST constructor's depth counter).
"$schemathesis" --config-file "$root/tests/fuzz/schemathesis.toml" \
  run "http://127.0.0.1:$port/api/openapi.json" \
  --checks all \
  --max-examples "${QB_FUZZ_EXAMPLES:-20}" \
  --workers 1 \
  --seed "${QB_FUZZ_SEED:-7}" \
  --generation-database none || status=$?
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
exit "$status"
