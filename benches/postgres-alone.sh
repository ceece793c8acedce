#!/usr/bin/env bash
# PostgreSQL alone, for benches/run.sh (POSTGRAPHILE=1): pgbench scripts of the
# statements aco-api sends PostgreSQL for the point read and the first list
# page it compares with PostGraphile, in the same two round trips (START
# TRANSACTION with the first statement; the nested lookups and COMMIT
# together). Driven by pgbench from the load's core, they measure what
# PostgreSQL itself spends on core 0 for one of aco-api's requests, which no
# client of PostgreSQL can save.
#
#   bash benches/postgres-alone.sh <database URL> <requests> <dir>
#
# Writes <dir>/acoRequest.sql (a random request of the `bench-data` dataset,
# its customer and partner found by the dataset's layout: a customer per ten
# requests, customers over 10 partners in turn) and <dir>/firstPage.sql (the
# first page by id, its customers, partners and last events read from the
# database now). The statements are the store's, as PostgreSQL's
# `log_statement = all` shows them; IN lists padded with NULLs to a power of
# two, as the store pads them.
set -euo pipefail
url="$1"; requests="$2"; dir="$3"
mkdir -p "$dir"
psql_q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$url" -c "$1"; }

cat > "$dir/acoRequest.sql" <<EOF
\set n random(1, $requests)
\set c (:n - 1) / 10
\set p :c % 10 + 1
\startpipeline
START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SELECT q.id, q.customer_id, q.partner_id, q.indirect_provider_id, q.status, q.scenario, q.workloads, q.timeline_start, q.timeline_end, q.estimated_acr, q.aco_amount, q.channel_sales_manager, q.info_requested_from, q.info_requested_at, q.decision_reason, q.stage_entered_at, q.due_at, q.version, q.submitted_at, q.submitted_by, q.updated_at, q.last_history_id FROM aco_requests q WHERE (q.id = 'req_' || lpad(to_hex(:n::int), 32, '0')) LIMIT 1;
\endpipeline
\startpipeline
SELECT c.id, c.company_name FROM customers c WHERE c.id IN ('cus_' || lpad(to_hex(:c::int + 1), 32, '0')) AND TRUE;
SELECT p.id, p.company_name FROM partners p WHERE p.id IN ('prt_' || lpad(to_hex(:p::int), 32, '0')) AND TRUE;
COMMIT;
\endpipeline
EOF

# A list of SQL literals padded with NULLs to a power of two.
padded() {
  local n; n=$(wc -w <<<"$1"); local size=1
  while [ "$size" -lt "$n" ]; do size=$(( size * 2 )); done
  local list; list=$(tr ' ' '\n' <<<"$1" | sed '/^$/d' | paste -sd, -)
  for _ in $(seq $(( size - n ))); do list="$list, NULL"; done
  echo "$list"
}
page="SELECT customer_id, partner_id, last_history_id FROM aco_requests ORDER BY id LIMIT 20"
customers=$(psql_q "SELECT string_agg(DISTINCT quote_literal(customer_id), ' ') FROM ($page) p")
partners=$(psql_q "SELECT string_agg(DISTINCT quote_literal(partner_id), ' ') FROM ($page) p")
events=$(psql_q "SELECT string_agg(last_history_id::text, ' ') FROM ($page) p")
cat > "$dir/firstPage.sql" <<EOF
\startpipeline
START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SELECT q.id, q.customer_id, q.partner_id, q.indirect_provider_id, q.status, q.info_requested_from, q.due_at, q.version, q.last_history_id FROM aco_requests q WHERE TRUE ORDER BY q.id ASC LIMIT 21;
\endpipeline
\startpipeline
SELECT c.id, c.company_name FROM customers c WHERE c.id IN ($(padded "$customers")) AND TRUE;
SELECT p.id, p.company_name FROM partners p WHERE p.id IN ($(padded "$partners")) AND TRUE;
SELECT h.id, h.request_id, h.at, h.actor_subject, h.actor_name, h.actor_role, h.action, h.from_status, h.to_status, h.comment, h.recorded_at FROM aco_request_history h WHERE h.id IN ($(padded "$events")) AND TRUE;
COMMIT;
\endpipeline
EOF
