//! Monthly usage per customer (LEDGER-2) and its append-only history.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::columns::{Instant, Money, instant};
use super::{Row, Tx};
use crate::domain::ids::ObjectId;
use crate::domain::ledger::Usage;
use crate::domain::time::Month;
use crate::error::Result;

/// The figures of one month of one partner (current, or a revision in the
/// history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    /// `None` only for figures recorded before usage was kept per partner
    /// that no rule could attribute (migration 0007): in the history only.
    pub partner_id: Option<ObjectId>,
    pub month: Month,
    pub first_party_acr: Decimal,
    pub third_party_charges: Decimal,
    pub revision: i64,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

fn map(r: &Row<'_>) -> Result<UsageRow> {
    Ok(UsageRow {
        partner_id: r.get(0)?,
        month: r.get(1)?,
        first_party_acr: r.get::<Money>(2)?.0,
        third_party_charges: r.get::<Money>(3)?.0,
        revision: r.get(4)?,
        recorded_at: r.get::<Instant>(5)?.0,
        recorded_by: r.get(6)?,
    })
}

const COLUMNS: &str =
    "partner_id, month, first_party_acr, third_party_charges, revision, recorded_at, recorded_by";

/// The partner's current figures of the customer's month.
pub fn get(
    tx: &Tx<'_>,
    customer: &ObjectId,
    partner: &ObjectId,
    month: Month,
) -> Result<Option<UsageRow>> {
    tx.row(
        &format!(
            "SELECT {COLUMNS} FROM monthly_usage WHERE customer_id = ?1 AND partner_id = ?2 AND month = ?3"
        ),
        &[customer, partner, &month],
        map,
    )
}

/// Every partner's current figures of every month of the customer, by
/// month, then partner.
pub fn all(tx: &Tx<'_>, customer: &ObjectId) -> Result<Vec<UsageRow>> {
    tx.rows(
        &format!(
            "SELECT {COLUMNS} FROM monthly_usage WHERE customer_id = ?1 ORDER BY month, partner_id"
        ),
        &[customer],
        map,
    )
}

/// The figures of every month the partner recorded for the customer, oldest
/// first: what the partner's ledger runs on (settling its grants after each
/// write), without each month's revision and author.
pub fn figures(tx: &Tx<'_>, customer: &ObjectId, partner: &ObjectId) -> Result<Vec<Usage>> {
    tx.rows(
        "SELECT month, first_party_acr, third_party_charges FROM monthly_usage \
         WHERE customer_id = ?1 AND partner_id = ?2 ORDER BY month",
        &[customer, partner],
        |r| {
            Ok(Usage {
                month: r.get(0)?,
                first_party: r.get::<Money>(1)?.0,
                third_party: r.get::<Money>(2)?.0,
            })
        },
    )
}

/// Writes the partner's figures of the month (insert or correction) and
/// appends them to the history.
pub fn record(
    tx: &Tx<'_>,
    customer: &ObjectId,
    partner: &ObjectId,
    row: &UsageRow,
    recorded_by_role: &str,
) -> Result<()> {
    tx.exec(
        "INSERT INTO monthly_usage (customer_id, partner_id, month, first_party_acr, third_party_charges, \
            recorded_at, recorded_by, revision) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (customer_id, partner_id, month) DO UPDATE SET first_party_acr = excluded.first_party_acr, \
            third_party_charges = excluded.third_party_charges, recorded_at = excluded.recorded_at, \
            recorded_by = excluded.recorded_by, revision = excluded.revision",
        &[
            customer,
            partner,
            &row.month,
            &Money(row.first_party_acr),
            &Money(row.third_party_charges),
            &instant(row.recorded_at),
            &row.recorded_by,
            &row.revision,
        ],
    )?;
    let id = tx.history_id("monthly_usage_history", "customer_id", customer)?;
    tx.exec(
        "INSERT INTO monthly_usage_history (id, customer_id, partner_id, month, first_party_acr, \
            third_party_charges, revision, recorded_at, recorded_by, recorded_by_role) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        &[
            &id,
            customer,
            partner,
            &row.month,
            &Money(row.first_party_acr),
            &Money(row.third_party_charges),
            &row.revision,
            &instant(row.recorded_at),
            &row.recorded_by,
            &recorded_by_role,
        ],
    )?;
    Ok(())
}

/// Every figure ever recorded for the customer's month, by every partner,
/// oldest first (corrections keep the earlier ones).
pub fn history(tx: &Tx<'_>, customer: &ObjectId, month: Month) -> Result<Vec<UsageRow>> {
    tx.rows(
        &format!(
            "SELECT {COLUMNS} FROM monthly_usage_history WHERE customer_id = ?1 AND month = ?2 \
             ORDER BY id"
        ),
        &[customer, &month],
        map,
    )
}

/// How migration 0007 attributed the usage recorded before it: per rule,
/// the customers and the rows of figures it gave a partner (or none).
pub fn attribution(tx: &Tx<'_>) -> Result<Vec<(String, i64, i64)>> {
    tx.rows(
        "SELECT rule, COUNT(*), CAST(SUM(rows) AS BIGINT) FROM usage_attribution GROUP BY rule \
         ORDER BY rule",
        &[],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// The customers whose grants wait to be settled again, each partner's on
/// its own usage (migration 0007).
pub fn settlements_due(tx: &Tx<'_>) -> Result<Vec<ObjectId>> {
    tx.rows(
        "SELECT customer_id FROM settlements_due ORDER BY customer_id",
        &[],
        |r| r.get(0),
    )
}

/// The customer's grants are settled: it no longer waits.
pub fn settled(tx: &Tx<'_>, customer: &ObjectId) -> Result<()> {
    tx.exec(
        "DELETE FROM settlements_due WHERE customer_id = ?1",
        &[customer],
    )?;
    Ok(())
}

/// Through the index of active grants by last month (migration 0004).
pub(crate) const CUSTOMERS_WITH_ENDED_GRANTS: &str = "SELECT DISTINCT customer_id, partner_id \
     FROM credit_grants INDEXED BY credit_grants_active_by_end \
     WHERE status = 'ACTIVE' AND last_month < ?1 ORDER BY customer_id, partner_id";

/// The customers and partners with an active grant whose credit period
/// ended before `month`: the only grants whose status changes as time
/// passes (FLOW-15).
pub fn customers_with_ended_grants(tx: &Tx<'_>, month: Month) -> Result<Vec<(ObjectId, ObjectId)>> {
    tx.rows(CUSTOMERS_WITH_ENDED_GRANTS, &[&month], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}
