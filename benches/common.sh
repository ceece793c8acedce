# Sourced by the benchmark scripts: settings checks, the server binary, tokens.

whole() { # name, value
  if ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
    echo "$1 is a whole number from 1 (got '$2')" >&2
    exit 2
  fi
}

# The release server: BENCH_BINARY to measure another build, else built here.
server_binary() {
  if [ -n "${BENCH_BINARY:-}" ]; then
    echo "$BENCH_BINARY"
  else
    cargo build --release --quiet --bin aco-api
    echo "${CARGO_TARGET_DIR:-$PWD/target}/release/aco-api"
  fi
}

PROGRAM=a0c0a0c0-0000-4000-8000-000000000001
token() { "$bin" token --dev --role "$1" --tenant "$2" --sub "bench-$1" --ttl 36000; }
