//! DOMAIN §6 through the API: usage recording and corrections (LEDGER-2), the
//! ledger (LEDGER-3…7), reconciliation (LEDGER-8), balances, forecasts, the
//! request moving to EXHAUSTED or LAPSED, and the CSV credit balance report.

use aco_api::domain::Role;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const RECORD: &str = "mutation($input: RecordMonthlyUsageInput!) { recordMonthlyUsage(input: $input) { changed corrected usage { month firstPartyAcr thirdPartyCharges revision } userErrors { code message field } } }";
const RECONCILIATION: &str = "query($id: ID!, $from: Month!, $to: Month!) { customer(id: $id) { reconciliation(from: $from, to: $to) { month acr openingBalance applied aboveAco pec invoiceAmount closingBalance acoApplies recorded thirdPartyCharges } } }";
const BALANCE: &str = "query($id: ID!) { customer(id: $id) { creditBalance { granted used remaining lapsed grants { granted used remaining status exhaustedIn lapsedAmount grant { firstMonth lastMonth } } } } }";

struct Credited {
    world: World,
    partner: PartnerHandle,
    customer: CustomerHandle,
    request: RequestHandle,
}

/// A customer with an ACO of 500.00 signed in January 2027 for `months` months.
async fn credited(months: i32) -> Credited {
    let world = World::on(TestApp::configured(|c| {
        c.clock = at("2027-01-20T10:00:00Z")
    }));
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let customer = world.eligible_customer(&partner, "Alpine").await;
    let request = grant(&world, &partner, &customer, "5000.00", months).await;
    Credited {
        world,
        partner,
        customer,
        request,
    }
}

async fn grant(
    world: &World,
    partner: &PartnerHandle,
    customer: &CustomerHandle,
    acr: &str,
    months: i32,
) -> RequestHandle {
    let data = world
        .app
        .ok(
            &partner.user,
            SUBMIT,
            json!({ "input": deal(&customer.id, acr) }),
        )
        .await;
    let request = RequestHandle::from_payload(&data["submitAcoRequest"]);
    let request = world.approved(&request).await;
    let (request, agreement) = world.published_for(&request, months).await;
    assert_eq!(
        world.sign(customer, &agreement).await["userErrors"],
        json!([])
    );
    RequestHandle {
        version: request.version + 1,
        ..request
    }
}

impl Credited {
    fn at(self, now: &str) -> Self {
        let Credited {
            world,
            partner,
            customer,
            request,
        } = self;
        let World { app, admin } = world;
        let now = at(now);
        Credited {
            world: World {
                app: app.restart_with(|c| c.clock = now),
                admin,
            },
            partner,
            customer,
            request,
        }
    }

    async fn record(&self, month: &str, acr: &str, third_party: &str) -> Value {
        let data = self
            .world
            .app
            .ok(&self.partner.admin, RECORD, json!({ "input": { "customerId": self.customer.id, "month": month, "firstPartyAcr": acr, "thirdPartyCharges": third_party } }))
            .await;
        data["recordMonthlyUsage"].clone()
    }

    async fn reconciliation(&self, from: &str, to: &str) -> Vec<Value> {
        let data = self
            .world
            .app
            .ok(
                &self.partner.user,
                RECONCILIATION,
                json!({ "id": self.customer.id, "from": from, "to": to }),
            )
            .await;
        data["customer"]["reconciliation"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn status(&self) -> String {
        self.world.request_state(&self.request).await["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

fn column(rows: &[Value], name: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r[name].as_str().unwrap_or_default().to_owned())
        .collect()
}

const EXAMPLE: [(&str, &str); 6] = [
    ("2027-01", "75.00"),
    ("2027-02", "85.00"),
    ("2027-03", "90.00"),
    ("2027-04", "112.00"),
    ("2027-05", "85.00"),
    ("2027-06", "100.00"),
];

#[tokio::test]
async fn ledger_the_worked_example_of_domain_6_exactly() {
    let c = credited(12).await.at("2027-07-05T09:00:00Z");
    for (month, acr) in EXAMPLE {
        let payload = c.record(month, acr, "0.00").await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
    }
    let rows = c.reconciliation("2027-01", "2027-06").await;
    assert_eq!(
        column(&rows, "acr"),
        ["75.00", "85.00", "90.00", "112.00", "85.00", "100.00"]
    );
    assert_eq!(
        column(&rows, "openingBalance"),
        ["500.00", "425.00", "340.00", "250.00", "138.00", "53.00"]
    );
    assert_eq!(
        column(&rows, "aboveAco"),
        ["0.00", "0.00", "0.00", "0.00", "0.00", "47.00"]
    );
    assert_eq!(
        column(&rows, "pec"),
        ["0.00", "0.00", "0.00", "0.00", "0.00", "7.05"]
    );
    assert_eq!(
        column(&rows, "invoiceAmount"),
        ["0.00", "0.00", "0.00", "0.00", "0.00", "39.95"]
    );
    assert_eq!(
        column(&rows, "closingBalance"),
        ["425.00", "340.00", "250.00", "138.00", "53.00", "0.00"]
    );
    // FLOW-14: the balance reached zero; the request is exhausted, by the system.
    assert_eq!(c.status().await, "EXHAUSTED");
    let state = c.world.request_state(&c.request).await;
    let last = state["history"]["nodes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["action"].clone(), last["actorRole"].clone()),
        (json!("EXHAUST"), json!("SYSTEM"))
    );
    let data = c
        .world
        .app
        .ok(&c.customer.signer, BALANCE, json!({ "id": c.customer.id }))
        .await;
    let balance = &data["customer"]["creditBalance"];
    assert_eq!(
        (
            balance["granted"].clone(),
            balance["used"].clone(),
            balance["remaining"].clone()
        ),
        (json!("500.00"), json!("500.00"), json!("0.00"))
    );
    assert_eq!(balance["grants"][0]["status"], "EXHAUSTED");
    assert_eq!(balance["grants"][0]["exhaustedIn"], "2027-06");
}

#[tokio::test]
async fn ledger_2_a_correction_in_month_3_recomputes_months_3_to_6() {
    let c = credited(12).await.at("2027-07-05T09:00:00Z");
    for (month, acr) in EXAMPLE {
        c.record(month, acr, "0.00").await;
    }
    let before = c.reconciliation("2027-01", "2027-06").await;
    // The same figures again change nothing.
    let payload = c.record("2027-03", "90.00", "0.00").await;
    assert_eq!(
        (
            payload["changed"].clone(),
            payload["usage"]["revision"].clone()
        ),
        (json!(false), json!(1))
    );
    // A correction keeps the earlier figures and recomputes every later month.
    let payload = c.record("2027-03", "190.00", "0.00").await;
    assert_eq!(
        (
            payload["changed"].clone(),
            payload["corrected"].clone(),
            payload["usage"]["revision"].clone()
        ),
        (json!(true), json!(true), json!(2))
    );
    let after = c.reconciliation("2027-01", "2027-06").await;
    assert_eq!(
        before[..2],
        after[..2],
        "months before the correction do not change"
    );
    assert_eq!(
        column(&after, "closingBalance"),
        ["425.00", "340.00", "150.00", "38.00", "0.00", "0.00"]
    );
    assert_eq!(
        column(&after, "aboveAco"),
        ["0.00", "0.00", "0.00", "0.00", "47.00", "0.00"]
    );
    assert_eq!(
        column(&after, "pec"),
        ["0.00", "0.00", "0.00", "0.00", "7.05", "0.00"]
    );
    assert_eq!(
        column(&after, "invoiceAmount"),
        ["0.00", "0.00", "0.00", "0.00", "39.95", "100.00"]
    );
    assert_eq!(
        after[5]["acoApplies"], false,
        "after the final month the ACO plays no part"
    );
    let data = c
        .world
        .app
        .ok(&c.partner.user, "query($id: ID!) { customer(id: $id) { monthlyUsage(month: \"2027-03\") { firstPartyAcr revision } } }", json!({ "id": c.customer.id }))
        .await;
    assert_eq!(
        data["customer"]["monthlyUsage"],
        json!([{ "firstPartyAcr": "90.00", "revision": 1 }, { "firstPartyAcr": "190.00", "revision": 2 }])
    );

    // A correction that gives the balance back makes the request active again.
    assert_eq!(c.status().await, "EXHAUSTED");
    c.record("2027-03", "10.00", "0.00").await;
    c.record("2027-06", "10.00", "0.00").await;
    assert_eq!(c.status().await, "ACTIVE");
}

#[tokio::test]
async fn ledger_3_third_party_charges_are_never_covered() {
    let c = credited(12).await.at("2027-03-05T09:00:00Z");
    c.record("2027-01", "100.00", "40.00").await;
    c.record("2027-02", "0.00", "25.50").await;
    let rows = c.reconciliation("2027-01", "2027-02").await;
    assert_eq!(column(&rows, "applied"), ["100.00", "0.00"]);
    assert_eq!(column(&rows, "invoiceAmount"), ["40.00", "25.50"]);
    assert_eq!(column(&rows, "closingBalance"), ["400.00", "400.00"]);
}

#[tokio::test]
async fn ledger_1_months_before_the_grant_are_not_charged_to_it() {
    let c = credited(12).await.at("2027-02-05T09:00:00Z");
    c.record("2026-12", "300.00", "0.00").await;
    c.record("2027-01", "100.00", "0.00").await;
    let rows = c.reconciliation("2026-12", "2027-01").await;
    assert_eq!(rows[0]["acoApplies"], false);
    assert_eq!(rows[0]["invoiceAmount"], "300.00");
    assert_eq!(column(&rows, "closingBalance"), ["0.00", "400.00"]);
    // Months without recorded usage still appear, carrying the balance.
    let rows = c.reconciliation("2027-01", "2027-03").await;
    assert_eq!(
        column(&rows, "closingBalance"),
        ["400.00", "400.00", "400.00"]
    );
    assert_eq!(rows[1]["recorded"], false);
}

#[tokio::test]
async fn ledger_6_two_grants_the_one_ending_first_is_used_first() {
    let c = credited(12).await;
    // A second ACO of 500.00 with a 3-month period, signed the same month.
    let second = grant(&c.world, &c.partner, &c.customer, "5000.00", 3).await;
    let c = c.at("2027-03-10T09:00:00Z");
    c.record("2027-01", "250.00", "0.00").await;
    let data = c
        .world
        .app
        .ok(&c.partner.user, BALANCE, json!({ "id": c.customer.id }))
        .await;
    let grants = data["customer"]["creditBalance"]["grants"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        (grants[0]["used"].clone(), grants[1]["used"].clone()),
        (json!("0.00"), json!("250.00")),
        "{grants:?}"
    );
    c.record("2027-02", "300.00", "0.00").await;
    let data = c
        .world
        .app
        .ok(&c.partner.user, BALANCE, json!({ "id": c.customer.id }))
        .await;
    let balance = &data["customer"]["creditBalance"];
    assert_eq!(balance["grants"][1]["status"], "EXHAUSTED");
    assert_eq!(balance["grants"][0]["used"], "50.00");
    assert_eq!(balance["remaining"], "450.00");
    let state = c.world.request_state(&second).await;
    assert_eq!(state["status"], "EXHAUSTED");
    assert_eq!(c.status().await, "ACTIVE");
}

#[tokio::test]
async fn flow_15_a_balance_left_at_the_end_of_the_period_lapses() {
    let c = credited(3).await.at("2027-03-20T09:00:00Z");
    c.record("2027-01", "100.00", "0.00").await;
    c.record("2027-02", "100.00", "0.00").await;
    let data = c.world.app.ok(&c.partner.user, "query($id: ID!) { customer(id: $id) { creditForecast { averageMonthlyAcr remaining exhaustedIn lapses { month amount } } } }", json!({ "id": c.customer.id })).await;
    assert_eq!(
        data["customer"]["creditForecast"],
        json!({ "averageMonthlyAcr": "100.00", "remaining": "300.00", "exhaustedIn": null, "lapses": [{ "month": "2027-03", "amount": "200.00" }] })
    );
    // In April the period is over: the sweep lapses the rest.
    let c = c.at("2027-04-02T09:00:00Z");
    let db = crate::support::open_store(&c.world.app.config);
    aco_api::jobs::sweep_expired_agreements(&db, &c.world.app.config)
        .await
        .unwrap();
    assert_eq!(c.status().await, "LAPSED");
    let data = c
        .world
        .app
        .ok(&c.customer.signer, BALANCE, json!({ "id": c.customer.id }))
        .await;
    let balance = &data["customer"]["creditBalance"];
    assert_eq!(
        (balance["remaining"].clone(), balance["lapsed"].clone()),
        (json!("0.00"), json!("300.00"))
    );
    assert_eq!(balance["grants"][0]["status"], "LAPSED");
    // March's usage, reported late, is still charged to the grant.
    c.record("2027-03", "50.00", "0.00").await;
    let data = c
        .world
        .app
        .ok(&c.customer.signer, BALANCE, json!({ "id": c.customer.id }))
        .await;
    assert_eq!(data["customer"]["creditBalance"]["lapsed"], "250.00");
    assert_eq!(c.status().await, "LAPSED");
}

#[tokio::test]
async fn forecast_runs_out_at_the_trailing_three_month_average() {
    let c = credited(12).await.at("2027-04-10T09:00:00Z");
    c.record("2027-01", "50.00", "0.00").await;
    c.record("2027-02", "100.00", "0.00").await;
    c.record("2027-03", "150.00", "0.00").await;
    let data = c.world.app.ok(&c.partner.user, "query($id: ID!) { customer(id: $id) { creditForecast { averageMonthlyAcr remaining exhaustedIn lapses { amount } } } }", json!({ "id": c.customer.id })).await;
    assert_eq!(
        data["customer"]["creditForecast"],
        json!({ "averageMonthlyAcr": "100.00", "remaining": "200.00", "exhaustedIn": "2027-05", "lapses": [] })
    );
}

#[tokio::test]
async fn ledger_2_who_may_record_and_what_is_refused() {
    let c = credited(12).await.at("2027-03-05T09:00:00Z");
    let app = &c.world.app;
    let input = |acr: &str, month: &str| json!({ "input": { "customerId": c.customer.id, "month": month, "firstPartyAcr": acr, "thirdPartyCharges": "0.00" } });
    for (acr, month) in [
        ("-1.00", "2027-01"),
        ("1e3", "2027-01"),
        ("10.001", "2027-01"),
        ("10.00", "2027-13"),
        ("10.00", "2027-1"),
    ] {
        let body = app
            .gql(Some(&c.partner.admin), RECORD, input(acr, month))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{acr} {month}: {body}");
    }
    let data = app
        .ok(&c.partner.admin, RECORD, input("10.00", "2027-04"))
        .await;
    assert_eq!(
        user_error_codes(&data["recordMonthlyUsage"]),
        ["MONTH_IN_FUTURE"]
    );
    // LEDGER-2: the partner's admin and users record its usage, without
    // naming a partner; finance, operations and the programme admin record
    // on a named partner's behalf; reviewers and signers may not.
    let data = app
        .ok(&c.partner.user, RECORD, input("10.00", "2027-01"))
        .await;
    assert_eq!(data["recordMonthlyUsage"]["changed"], true, "{data}");
    let mut named = input("11.00", "2027-01");
    named["input"]["partnerId"] = json!(c.partner.id);
    let body = app.gql(Some(&c.partner.admin), RECORD, named.clone()).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        json!(["input", "partnerId"])
    );
    for role in [Role::Finance, Role::Operations, Role::ProgramAdmin] {
        let reviewer = c.world.reviewer(role);
        let body = app
            .gql(Some(&reviewer), RECORD, input("11.00", "2027-01"))
            .await;
        assert_eq!(
            code(&body),
            "BAD_USER_INPUT",
            "{role:?} names the partner: {body}"
        );
        let data = app.ok(&reviewer, RECORD, named.clone()).await;
        assert_eq!(
            data["recordMonthlyUsage"]["userErrors"],
            json!([]),
            "{role:?}: {data}"
        );
    }
    for role in [Role::Plsr, Role::ChannelSales] {
        let body = app
            .gql(Some(&c.world.reviewer(role)), RECORD, named.clone())
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "{role:?}: {body}");
    }
    let body = app
        .gql(Some(&c.customer.signer), RECORD, input("10.00", "2027-01"))
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    let other = c.world.signed_partner("Litware", "DIRECT_BILL").await;
    let body = app
        .gql(Some(&other.admin), RECORD, input("10.00", "2027-01"))
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = app
        .gql(Some(&other.user), BALANCE, json!({ "id": c.customer.id }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    // An indirect provider related to the customer is not its transacting partner.
    let provider = c
        .world
        .signed_partner("Northwind", "INDIRECT_PROVIDER")
        .await;
    c.world.relate(&provider, &c.customer).await;
    let body = app
        .gql(Some(&provider.admin), RECORD, input("10.00", "2027-01"))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"], "NOT_TRANSACTING_PARTNER",
        "{body}"
    );
    let body = app
        .gql(
            Some(&c.partner.user),
            RECONCILIATION,
            json!({ "id": c.customer.id, "from": "2027-01", "to": "2032-01" }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
}

async fn report(app: &TestApp, token: Option<&str>, query: &str) -> (StatusCode, String) {
    let mut request = Request::get(format!("/reports/credit-balance.csv{query}"));
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let (status, body, _) = app.send(request.body(Body::empty()).unwrap()).await;
    (
        status,
        body.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| body.to_string()),
    )
}

#[tokio::test]
async fn the_credit_balance_report_is_csv_with_partner_centers_columns() {
    let c = credited(12).await.at("2027-03-05T09:00:00Z");
    c.record("2027-01", "75.00", "0.00").await;
    c.record("2027-02", "85.00", "0.00").await;
    let (status, csv) = report(&c.world.app, Some(&c.partner.user), "?month=2027-02").await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        headers,
        [
            "PartnerId",
            "CustomerId",
            "InvoiceMonth",
            "CreditName",
            "CreditAmount",
            "Status",
            "BalanceAmount",
            "CurrencyCode",
            "AgreementId",
            "EffectiveDate",
            "ExpiryDate"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(&row[0], c.partner.tenant.as_str());
    assert_eq!(&row[1], c.customer.tenant.as_str());
    assert_eq!(
        (&row[2], &row[4], &row[5], &row[6], &row[7]),
        ("2027-02", "160.00", "Active", "340.00", "USD")
    );
    assert_eq!((&row[9], &row[10]), ("2027-01-01", "2027-12-31"));
    // The month decides what counts: January shows only January's usage.
    let (_, csv) = report(&c.world.app, Some(&c.world.admin), "?month=2027-01").await;
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!((&rows[0][4], &rows[0][6]), ("75.00", "425.00"));
    // Same visibility as the API; clear errors.
    let other = c.world.signed_partner("Litware", "DIRECT_BILL").await;
    let (status, csv) = report(&c.world.app, Some(&other.user), "?month=2027-02").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        csv::Reader::from_reader(csv.as_bytes()).records().count(),
        0
    );
    assert_eq!(
        report(&c.world.app, None, "?month=2027-02").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        report(&c.world.app, Some("x.y.z"), "?month=2027-02")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    for bad in ["", "?month=2027-13", "?month=feb"] {
        assert_eq!(
            report(&c.world.app, Some(&c.partner.user), bad).await.0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

/// `credited(12)` with a second transacting partner of the same customer that
/// has a grant of its own (3 months), at `now`; and that partner.
async fn shared_at(now: &str) -> (Credited, PartnerHandle) {
    let c = credited(12).await;
    let other = c.world.signed_partner("Litware", "DIRECT_BILL").await;
    c.world.relate(&other, &c.customer).await;
    c.world.confirm_mca(&other, &c.customer).await;
    grant(&c.world, &other, &c.customer, "5000.00", 3).await;
    (c.at(now), other)
}

#[tokio::test]
async fn role_3_a_partner_sees_only_its_own_grants_of_a_shared_customer() {
    let (c, _) = shared_at("2027-03-05T09:00:00Z").await;
    c.record("2027-01", "100.00", "0.00").await;

    let data = c
        .world
        .app
        .ok(&c.partner.user, BALANCE, json!({ "id": c.customer.id }))
        .await;
    let balance = &data["customer"]["creditBalance"];
    assert_eq!(balance["grants"].as_array().unwrap().len(), 1, "{balance}");
    assert_eq!(
        (balance["granted"].clone(), balance["used"].clone()),
        (json!("500.00"), json!("100.00")),
        "LEDGER-2: its own usage consumes its own grant, not the other's that ends first"
    );

    let query = "query($id: ID!) { customer(id: $id) { reconciliation(from: \"2027-01\", to: \"2027-01\") { partnerId partner { companyName } openingBalance applied closingBalance aboveAco invoiceAmount } creditForecast { remaining lapses { amount } } monthlyUsage { partnerId recordedBy } } }";
    let data = c
        .world
        .app
        .ok(&c.partner.user, query, json!({ "id": c.customer.id }))
        .await;
    assert_eq!(
        data["customer"]["reconciliation"],
        json!([{ "partnerId": c.partner.id, "partner": { "companyName": "Contoso" }, "openingBalance": "500.00",
            "applied": "100.00", "closingBalance": "400.00", "aboveAco": "0.00", "invoiceAmount": "0.00" }])
    );
    assert_eq!(data["customer"]["creditForecast"]["remaining"], "400.00");
    assert_eq!(
        data["customer"]["monthlyUsage"],
        json!([{ "partnerId": c.partner.id, "recordedBy": null }])
    );
    // The programme sees each partner's ledger: by month, then partner.
    let data = c
        .world
        .app
        .ok(&c.world.admin, query, json!({ "id": c.customer.id }))
        .await;
    let rows = data["customer"]["reconciliation"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let mine = rows
        .iter()
        .find(|r| r["partnerId"] == json!(c.partner.id))
        .unwrap();
    let other = rows
        .iter()
        .find(|r| r["partnerId"] != json!(c.partner.id))
        .unwrap();
    assert_eq!(
        (mine["applied"].clone(), other["applied"].clone()),
        (json!("100.00"), json!("0.00"))
    );
    assert_eq!(other["partner"]["companyName"], "Litware");
    assert!(data["customer"]["monthlyUsage"][0]["recordedBy"].is_string());
}

/// LEDGER-2: a second partner serving the same customer records its own
/// usage; it neither sees nor changes the first partner's figures or grant.
#[tokio::test]
async fn ledger_2_another_partners_usage_never_changes_a_grant() {
    let (c, other) = shared_at("2027-03-05T09:00:00Z").await;
    let exhausted = c.record("2027-01", "600.00", "0.00").await;
    assert_eq!(exhausted["userErrors"], json!([]), "{exhausted}");
    assert_eq!(
        c.world.request_state(&c.request).await["status"],
        "EXHAUSTED"
    );
    // The other partner records the same month, lower: before, this took the
    // first partner's request back to ACTIVE.
    let data = c
        .world
        .app
        .ok(&other.admin, RECORD, json!({ "input": { "customerId": c.customer.id, "month": "2027-01", "firstPartyAcr": "10.00", "thirdPartyCharges": "0.00" } }))
        .await;
    assert_eq!(
        (
            data["recordMonthlyUsage"]["changed"].clone(),
            data["recordMonthlyUsage"]["corrected"].clone()
        ),
        (json!(true), json!(false)),
        "its own first figures for the month, not a correction of the other's: {data}"
    );
    assert_eq!(
        c.world.request_state(&c.request).await["status"],
        "EXHAUSTED"
    );
    let data = c
        .world
        .app
        .ok(&c.partner.user, "query($id: ID!) { customer(id: $id) { monthlyUsage { month firstPartyAcr } creditBalance { used } } }", json!({ "id": c.customer.id }))
        .await;
    assert_eq!(
        data["customer"],
        json!({ "monthlyUsage": [{ "month": "2027-01", "firstPartyAcr": "600.00" }], "creditBalance": { "used": "500.00" } })
    );
    let data = c
        .world
        .app
        .ok(&other.user, "query($id: ID!) { customer(id: $id) { monthlyUsage { firstPartyAcr } creditBalance { used grants { status } } } }", json!({ "id": c.customer.id }))
        .await;
    assert_eq!(
        data["customer"],
        json!({ "monthlyUsage": [{ "firstPartyAcr": "10.00" }], "creditBalance": { "used": "10.00", "grants": [{ "status": "ACTIVE" }] } })
    );
    // The credit balance report follows the split: each partner's line shows
    // what its own usage consumed; the programme's has both.
    let lines = |csv: String| -> Vec<(String, String)> {
        csv::Reader::from_reader(csv.as_bytes())
            .deserialize::<std::collections::HashMap<String, String>>()
            .map(|r| {
                let r = r.unwrap();
                (r["CreditAmount"].clone(), r["Status"].clone())
            })
            .collect()
    };
    let month = "?month=2027-01";
    let (_, mine) = report(&c.world.app, Some(&c.partner.user), month).await;
    assert_eq!(lines(mine), [("500.00".into(), "Exhausted".into())]);
    let (_, theirs) = report(&c.world.app, Some(&other.user), month).await;
    assert_eq!(lines(theirs), [("10.00".into(), "Active".into())]);
    let (_, all) = report(&c.world.app, Some(&c.world.admin), month).await;
    let mut all = lines(all);
    all.sort();
    assert_eq!(
        all,
        [
            ("10.00".into(), "Active".into()),
            ("500.00".into(), "Exhausted".into())
        ]
    );
}

/// Every field of a reconciliation month, a duplicate key, an alias and `__typename`.
const MONTH_FIELDS: &str = "month recorded acr thirdPartyCharges openingBalance applied aboveAco pec invoiceAmount closingBalance acoApplies coversAllGrants acr total: closingBalance __typename";

#[tokio::test]
async fn a_reconciliation_answers_the_same_however_its_selection_is_spelt() {
    // A customer shared by two partners, each with its own ledger.
    let (c, _) = shared_at("2027-06-05T09:00:00Z").await;
    for (month, acr) in EXAMPLE.iter().take(4) {
        c.record(month, acr, "12.50").await;
    }
    let ask = |selection: String| {
        let fragment = if selection == "...M" {
            format!("fragment M on ReconciliationMonth {{ {MONTH_FIELDS} }}")
        } else {
            String::new()
        };
        format!(
            "query($id: ID!) {{ customer(id: $id) {{ reconciliation(from: \"2026-12\", to: \"2027-07\") {{ {selection} }} }} }} {fragment}"
        )
    };
    // The plain selection, spellings the engine answers field by field
    // (fragments), and `@include(if: true)`, which the engine takes out
    // before the plain answer sees the selection.
    let spellings = [
        MONTH_FIELDS.to_owned(),
        format!("... on ReconciliationMonth {{ {MONTH_FIELDS} }}"),
        "...M".to_owned(),
        format!("month @include(if: true) {MONTH_FIELDS}"),
    ];
    // Eight months of one partner's ledger; the programme sees both partners'.
    for (caller, count) in [(&c.partner.user, 8), (&c.world.admin, 16)] {
        let answers = answers_to(&c, caller, &spellings, &ask).await;
        let rows = answers[0].as_array().unwrap();
        assert_eq!(rows.len(), count, "{}", answers[0]);
        assert_eq!(rows[0]["__typename"], "ReconciliationMonth");
        assert_eq!(rows[0]["total"], rows[0]["closingBalance"]);
        assert!(rows.iter().any(|r| r["recorded"] == json!(true)));
        for answer in &answers[1..] {
            assert_eq!(answer, &answers[0]);
        }
    }
    // Each partner's months are its whole ledger: the invoice figures are there.
    let partner = &answers_to(&c, &c.partner.user, &spellings[..1], &ask).await[0];
    assert_eq!(partner[2]["invoiceAmount"], "12.50", "{partner}");
}

async fn answers_to(
    c: &Credited,
    caller: &str,
    spellings: &[String],
    ask: &impl Fn(String) -> String,
) -> Vec<Value> {
    let mut answers = Vec::new();
    for selection in spellings {
        let data = c
            .world
            .app
            .ok(
                caller,
                &ask(selection.clone()),
                json!({ "id": c.customer.id }),
            )
            .await;
        answers.push(data["customer"]["reconciliation"].clone());
    }
    answers
}
