//! What `aco-api check` reads: the database's own integrity checks, and the
//! facts of each request's history that FLOW-17 keeps in step.

use super::Tx;
use crate::domain::AcoRequestStatus;
use crate::domain::ids::ObjectId;
use crate::error::Result;

/// SQLite's `PRAGMA integrity_check`: `ok`, or what is broken. A
/// PostgreSQL-compatible engine checks its own storage (page checksums,
/// replication): there it answers `ok` once the database answers at all.
pub fn integrity_check(tx: &Tx<'_>) -> Result<String> {
    let sql = if tx.is_postgres() {
        "SELECT 'ok'"
    } else {
        "PRAGMA integrity_check"
    };
    Ok(tx.row(sql, &[], |r| r.get(0))?.unwrap_or_default())
}

/// On PostgreSQL, where rows of their own stand in for SQLite's partial
/// unique indexes: each such table with the number of rows out of step
/// with what it stands for (a missing row, or one left behind). Empty on
/// SQLite.
pub fn guard_rows_out_of_step(tx: &Tx<'_>) -> Result<Vec<(&'static str, i64)>> {
    if !tx.is_postgres() {
        return Ok(Vec::new());
    }
    let checks: [(&'static str, &str); 3] = [
        (
            "open_requests",
            concat!(
                "SELECT (SELECT COUNT(*) FROM aco_requests q WHERE ",
                super::requests::unfinished!(),
                " AND NOT EXISTS (SELECT 1 FROM open_requests o WHERE o.request_id = q.id)) \
                 + (SELECT COUNT(*) FROM open_requests o WHERE NOT EXISTS (SELECT 1 FROM \
                 aco_requests q WHERE q.id = o.request_id AND q.customer_id = o.customer_id AND ",
                super::requests::unfinished!(),
                "))"
            ),
        ),
        (
            "live_relationships",
            "SELECT (SELECT COUNT(*) FROM reseller_relationships r WHERE r.status <> 'REVOKED' \
             AND NOT EXISTS (SELECT 1 FROM live_relationships l WHERE l.relationship_id = r.id)) \
             + (SELECT COUNT(*) FROM live_relationships l WHERE NOT EXISTS (SELECT 1 FROM \
             reseller_relationships r WHERE r.id = l.relationship_id AND r.status <> 'REVOKED' \
             AND r.partner_id = l.partner_id AND r.customer_id = l.customer_id))",
        ),
        (
            "published_agreements",
            "SELECT (SELECT COUNT(*) FROM aco_agreements a WHERE a.status = 'PUBLISHED' \
             AND NOT EXISTS (SELECT 1 FROM published_agreements p WHERE p.agreement_id = a.id)) \
             + (SELECT COUNT(*) FROM published_agreements p WHERE NOT EXISTS (SELECT 1 FROM \
             aco_agreements a WHERE a.id = p.agreement_id AND a.status = 'PUBLISHED' \
             AND a.request_id = p.request_id))",
        ),
    ];
    let mut out = Vec::new();
    for (table, sql) in checks {
        let rows: i64 = tx.row(sql, &[], |r| r.get(0))?.unwrap_or(0);
        if rows > 0 {
            out.push((table, rows));
        }
    }
    Ok(out)
}

/// A column that names a row of another table: a foreign key SQLite
/// enforces, and a reference the service keeps itself on engines without
/// foreign keys (Aurora DSQL). `aco-api check` looks for broken ones on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    pub table: &'static str,
    pub column: &'static str,
    pub target: &'static str,
    pub target_column: &'static str,
}

const fn to(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    target_column: &'static str,
) -> Reference {
    Reference {
        table,
        column,
        target,
        target_column,
    }
}

/// Every reference between tables; a test holds it equal to the foreign
/// keys SQLite's schema declares.
pub const REFERENCES: &[Reference] = &[
    to("partner_regional_revenue", "partner_id", "partners", "id"),
    to("partner_designations", "partner_id", "partners", "id"),
    to("partner_assessments", "partner_id", "partners", "id"),
    to("indirect_links", "reseller_id", "partners", "id"),
    to("indirect_links", "provider_id", "partners", "id"),
    to("partner_agreements", "partner_id", "partners", "id"),
    to("reseller_relationships", "partner_id", "partners", "id"),
    to("reseller_relationships", "customer_id", "customers", "id"),
    to("customer_agreements", "customer_id", "customers", "id"),
    to(
        "customer_agreements",
        "recorded_by_partner",
        "partners",
        "id",
    ),
    to("mca_confirmations", "customer_id", "customers", "id"),
    to("mca_confirmations", "partner_id", "partners", "id"),
    to(
        "mca_confirmations",
        "agreement_id",
        "customer_agreements",
        "id",
    ),
    to("aco_requests", "customer_id", "customers", "id"),
    to("aco_requests", "partner_id", "partners", "id"),
    to("aco_requests", "indirect_provider_id", "partners", "id"),
    to(
        "aco_requests",
        "last_history_id",
        "aco_request_history",
        "id",
    ),
    to("aco_request_history", "request_id", "aco_requests", "id"),
    to("aco_agreements", "request_id", "aco_requests", "id"),
    to("aco_agreements", "customer_id", "customers", "id"),
    to("credit_grants", "customer_id", "customers", "id"),
    to("credit_grants", "request_id", "aco_requests", "id"),
    to("credit_grants", "agreement_id", "aco_agreements", "id"),
    to("credit_grants", "partner_id", "partners", "id"),
    to("usage_attribution", "customer_id", "customers", "id"),
    to("usage_attribution", "partner_id", "partners", "id"),
    to("monthly_usage", "customer_id", "customers", "id"),
    to("monthly_usage", "partner_id", "partners", "id"),
    to("monthly_usage_history", "customer_id", "customers", "id"),
    to("monthly_usage_history", "partner_id", "partners", "id"),
    to("settlements_due", "customer_id", "customers", "id"),
    to("benefit_credits", "partner_id", "partners", "id"),
    to("benefit_usage", "credit_id", "benefit_credits", "id"),
];

/// Each reference that rows break, with how many rows: a value in the
/// column that names no row of its target.
pub fn broken_references(tx: &Tx<'_>) -> Result<Vec<(Reference, i64)>> {
    let mut broken = Vec::new();
    for &reference in REFERENCES {
        let Reference {
            table,
            column,
            target,
            target_column,
        } = reference;
        let rows: i64 = tx
            .row(
                &format!(
                    "SELECT COUNT(*) FROM {table} t WHERE t.{column} IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM {target} x WHERE x.{target_column} = t.{column})"
                ),
                &[],
                |r| r.get(0),
            )?
            .unwrap_or(0);
        if rows > 0 {
            broken.push((reference, rows));
        }
    }
    Ok(broken)
}

/// ELIG-13: the customers with more than one request not finished (none,
/// where the database or the service keeps the rule).
pub fn customers_with_several_open_requests(tx: &Tx<'_>) -> Result<Vec<ObjectId>> {
    tx.rows(
        concat!(
            "SELECT customer_id FROM aco_requests WHERE ",
            super::requests::unfinished!(),
            " GROUP BY customer_id HAVING COUNT(*) > 1 ORDER BY customer_id"
        ),
        &[],
        |r| r.get(0),
    )
}

/// One request's state beside its history.
#[derive(Debug, Clone)]
pub struct RequestHistoryFacts {
    pub id: String,
    pub status: AcoRequestStatus,
    pub version: i64,
    pub entries: i64,
    /// The state its newest entry records.
    pub last: Option<AcoRequestStatus>,
    /// Whether the request points to its newest entry.
    pub points_to_last: bool,
}

/// Every request's state beside its history.
pub fn request_histories(tx: &Tx<'_>) -> Result<Vec<RequestHistoryFacts>> {
    tx.rows(
        "SELECT q.id, q.status, q.version, COUNT(h.id), \
            (SELECT to_status FROM aco_request_history WHERE request_id = q.id ORDER BY id DESC LIMIT 1), \
            q.last_history_id IS NOT DISTINCT FROM \
                (SELECT MAX(id) FROM aco_request_history WHERE request_id = q.id) \
         FROM aco_requests q LEFT JOIN aco_request_history h ON h.request_id = q.id GROUP BY q.id",
        &[],
        |r| {
            Ok(RequestHistoryFacts {
                id: r.get(0)?,
                status: r.get(1)?,
                version: r.get(2)?,
                entries: r.get(3)?,
                last: r.get(4)?,
                points_to_last: r.get(5)?,
            })
        },
    )
}

/// The customers with a credit grant.
pub fn customers_with_grants(tx: &Tx<'_>) -> Result<Vec<ObjectId>> {
    tx.rows(
        "SELECT DISTINCT customer_id FROM credit_grants ORDER BY customer_id",
        &[],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The references the check looks at are the foreign keys SQLite's
    /// schema declares, no more and no fewer.
    #[test]
    fn the_references_checked_are_the_foreign_keys_sqlite_declares() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::super::migrations().to_latest(&mut conn).unwrap();
        let mut declared: Vec<(String, String, String, String)> = conn
            .prepare(
                "SELECT t.name, k.\"from\", k.\"table\", k.\"to\" FROM sqlite_schema t, \
                 pragma_foreign_key_list(t.name) k WHERE t.type = 'table'",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let mut listed: Vec<(String, String, String, String)> = REFERENCES
            .iter()
            .map(|r| {
                (
                    r.table.to_owned(),
                    r.column.to_owned(),
                    r.target.to_owned(),
                    r.target_column.to_owned(),
                )
            })
            .collect();
        declared.sort();
        listed.sort();
        assert_eq!(listed, declared);
    }

    /// What foreign keys and the partial unique index keep on SQLite, the
    /// check finds broken where nothing kept it (here: both turned off).
    #[test]
    fn elig_13_a_second_open_request_and_broken_references_are_found() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::super::migrations().to_latest(&mut conn).unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF;
             DROP INDEX aco_requests_one_open_per_customer;
             INSERT INTO aco_request_history (id, request_id, at, actor_subject, actor_role, action, to_status)
                 VALUES (1, 'req_gone', '2027-01-01T00:00:00.000000Z', 'someone', 'PLSR', 'SUBMIT', 'SUBMITTED');",
        )
        .unwrap();
        for (id, status) in [
            ("req_1", "SUBMITTED"),
            ("req_2", "NEEDS_INFO"),
            ("req_3", "REJECTED"),
        ] {
            super::super::schema::insert_request(&conn, id, status).unwrap();
        }
        let transaction = conn.transaction().unwrap();
        let tx = Tx::of(&transaction);
        let broken: Vec<(&str, &str, i64)> = broken_references(&tx)
            .unwrap()
            .into_iter()
            .map(|(r, rows)| (r.table, r.column, rows))
            .collect();
        assert_eq!(
            broken,
            [
                ("aco_requests", "customer_id", 3),
                ("aco_requests", "partner_id", 3),
                ("aco_request_history", "request_id", 1),
            ]
        );
        assert_eq!(
            customers_with_several_open_requests(&tx).unwrap(),
            [ObjectId::from_trusted("cus_1".into())]
        );
    }

    /// ELIG-13: the store's condition for a request not finished is the
    /// domain's, state for state.
    #[test]
    fn elig_13_the_stores_unfinished_states_are_the_domains() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for &status in crate::domain::AcoRequestStatus::ALL {
            let unfinished: bool = conn
                .query_row(
                    concat!(
                        "SELECT ",
                        super::super::requests::unfinished!(),
                        " FROM (SELECT ?1 AS status)"
                    ),
                    [status.as_str()],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(unfinished, !status.is_finished(), "{status}");
        }
    }
}
