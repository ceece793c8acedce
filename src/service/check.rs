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
    let mut stmt =
        tx.prepare("SELECT DISTINCT customer_id FROM credit_grants ORDER BY customer_id")?;
    let customers = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<crate::domain::ids::ObjectId>>>()?;
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
    use rusqlite::Connection;

    use super::*;
    use crate::domain::actor::Actor;
    use crate::domain::ids::ObjectId;
    use crate::service::Call;

    fn id(prefix: &str, n: u32) -> String {
        format!("{prefix}_{n:032x}")
    }

    /// A database as it was before usage was kept per partner: five
    /// customers, one for each way their usage is attributed.
    fn before_usage_per_partner() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations().to_version(&mut conn, 6).unwrap();
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

    /// LEDGER-2: the usage recorded before it was kept per partner goes to one
    /// partner per customer, by the first rule that finds one; the check
    /// reports how many rows each rule attributed; the customer whose grants
    /// had several partners is settled again, each partner's grants on its own
    /// usage, and then every partner's ledger agrees with the stored states.
    #[test]
    fn ledger_2_usage_recorded_before_is_attributed_and_the_ledgers_agree_after() {
        let mut conn = before_usage_per_partner();
        crate::store::migrations().to_latest(&mut conn).unwrap();
        let partner_of = |customer: u32| -> Option<String> {
            conn.query_row(
                "SELECT partner_id FROM monthly_usage_history WHERE customer_id = ?1",
                [id("cus", customer)],
                |r| r.get(0),
            )
            .unwrap()
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
        let current: i64 = conn
            .query_row("SELECT COUNT(*) FROM monthly_usage", [], |r| r.get(0))
            .unwrap();
        assert_eq!(current, 4);

        let transaction = conn.transaction().unwrap();
        let tx = crate::store::Tx::of(&transaction);
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
        let status = |grant: u32| -> String {
            tx.query_row(
                "SELECT status FROM credit_grants WHERE id = ?1",
                [id("grt", grant)],
                |r| r.get(0),
            )
            .unwrap()
        };
        // Partner 1's 150.00 exhausts its own grant; partner 2's is untouched.
        assert_eq!(
            (status(2), status(3)),
            ("EXHAUSTED".into(), "ACTIVE".into())
        );
        let reopened = requests::get(&tx, &ObjectId::from_trusted(id("req", 3)))
            .unwrap()
            .unwrap();
        assert_eq!(reopened.status, AcoRequestStatus::Active);
    }
}
