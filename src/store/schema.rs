//! The database schema: the migrations that build it, and tests that the
//! schema, its indexes and triggers, and the queries that use them agree.

use rusqlite_migration::{M, Migrations};

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/0001_initial.sql")),
        M::up(include_str!(
            "../../migrations/0002_open_requests_by_id.sql"
        )),
        M::up(include_str!(
            "../../migrations/0003_partial_indexes_without_in_lists.sql"
        )),
        M::up(include_str!(
            "../../migrations/0004_indexes_instead_of_scans.sql"
        )),
        M::up(include_str!("../../migrations/0005_last_history_entry.sql")),
        M::up(include_str!(
            "../../migrations/0006_deadlines_as_instants.sql"
        )),
        M::up(include_str!("../../migrations/0007_usage_per_partner.sql")),
        M::up_with_hook(
            include_str!("../../migrations/0008_order_and_search.sql"),
            |transaction: &rusqlite::Transaction| {
                let tx = super::Tx::of(transaction);
                while super::search::backfill(&tx, 10_000)
                    .map_err(|e| rusqlite_migration::HookError::Hook(e.to_string()))?
                    > 0
                {}
                Ok(())
            },
        ),
        M::up(include_str!(
            "../../migrations/0009_events_and_webhooks.sql"
        )),
    ])
}

/// A request row of customer `cus_1` and partner `prt_1` (foreign keys off),
/// for tests of what the schema keeps.
#[cfg(test)]
pub(crate) fn insert_request(
    conn: &rusqlite::Connection,
    id: &str,
    status: &str,
) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT INTO aco_requests (id, customer_id, partner_id, status, scenario, workloads, \
            timeline_start, timeline_end, estimated_acr, aco_amount, stage_entered_at, \
            submitted_at, submitted_by, updated_at) \
         VALUES (?1, 'cus_1', 'prt_1', ?2, 'MIGRATION', '[]', '2027-01-01', '2027-06-01', \
            '1.00', '1.00', 't', 't', 's', 't')",
        [id, status],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Engine;
    use crate::store::{Db, JournalMode, StoreConfig};
    use crate::store::{agreements, customers, partners, requests, usage};
    use rusqlite::Connection;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }

    /// SQLite evaluates a partial index's condition for the old and the new row
    /// of every write; an `IN` list of more than two constants there is a
    /// temporary b-tree built each time. Migration 0003 writes them as
    /// comparisons: a status change of a request builds one temporary b-tree
    /// (for the CHECK of its status), not five.
    #[test]
    fn a_status_change_builds_no_temporary_tree_for_the_partial_indexes() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let temporary_trees = |sql: &str| -> usize {
            let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
            let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
            let ops = stmt
                .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(1))
                .unwrap();
            ops.filter(|op| op.as_deref() == Ok("OpenEphemeral"))
                .count()
        };
        let status_change = "UPDATE aco_requests SET status = ?1, due_at = ?2 WHERE id = ?3";
        assert_eq!(temporary_trees(status_change), 1);
        let due_change = "UPDATE aco_requests SET due_at = ?1 WHERE id = ?2";
        assert_eq!(temporary_trees(due_change), 0);
    }

    /// ELIG-13 held by the database too, with the partial index of migration
    /// 0003: a second unfinished request of a customer is refused, a finished
    /// one beside it is not.
    #[test]
    fn elig_13_the_database_keeps_one_unfinished_request_per_customer() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_latest(&mut conn).unwrap();
        // Only the index is under test, not the customer and partner rows.
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        let insert = |id: &str, status: &str| insert_request(&conn, id, status);
        insert("req_1", "FINANCE_REVIEW").unwrap();
        insert("req_2", "REJECTED").unwrap();
        insert("req_3", "ACTIVE").unwrap();
        for open in ["SUBMITTED", "NEEDS_INFO", "AWAITING_SIGNATURE"] {
            let refused = insert("req_4", open).unwrap_err().to_string();
            assert!(refused.contains("UNIQUE"), "{open}: {refused}");
        }
    }

    /// FLOW-19: which states run the service-level clock is the domain's
    /// (`sla::clock_runs`); the overdue list's condition and the partial index
    /// it searches say the same, word for word.
    #[test]
    fn the_clock_runs_in_the_same_states_for_the_domain_the_queries_and_the_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_latest(&mut conn).unwrap();
        for status in crate::domain::AcoRequestStatus::ALL {
            let runs: bool = conn
                .query_row(
                    &format!(
                        "SELECT {} FROM (SELECT ?1 AS status, 'due' AS due_at) q",
                        requests::CLOCK_RUNNING
                    ),
                    [status.as_str()],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(runs, crate::domain::sla::clock_runs(*status), "{status}");
        }
        let index: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'aco_requests_open_by_id'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let condition = words(&requests::CLOCK_RUNNING.replace("q.", ""));
        assert!(
            words(&index).ends_with(&format!("WHERE {condition}")),
            "{index}"
        );
    }

    /// AGR-4, FLOW-19: deadlines stored as their last whole second (23:59:59
    /// in the programme time zone) become the first instant at which they
    /// have passed; any other instant is left as it is.
    #[test]
    fn stored_deadlines_become_the_instant_they_have_passed() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_version(&mut conn, 5).unwrap();
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        insert_request(&conn, "req_1", "AWAITING_SIGNATURE").unwrap();
        insert_request(&conn, "req_2", "CANCELLED").unwrap();
        conn.execute_batch(
            "UPDATE aco_requests SET due_at = '2027-07-31T23:59:59.000000Z' WHERE id = 'req_1';
             UPDATE aco_requests SET due_at = '2027-07-31T12:00:00.000000Z' WHERE id = 'req_2';
             INSERT INTO aco_agreements (id, request_id, customer_id, status, signer_name, signer_email,
                credit_period_months, aco_amount, published_at, published_by, expires_at)
             VALUES ('agr_1', 'req_1', 'cus_1', 'PUBLISHED', 'J', 'j@x.com', 12, '1.00', 't', 's',
                '2027-08-01T06:59:59.000000Z');",
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let text = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, String>(0)).unwrap();
        assert_eq!(
            text("SELECT due_at FROM aco_requests WHERE id = 'req_1'"),
            "2027-08-01T00:00:00.000000Z"
        );
        assert_eq!(
            text("SELECT due_at FROM aco_requests WHERE id = 'req_2'"),
            "2027-07-31T12:00:00.000000Z"
        );
        assert_eq!(
            text("SELECT expires_at FROM aco_agreements"),
            "2027-08-01T07:00:00.000000Z"
        );
    }

    /// A database from before the request's last history entry was stored
    /// gets it filled in; from then on the database keeps it as entries are appended.
    #[test]
    fn each_request_points_to_its_newest_history_entry_before_and_after_the_migration() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_version(&mut conn, 4).unwrap();
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        let request = |conn: &Connection, id: &str| {
            insert_request(conn, id, "REJECTED").unwrap();
        };
        let entry = |conn: &Connection, id: &str| -> i64 {
            conn.execute(
                "INSERT INTO aco_request_history (request_id, at, actor_subject, actor_role, action, to_status) \
                 VALUES (?1, 't', 's', 'PLSR', 'SUBMIT', 'SUBMITTED')",
                [id],
            )
            .unwrap();
            conn.last_insert_rowid()
        };
        let last = |conn: &Connection, id: &str| -> Option<i64> {
            conn.query_row(
                "SELECT last_history_id FROM aco_requests WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
        };
        request(&conn, "req_1");
        request(&conn, "req_2");
        request(&conn, "req_3");
        entry(&conn, "req_1");
        let newest_of_2 = entry(&conn, "req_2");
        let newest_of_1 = entry(&conn, "req_1");
        migrations().to_latest(&mut conn).unwrap();
        assert_eq!(last(&conn, "req_1"), Some(newest_of_1));
        assert_eq!(last(&conn, "req_2"), Some(newest_of_2));
        assert_eq!(last(&conn, "req_3"), None);
        let appended = entry(&conn, "req_2");
        assert_eq!(last(&conn, "req_2"), Some(appended));
        assert_eq!(last(&conn, "req_1"), Some(newest_of_1));
    }

    /// The sweep's queries (run at start and every five minutes) and a
    /// partner's customers each search an index; none reads a whole table.
    #[test]
    fn the_sweep_and_a_partner_s_customers_search_indexes_and_scan_no_table() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_latest(&mut conn).unwrap();
        for sql in [
            format!("SELECT a.id {}", agreements::OVERDUE_PUBLISHED),
            usage::CUSTOMERS_WITH_ENDED_GRANTS.to_owned(),
            format!("SELECT id {}", partners::REMEDIATION_OVERDUE),
            format!(
                "SELECT c.id FROM {} WHERE rr.partner_id = ?1 AND rr.status = 'ACTIVE' \
                 AND rr.customer_id > ?1 ORDER BY rr.customer_id LIMIT 21",
                customers::PARTNER_CUSTOMERS
            ),
        ] {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = stmt
                .query_map([rusqlite::types::Null], |r| r.get(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(
                plan.iter().any(|step| step.starts_with("SEARCH")),
                "{sql}: {plan:?}"
            );
            assert!(
                !plan.iter().any(|step| step.starts_with("SCAN")),
                "{sql}: {plan:?}"
            );
        }
    }

    #[tokio::test]
    async fn history_tables_refuse_updates_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&StoreConfig::new(dir.path().join("t.db"), JournalMode::Wal)).unwrap();
        db.write(|tx| {
            tx.execute(
                "INSERT INTO change_log (entity_id, at, actor_subject, actor_role, action) \
                 VALUES ('x', '2027-01-01T00:00:00Z', 's', 'PROGRAM_ADMIN', 'CREATED')",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
        let update = db
            .write(|tx| Ok(tx.execute("UPDATE change_log SET action = 'X'", [])?))
            .await;
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = db
            .write(|tx| Ok(tx.execute("DELETE FROM change_log", [])?))
            .await;
        assert!(delete.unwrap_err().to_string().contains("append-only"));
    }
}

/// A database as it was before usage was kept per partner (schema version
/// 6): five customers, one for each way their usage is attributed (see
/// `service::check`'s test).
#[cfg(test)]
pub(crate) mod before_usage_per_partner {
    use rusqlite::Connection;

    pub(crate) fn id(prefix: &str, n: u32) -> String {
        format!("{prefix}_{n:032x}")
    }

    /// The database.
    pub(crate) fn database() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut conn, 6).unwrap();
        let t = "2027-01-05T10:00:00.000000Z";
        for (n, kind) in [
            (1, "DIRECT_BILL"),
            (2, "DIRECT_BILL"),
            (3, "INDIRECT_PROVIDER"),
        ] {
            conn.execute(
                "INSERT INTO partners (id, tenant_id, company_name, domain, partner_type, created_at, updated_at) \
                 VALUES (?1, ?1, 'P', 'p.example.com', ?2, ?3, ?3)",
                rusqlite::params![id("prt", n), kind, t],
            )
            .unwrap();
        }
        for n in 1..=5 {
            conn.execute(
                "INSERT INTO customers (id, tenant_id, domain, company_name, country, segment, organization_kind, \
                    created_at, updated_at) VALUES (?1, ?1, 'c.example.com', 'C', 'US', 'SMB', 'COMMERCIAL', ?2, ?2)",
                rusqlite::params![id("cus", n), t],
            )
            .unwrap();
        }
        let relationship = |n: u32, partner: u32, customer: u32, status: &str, at: &str| {
            conn.execute(
                "INSERT INTO reseller_relationships (id, partner_id, customer_id, status, requested_at, requested_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 's')",
                rusqlite::params![id("rel", n), id("prt", partner), id("cus", customer), status, at],
            )
            .unwrap();
        };
        relationship(1, 2, 2, "ACTIVE", t);
        relationship(2, 3, 2, "ACTIVE", t); // an indirect provider: not counted
        relationship(3, 1, 4, "ACTIVE", "2027-01-09T00:00:00.000000Z");
        relationship(4, 2, 4, "ACTIVE", "2027-01-08T00:00:00.000000Z");
        // A grant of 100.00 from request `n` of `partner` to `customer`,
        // its request in `status` (one history entry).
        let grant = |n: u32, partner: u32, customer: u32, last: &str, status: &str, at: &str| {
            conn.execute(
                "INSERT INTO aco_requests (id, customer_id, partner_id, status, scenario, workloads, timeline_start, \
                    timeline_end, estimated_acr, aco_amount, stage_entered_at, submitted_at, submitted_by, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, 'MIGRATION', '[]', '2027-01-01', '2027-06-01', '1000.00', '100.00', ?5, ?5, 's', ?5)",
                rusqlite::params![id("req", n), id("cus", customer), id("prt", partner), status, at],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO aco_request_history (request_id, at, actor_subject, actor_role, action, to_status) \
                 VALUES (?1, ?2, 's', 'CUSTOMER_SIGNER', 'SIGN_AGREEMENT', ?3)",
                rusqlite::params![id("req", n), at, status],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO aco_agreements (id, request_id, customer_id, status, signer_name, signer_email, \
                    credit_period_months, aco_amount, published_at, published_by, expires_at) \
                 VALUES (?1, ?2, ?3, 'SIGNED', 'S', 's@c.example.com', 12, '100.00', ?4, 's', ?4)",
                rusqlite::params![id("agr", n), id("req", n), id("cus", customer), at],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO credit_grants (id, customer_id, request_id, agreement_id, amount, first_month, \
                    last_month, status, granted_at) VALUES (?1, ?2, ?3, ?4, '100.00', '2027-01', ?5, ?6, ?7)",
                rusqlite::params![
                    id("grt", n),
                    id("cus", customer),
                    id("req", n),
                    id("agr", n),
                    last,
                    status,
                    at
                ],
            )
            .unwrap();
        };
        grant(1, 1, 1, "2027-12", "ACTIVE", t);
        // Customer 3: grants of two partners; the combined ledger used the
        // one that ends first (partner 2's) for partner 1's usage.
        grant(2, 1, 3, "2027-12", "ACTIVE", t);
        grant(
            3,
            2,
            3,
            "2027-03",
            "EXHAUSTED",
            "2027-01-10T10:00:00.000000Z",
        );
        let usage = |customer: u32, acr: &str| {
            conn.execute(
                "INSERT INTO monthly_usage (customer_id, month, first_party_acr, third_party_charges, recorded_at, recorded_by) \
                 VALUES (?1, '2027-01', ?2, '0.00', ?3, 's')",
                rusqlite::params![id("cus", customer), acr, t],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO monthly_usage_history (customer_id, month, first_party_acr, third_party_charges, revision, \
                    recorded_at, recorded_by, recorded_by_role) VALUES (?1, '2027-01', ?2, '0.00', 1, ?3, 's', 'PARTNER_ADMIN')",
                rusqlite::params![id("cus", customer), acr, t],
            )
            .unwrap();
        };
        for (customer, acr) in [
            (1, "10.00"),
            (2, "20.00"),
            (3, "150.00"),
            (4, "40.00"),
            (5, "50.00"),
        ] {
            usage(customer, acr);
        }
        conn
    }
}
