//! The benchmark's dataset (`aco-api bench-data`, used by `benches/run.sh`):
//! partners, customers with their agreements and relationships, ACO requests
//! in every state with their history, grants with twelve months of usage —
//! written straight into a fresh database — and the request bodies the load
//! generator sends.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{Duration, Utc};
use rusqlite::params;
use serde_json::json;

use crate::domain::PartnerType;
use crate::domain::ids::ObjectId;
use crate::domain::time::Month;
use crate::error::{Error, Result};
use crate::store::{Db, JournalMode, StoreConfig};

/// The first tenant id of the benchmark's direct bill partner (`…-000000000001`).
pub const PARTNER_TENANT: &str = "b0000000-0000-4000-8000-000000000001";

/// The words company names are made of: a word, a place, a kind.
const NAME_WORDS: [&str; 40] = [
    "Alpine",
    "Blue",
    "Bright",
    "Cedar",
    "Coho",
    "Contoso",
    "Crimson",
    "Delta",
    "Eagle",
    "Fabrikam",
    "Falcon",
    "Golden",
    "Granite",
    "Harbor",
    "Humongous",
    "Iron",
    "Juniper",
    "Lakeside",
    "Litware",
    "Lucerne",
    "Maple",
    "Margie",
    "Northwind",
    "Oak",
    "Orchid",
    "Pioneer",
    "Proseware",
    "Quantum",
    "Redwood",
    "Silver",
    "Summit",
    "Tailspin",
    "Trey",
    "Vanarsdel",
    "Wide",
    "Wingtip",
    "Woodgrove",
    "Yellow",
    "Zenith",
    "Adventure",
];
const NAME_PLACES: [&str; 20] = [
    "Airlines",
    "Bakery",
    "Bank",
    "Brewing",
    "Cellars",
    "Clinic",
    "Consulting",
    "Design",
    "Foods",
    "Health",
    "Logistics",
    "Media",
    "Motors",
    "Outfitters",
    "Pharma",
    "Realty",
    "Studios",
    "Systems",
    "Toys",
    "Winery",
];
const NAME_KINDS: [&str; 5] = ["Inc", "LLC", "Ltd", "Group", "Partners"];

/// Customer `c`'s company name: two words and a kind, 4,000 names in turn.
fn company_name(c: usize) -> String {
    format!(
        "{} {} {}",
        NAME_WORDS[c % NAME_WORDS.len()],
        NAME_PLACES[(c / NAME_WORDS.len()) % NAME_PLACES.len()],
        NAME_KINDS[(c / (NAME_WORDS.len() * NAME_PLACES.len())) % NAME_KINDS.len()]
    )
}

fn id(prefix: &str, n: usize) -> String {
    format!("{prefix}_{n:032x}")
}

const STATES: [&str; 11] = [
    "SUBMITTED",
    "CHANNEL_REVIEW",
    "NEEDS_INFO",
    "FINANCE_REVIEW",
    "OPERATIONS_REVIEW",
    "AWAITING_SIGNATURE",
    "ACTIVE",
    "EXHAUSTED",
    "LAPSED",
    "REJECTED",
    "CANCELLED",
];

/// The workflow steps (action, state reached) that lead to `state`, from the
/// submission on: the request's history.
fn steps_to(state: &str) -> Vec<(&'static str, &'static str)> {
    const PATH: [(&str, &str); 6] = [
        ("SUBMIT", "SUBMITTED"),
        ("PASS_COMPLIANCE_CHECK", "CHANNEL_REVIEW"),
        ("SUPPORT", "FINANCE_REVIEW"),
        ("APPROVE", "OPERATIONS_REVIEW"),
        ("PUBLISH_AGREEMENT", "AWAITING_SIGNATURE"),
        ("SIGN_AGREEMENT", "ACTIVE"),
    ];
    let through = |n: usize, then: Option<(&'static str, &'static str)>| {
        PATH[..n].iter().copied().chain(then).collect()
    };
    match state {
        "CHANNEL_REVIEW" => through(2, None),
        "FINANCE_REVIEW" => through(3, None),
        "OPERATIONS_REVIEW" => through(4, None),
        "AWAITING_SIGNATURE" => through(5, None),
        "ACTIVE" => through(6, None),
        "EXHAUSTED" => through(6, Some(("EXHAUST", "EXHAUSTED"))),
        "LAPSED" => through(6, Some(("LAPSE", "LAPSED"))),
        "NEEDS_INFO" => through(1, Some(("REQUEST_INFORMATION", "NEEDS_INFO"))),
        "REJECTED" => through(2, Some(("REJECT", "REJECTED"))),
        "CANCELLED" => through(1, Some(("CANCEL", "CANCELLED"))),
        _ => through(1, None),
    }
}

/// Writes the dataset: `requests` ACO requests over `requests / 10` customers
/// of 10 direct bill partners, plus `fresh` eligible customers without any
/// request (for submissions) and `fresh` submitted requests (for review steps),
/// all on partner 1. Returns the request bodies, one file per operation, in `out`.
pub fn generate(database: &Path, requests: usize, fresh: usize, out: &Path) -> Result<()> {
    let db = Db::open(&StoreConfig::new(database, JournalMode::Wal))?;
    drop(db);
    let mut conn = rusqlite::Connection::open(database)?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    let tx = conn.transaction()?;
    let now = Utc::now();
    let at = crate::domain::time::instant_text(now);
    let month = Month::of(now.date_naive());
    let io = |e: std::io::Error| Error::Internal(e.to_string());
    let partners = 10;
    for p in 0..partners {
        tx.execute(
            "INSERT INTO partners (id, tenant_id, company_name, domain, partner_type, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, 'DIRECT_BILL', ?5, ?5)",
            params![id("prt", p + 1), format!("b0000000-0000-4000-8000-{:012}", p + 1), format!("Bench Partner {p}"), format!("partner{p}.example.com"), at],
        )?;
        tx.execute(
            "INSERT INTO partner_agreements (partner_id, signer_name, signer_email, date_agreed, recorded_at, recorded_by) \
             VALUES (?1, 'Avery Admin', 'avery@example.com', '2025-01-01', ?2, 'bench')",
            params![id("prt", p + 1), at],
        )?;
        // In good CSP standing (§8, ELIG-15).
        crate::store::partners::save_profile(
            &crate::store::Tx::of(&tx),
            &ObjectId::from_trusted(id("prt", p + 1)),
            &crate::domain::authorization::Profile::meeting_requirements(
                PartnerType::DirectBill,
                &format!("partner{p}.example.com"),
            ),
            now,
        )?;
    }
    let customers = requests.div_ceil(10) + 2 * fresh;
    {
        let mut customer = tx.prepare(
            "INSERT INTO customers (id, tenant_id, domain, company_name, country, segment, organization_kind, billing_legal_name, \
                billing_tax_id, billing_registration_number, billing_line1, billing_city, billing_state, billing_postal_code, \
                billing_country, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, 'US', 'SMB', 'COMMERCIAL', ?4, '91-0000000', 'REG', '1 Main St', 'Seattle', 'WA', '98101', 'US', ?5, ?5)",
        )?;
        let mut agreement = tx.prepare(
            "INSERT INTO customer_agreements (id, customer_id, date_agreed, contact_first_name, contact_last_name, contact_email, \
                acceptance_method, recorded_at, recorded_by) VALUES (?1, ?2, '2025-06-01', 'Jo', 'Signer', 'jo@example.com', 'CUSTOMER_ACCEPTED', ?3, 'bench')",
        )?;
        let mut confirm = tx.prepare(
            "INSERT INTO mca_confirmations (customer_id, partner_id, agreement_id, confirmed_at, confirmed_by) VALUES (?1, ?2, ?3, ?4, 'bench')",
        )?;
        let mut relationship = tx.prepare(
            "INSERT INTO reseller_relationships (id, partner_id, customer_id, status, requested_at, requested_by, accepted_at) \
             VALUES (?1, ?2, ?3, 'ACTIVE', ?4, 'bench', ?4)",
        )?;
        for c in 0..customers {
            // The fresh customers all belong to partner 1.
            let partner = if c >= requests.div_ceil(10) {
                1
            } else {
                c % partners + 1
            };
            let cid = id("cus", c + 1);
            customer.execute(params![
                cid,
                format!("c0000000-0000-4000-8000-{:012}", c + 1),
                format!("c{c}.example.com"),
                company_name(c),
                at
            ])?;
            agreement.execute(params![id("mca", c + 1), cid, at])?;
            confirm.execute(params![cid, id("prt", partner), id("mca", c + 1), at])?;
            relationship.execute(params![id("rel", c + 1), id("prt", partner), cid, at])?;
        }
    }
    {
        let mut request = tx.prepare(
            "INSERT INTO aco_requests (id, customer_id, partner_id, status, scenario, workloads, timeline_start, timeline_end, \
                estimated_acr, aco_amount, info_requested_from, stage_entered_at, due_at, version, submitted_at, submitted_by, updated_at) \
             VALUES (?1, ?2, ?3, ?4, 'MIGRATION', '[\"AKS\"]', '2027-02-01', '2027-08-01', '15000.00', '1500.00', ?5, ?6, ?7, ?8, ?6, 'bench', ?6)",
        )?;
        let mut history = tx.prepare(
            "INSERT INTO aco_request_history (request_id, at, actor_subject, actor_role, action, from_status, to_status) \
             VALUES (?1, ?2, 'bench', ?3, ?4, ?5, ?6)",
        )?;
        let mut agreement = tx.prepare(
            "INSERT INTO aco_agreements (id, request_id, customer_id, status, signer_name, signer_email, credit_period_months, aco_amount, \
                published_at, published_by, expires_at, signed_at) VALUES (?1, ?2, ?3, ?4, 'Jo', 'jo@example.com', 12, '1500.00', ?5, 'bench', ?6, ?7)",
        )?;
        let mut grant = tx.prepare(
            "INSERT INTO credit_grants (id, customer_id, request_id, agreement_id, amount, first_month, last_month, status, granted_at, partner_id) \
             VALUES (?1, ?2, ?3, ?4, '1500.00', ?5, ?6, ?7, ?8, ?9)",
        )?;
        let mut usage = tx.prepare(
            "INSERT OR IGNORE INTO monthly_usage (customer_id, partner_id, month, first_party_acr, third_party_charges, recorded_at, recorded_by) \
             VALUES (?1, ?2, ?3, ?4, '0.00', ?5, 'bench')",
        )?;
        // Open requests: half of them due in five days, half overdue by two.
        let due = crate::domain::time::instant_text(now + Duration::days(5));
        let overdue = crate::domain::time::instant_text(now - Duration::days(2));
        for r in 0..requests + fresh {
            let (customer, state) = if r < requests {
                // One unfinished request per customer (ELIG-13); the others finished.
                let c = r / 10;
                // The finished ones with a grant in the order the ledger
                // consumes them (LEDGER-6: same period, so by id): the two
                // the usage below exhausts, then the two it leaves to lapse.
                let state = match r % 10 {
                    0 => STATES[(r / 10) % 6],
                    1 | 2 => "EXHAUSTED",
                    3 | 4 => "LAPSED",
                    5 => "ACTIVE",
                    6 | 8 => "REJECTED",
                    _ => "CANCELLED",
                };
                (c, state)
            } else {
                (requests.div_ceil(10) + fresh + (r - requests), "SUBMITTED")
            };
            let partner = if r < requests {
                customer % partners + 1
            } else {
                1
            };
            let rid = id("req", r + 1);
            let info_from = (state == "NEEDS_INFO").then_some("SUBMITTED");
            let due_at = (!["ACTIVE", "EXHAUSTED", "LAPSED", "REJECTED", "CANCELLED"]
                .contains(&state))
            .then_some(if r % 20 < 10 { &due } else { &overdue }.as_str());
            let steps = steps_to(state);
            // FLOW-18: one version per history entry.
            request.execute(params![
                rid,
                id("cus", customer + 1),
                id("prt", partner),
                state,
                info_from,
                at,
                due_at,
                steps.len() as i64
            ])?;
            let mut from = None;
            for (action, to) in steps {
                let role = if action == "SUBMIT" {
                    "PARTNER_USER"
                } else {
                    "PLSR"
                };
                history.execute(params![rid, at, role, action, from, to])?;
                from = Some(to);
            }
            if ["ACTIVE", "EXHAUSTED", "LAPSED"].contains(&state) {
                let aid = id("agr", r + 1);
                agreement.execute(params![
                    aid,
                    rid,
                    id("cus", customer + 1),
                    "SIGNED",
                    at,
                    at,
                    at
                ])?;
                // Active credits run to this month; the finished ones ended
                // last month.
                let first = Month {
                    year: month.year - 1,
                    ..month
                };
                let first = if state == "ACTIVE" {
                    first.plus(1)
                } else {
                    first
                };
                grant.execute(params![
                    id("grt", r + 1),
                    id("cus", customer + 1),
                    rid,
                    aid,
                    first.to_string(),
                    first.plus(11).to_string(),
                    state,
                    at,
                    id("prt", partner)
                ])?;
                for m in 0..12 {
                    usage.execute(params![
                        id("cus", customer + 1),
                        id("prt", partner),
                        first.plus(m).to_string(),
                        // 280 to 319 a month: over the year, more than the
                        // two grants that are exhausted, less than three.
                        format!("{}.00", 280 + (r + m as usize) % 40),
                        at
                    ])?;
                }
            }
        }
    }
    // The names' sort keys and search terms, as the service writes them.
    while crate::store::search::backfill(&crate::store::Tx::of(&tx), 100_000)? > 0 {}
    tx.commit()?;
    // Fold the write-ahead log into the database, as a long-running service would have.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")?;

    // Request bodies, one JSON document a line.
    std::fs::create_dir_all(out).map_err(io)?;
    let write = |name: &str, lines: &str| std::fs::write(out.join(name), lines).map_err(io);
    let mut by_id = String::new();
    let mut list = String::new();
    let mut eligibility = String::new();
    let mut reconciliation = String::new();
    let sample = requests.clamp(1, 2000);
    for i in 0..sample {
        let r = (i * 7919) % requests.max(1);
        let q = json!({ "query": "query($id: ID!) { acoRequest(id: $id) { id status acoAmount dueAt customer { id companyName } partner { id companyName } } }", "variables": { "id": id("req", r + 1) } });
        let _ = writeln!(by_id, "{q}");
        let customer = (i * 13) % requests.div_ceil(10).max(1);
        let e = json!({ "query": "query($input: AcoEligibilityInput!) { acoEligibility(input: $input) { eligible acoAmount rules { code passed } } }",
            "variables": { "input": { "customerId": id("cus", customer + 1), "partnerId": id("prt", customer % partners + 1), "estimatedAcr": "15000.00", "scenario": "MIGRATION", "workloads": ["AKS"], "timeline": { "start": "2027-02-01", "end": "2027-08-01" } } } });
        let _ = writeln!(eligibility, "{e}");
        let granted = (i * 10 + 6) % requests.max(1);
        let from = Month {
            year: month.year - 1,
            ..month
        };
        let rec = json!({ "query": "query($id: ID!, $from: Month!, $to: Month!) { customer(id: $id) { reconciliation(from: $from, to: $to) { month acr openingBalance applied aboveAco pec invoiceAmount closingBalance } } }",
            "variables": { "id": id("cus", granted / 10 + 1), "from": from.to_string(), "to": from.plus(11).to_string() } });
        let _ = writeln!(reconciliation, "{rec}");
    }
    // Every filter of the API, first pages and pages from the middle of the
    // list (keyset: as cheap as the first).
    let middle = crate::graphql::connection::encode_cursor(&id("req", requests / 2 + 1));
    let pages = [
        (json!({}), None),
        (json!({ "status": ["SUBMITTED"] }), None),
        (json!({ "status": ["ACTIVE", "EXHAUSTED"] }), None),
        (json!({ "partnerId": id("prt", 3) }), None),
        (json!({ "customerId": id("cus", requests / 20 + 1) }), None),
        (json!({ "overdue": true }), None),
        (json!({}), Some(&middle)),
        (json!({ "status": ["LAPSED"] }), Some(&middle)),
        (json!({ "partnerId": id("prt", 7) }), Some(&middle)),
    ];
    for (filter, after) in pages {
        let l = json!({ "query": "query($filter: AcoRequestFilter, $after: String) { acoRequests(first: 20, after: $after, filter: $filter) { nodes { id status dueAt customer { companyName } partner { companyName } lastEvent { action at } } } }", "variables": { "filter": filter, "after": after } });
        let _ = writeln!(list, "{l}");
    }
    // Search: a first page of customers for three letters that begin a
    // word of some names, as an administrator types them.
    let mut search = String::new();
    for (i, word) in NAME_WORDS.iter().chain(NAME_PLACES.iter()).enumerate() {
        let prefix: String = word.chars().take(3).collect();
        let q = json!({ "query": "query($s: String!) { customers(first: 20, search: $s) { nodes { id companyName } } }",
            "variables": { "s": if i % 2 == 0 { prefix.to_uppercase() } else { prefix } } });
        let _ = writeln!(search, "{q}");
    }
    let mut submit = String::new();
    let mut step = String::new();
    let mut usage_bodies = String::new();
    for f in 0..fresh {
        let s = json!({ "query": "mutation($input: SubmitAcoRequestInput!) { submitAcoRequest(input: $input) { acoRequest { id status } userErrors { code } } }",
            "variables": { "input": { "customerId": id("cus", requests.div_ceil(10) + f + 1), "estimatedAcr": "15000.00", "scenario": "MIGRATION", "workloads": ["AKS"], "timeline": { "start": "2027-02-01", "end": "2027-08-01" } } } });
        let _ = writeln!(submit, "{s}");
        let p = json!({ "query": "mutation($input: PassAcoComplianceCheckInput!) { passAcoComplianceCheck(input: $input) { acoRequest { status version } userErrors { code } } }",
            "variables": { "input": { "id": id("req", requests + f + 1), "version": 1, "channelSalesManager": "csm@programme.example" } } });
        let _ = writeln!(step, "{p}");
        let customer = (f * 10 + 6) % requests.max(1) / 10;
        let u = json!({ "query": "mutation($input: RecordMonthlyUsageInput!) { recordMonthlyUsage(input: $input) { changed userErrors { code } } }",
            "variables": { "input": { "customerId": id("cus", customer + 1), "partnerId": id("prt", customer % partners + 1), "month": month.to_string(), "firstPartyAcr": format!("{}.{:02}", f / 100, f % 100), "thirdPartyCharges": "0.00" } } });
        let _ = writeln!(usage_bodies, "{u}");
    }
    write("acoRequest.jsonl", &by_id)?;
    write("acoRequests.jsonl", &list)?;
    write("acoEligibility.jsonl", &eligibility)?;
    write("customersSearch.jsonl", &search)?;
    write("reconciliation.jsonl", &reconciliation)?;
    write("submitAcoRequest.jsonl", &submit)?;
    write("passAcoComplianceCheck.jsonl", &step)?;
    write("recordMonthlyUsage.jsonl", &usage_bodies)?;
    // Written without syncs (fast): put it on disk now, so that the first
    // checkpoint of a measured run does not pay for the whole dataset.
    let _: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    std::fs::File::open(database)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Engine;

    /// The dataset is one the service could have written: `aco-api check`
    /// finds every request's history matching its state and version, and
    /// every customer's ledger agreeing with its grants' and requests' states.
    #[tokio::test]
    async fn the_dataset_passes_the_consistency_check() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("bench.db");
        // Not a multiple of ten: the last customer has only some of its requests.
        generate(&database, 137, 5, &dir.path().join("bodies")).unwrap();
        let db = Db::open(&StoreConfig::new(&database, JournalMode::Wal)).unwrap();
        let month = Month::of(Utc::now().date_naive());
        let report = db
            .read(move |tx| crate::service::check::run(tx, month))
            .await
            .unwrap();
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(report.requests, 142);
        assert_eq!(report.customers_with_credit, 14);
    }
}
