#!/usr/bin/env bash
# Webhook delivery under faults, against the binary: tests/webhooks/faults.mjs
# (Node 20) starts loopback receivers and `aco-api serve --dev --demo` on a
# throwaway database with ACO_WEBHOOK_TIMEOUT_SECONDS=2, and checks that every
# delivery verifies with the `standardwebhooks` package and arrives at least
# once: to a partner only its own events; after a refused connection, after
# 500s, after a timeout, after the server was killed (SIGKILL) mid-delivery;
# then measures commit-to-receipt latency at RATE updates a second.
#
#   bash scripts/webhook-test.sh [--latency-only] [path/to/aco-api]
#
#   --latency-only   only the latency run (for BENCHMARKS.md)
#   RATE=100         updates a second in the latency run
#   SECONDS=20       how long the latency run drives them
#
# On failure the server's log is printed and kept (its path is printed).
set -euo pipefail

# bash counts SECONDS up from the value it was given: read it before anything runs.
latency_seconds=20
if declare -p SECONDS 2>/dev/null | grep -q '^declare -[a-z]*x'; then latency_seconds=$SECONDS; fi
started=$(date +%s)

root="$(cd "$(dirname "$0")/.." && pwd)"
mode=()
binary=""
for arg in "$@"; do
  case "$arg" in
    --latency-only) mode=(--latency-only) ;;
    -*) echo "webhook test: unknown option $arg" >&2; exit 2 ;;
    *) binary="$arg" ;;
  esac
done
binary="$(realpath -m "${binary:-${CARGO_TARGET_DIR:-$root/target}/release/aco-api}")"
[ -x "$binary" ] || { echo "webhook test: no binary at $binary" >&2; exit 2; }

cd "$root/tests/webhooks"
npm ci --prefer-offline --no-audit --no-fund --loglevel=error

work=$(mktemp -d)
driver=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$driver" ]; then kill "$driver" 2>/dev/null || true; wait "$driver" 2>/dev/null || true; fi
  # The driver kills its server on the way out; if it was killed itself, the server may be left.
  if [ -f "$work/server.pid" ]; then kill -9 "$(cat "$work/server.pid")" 2>/dev/null || true; fi
  if [ $status -ne 0 ]; then
    echo "webhook test: failed; the end of the server's log (all of it in $work/server.log):" >&2
    grep -v -e 'http::execute: graphql' -e '^ *$' -e '^  eyJ' "$work/server.log" 2>/dev/null | tail -n 40 >&2 || true
  else
    rm -rf "$work"
  fi
  echo "webhook test: took $(($(date +%s) - started)) s"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RATE="${RATE:-100}" LATENCY_SECONDS="$latency_seconds" \
  node faults.mjs --binary "$binary" --work "$work" "${mode[@]}" &
driver=$!
status=0
wait "$driver" || status=$?
driver=""
exit $status
