#!/usr/bin/env bash
# The TypeScript client example (examples/typescript/) as a frontend developer
# would use it: its locked packages (npm ci, from npm's cache when it can), the
# types generated from schema.graphql, a strict type check, then its
# walkthrough against the binary, started as `aco-api serve --dev --demo` on a
# free loopback port with a throwaway database and development tokens.
#
#   bash scripts/typescript-example.sh [path/to/aco-api]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
binary="$(realpath "${1:-${CARGO_TARGET_DIR:-$root/target}/debug/aco-api}")"
cd "$root/examples/typescript"

timed() {
  local start=$SECONDS
  "$@"
  echo "typescript example: '$*' took $((SECONDS - start)) s"
}
# The code generator's dependencies declare Node 22 or later and run on Node
# 20: npm's warnings about it would drown the log, its errors still show.
timed npm ci --prefer-offline --no-audit --no-fund --loglevel=error
timed npm run --silent codegen
timed npm run --silent typecheck

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$binary" serve --dev --demo --bind "127.0.0.1:$port" --database-path "$work/aco.db" >"$work/server.log" 2>&1 &
server=$!
trap 'status=$?; kill $server 2>/dev/null || true; wait $server 2>/dev/null || true
      if [ $status -ne 0 ]; then tail -n 20 "$work/server.log" >&2; fi; rm -rf "$work"' EXIT
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  kill -0 $server 2>/dev/null || { echo "typescript example: the server stopped" >&2; exit 1; }
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null

# The guide's tenants and subjects (docs/guide.md), one token per role.
token() { "$binary" token --dev --role "$1" --tenant "$2" --sub "$3"; }
programme=a0c0a0c0-0000-4000-8000-000000000001
export ACO_API_URL="http://127.0.0.1:$port/graphql"
ACO_TOKEN_PARTNER=$(token PARTNER_USER 11111111-1111-4111-8111-000000000001 user@contosocloud.com)
ACO_TOKEN_PLSR=$(token PLSR $programme plsr@programme.example)
ACO_TOKEN_CHANNEL_SALES=$(token CHANNEL_SALES $programme sales@programme.example)
ACO_TOKEN_FINANCE=$(token FINANCE $programme finance@programme.example)
ACO_TOKEN_OPERATIONS=$(token OPERATIONS $programme ops@programme.example)
ACO_TOKEN_SIGNER=$(token CUSTOMER_SIGNER 22222222-2222-4222-8222-000000000002 jordan.signer@cohowinery.com)
ACO_TOKEN_RESELLER=$(token PARTNER_USER 11111111-1111-4111-8111-000000000003 user@fabrikamit.com)
export ACO_TOKEN_PARTNER ACO_TOKEN_PLSR ACO_TOKEN_CHANNEL_SALES ACO_TOKEN_FINANCE \
  ACO_TOKEN_OPERATIONS ACO_TOKEN_SIGNER ACO_TOKEN_RESELLER
timed npm start --silent
