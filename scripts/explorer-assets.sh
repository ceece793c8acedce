#!/usr/bin/env bash
# The explorer's scripts and style sheet, as the binary embeds them
# (assets/explorer/): GraphiQL's browser build and the React it runs on, taken
# from the npm registry at the pinned versions below, each package checked
# against its pinned integrity (the registry's sha512 of the package), then
# gzip-compressed with zopfli (smaller than gzip -9, and byte for byte the
# same on every run), with each package's licence beside them.
#
#   bash scripts/explorer-assets.sh           # regenerate assets/explorer/
#   bash scripts/explorer-assets.sh --check   # regenerate elsewhere, compare
#
# The style sheet is stored without its embedded fonts (below).
#
# Needs npm, and zopfli (Debian's `zopfli` package: installed if missing).
# CI never runs this: the files are committed. A new version is three steps:
# its version and integrity here (`npm view graphiql@X dist.integrity`), the
# file names in src/http/explorer.rs and src/explorer.html, and a run.
set -euo pipefail
cd "$(dirname "$0")/.."

# package, version, npm integrity
packages=(
  "graphiql 3.9.0 sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA=="
  "react 18.3.1 sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="
  "react-dom 18.3.1 sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw=="
)
# package, file in the package, name served (and stored, with .gz)
files=(
  "graphiql graphiql.min.js graphiql-3.9.0.min.js"
  "graphiql graphiql.min.css graphiql-3.9.0-system-fonts.min.css"
  "react umd/react.production.min.js react-18.3.1.production.min.js"
  "react-dom umd/react-dom.production.min.js react-dom-18.3.1.production.min.js"
)

check=false
[ "${1:-}" = "--check" ] && check=true

if ! command -v zopfli >/dev/null; then
  echo "zopfli is missing: installing Debian's package" >&2
  apt-get install -y --no-install-recommends zopfli >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="assets/explorer"
$check && out="$work/out"
mkdir -p "$out" "$work/packages"

for entry in "${packages[@]}"; do
  read -r name version integrity <<<"$entry"
  tarball="$(cd "$work/packages" && npm pack --silent "$name@$version")"
  actual="sha512-$(openssl dgst -sha512 -binary "$work/packages/$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "$name@$version: the package's integrity is $actual, pinned $integrity" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar -xzf "$work/packages/$tarball" -C "$work/$name" --strip-components=1
  cp "$work/$name/LICENSE" "$out/LICENSE-$name"
done

# GraphiQL's style sheet embeds its fonts (Roboto and Fira Code, 34 faces as
# base64, 88% of the file): they are left out, and the page uses the system's
# sans-serif and monospace faces, which the sheet names after them. The
# binary is 264 KB smaller for it.
perl -0pi -e 's/\@font-face\{[^}]*\}//g' "$work/graphiql/graphiql.min.css"
if grep -q "@font-face" "$work/graphiql/graphiql.min.css"; then
  echo "graphiql.min.css: an @font-face rule is left" >&2
  exit 1
fi

for entry in "${files[@]}"; do
  read -r name path served <<<"$entry"
  zopfli -c "$work/$name/$path" >"$out/$served.gz"
done

if $check; then
  if diff -r "$work/out" assets/explorer; then
    echo "assets/explorer matches the pinned packages"
  else
    echo "assets/explorer differs from the pinned packages: run bash scripts/explorer-assets.sh" >&2
    exit 1
  fi
else
  ls -l "$out"
fi
