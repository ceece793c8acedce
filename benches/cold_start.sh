#!/usr/bin/env bash
# Cold start of the Lambda mode, process start to first answer, median of 10:
# on SQLite, then on PostgreSQL as Aurora DSQL is reached — TLS with the
# server's certificate verified, and a new IAM token made for each connection.
# The PostgreSQL server is a throwaway cluster on loopback with a certificate
# made here; it accepts the token (any password) over TLS only.
#
#   bash benches/cold_start.sh            # builds the release binary first
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q --release --bin aco-api
binary="${CARGO_TARGET_DIR:-$PWD/target}/release/aco-api"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
fi
bindir=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
cluster=$(mktemp -d /tmp/aco-cold.XXXXXX)
cleanup() {
  su postgres -s /bin/sh -c "'$bindir/pg_ctl' -D '$cluster/data' -m fast stop" >/dev/null 2>&1 || true
  rm -rf "$cluster"
}
trap cleanup EXIT
chown postgres "$cluster"

# A certificate authority and the server's certificate, for the name localhost.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=aco cold start CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
  -keyout "$cluster/ca.key" -out "$cluster/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
  -keyout "$cluster/server.key" -out "$cluster/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$cluster/ext"
openssl x509 -req -in "$cluster/server.csr" -CA "$cluster/ca.pem" -CAkey "$cluster/ca.key" \
  -CAcreateserial -days 2 -extfile "$cluster/ext" -out "$cluster/server.pem" 2>/dev/null
chown postgres "$cluster/server.key" "$cluster/server.pem"
chmod 600 "$cluster/server.key"
chmod 644 "$cluster/ca.pem"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
su postgres -s /bin/sh -c "'$bindir/initdb' -D '$cluster/data' -A trust -U postgres --locale=C -E UTF8" >/dev/null
# TLS only from TCP; the token is the password, which this server does not check.
cat > "$cluster/data/pg_hba.conf" <<EOF
local   all all                trust
hostssl all all 127.0.0.1/32   trust
host    all all 127.0.0.1/32   reject
EOF
su postgres -s /bin/sh -c "'$bindir/pg_ctl' -D '$cluster/data' -l '$cluster/log' -w \
  -o \"-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$cluster' \
  -c ssl=on -c ssl_cert_file='$cluster/server.pem' -c ssl_key_file='$cluster/server.key'\" start" >/dev/null
psql -X -q -h "$cluster" -p "$port" -U postgres -d postgres \
  -c "CREATE DATABASE aco_cold TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"

echo "== SQLite"
ACO_TEST_BINARY="$binary" cargo test -q --test api lambda::cold_start -- --ignored --nocapture 2>&1 |
  grep -E "store|median|sorted"
echo "== PostgreSQL over TLS, IAM tokens"
ACO_COLD_START_DATABASE_URL="postgres://postgres@localhost:$port/aco_cold?sslrootcert=$cluster/ca.pem" \
  ACO_TEST_BINARY="$binary" cargo test -q --test api lambda::cold_start -- --ignored --nocapture 2>&1 |
  grep -E -A4 "store|median|sorted|panicked"
