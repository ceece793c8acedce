//! DOMAIN §7, partner benefit credits: every BEN rule through the API.

use aco_api::domain::Role;
use serde_json::{Value, json};

use crate::support::*;

const CREATE: &str = "mutation($input: CreateBenefitCreditInput!) { createBenefitCredit(input: $input) { benefitCredit { id kind purpose amount startsOn endsOn status } userErrors { code } } }";
const ASSIGN: &str = "mutation($input: AssignBenefitCreditInput!) { assignBenefitCredit(input: $input) { benefitCredit { status endsOn assignee { email } reassignmentsUsed reassignmentsLeft } userErrors { code field } } }";
const USE: &str = "mutation($input: RecordBenefitUsageInput!) { recordBenefitUsage(input: $input) { benefitCredit { remaining used } userErrors { code } } }";

struct Benefits {
    world: World,
    partner: PartnerHandle,
}

impl Benefits {
    async fn new(now: &str) -> Self {
        let world = World::on(TestApp::configured(|c| c.clock = at(now)));
        let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
        Benefits { world, partner }
    }

    fn at(self, now: &str) -> Self {
        let Benefits { world, partner } = self;
        let World { app, admin } = world;
        let now = at(now);
        Benefits {
            world: World {
                app: app.restart_with(|c| c.clock = now),
                admin,
            },
            partner,
        }
    }

    async fn create(&self, kind: &str, purpose: &str, amount: &str) -> String {
        let data = self
            .world
            .app
            .ok(&self.world.admin, CREATE, json!({ "input": { "partnerId": self.partner.id, "kind": kind, "purpose": purpose, "amount": amount } }))
            .await;
        data["createBenefitCredit"]["benefitCredit"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn assign(&self, credit: &str, email: &str) -> Value {
        let data = self
            .world
            .app
            .ok(
                &self.partner.admin,
                ASSIGN,
                json!({ "input": { "creditId": credit, "assigneeEmail": email } }),
            )
            .await;
        data["assignBenefitCredit"].clone()
    }

    async fn use_credit(&self, credit: &str, day: &str, amount: &str, purpose: &str) -> Value {
        let data = self
            .world
            .app
            .ok(&self.partner.admin, USE, json!({ "input": { "creditId": credit, "usedOn": day, "amount": amount, "purpose": purpose } }))
            .await;
        data["recordBenefitUsage"].clone()
    }
}

/// BEN-2: a credit assigned before its start date is `SCHEDULED` with nothing
/// available, and its use is refused with `CREDIT_NOT_STARTED` naming the
/// start date; from that date it is `ACTIVE` with its whole amount.
#[tokio::test]
async fn ben_2_a_credit_assigned_before_its_start_date_is_scheduled() {
    let b = Benefits::new("2027-01-15T10:00:00Z").await;
    let data = b.world.app.ok(&b.world.admin, CREATE, json!({ "input": { "partnerId": b.partner.id, "kind": "BULK", "amount": "1000.00", "startsOn": "2027-03-01" } })).await;
    let id = data["createBenefitCredit"]["benefitCredit"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let payload = b.assign(&id, "dev.lead@contoso.example.com").await;
    assert_eq!(payload["benefitCredit"]["status"], "SCHEDULED", "{payload}");
    let refused = b.use_credit(&id, "2027-01-15", "10.00", "GENERAL").await;
    assert_eq!(user_error_codes(&refused), ["CREDIT_NOT_STARTED"]);
    let credit = "query($id: ID!) { node(id: $id) { ... on BenefitCredit { status remaining } } }";
    let shown = b
        .world
        .app
        .ok(&b.partner.admin, credit, json!({ "id": id }))
        .await;
    assert_eq!(
        shown["node"],
        json!({ "status": "SCHEDULED", "remaining": "0.00" })
    );
    let body = b
        .world
        .app
        .ok(
            &b.partner.admin,
            USE.replace("userErrors { code }", "userErrors { code message field }")
                .as_str(),
            json!({ "input": { "creditId": id, "usedOn": "2027-01-15", "amount": "10.00" } }),
        )
        .await;
    let error = &body["recordBenefitUsage"]["userErrors"][0];
    assert!(
        error["message"].as_str().unwrap().contains("2027-03-01"),
        "{error}"
    );
    assert_eq!(error["field"], json!(["input", "usedOn"]));
    let b = b.at("2027-03-01T00:00:00Z");
    let shown = b
        .world
        .app
        .ok(&b.partner.admin, credit, json!({ "id": id }))
        .await;
    assert_eq!(
        shown["node"],
        json!({ "status": "ACTIVE", "remaining": "1000.00" })
    );
    let payload = b.use_credit(&id, "2027-03-01", "10.00", "GENERAL").await;
    assert_eq!(payload["benefitCredit"]["remaining"], "990.00", "{payload}");
}

#[tokio::test]
async fn ben_1_and_2_credits_are_created_by_the_programme_and_activated_by_assignment() {
    let b = Benefits::new("2027-01-15T10:00:00Z").await;
    let body = b
        .world
        .app
        .gql(
            Some(&b.partner.admin),
            CREATE,
            json!({ "input": { "partnerId": b.partner.id, "kind": "BULK", "amount": "1000.00" } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    let data = b.world.app.ok(&b.world.admin, CREATE, json!({ "input": { "partnerId": b.partner.id, "kind": "BULK", "amount": "1000.00", "startsOn": "2027-01-01" } })).await;
    let credit = &data["createBenefitCredit"]["benefitCredit"];
    assert_eq!(
        (
            credit["purpose"].clone(),
            credit["endsOn"].clone(),
            credit["status"].clone()
        ),
        (
            json!("GENERAL"),
            json!("2027-12-31"),
            json!("NOT_ACTIVATED")
        ),
        "a bulk credit is one amount for a year"
    );
    let id = credit["id"].as_str().unwrap().to_owned();
    assert_eq!(
        user_error_codes(&b.use_credit(&id, "2027-01-15", "10.00", "GENERAL").await),
        ["CREDIT_NOT_ACTIVE"]
    );
    let payload = b.assign(&id, "dev.lead@contoso.example.com").await;
    assert_eq!(payload["benefitCredit"]["status"], "ACTIVE");
    // A partner user who is not the assignee may not spend it.
    let body = b
        .world
        .app
        .gql(
            Some(&b.partner.user),
            USE,
            json!({ "input": { "creditId": id, "amount": "1.00" } }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["reason"], "NOT_ASSIGNEE");
    // BEN-2: the assignee is one of the partner's own users.
    let other = b.create("MONTHLY", "GENERAL", "10.00").await;
    assert_eq!(
        user_error_codes(&b.assign(&other, "someone@elsewhere.example.org").await),
        ["NOT_PARTNER_USER"]
    );
    let payload = b.use_credit(&id, "2027-01-15", "250.00", "GENERAL").await;
    assert_eq!(
        (
            payload["benefitCredit"]["remaining"].clone(),
            payload["benefitCredit"]["used"].clone()
        ),
        (json!("750.00"), json!("250.00"))
    );
    assert_eq!(
        user_error_codes(&b.use_credit(&id, "2027-01-15", "750.01", "GENERAL").await),
        ["INSUFFICIENT_CREDIT"]
    );

    // The partner sees its credits; others do not.
    let data = b
        .world
        .app
        .ok(&b.partner.user, "query($id: ID!) { partner(id: $id) { benefitCredits { totalCount nodes { kind amount remaining assignee { email } reassignmentsLeft } } } }", json!({ "id": b.partner.id }))
        .await;
    assert_eq!(
        data["partner"]["benefitCredits"]["nodes"][0],
        json!({ "kind": "BULK", "amount": "1000.00", "remaining": "750.00", "assignee": { "email": "dev.lead@contoso.example.com" }, "reassignmentsLeft": 0 })
    );
    let other = b.world.signed_partner("Litware", "DIRECT_BILL").await;
    let body = b
        .world
        .app
        .gql(
            Some(&other.user),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = b
        .world
        .app
        .gql(
            Some(&other.admin),
            ASSIGN,
            json!({ "input": { "creditId": id, "assigneeEmail": "x@litware.example.com" } }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn ben_3_free_mail_addresses_are_refused() {
    let b = Benefits::new("2027-01-15T10:00:00Z").await;
    let id = b.create("MONTHLY", "GENERAL", "100.00").await;
    for email in [
        "someone@gmail.com",
        "someone@Outlook.com",
        "x@hotmail.com",
        "y@yahoo.com",
    ] {
        let payload = b.assign(&id, email).await;
        assert_eq!(
            payload["userErrors"],
            json!([{ "code": "FREE_MAIL_DOMAIN", "field": ["input", "assigneeEmail"] }]),
            "{email}"
        );
    }
    assert_eq!(
        b.assign(&id, "someone@contoso.example.com").await["userErrors"],
        json!([])
    );
}

#[tokio::test]
async fn ben_4_the_fifth_reassignment_is_allowed_and_the_sixth_refused() {
    let b = Benefits::new("2027-01-15T10:00:00Z").await;
    let id = b.create("MONTHLY", "GENERAL", "100.00").await;
    let first = b.assign(&id, "user0@contoso.example.com").await;
    assert_eq!(
        (
            first["benefitCredit"]["reassignmentsUsed"].clone(),
            first["benefitCredit"]["reassignmentsLeft"].clone()
        ),
        (json!(0), json!(5))
    );
    for n in 1..=5 {
        let payload = b.assign(&id, &format!("user{n}@contoso.example.com")).await;
        assert_eq!(payload["userErrors"], json!([]), "reassignment {n}");
        assert_eq!(payload["benefitCredit"]["reassignmentsUsed"], n);
    }
    let payload = b.assign(&id, "user6@contoso.example.com").await;
    assert_eq!(user_error_codes(&payload), ["REASSIGNMENT_LIMIT"]);
    // Assigning the current holder again changes nothing and costs nothing.
    assert_eq!(
        b.assign(&id, "user5@contoso.example.com").await["benefitCredit"]["reassignmentsLeft"],
        0
    );
}

#[tokio::test]
async fn ben_5_and_6_bulk_credits_are_not_reassigned_and_never_doubled() {
    let b = Benefits::new("2027-01-15T10:00:00Z").await;
    let bulk = b.create("BULK", "GENERAL", "1000.00").await;
    let second_bulk = b.create("BULK", "GENERAL", "500.00").await;
    let monthly = b.create("MONTHLY", "GENERAL", "100.00").await;
    assert_eq!(
        b.assign(&bulk, "ana@contoso.example.com").await["userErrors"],
        json!([])
    );
    assert_eq!(
        user_error_codes(&b.assign(&bulk, "ben@contoso.example.com").await),
        ["BULK_NOT_REASSIGNABLE"]
    );
    assert_eq!(
        user_error_codes(&b.assign(&second_bulk, "ana@contoso.example.com").await),
        ["BULK_ALREADY_ASSIGNED"]
    );
    // One monthly and one bulk at the same time is fine.
    assert_eq!(
        b.assign(&monthly, "ana@contoso.example.com").await["userErrors"],
        json!([])
    );
    // All failing rules at once.
    assert_eq!(
        user_error_codes(&b.assign(&bulk, "ana@gmail.com").await),
        ["FREE_MAIL_DOMAIN", "BULK_NOT_REASSIGNABLE"]
    );
}

#[tokio::test]
async fn ben_7_monthly_allowances_lapse_each_month_and_stop_after_13_months() {
    let b = Benefits::new("2027-01-15T10:00:00Z").await;
    let id = b.create("MONTHLY", "GENERAL", "100.00").await;
    let payload = b.assign(&id, "ana@contoso.example.com").await;
    assert_eq!(
        payload["benefitCredit"]["endsOn"], "2028-02-14",
        "13 months from activation"
    );
    assert_eq!(
        b.use_credit(&id, "2027-01-15", "60.00", "GENERAL").await["userErrors"],
        json!([])
    );
    assert_eq!(
        user_error_codes(&b.use_credit(&id, "2027-01-15", "40.01", "GENERAL").await),
        ["INSUFFICIENT_CREDIT"]
    );
    // February: nothing carried over from January, the full allowance again.
    let b = b.at("2027-02-03T10:00:00Z");
    let data = b
        .world
        .app
        .ok(
            &b.partner.user,
            "query($id: ID!) { node(id: $id) { ... on BenefitCredit { remaining } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["node"]["remaining"], "100.00");
    assert_eq!(
        user_error_codes(&b.use_credit(&id, "2027-02-03", "100.01", "GENERAL").await),
        ["INSUFFICIENT_CREDIT"]
    );
    assert_eq!(
        b.use_credit(&id, "2027-02-03", "100.00", "GENERAL").await["userErrors"],
        json!([])
    );
    // The last valid day, then the end.
    let b = b.at("2028-02-20T10:00:00Z");
    assert_eq!(
        b.use_credit(&id, "2028-02-14", "10.00", "GENERAL").await["userErrors"],
        json!([])
    );
    assert_eq!(
        user_error_codes(&b.use_credit(&id, "2028-02-15", "10.00", "GENERAL").await),
        ["CREDIT_ENDED"]
    );
    let data = b
        .world
        .app
        .ok(
            &b.partner.user,
            "query($id: ID!) { node(id: $id) { ... on BenefitCredit { status remaining } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data["node"],
        json!({ "status": "ENDED", "remaining": "0.00" })
    );
    assert_eq!(
        user_error_codes(&b.assign(&id, "ben@contoso.example.com").await),
        ["CREDIT_ENDED"]
    );
}

#[tokio::test]
async fn ben_8_purpose_restricted_credits() {
    let b = Benefits::new("2027-01-15T10:00:00Z").await;
    let copilot = b.create("BULK", "SECURITY_COPILOT", "500.00").await;
    let general = b.create("MONTHLY", "GENERAL", "100.00").await;
    b.assign(&copilot, "sec@contoso.example.com").await;
    b.assign(&general, "sec@contoso.example.com").await;
    assert_eq!(
        user_error_codes(
            &b.use_credit(&copilot, "2027-01-15", "10.00", "GITHUB")
                .await
        ),
        ["PURPOSE_RESTRICTED"]
    );
    assert_eq!(
        user_error_codes(
            &b.use_credit(&copilot, "2027-01-15", "10.00", "GENERAL")
                .await
        ),
        ["PURPOSE_RESTRICTED"]
    );
    assert_eq!(
        b.use_credit(&copilot, "2027-01-15", "10.00", "SECURITY_COPILOT")
            .await["userErrors"],
        json!([])
    );
    assert_eq!(
        b.use_credit(&general, "2027-01-15", "10.00", "GITHUB")
            .await["userErrors"],
        json!([]),
        "general credits serve any purpose"
    );
    // Bad input: negative or zero amounts, a day to come.
    let body = b
        .world
        .app
        .gql(
            Some(&b.partner.user),
            USE,
            json!({ "input": { "creditId": general, "amount": "-1.00" } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(
        user_error_codes(
            &b.use_credit(&general, "2027-01-16", "1.00", "GENERAL")
                .await
        ),
        ["DATE_IN_FUTURE"]
    );
    let body = b
        .world
        .app
        .gql(
            Some(&b.world.reviewer(Role::Finance)),
            USE,
            json!({ "input": { "creditId": general, "amount": "1.00" } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
}
