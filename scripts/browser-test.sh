#!/usr/bin/env bash
# The explorer in a real browser: Debian's Chromium, headless, driven by
# playwright-core (tests/browser/explorer.mjs) against the binary started as
# `aco-api serve --dev --demo` on a free loopback port with a throwaway
# database. It fails if the page asks any other origin for anything, checks
# that the documentation pane lists the schema, runs a query with a partner
# admin's token pasted into the Headers pane, and keeps a screenshot:
# ${CARGO_TARGET_DIR:-target}/browser/explorer.png.
#
#   bash scripts/browser-test.sh path/to/aco-api
#
# Installs Chromium from Debian's packages if /usr/bin/chromium is missing
# (as root), and playwright-core (pinned) into ${TMPDIR:-/tmp}/aco-browser,
# kept there for the next run. Playwright's own browser downloads are not used.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: bash scripts/browser-test.sh path/to/aco-api (an executable)" >&2
  exit 2
fi
binary="$(realpath "$1")"
playwright_version=1.65.2

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

dir="${TMPDIR:-/tmp}/aco-browser"
installed="$(node -p "require('$dir/node_modules/playwright-core/package.json').version" 2>/dev/null || true)"
if [ "$installed" != "$playwright_version" ]; then
  mkdir -p "$dir"
  (cd "$dir" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --silent --no-audit --no-fund "playwright-core@$playwright_version" >/dev/null)
fi
cp tests/browser/explorer.mjs "$dir/"

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$binary" serve --dev --demo --bind "127.0.0.1:$port" --database-path "$work/aco.db" \
  >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/livez" >/dev/null && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "the server stopped before answering:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
# The demo prints a token for every role: the line after each label.
token="$(awk '/^  PARTNER_ADMIN Contoso Cloud Services /{getline; print $1; exit}' "$work/server.log")"
if [ -z "$token" ]; then
  echo "the server printed no PARTNER_ADMIN token for Contoso Cloud Services:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

out="${CARGO_TARGET_DIR:-$PWD/target}/browser"
mkdir -p "$out"
node "$dir/explorer.mjs" "http://127.0.0.1:$port" "$token" "$out/explorer.png"
