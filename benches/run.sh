#!/usr/bin/env bash
# The benchmark: builds the release binary, writes a dataset, starts the server
# pinned to core 0, drives it with wrk pinned to core 1 over loopback, and prints
# req/s, p50 and p99 for each operation with its ratio to the yardstick
# (GET /livez of the same server, in the same run: no database).
#
#   bash benches/run.sh                      # 10,000 requests, 10 s per operation
#   REQUESTS=1000000 SECONDS_EACH=10 bash benches/run.sh
#   REQUESTS=200 SECONDS_EACH=1 bash benches/run.sh    # the smoke run CI does
#   BENCH_DIR=/tmp/b BENCH_BINARY=… CONNECTIONS=256 …              # keep the data, another build
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS="${REQUESTS:-10000}"
SECONDS_EACH="${SECONDS_EACH:-10}"
# Each write body can be sent once (a customer submits once, a request passes
# its check once): enough for 20,000 writes a second.
FRESH="${FRESH:-$(( SECONDS_EACH * 20000 ))}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-18181}"

if ! command -v wrk >/dev/null || ! command -v curl >/dev/null || ! command -v taskset >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk curl util-linux) >/dev/null
fi
cores=$(nproc)
server_cpu=0; load_cpu=$(( cores > 1 ? 1 : 0 ))

if [ -n "${BENCH_BINARY:-}" ]; then
  bin="$BENCH_BINARY"   # compare another build of the server
else
  cargo build --release --quiet --bin aco-api
  bin="${CARGO_TARGET_DIR:-$PWD/target}/release/aco-api"
fi
# A stopped server empties its write-ahead log before it exits: wait for it.
stop_server() {
  if [ -n "${server:-}" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
}
if [ -n "${BENCH_DIR:-}" ]; then
  # Keep the dataset afterwards (for RSS and start-up measurements).
  work="$BENCH_DIR"; rm -rf "$work"; mkdir -p "$work"
  trap 'stop_server' EXIT
else
  work=$(mktemp -d)
  trap 'stop_server; rm -rf "$work"' EXIT
fi

started=$(date +%s)
"$bin" bench-data --database-path "$work/bench.db" --requests "$REQUESTS" --fresh "$FRESH" --bodies "$work/bodies"
echo "dataset: $REQUESTS requests, $(( REQUESTS / 10 + 2 * FRESH )) customers, written in $(( $(date +%s) - started )) s"

export ACO_DEV=true RUST_LOG=warn ACO_LOG_FORMAT=json
taskset -c "$server_cpu" "$bin" serve --dev --bind "127.0.0.1:$PORT" --database-path "$work/bench.db" >/dev/null 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

token() { "$bin" token --dev --role "$1" --tenant "$2" --sub "bench-$1" --ttl 36000; }
PROGRAM=a0c0a0c0-0000-4000-8000-000000000001
ADMIN=$(token PROGRAM_ADMIN $PROGRAM)
PLSR=$(token PLSR $PROGRAM)
PARTNER_USER=$(token PARTNER_USER b0000000-0000-4000-8000-000000000001)

run() { # name, path, script, bodies, token[, once: the bodies are writes that can be sent once]
  local out
  out=$(BENCH_BODIES="$4" BENCH_TOKEN="$5" taskset -c "$load_cpu" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency -s "$3" "http://127.0.0.1:$PORT$2")
  local rps p50 p99 failures
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  failures=$(awk '/^FAILURES/ {print $2}' <<<"$out")
  # Timeouts and connection errors are failures too.
  if grep -q "Socket errors" <<<"$out"; then
    echo "$1: $(grep 'Socket errors' <<<"$out")" >&2
    failures=1
  fi
  if [ -n "${6:-}" ] && [ "$(awk '/^REUSED/ {print $2}' <<<"$out")" != "0" ]; then
    echo "$1: every fresh body was sent before the time was up; raise FRESH (now $FRESH)" >&2
    exit 1
  fi
  if [ "${failures:-1}" != "0" ]; then
    echo "$1: $failures answers were not real data" >&2
    grep FIRST_FAILURE <<<"$out" >&2 || true
    exit 1
  fi
  echo "$1 $rps $p50 $p99"
}

results=$(
  run "GET /livez (yardstick)" /livez benches/livez.lua /dev/null ""
  run "acoRequest(id)" /graphql benches/graphql.lua "$work/bodies/acoRequest.jsonl" "$ADMIN"
  run "acoRequests(first: 20)" /graphql benches/graphql.lua "$work/bodies/acoRequests.jsonl" "$ADMIN"
  run "acoEligibility" /graphql benches/graphql.lua "$work/bodies/acoEligibility.jsonl" "$PLSR"
  run "reconciliation (12 months)" /graphql benches/graphql.lua "$work/bodies/reconciliation.jsonl" "$ADMIN"
  run "submitAcoRequest" /graphql benches/graphql.lua "$work/bodies/submitAcoRequest.jsonl" "$PARTNER_USER" once
  run "passAcoComplianceCheck" /graphql benches/graphql.lua "$work/bodies/passAcoComplianceCheck.jsonl" "$PLSR" once
  run "recordMonthlyUsage" /graphql benches/graphql.lua "$work/bodies/recordMonthlyUsage.jsonl" "$ADMIN" once
)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")

yardstick=$(head -1 <<<"$results" | awk '{print $(NF-2)}')
echo
printf '%-28s %10s %8s %10s %10s\n' operation "req/s" ratio p50 p99
while read -r line; do
  name=$(awk '{NF-=3; print}' <<<"$line")
  set -- $(awk '{print $(NF-2), $(NF-1), $NF}' <<<"$line")
  printf '%-28s %10.0f %8.3f %10s %10s\n' "$name" "$1" "$(awk -v a="$1" -v b="$yardstick" 'BEGIN {print a/b}')" "$2" "$3"
done <<<"$results"
echo
echo "server peak RSS: $(( rss / 1024 )) MB; $CONNECTIONS connections; server on CPU $server_cpu, wrk on CPU $load_cpu; $(nproc) cores"
