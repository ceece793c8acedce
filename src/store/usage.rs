//! Monthly usage per customer (LEDGER-2) and its append-only history.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use rust_decimal::Decimal;

use super::Tx;
use super::columns::{Instant, Money, instant};
use crate::domain::ids::ObjectId;
use crate::domain::ledger::Usage;
use crate::domain::time::Month;
use crate::error::Result;

/// The current figures of one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub month: Month,
    pub first_party_acr: Decimal,
    pub third_party_charges: Decimal,
    pub revision: i64,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

fn map(r: &Row<'_>) -> rusqlite::Result<UsageRow> {
    Ok(UsageRow {
        month: r.get(0)?,
        first_party_acr: r.get::<_, Money>(1)?.0,
        third_party_charges: r.get::<_, Money>(2)?.0,
        revision: r.get(3)?,
        recorded_at: r.get::<_, Instant>(4)?.0,
        recorded_by: r.get(5)?,
    })
}

const COLUMNS: &str =
    "month, first_party_acr, third_party_charges, revision, recorded_at, recorded_by";

pub fn get(tx: &Tx<'_>, customer: &ObjectId, month: Month) -> Result<Option<UsageRow>> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM monthly_usage WHERE customer_id = ?1 AND month = ?2"
        ))?
        .query_row(params![customer, month.to_string()], map)
        .optional()?)
}

/// Every month of the customer's usage, oldest first.
pub fn all(tx: &Tx<'_>, customer: &ObjectId) -> Result<Vec<UsageRow>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM monthly_usage WHERE customer_id = ?1 ORDER BY month"
    ))?;
    let rows = stmt
        .query_map([customer], map)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The figures of every month of the customer's usage, oldest first: what
/// its ledger runs on (settling its grants after each write), without each
/// month's revision and author.
pub fn figures(tx: &Tx<'_>, customer: &ObjectId) -> Result<Vec<Usage>> {
    let mut stmt = tx.prepare_cached(
        "SELECT month, first_party_acr, third_party_charges FROM monthly_usage \
         WHERE customer_id = ?1 ORDER BY month",
    )?;
    let rows = stmt
        .query_map([customer], |r| {
            Ok(Usage {
                month: r.get(0)?,
                first_party: r.get::<_, Money>(1)?.0,
                third_party: r.get::<_, Money>(2)?.0,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Writes the month's figures (insert or correction) and appends them to the history.
pub fn record(
    tx: &Tx<'_>,
    customer: &ObjectId,
    row: &UsageRow,
    recorded_by_role: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO monthly_usage (customer_id, month, first_party_acr, third_party_charges, recorded_at, recorded_by, revision) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (customer_id, month) DO UPDATE SET first_party_acr = excluded.first_party_acr, \
            third_party_charges = excluded.third_party_charges, recorded_at = excluded.recorded_at, \
            recorded_by = excluded.recorded_by, revision = excluded.revision",
    )?
    .execute(params![
        customer,
        row.month.to_string(),
        Money(row.first_party_acr),
        Money(row.third_party_charges),
        instant(row.recorded_at),
        row.recorded_by,
        row.revision
    ])?;
    tx.prepare_cached(
        "INSERT INTO monthly_usage_history (customer_id, month, first_party_acr, third_party_charges, revision, \
            recorded_at, recorded_by, recorded_by_role) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        customer,
        row.month.to_string(),
        Money(row.first_party_acr),
        Money(row.third_party_charges),
        row.revision,
        instant(row.recorded_at),
        row.recorded_by,
        recorded_by_role
    ])?;
    Ok(())
}

/// Every figure ever recorded for the month, oldest first (corrections keep the earlier ones).
pub fn history(tx: &Tx<'_>, customer: &ObjectId, month: Month) -> Result<Vec<UsageRow>> {
    let mut stmt = tx.prepare_cached(
        "SELECT month, first_party_acr, third_party_charges, revision, recorded_at, recorded_by \
         FROM monthly_usage_history WHERE customer_id = ?1 AND month = ?2 ORDER BY id",
    )?;
    let rows = stmt
        .query_map(params![customer, month.to_string()], map)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Through the index of active grants by last month (migration 0004).
pub(crate) const CUSTOMERS_WITH_ENDED_GRANTS: &str = "SELECT DISTINCT customer_id \
     FROM credit_grants INDEXED BY credit_grants_active_by_end \
     WHERE status = 'ACTIVE' AND last_month < ?1 ORDER BY customer_id";

/// Customers with an active grant whose credit period ended before `month`:
/// the only grants whose status changes as time passes (FLOW-15).
pub fn customers_with_ended_grants(tx: &Tx<'_>, month: Month) -> Result<Vec<ObjectId>> {
    let mut stmt = tx.prepare_cached(CUSTOMERS_WITH_ENDED_GRANTS)?;
    let ids = stmt
        .query_map([month.to_string()], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids)
}
