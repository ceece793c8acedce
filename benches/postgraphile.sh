#!/usr/bin/env bash
# PostGraphile 4 over the benchmark's PostgreSQL data, for benches/run.sh
# (POSTGRAPHILE=1): installs it from npm (kept in ${TMPDIR:-/tmp}), declares
# the relations the schema leaves to the service (it has no foreign keys) as
# smart tags, starts it pinned to a core, and writes the request bodies of
# the same point read and list page as aco-api's.
#
#   bash benches/postgraphile.sh <dir> <database URL> <aco-api bodies dir> <port> <cpu>
#
# Its pid goes to <dir>/pid, the bodies to <dir>/bodies: byId.jsonl (the
# requests of aco-api's acoRequest.jsonl), firstPage.jsonl (the first page of
# 20 requests by id), and aco-firstPage.jsonl (aco-api's same page).
set -euo pipefail
dir="$1"; url="$2"; aco_bodies="$3"; port="$4"; cpu="$5"
mkdir -p "$dir/bodies"

modules="${TMPDIR:-/tmp}/aco-postgraphile"
if [ ! -x "$modules/node_modules/.bin/postgraphile" ]; then
  command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null
  mkdir -p "$modules"
  npm install --prefix "$modules" --silent --no-audit --no-fund postgraphile@4 >/dev/null
fi

# The relations a request's list row shows, which foreign keys would give.
cat > "$dir/postgraphile.tags.json5" <<'EOF'
{
  version: 1,
  config: {
    class: {
      aco_requests: {
        tags: {
          foreignKey: [
            "(customer_id) references customers (id)",
            "(partner_id) references partners (id)",
            "(last_history_id) references aco_request_history (id)",
          ],
        },
      },
    },
  },
}
EOF

(cd "$dir" && exec taskset -c "$cpu" "$modules/node_modules/.bin/postgraphile" \
  --connection "$url" --host 127.0.0.1 --port "$port" --disable-query-log \
  --disable-default-mutations >"$dir/log" 2>&1) &
echo $! > "$dir/pid"
# Stopped if anything below fails; left serving for the benchmark otherwise.
trap 'kill "$(cat "$dir/pid")" 2>/dev/null || true' ERR
ask() { curl -sf "http://127.0.0.1:$port/graphql" -H 'Content-Type: application/json' -d "$1"; }
for _ in $(seq 300); do ask '{"query":"{ __typename }"}' >/dev/null 2>&1 && break; sleep 0.2; done
ask '{"query":"{ __typename }"}' >/dev/null || { cat "$dir/log" >&2; exit 1; }

# Its names for the lookup by id and the relations (they depend on its
# inflection), read from its schema.
ask '{"query":"{ q: __type(name: \"Query\") { fields { name } } r: __type(name: \"AcoRequest\") { fields { name } } }"}' > "$dir/names.json"
python3 - "$dir" "$aco_bodies" <<'EOF'
import json, sys
out, aco = sys.argv[1], sys.argv[2]
names = json.load(open(f"{out}/names.json"))["data"]
root = [f["name"] for f in names["q"]["fields"]]
fields = [f["name"] for f in names["r"]["fields"]]
# `acoRequest` is its lookup by node id; by primary key it is `acoRequestById`.
lookup = "acoRequestById"
assert lookup in root, root
rel = lambda prefix, column: next(f for f in fields if f.startswith(prefix) and f.endswith(column))
customer, partner = rel("customerBy", "CustomerId"), rel("partnerBy", "PartnerId")
history = rel("acoRequestHistoryBy", "LastHistoryId")
point = (f"query($id: String!) {{ {lookup}(id: $id) {{ id status acoAmount dueAt "
         f"{customer} {{ id companyName }} {partner} {{ id companyName }} }} }}")
with open(f"{aco}/acoRequest.jsonl") as ours, open(f"{out}/bodies/byId.jsonl", "w") as theirs:
    for line in ours:
        theirs.write(json.dumps({"query": point, "variables": json.loads(line)["variables"]}) + "\n")
page = (f"{{ allAcoRequests(first: 20, orderBy: ID_ASC) {{ nodes {{ id status dueAt "
        f"{customer} {{ companyName }} {partner} {{ companyName }} {history} {{ action at }} }} }} }}")
open(f"{out}/bodies/firstPage.jsonl", "w").write(json.dumps({"query": page}) + "\n")
with open(f"{aco}/acoRequests.jsonl") as ours:
    first = next(l for l in ours if json.loads(l)["variables"] == {"filter": {}, "after": None})
open(f"{out}/bodies/aco-firstPage.jsonl", "w").write(first)
EOF
# Both answer real data before they are measured.
for body in "$dir/bodies/firstPage.jsonl" "$(head -1 "$dir/bodies/byId.jsonl" > "$dir/one.json" && echo "$dir/one.json")"; do
  answer=$(curl -sf "http://127.0.0.1:$port/graphql" -H 'Content-Type: application/json' -d @"$body")
  if grep -q '"errors"' <<<"$answer" || ! grep -q '"companyName"' <<<"$answer"; then
    echo "PostGraphile did not answer real data: ${answer:0:300}" >&2
    exit 1
  fi
done
echo "PostGraphile 4 on port $port (CPU $cpu)"
