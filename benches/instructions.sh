#!/usr/bin/env bash
# Instructions per request: the release server runs under valgrind's callgrind
# on a benchmark dataset, answers each read operation of the benchmark N times
# after a warm-up, and the instructions it executed (every thread, user space)
# are divided by N. Unlike req/s, the count does not move with the machine's
# load: two builds are compared by it to a fraction of a percent.
#
#   bash benches/instructions.sh                       # 300 requests of each read
#   N=900 BENCH_BINARY=/tmp/other bash benches/instructions.sh
#   REQUESTS=100000 bash benches/instructions.sh     # a larger dataset (default 10,000 requests)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh

N="${N:-300}"
REQUESTS="${REQUESTS:-10000}"
whole N "$N"; whole REQUESTS "$REQUESTS"
PORT="${PORT:-18191}"
if ! command -v valgrind >/dev/null || ! command -v curl >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq valgrind curl) >/dev/null
fi
bin=$(server_binary)
work=$(mktemp -d)
server=""
stop_server() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

# Each write body can be sent once: enough fresh ones for the warm-up and N.
"$bin" bench-data --database-path "$work/bench.db" --requests "$REQUESTS" --fresh $(( N + 64 )) --bodies "$work/bodies" >/dev/null
export ACO_DEV=true RUST_LOG=warn ACO_LOG_FORMAT=json
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
  "$bin" serve --dev --bind "127.0.0.1:$PORT" --database-path "$work/bench.db" >/dev/null 2>&1 &
server=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/livez" >/dev/null && break; sleep 0.1; done

ADMIN=$(token PROGRAM_ADMIN "$PROGRAM")
PLSR=$(token PLSR "$PROGRAM")
PARTNER_USER=$(token PARTNER_USER b0000000-0000-4000-8000-000000000001)

# Sends bodies of a file in turn (for "-": GET /livez) over one kept-alive
# connection, and fails on any answer that is not real data (as benches/graphql.lua
# does). A read sends its first 64 bodies over and over; a write ("once") sends
# each body once, starting after the ones already sent.
send() { # bodies, token, count[, once]
  python3 - "$1" "$2" "$3" "$PORT" "${4:-}" "$work/sent" <<'EOF'
import http.client, os, sys
path, token, count, port, once, sent = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
start = 0
if once:
    mark = os.path.join(sent, os.path.basename(path))
    start = int(open(mark).read()) if os.path.exists(mark) else 0
    bodies = open(path).read().splitlines()[start:start + count]
    if len(bodies) < count:
        sys.exit(f"{path}: fewer than {start + count} bodies")
    os.makedirs(sent, exist_ok=True)
    open(mark, "w").write(str(start + count))
else:
    bodies = open(path).read().splitlines()[:64] if path != "-" else None
connection = http.client.HTTPConnection("127.0.0.1", port)
for i in range(count):
    if bodies is None:
        connection.request("GET", "/livez")
    else:
        connection.request("POST", "/graphql", body=bodies[i % len(bodies)], headers={
            "Content-Type": "application/json", "Authorization": "Bearer " + token})
    response = connection.getresponse()
    body = response.read()
    if response.status != 200 or b'"errors"' in body or b'"userErrors":[{' in body:
        sys.exit(f"{path}: not real data: {response.status} {body[:200]!r}")
EOF
}
# Instructions since the last zeroing, from a fresh dump.
instructions() {
  rm -f "$work"/callgrind.out.*
  callgrind_control -d "$server" >/dev/null 2>&1
  sleep 0.5
  awk '/^summary:/ {print $2}' "$work"/callgrind.out.* | tail -1
}

printf "%-28s %14s\n" "operation" "instructions"
for op in "GET /livez (yardstick)|-|" "acoRequest(id)|acoRequest|$ADMIN" "acoRequests(first: 20)|acoRequests|$ADMIN" \
  "acoEligibility|acoEligibility|$PLSR" "reconciliation (12 months)|reconciliation|$ADMIN" \
  "submitAcoRequest|submitAcoRequest|$PARTNER_USER|once" "passAcoComplianceCheck|passAcoComplianceCheck|$PLSR|once" \
  "recordMonthlyUsage|recordMonthlyUsage|$ADMIN|once"; do
  IFS='|' read -r name file tok once <<<"$op"
  [ "$file" = - ] || file="$work/bodies/$file.jsonl"
  send "$file" "$tok" 64 "$once"   # warm-up: caches, compiled statements
  callgrind_control -z "$server" >/dev/null 2>&1
  send "$file" "$tok" "$N" "$once"
  total=$(instructions)
  printf "%-28s %14d\n" "$name" $(( total / N ))
done
echo
echo "per request, mean of $N; user-space instructions of every server thread (the kernel's are not counted)"
