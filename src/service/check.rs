//! `aco-api check`: the database's integrity and the rule book's invariants.

use crate::domain::time::Month;
use crate::domain::{AcoRequestStatus, GrantStatus};
use crate::error::Result;
use crate::store::requests;
use crate::store::{Tx, integrity};

/// What the check looked at and what it found wrong.
#[derive(Debug, Default)]
pub struct Report {
    pub integrity: String,
    pub requests: usize,
    pub customers_with_credit: usize,
    /// How the usage recorded before it was kept per partner was attributed:
    /// per rule, the customers and the rows of figures.
    pub usage_attribution: Vec<(String, i64, i64)>,
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
        integrity: integrity::integrity_check(tx)?,
        ..Report::default()
    };
    // References between rows: foreign keys on SQLite, kept by the service
    // on engines without them.
    for (reference, rows) in integrity::broken_references(tx)? {
        report.problems.push(format!(
            "{rows} rows of {}.{} name no row of {}",
            reference.table, reference.column, reference.target
        ));
    }
    // ELIG-13: one request not finished per customer.
    for customer in integrity::customers_with_several_open_requests(tx)? {
        report.problems.push(format!(
            "customer {customer}: more than one request not finished (ELIG-13)"
        ));
    }

    // PostgreSQL: the rows standing in for partial unique indexes.
    for (table, rows) in integrity::guard_rows_out_of_step(tx)? {
        report.problems.push(format!(
            "{rows} rows of {table} out of step with what they stand for"
        ));
    }

    // Search: every customer's and partner's terms and name sort key agree
    // with its name, domain and tenant id.
    for kind in [
        crate::store::search::Kind::Customer,
        crate::store::search::Kind::Partner,
    ] {
        let wrong = crate::store::search::disagreements(tx, kind)?;
        if let Some(first) = wrong.first() {
            report.problems.push(format!(
                "{} {kind:?} rows' search terms disagree with their names (first {first}; `aco-api migrate` indexes rows that have none)",
                wrong.len()
            ));
        }
    }

    // FLOW-17: every request's history ends in its state, one entry per version,
    // and the request points to its newest entry.
    let rows = integrity::request_histories(tx)?;
    report.requests = rows.len();
    for q in rows {
        let id = &q.id;
        if !q.points_to_last {
            report.problems.push(format!(
                "request {id}: its last history entry is not its newest"
            ));
        }
        if q.version != q.entries {
            report.problems.push(format!(
                "request {id}: version {} but {} history entries",
                q.version, q.entries
            ));
        }
        if q.last != Some(q.status) {
            report.problems.push(format!(
                "request {id}: state {} but its history ends in {:?}",
                q.status, q.last
            ));
        }
    }

    // LEDGER-2: usage recorded before it was kept per partner was attributed,
    // and every customer whose grants had several partners was settled again.
    report.usage_attribution = crate::store::usage::attribution(tx)?;
    let due = crate::service::credits::settlements_due(tx)?;
    if !due.is_empty() {
        report.problems.push(format!(
            "{} customers' credits wait to be settled per partner (`aco-api migrate` or the next sweep does it)",
            due.len()
        ));
    }

    // LEDGER-2, LEDGER-7: each partner's ledger of each customer — its grants
    // consumed by its own usage only — adds up and agrees with the stored states.
    let customers = integrity::customers_with_grants(tx)?;
    report.customers_with_credit = customers.len();
    let system = crate::domain::actor::Actor::system();
    for customer in &customers {
        for crate::service::credits::PartnerLedger { grants, ledger, .. } in
            crate::service::credits::partner_ledgers(tx, &system, customer, as_of, None)?
        {
            check_ledger(tx, customer, &grants, &ledger, &mut report)?;
        }
    }
    Ok(report)
}

/// One partner's ledger of a customer against the stored states.
fn check_ledger(
    tx: &Tx<'_>,
    customer: &crate::domain::ids::ObjectId,
    grants: &[crate::store::agreements::CreditGrantRow],
    ledger: &crate::domain::ledger::Ledger<crate::domain::ids::ObjectId>,
    report: &mut Report,
) -> Result<()> {
    {
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::actor::Actor;
    use crate::domain::ids::ObjectId;
    use crate::service::Call;
    use crate::store::before_usage_per_partner::{database, id};
    use crate::store::{agreements, usage};

    /// LEDGER-2: the usage recorded before it was kept per partner goes to one
    /// partner per customer, by the first rule that finds one; the check
    /// reports how many rows each rule attributed; the customer whose grants
    /// had several partners is settled again, each partner's grants on its own
    /// usage, and then every partner's ledger agrees with the stored states.
    #[test]
    fn ledger_2_usage_recorded_before_is_attributed_and_the_ledgers_agree_after() {
        let mut conn = database();
        crate::store::migrations().to_latest(&mut conn).unwrap();
        let transaction = conn.transaction().unwrap();
        let tx = crate::store::Tx::of(&transaction);
        let january: Month = "2027-01".parse().unwrap();
        let partner_of = |customer: u32| -> Option<String> {
            let customer = ObjectId::from_trusted(id("cus", customer));
            let rows = usage::history(&tx, &customer, january).unwrap();
            rows[0].partner_id.as_ref().map(|p| p.to_string())
        };
        assert_eq!(
            partner_of(1),
            Some(id("prt", 1)),
            "the partner of all its grants"
        );
        assert_eq!(
            partner_of(2),
            Some(id("prt", 2)),
            "its only active relationship"
        );
        assert_eq!(
            partner_of(3),
            Some(id("prt", 1)),
            "the partner of its earliest grant"
        );
        assert_eq!(
            partner_of(4),
            Some(id("prt", 2)),
            "its earliest relationship"
        );
        assert_eq!(partner_of(5), None, "no partner: in the history only");
        let current: usize = (1..=5)
            .map(|n| {
                usage::all(&tx, &ObjectId::from_trusted(id("cus", n)))
                    .unwrap()
                    .len()
            })
            .sum();
        assert_eq!(current, 4);

        let as_of: Month = "2027-03".parse().unwrap();
        let report = run(&tx, as_of).unwrap();
        let rules: Vec<(&str, i64, i64)> = report
            .usage_attribution
            .iter()
            .map(|(rule, customers, rows)| (rule.as_str(), *customers, *rows))
            .collect();
        assert_eq!(
            rules,
            [
                ("EARLIEST_GRANT", 1, 1),
                ("EARLIEST_RELATIONSHIP", 1, 1),
                ("GRANTS_OF_ONE_PARTNER", 1, 1),
                ("NO_PARTNER", 1, 1),
                ("ONLY_ACTIVE_RELATIONSHIP", 1, 1)
            ]
        );
        assert!(
            !report.ok(),
            "customer 3 waits to be settled: {:?}",
            report.problems
        );

        let call = Call {
            actor: Actor::system(),
            now: "2027-03-05T09:00:00Z".parse().unwrap(),
            program_tenant_id: String::new(),
            timezone: chrono_tz::UTC,
        };
        for customer in crate::service::credits::settlements_due(&tx).unwrap() {
            crate::service::credits::settle_customer(&tx, &call, &customer).unwrap();
        }
        let report = run(&tx, as_of).unwrap();
        assert!(report.ok(), "{:?}", report.problems);
        let grants =
            agreements::customer_grants(&tx, &ObjectId::from_trusted(id("cus", 3))).unwrap();
        let status = |grant: u32| {
            grants
                .iter()
                .find(|g| g.id.as_str() == id("grt", grant))
                .map(|g| g.status)
                .unwrap()
        };
        // Partner 1's 150.00 exhausts its own grant; partner 2's is untouched.
        assert_eq!(
            (status(2), status(3)),
            (GrantStatus::Exhausted, GrantStatus::Active)
        );
        let reopened = requests::get(&tx, &ObjectId::from_trusted(id("req", 3)))
            .unwrap()
            .unwrap();
        assert_eq!(reopened.status, AcoRequestStatus::Active);
    }
}
