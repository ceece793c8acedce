#!/usr/bin/env bash
# The schema's and the server's checks with the GraphQL ecosystem's own tools
# (npm, installed in a directory of their own):
# - schema.graphql against the last release's (docs/releases/): a breaking
#   change that CHANGELOG.md does not list fails (graphql-js);
# - the graphql-http server audit (GraphQL over HTTP conformance) against the
#   binary, started as `aco-api serve --dev` on a free port with a fresh database.
#
#   bash scripts/graphql-checks.sh [path/to/aco-api]
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-${CARGO_TARGET_DIR:-$PWD/target}/debug/aco-api}"
dir="${TMPDIR:-/tmp}/aco-graphql-http"
mkdir -p "$dir"
if [ ! -d "$dir/node_modules/graphql-http" ]; then
  (cd "$dir" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund graphql-http graphql >/dev/null)
fi
cp scripts/graphql-http-audit.mjs scripts/schema-changes.mjs "$dir/"
node "$dir/schema-changes.mjs" "$PWD"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$binary" serve --dev --bind "127.0.0.1:$port" --database-path "$work/aco.db" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/livez" >/dev/null && break; sleep 0.1; done
node "$dir/graphql-http-audit.mjs" "http://127.0.0.1:$port/graphql"
