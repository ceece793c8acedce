#!/usr/bin/env bash
# Process start to first answered GraphQL request: starts the release server
# RUNS times on a dataset (after a clean stop each time), pinned to one core,
# and polls it over loopback with `acoRequests(first: 1)` as a programme admin
# until it answers with a node; prints each time and the median.
#
#   BENCH_DIR=/tmp/b1m bash benches/startup.sh     # the dataset a run.sh run kept
#   REQUESTS=10000 bash benches/startup.sh          # writes a dataset of its own first
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh

RUNS="${RUNS:-10}"
REQUESTS="${REQUESTS:-10000}"
whole RUNS "$RUNS"; whole REQUESTS "$REQUESTS"
PORT="${PORT:-18201}"
bin=$(server_binary)
if [ -n "${BENCH_DIR:-}" ]; then
  db="$BENCH_DIR/bench.db"
  [ -f "$db" ] || { echo "no dataset in $BENCH_DIR (run benches/run.sh with BENCH_DIR first)" >&2; exit 2; }
  trap '' EXIT
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  db="$work/bench.db"
  "$bin" bench-data --database-path "$db" --requests "$REQUESTS" --fresh 10 --bodies "$work/bodies" >/dev/null
fi
ADMIN=$(token PROGRAM_ADMIN "$PROGRAM")
export ACO_DEV=true RUST_LOG=warn ACO_LOG_FORMAT=json

python3 - "$bin" "$db" "$PORT" "$ADMIN" "$RUNS" <<'EOF'
import json, socket, statistics, subprocess, sys, time
binary, db, port, token, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
body = json.dumps({"query": "{ acoRequests(first: 1) { nodes { id } } }"}).encode()
request = (f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body

def answered():
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(request)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return False
    if not data.startswith(b"HTTP/1.1 200"):
        return False
    answer = json.loads(data.split(b"\r\n\r\n", 1)[1])
    if answer.get("errors") or not answer["data"]["acoRequests"]["nodes"]:
        sys.exit(f"not real data: {answer}")
    return True

times = []
for _ in range(runs):
    started = time.perf_counter()
    server = subprocess.Popen(["taskset", "-c", "0", binary, "serve", "--dev", "--bind", f"127.0.0.1:{port}",
                               "--database-path", db], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not answered():
        if server.poll() is not None:
            sys.exit("the server stopped before it answered")
        if time.perf_counter() - started > 30:
            sys.exit("no answer within 30 s")
        time.sleep(0.0005)
    times.append((time.perf_counter() - started) * 1000)
    server.terminate()
    server.wait()
print("start to first answered GraphQL request, ms: " + " ".join(f"{t:.1f}" for t in times))
print(f"median of {runs}: {statistics.median(times):.1f} ms")
EOF
