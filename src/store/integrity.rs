//! What `aco-api check` reads: the database's own integrity checks, and the
//! facts of each request's history that FLOW-17 keeps in step.

use super::Tx;
use crate::domain::AcoRequestStatus;
use crate::domain::ids::ObjectId;
use crate::error::Result;

/// SQLite's `PRAGMA integrity_check`: `ok`, or what is broken.
pub fn integrity_check(tx: &Tx<'_>) -> Result<String> {
    Ok(tx.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
}

/// How many rows break a foreign key.
pub fn foreign_key_violations(tx: &Tx<'_>) -> Result<usize> {
    let mut stmt = tx.prepare("PRAGMA foreign_key_check")?;
    let broken = stmt.query_map([], |r| r.get::<_, String>(0))?.count();
    Ok(broken)
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
    let mut stmt = tx.prepare(
        "SELECT q.id, q.status, q.version, COUNT(h.id), \
            (SELECT to_status FROM aco_request_history WHERE request_id = q.id ORDER BY id DESC LIMIT 1), \
            q.last_history_id IS (SELECT MAX(id) FROM aco_request_history WHERE request_id = q.id) \
         FROM aco_requests q LEFT JOIN aco_request_history h ON h.request_id = q.id GROUP BY q.id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(RequestHistoryFacts {
                id: r.get(0)?,
                status: r.get(1)?,
                version: r.get(2)?,
                entries: r.get(3)?,
                last: r.get(4)?,
                points_to_last: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The customers with a credit grant.
pub fn customers_with_grants(tx: &Tx<'_>) -> Result<Vec<ObjectId>> {
    let mut stmt =
        tx.prepare("SELECT DISTINCT customer_id FROM credit_grants ORDER BY customer_id")?;
    let customers = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<ObjectId>>>()?;
    Ok(customers)
}
