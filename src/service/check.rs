//! `aco-api check`: the database's integrity and the rule book's invariants.

use crate::domain::time::Month;
use crate::domain::{AcoRequestStatus, GrantStatus};
use crate::error::Result;
use crate::store::Tx;
use crate::store::requests;

/// What the check looked at and what it found wrong.
#[derive(Debug, Default)]
pub struct Report {
    pub integrity: String,
    pub requests: usize,
    pub customers_with_credit: usize,
    pub problems: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.integrity == "ok" && self.problems.is_empty()
    }
}

/// Runs every check in one read transaction; `as_of` is the current month.
pub fn run(tx: &Tx<'_>, as_of: Month) -> Result<Report> {
    let mut report = Report {
        integrity: tx.query_row("PRAGMA integrity_check", [], |r| r.get(0))?,
        ..Report::default()
    };
    let mut stmt = tx.prepare("PRAGMA foreign_key_check")?;
    let broken = stmt.query_map([], |r| r.get::<_, String>(0))?.count();
    if broken > 0 {
        report
            .problems
            .push(format!("{broken} rows break a foreign key"));
    }

    // FLOW-17: every request's history ends in its state, one entry per version,
    // and the request points to its newest entry.
    let mut stmt = tx.prepare(
        "SELECT q.id, q.status, q.version, COUNT(h.id), \
            (SELECT to_status FROM aco_request_history WHERE request_id = q.id ORDER BY id DESC LIMIT 1), \
            q.last_history_id IS (SELECT MAX(id) FROM aco_request_history WHERE request_id = q.id) \
         FROM aco_requests q LEFT JOIN aco_request_history h ON h.request_id = q.id GROUP BY q.id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, AcoRequestStatus>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<AcoRequestStatus>>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    report.requests = rows.len();
    for (id, status, version, entries, last, points_to_last) in rows {
        if !points_to_last {
            report.problems.push(format!(
                "request {id}: its last history entry is not its newest"
            ));
        }
        if version != entries {
            report.problems.push(format!(
                "request {id}: version {version} but {entries} history entries"
            ));
        }
        if last != Some(status) {
            report.problems.push(format!(
                "request {id}: state {status} but its history ends in {last:?}"
            ));
        }
    }

    // LEDGER-7: every customer's ledger adds up and agrees with the stored states.
    let mut stmt =
        tx.prepare("SELECT DISTINCT customer_id FROM credit_grants ORDER BY customer_id")?;
    let customers = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<crate::domain::ids::ObjectId>>>()?;
    report.customers_with_credit = customers.len();
    for customer in &customers {
        let crate::service::credits::CustomerLedger { grants, ledger, .. } =
            crate::service::credits::customer_ledger(tx, customer, as_of)?;
        for (grant, state) in grants.iter().zip(&ledger.grants) {
            if state.used + state.remaining != state.granted
                || state.remaining.is_sign_negative()
                || state.remaining > state.granted
            {
                report.problems.push(format!(
                    "grant {}: used {} + remaining {} != granted {}",
                    grant.id, state.used, state.remaining, state.granted
                ));
            }
            // A period that ended since the last sweep is not a fault.
            let settled = grant.status == state.status
                || (state.status == GrantStatus::Lapsed && grant.status == GrantStatus::Active);
            if !settled {
                report.problems.push(format!(
                    "grant {}: stored {} but the ledger says {}",
                    grant.id, grant.status, state.status
                ));
            }
            if let Some(request) = requests::get(tx, &grant.request_id)? {
                let expected = match grant.status {
                    GrantStatus::Active => AcoRequestStatus::Active,
                    GrantStatus::Exhausted => AcoRequestStatus::Exhausted,
                    GrantStatus::Lapsed => AcoRequestStatus::Lapsed,
                };
                if request.status != expected {
                    report.problems.push(format!(
                        "request {}: {} but its grant is {}",
                        request.id, request.status, grant.status
                    ));
                }
            }
        }
        for row in &ledger.rows {
            if row.opening_balance - row.applied != row.closing_balance {
                report.problems.push(format!(
                    "customer {customer}: {} does not add up",
                    row.month
                ));
            }
        }
    }
    Ok(report)
}
