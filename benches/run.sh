#!/usr/bin/env bash
# The benchmark: builds the release binary, writes a dataset, starts the server
# pinned to core 0, drives it with wrk pinned to core 1 over loopback, and prints
# req/s, p50 and p99 for each operation with its ratio to the yardstick
# (GET /livez of the same server: no database). Every measurement of an
# operation directly follows one of the yardstick and is divided by it; the
# reads are measured ROUNDS times and their figures are medians.
#
#   bash benches/run.sh                      # 10,000 requests, 10 s per measurement, 3 rounds
#   REQUESTS=1000000 SECONDS_EACH=10 bash benches/run.sh
#   REQUESTS=200 SECONDS_EACH=1 bash benches/run.sh    # the smoke run CI does
#   BENCH_DIR=/tmp/b BENCH_BINARY=… CONNECTIONS=256 ROUNDS=5 …     # keep the data, another build
#   BENCH_BINARY=/tmp/old BENCH_BINARY_B=target/release/aco-api bash benches/run.sh
#       # two builds alternated in one run: each with its own copy of the dataset
#       # (written by itself), its own server on the same core, every pair of
#       # each build measured right after the other build's
#   bash scripts/postgres.sh -- env POSTGRAPHILE=1 bash benches/run.sh
#       # on the PostgreSQL store: BENCH_DATABASE_URL (else ACO_TEST_DATABASE_URL,
#       # which scripts/postgres.sh sets) names an empty database; the dataset is
#       # written to SQLite and moved there by `aco-api copy`; the server and
#       # PostgreSQL share core 0. POSTGRAPHILE=1 also measures PostGraphile 4
#       # (from npm) over the same data, on core 0 with PostgreSQL, beside the
#       # same point read and list page of aco-api
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh

REQUESTS="${REQUESTS:-10000}"
SECONDS_EACH="${SECONDS_EACH:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
# Rounds of the reads; their figures are medians over the rounds.
ROUNDS="${ROUNDS:-3}"
whole REQUESTS "$REQUESTS"; whole SECONDS_EACH "$SECONDS_EACH"
whole CONNECTIONS "$CONNECTIONS"; whole ROUNDS "$ROUNDS"
# Each write body can be sent once (a customer submits once, a request passes
# its check once): enough for 20,000 writes a second.
FRESH="${FRESH:-$(( SECONDS_EACH * 20000 ))}"
whole FRESH "$FRESH"
PORT="${PORT:-18181}"

if ! command -v wrk >/dev/null || ! command -v curl >/dev/null || ! command -v taskset >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq wrk curl util-linux) >/dev/null
fi
cores=$(nproc)
server_cpu=0; load_cpu=$(( cores > 1 ? 1 : 0 ))

bin=$(server_binary)
declare -A pid=()
# A stopped server empties its write-ahead log before it exits: wait for it.
stop_server() {
  for p in "${pid[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
if [ -n "${BENCH_DIR:-}" ]; then
  # Keep the dataset afterwards (for RSS and start-up measurements).
  work="$BENCH_DIR"; rm -rf "$work"; mkdir -p "$work"
  trap 'stop_server' EXIT
else
  work=$(mktemp -d)
  trap 'stop_server; rm -rf "$work"' EXIT
fi

# The builds measured: one, or two alternated (A is BENCH_BINARY or the
# build here, B is BENCH_BINARY_B). Each writes its own dataset and bodies.
builds=(A)
declare -A binary=([A]="$bin") port=([A]="$PORT")
if [ -n "${BENCH_BINARY_B:-}" ]; then
  builds=(A B)
  binary[B]="$BENCH_BINARY_B"
  port[B]=$(( PORT + 1 ))
fi
export ACO_DEV=true RUST_LOG=warn ACO_LOG_FORMAT=json
database_url="${BENCH_DATABASE_URL:-${ACO_TEST_DATABASE_URL:-}}"
store="SQLite"
if [ -n "$database_url" ]; then
  if [ "${#builds[@]}" -gt 1 ]; then
    echo "the PostgreSQL store is measured one build at a time (unset BENCH_BINARY_B)" >&2
    exit 2
  fi
  store="PostgreSQL"
  # PostgreSQL works on the server's core: its processes, and the backends
  # they start from now on.
  for p in $(pgrep -x postgres); do
    taskset -a -p -c "$server_cpu" "$p" >/dev/null 2>&1 ||
      { echo "PostgreSQL's processes could not be pinned to CPU $server_cpu (not ours to move): its figures are not comparable" >&2; break; }
  done
fi
for b in "${builds[@]}"; do
  started=$(date +%s)
  mkdir -p "$work/$b"
  "${binary[$b]}" bench-data --database-path "$work/$b/bench.db" --requests "$REQUESTS" --fresh "$FRESH" --bodies "$work/$b/bodies"
  echo "dataset ($b): $REQUESTS requests, $(( REQUESTS / 10 + 2 * FRESH )) customers, written in $(( $(date +%s) - started )) s"
  serve_env=()
  if [ -n "$database_url" ]; then
    "${binary[$b]}" copy --database-path "$work/$b/bench.db" --to "$database_url" >/dev/null
    echo "copied to the PostgreSQL store in $(( $(date +%s) - started )) s"
    serve_env=(ACO_DATABASE_URL="$database_url")
  fi
  env "${serve_env[@]}" taskset -c "$server_cpu" "${binary[$b]}" serve --dev --bind "127.0.0.1:${port[$b]}" --database-path "$work/$b/bench.db" >/dev/null 2>&1 &
  pid[$b]=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:${port[$b]}/healthz" >/dev/null && break; sleep 0.1; done
done

ADMIN=$(token PROGRAM_ADMIN $PROGRAM)
PLSR=$(token PLSR $PROGRAM)
PARTNER_USER=$(token PARTNER_USER b0000000-0000-4000-8000-000000000001)

run() { # name, path, script, bodies, token[, once: the bodies are writes that can be sent once]
  # The build measured is $BUILD (A when unset); a body file named
  # …/bodies/… is the one that build wrote.
  local out rps p50 p99 failures bodies="${4/\/A\/bodies\//\/${BUILD:-A}\/bodies\/}"
  out=$(BENCH_BODIES="$bodies" BENCH_TOKEN="$5" taskset -c "$load_cpu" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --timeout 10s --latency -s "$3" "http://127.0.0.1:${port[${BUILD:-A}]}$2")
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
  echo "$rps $p50 $p99 $(awk '/requests in/ {print $1}' <<<"$out")"
}

# Core 0's busy time (user, system, interrupts; not idle, not stolen) in µs.
tick=$(getconf CLK_TCK)
busy_us() { awk -v c="cpu$server_cpu" -v t="$tick" '$1 == c { printf "%.0f", ($2 + $3 + $4 + $7 + $8) * 1000000 / t }' /proc/stat; }
# A measurement's output followed by the server core's busy µs per request
# (the command prints requests as its fourth word).
on_core() {
  local before after out
  before=$(busy_us); out=$("$@"); after=$(busy_us)
  echo "$out $(( (after - before) / $(awk '{print ($4 > 0 ? $4 : 1)}' <<<"$out") ))"
}

# One measurement of an operation, right after one of the yardstick: the ratio
# of the pair is immune to the machine's drift between pairs.
pair() { # run's arguments
  local yardstick operation name
  for BUILD in "${builds[@]}"; do
    yardstick=$(run "GET /livez (yardstick)" /livez benches/livez.lua /dev/null "")
    operation=$(run "$@")
    name="$1"
    [ "${#builds[@]}" -gt 1 ] && name="$1 [$BUILD]"
    echo "$name|$yardstick|$operation"
  done
}

reads=(
  "acoRequest(id)|/graphql benches/graphql.lua $work/A/bodies/acoRequest.jsonl $ADMIN"
  "acoRequests(first: 20)|/graphql benches/graphql.lua $work/A/bodies/acoRequests.jsonl $ADMIN"
  "acoEligibility|/graphql benches/graphql.lua $work/A/bodies/acoEligibility.jsonl $PLSR"
  "reconciliation (12 months)|/graphql benches/graphql.lua $work/A/bodies/reconciliation.jsonl $ADMIN"
  "customers(search: 3 letters)|/graphql benches/graphql.lua $work/A/bodies/customersSearch.jsonl $ADMIN"
)
# Warm-up, checked but not reported: each read for a second (page caches; the
# expiry sweep the server runs at start has finished by then).
for BUILD in "${builds[@]}"; do
  SECONDS_EACH=1 run "GET /livez (yardstick)" /livez benches/livez.lua /dev/null "" >/dev/null
  for read in "${reads[@]}"; do
    # shellcheck disable=SC2086 # the arguments are words without spaces
    SECONDS_EACH=1 run "${read%%|*}" ${read#*|} >/dev/null
  done
done
unset BUILD

# The reads are measured ROUNDS times, interleaved; each write body can be sent
# once, so each write is measured once.
results=$(
  for _ in $(seq "$ROUNDS"); do
    for read in "${reads[@]}"; do
      # shellcheck disable=SC2086
      pair "${read%%|*}" ${read#*|}
    done
  done
  pair "submitAcoRequest" /graphql benches/graphql.lua "$work/A/bodies/submitAcoRequest.jsonl" "$PARTNER_USER" once
  pair "passAcoComplianceCheck" /graphql benches/graphql.lua "$work/A/bodies/passAcoComplianceCheck.jsonl" "$PLSR" once
  pair "recordMonthlyUsage" /graphql benches/graphql.lua "$work/A/bodies/recordMonthlyUsage.jsonl" "$ADMIN" once
)
# PostGraphile over the same data: the point read and the first list page,
# each measured right after aco-api's, ROUNDS times. Beside them, what the
# server core spends a request: in aco-api, in PostGraphile, in PostgreSQL
# alone answering aco-api's statements (pgbench from the load's core: no
# client can do with less), and in aco-api on SQLite over the same dataset
# (the same HTTP, tokens, GraphQL and answer, the store in-process).
postgraphile=""
if [ -n "${POSTGRAPHILE:-}" ] && [ -n "$database_url" ]; then
  bash benches/postgraphile.sh "$work/P" "$database_url" "$work/A/bodies" "$(( PORT + 2 ))" "$server_cpu"
  port[P]=$(( PORT + 2 ))
  pgbench=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -1 || true)
  alone() { # pgbench script: PostgreSQL alone, printed as run() prints (tps, -, -, transactions)
    local out
    out=$(taskset -c "$load_cpu" "$pgbench" -n -M prepared -c "$CONNECTIONS" -j 1 -T "$SECONDS_EACH" -f "$1" "$database_url" 2>&1) ||
      { echo "pgbench: $out" >&2; exit 1; }
    awk '/^tps/ { tps = $3 } /actually processed/ { n = $NF } END { printf "%d - - %d\n", tps, n }' <<<"$out"
  }
  if [ -n "$pgbench" ]; then
    PATH="$(dirname "$pgbench"):$PATH" bash benches/postgres-alone.sh "$database_url" "$REQUESTS" "$work/Q"
    port[S]=$(( PORT + 3 ))
    ln -s "$work/A" "$work/S"
    taskset -c "$server_cpu" "$bin" serve --dev --bind "127.0.0.1:${port[S]}" --database-path "$work/A/bench.db" >/dev/null 2>&1 &
    pid[S]=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:${port[S]}/healthz" >/dev/null && break; sleep 0.1; done
    SECONDS_EACH=1 BUILD=S run "acoRequest(id) on SQLite" /graphql benches/graphql.lua "$work/A/bodies/acoRequest.jsonl" "$ADMIN" >/dev/null
  else
    echo "pgbench not found: PostgreSQL alone is not measured" >&2
  fi
  # Warm-up, checked but not reported (Node's compiler too).
  for body in byId.jsonl firstPage.jsonl; do
    SECONDS_EACH=1 BUILD=P run "PostGraphile" /graphql benches/graphql.lua "$work/P/bodies/$body" "" >/dev/null
  done
  postgraphile=$(
    for _ in $(seq "$ROUNDS"); do
      for op in "acoRequest(id)|acoRequest.jsonl|byId.jsonl|acoRequest.sql" "acoRequests(first: 20)|firstPage.jsonl|firstPage.jsonl|firstPage.sql"; do
        IFS='|' read -r name ours theirs script <<<"$op"
        [ "$ours" = firstPage.jsonl ] && ours="../../P/bodies/aco-firstPage.jsonl"
        a=$(BUILD=A on_core run "$name" /graphql benches/graphql.lua "$work/A/bodies/$ours" "$ADMIN")
        p=$(BUILD=P on_core run "PostGraphile $name" /graphql benches/graphql.lua "$work/P/bodies/$theirs" "")
        q="- - - - -"; s="- - - - -"
        if [ -n "$pgbench" ]; then
          q=$(on_core alone "$work/Q/$script")
          s=$(BUILD=S on_core run "$name on SQLite" /graphql benches/graphql.lua "$work/A/bodies/$ours" "$ADMIN")
        fi
        echo "$name|$a|$p|$q|$s"
      done
    done
  )
  kill "$(cat "$work/P/pid")" 2>/dev/null || true
fi

# Search alone on one connection: a first page of 20 customers for three
# letters, as one user waits for it (the target is a median under 5 ms at 1M).
search_alone=$(
  for BUILD in "${builds[@]}"; do
    CONNECTIONS=1 run "customers(search) alone" /graphql benches/graphql.lua "$work/A/bodies/customersSearch.jsonl" "$ADMIN" |
      awk -v b="$BUILD" '{ print b ": " $1 " req/s, p50 " $2 ", p99 " $3 }'
  done
)
unset BUILD

rss=""
for b in "${builds[@]}"; do
  label=""; [ "${#builds[@]}" -gt 1 ] && label=" $b"
  rss="$rss$label $(( $(awk '/VmHWM/ {print $2}' "/proc/${pid[$b]}/status") / 1024 )) MB"
done

# Each row: the medians over the operation's pairs (req/s, ratio, p50, p99),
# and the ratio of every pair; the yardstick row: the median of all of its runs.
echo
awk -F'|' '
  function ms(t) {
    if (t ~ /us$/) return substr(t, 1, length(t) - 2) / 1000
    if (t ~ /ms$/) return substr(t, 1, length(t) - 2) + 0
    if (t ~ /s$/) return substr(t, 1, length(t) - 1) * 1000
    return t + 0
  }
  function median(list,    a, n, i, j, x) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    split($2, y, " "); split($3, o, " ")
    if (!($1 in seen)) { seen[$1] = 1; order[++count] = $1 }
    yard = yard " " y[1]; yp50 = yp50 " " ms(y[2]); yp99 = yp99 " " ms(y[3])
    rps[$1] = rps[$1] " " o[1]; ratio[$1] = ratio[$1] " " o[1] / y[1]
    p50[$1] = p50[$1] " " ms(o[2]); p99[$1] = p99[$1] " " ms(o[3])
    each[$1] = each[$1] sprintf(" %.3f", o[1] / y[1])
  }
  END {
    printf "%-28s %10s %8s %10s %10s  %s\n", "operation", "req/s", "ratio", "p50 ms", "p99 ms", "ratio of each pair"
    printf "%-28s %10.0f %8.3f %10.2f %10.2f  %s\n", "GET /livez (yardstick)", median(yard), 1, median(yp50), median(yp99), "(" split(yard, t, " ") " runs)"
    for (i = 1; i <= count; i++) {
      k = order[i]
      printf "%-28s %10.0f %8.3f %10.2f %10.2f %s\n", k, median(rps[k]), median(ratio[k]), median(p50[k]), median(p99[k]), each[k]
    }
  }' <<<"$results"
echo
echo "customers(search: 3 letters), one connection: $search_alone"
echo "store: $store; server peak RSS:$rss; $CONNECTIONS connections; server on CPU $server_cpu, wrk on CPU $load_cpu; $(nproc) cores"
if [ -n "$postgraphile" ]; then
  echo
  awk -F'|' '
    function median(list,    a, n, i, j, x) {
      n = split(list, a, " ")
      for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
      split($2, a, " "); split($3, p, " "); split($4, q, " "); split($5, s, " ")
      if (!($1 in seen)) { seen[$1] = 1; order[++count] = $1 }
      ours[$1] = ours[$1] " " a[1]; theirs[$1] = theirs[$1] " " p[1]; ratio[$1] = ratio[$1] " " a[1] / p[1]
      cu[$1] = cu[$1] " " a[5]; pu[$1] = pu[$1] " " p[5]
      if (q[5] != "-") {
        qu[$1] = qu[$1] " " q[5]; su[$1] = su[$1] " " s[5]; best[$1] = best[$1] " " p[5] / (q[5] + s[5])
      }
    }
    END {
      printf "%-28s %14s %18s %10s\n", "operation", "aco-api req/s", "PostGraphile req/s", "ratio"
      for (i = 1; i <= count; i++) {
        k = order[i]
        printf "%-28s %14.0f %18.0f %10.2f\n", k, median(ours[k]), median(theirs[k]), median(ratio[k])
      }
      if (qu[order[1]] == "") exit
      printf "\n%-28s %8s %13s %17s %18s %11s\n", "CPU 0, µs a request", "aco-api", "PostGraphile", "PostgreSQL alone", "aco-api on SQLite", "best ratio"
      for (i = 1; i <= count; i++) {
        k = order[i]
        printf "%-28s %8.0f %13.0f %17.0f %18.0f %11.2f\n", k, median(cu[k]), median(pu[k]), median(qu[k]), median(su[k]), median(best[k])
      }
      print "best ratio: PostGraphile'"'"'s µs over the sum of PostgreSQL alone and aco-api on SQLite (the most any client sending these statements could reach)"
    }' <<<"$postgraphile"
  echo "PostGraphile 4 (no authorization: every row to anyone) and aco-api (the programme admin's view), each pinned with PostgreSQL to CPU $server_cpu"
fi
