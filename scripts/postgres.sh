#!/usr/bin/env bash
# A PostgreSQL server for the PostgreSQL store's tests: the one answering on
# 127.0.0.1:5432 if there is one (PGUSER/PGPASSWORD as it needs), or else a
# throwaway cluster on loopback — PostgreSQL from Debian's packages if it is
# missing, its own data directory, run as the `postgres` user — stopped and
# removed when the command given exits. A fresh database is made for the run
# and its URL handed to the command as ACO_TEST_DATABASE_URL.
#
#   bash scripts/postgres.sh -- env | grep ACO_TEST_DATABASE_URL
#   bash scripts/postgres.sh --apply-migrations     # every step, twice (each runs again harmlessly)
set -euo pipefail
cd "$(dirname "$0")/.."

apply=false
if [ "${1:-}" = "--apply-migrations" ]; then apply=true; shift; fi
[ "${1:-}" = "--" ] && shift

user="${PGUSER:-postgres}"
port=5432
cluster=""
cleanup() {
  if [ -n "$cluster" ]; then
    su postgres -s /bin/sh -c "'$bindir/pg_ctl' -D '$cluster/data' -m fast stop" >/dev/null 2>&1 || true
    rm -rf "$cluster"
  fi
}
trap cleanup EXIT

if ! command -v pg_isready >/dev/null || ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
  fi
  bindir=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
  cluster=$(mktemp -d /tmp/aco-postgres.XXXXXX)
  chown postgres "$cluster"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  su postgres -s /bin/sh -c "'$bindir/initdb' -D '$cluster/data' -A trust -U postgres --locale=C -E UTF8" >/dev/null
  su postgres -s /bin/sh -c "'$bindir/pg_ctl' -D '$cluster/data' -l '$cluster/log' -w \
    -o \"-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$cluster'\" start" >/dev/null
  user=postgres
fi

database="aco_test_$(date +%s)_$$"
psql_at() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$user" "$@"; }
# C collation: text sorts by its bytes, as on SQLite and Aurora DSQL (which has no other).
psql_at -d postgres -c "CREATE DATABASE $database TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
# The integration suite makes a database per test app named after this one
# ("${database}_t1"...); they go with it.
drop_test_databases() {
  psql_at -d postgres -At -c "SELECT datname FROM pg_database WHERE datname LIKE '${database}%'" |
    while read -r name; do psql_at -d postgres -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" || true; done
}
# A loopback server for tests: without TLS, said in the URL.
export ACO_TEST_DATABASE_URL="postgres://$user@127.0.0.1:$port/$database?sslmode=disable"

if $apply; then
  # Each step alone, in its own transaction, as the store's runner applies them.
  cargo build -q
  for round in 1 2; do
    count=0
    while IFS= read -r -d '' step; do
      psql_at -d "$database" -1 -c "$step"
      count=$((count + 1))
    done < <("${CARGO_TARGET_DIR:-target}/debug/aco-api" postgres-steps)
    echo "round $round: $count steps applied to $ACO_TEST_DATABASE_URL"
  done
  psql_at -d "$database" -At -c "SELECT count(*) || ' tables' FROM information_schema.tables WHERE table_schema = 'public'"
fi
if [ $# -gt 0 ]; then
  status=0
  "$@" || status=$?
  [ -z "$cluster" ] && drop_test_databases
  exit $status
fi
