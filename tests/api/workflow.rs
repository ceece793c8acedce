//! DOMAIN §5 through the API: every step by its role in its state, CONFLICT
//! for concurrent reviewers, append-only history, the ACO agreement and its
//! month-end deadline, and service levels in US business days.

use aco_api::domain::Role;
use serde_json::{Value, json};

use crate::support::*;

async fn direct_world(app: TestApp) -> (World, PartnerHandle, CustomerHandle) {
    let world = World::on(app);
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let customer = world.eligible_customer(&partner, "Alpine").await;
    (world, partner, customer)
}

fn history_actions(state: &Value) -> Vec<String> {
    state["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn flow_1_to_10_happy_path_for_a_direct_bill_partner() {
    let (world, partner, customer) = direct_world(TestApp::configured(|c| {
        c.clock = at("2027-01-20T10:00:00Z")
    }))
    .await;
    let request = world.submitted(&partner, &customer, None).await;
    let state = world.request_state(&request).await;
    assert_eq!(state["status"], "SUBMITTED");
    assert_eq!(state["stage"], "APPLICATION_REVIEW");
    let request = world.approved(&request).await;
    assert_eq!(
        world.request_state(&request).await["status"],
        "OPERATIONS_REVIEW"
    );
    let (request, agreement) = world.published(&request).await;
    // Only the customer's own signer signs; another customer's signer cannot even see it.
    let other = world.customer(&partner, "Coho").await;
    let body = world
        .app
        .gql(Some(&other.signer), "mutation($input: SignAcoAgreementInput!) { signAcoAgreement(input: $input) { userErrors { code } } }", json!({ "input": { "agreementId": agreement } }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = world
        .app
        .gql(Some(&partner.admin), "mutation($input: SignAcoAgreementInput!) { signAcoAgreement(input: $input) { userErrors { code } } }", json!({ "input": { "agreementId": agreement } }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    let payload = world.sign(&customer, &agreement).await;
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["acoAgreement"]["status"], "SIGNED");
    assert_eq!(
        payload["acoAgreement"]["expiresAt"],
        "2027-02-01T00:00:00.000000Z"
    );
    // LEDGER-1: the credit is granted at once, from the month of signing, for 12 months.
    assert_eq!(
        payload["creditGrant"],
        json!({ "amount": "1500.00", "firstMonth": "2027-01", "lastMonth": "2027-12", "status": "ACTIVE" })
    );

    let state = world.request_state(&request).await;
    assert_eq!(state["status"], "ACTIVE");
    assert_eq!(state["dueAt"], Value::Null);
    assert_eq!(
        history_actions(&state),
        [
            "SUBMIT",
            "PASS_COMPLIANCE_CHECK",
            "SUPPORT",
            "APPROVE",
            "PUBLISH_AGREEMENT",
            "SIGN_AGREEMENT"
        ]
    );
    let history = state["history"]["nodes"].as_array().unwrap();
    assert_eq!(history[0]["fromStatus"], Value::Null);
    assert_eq!(history[0]["actorRole"], "PARTNER_USER");
    assert_eq!(
        history[3],
        json!({ "action": "APPROVE", "fromStatus": "FINANCE_REVIEW", "toStatus": "OPERATIONS_REVIEW", "actorRole": "FINANCE", "actorSubject": "finance@programme.example", "comment": null })
    );
    assert_eq!(history[5]["actorRole"], "CUSTOMER_SIGNER");

    // The partner follows its request and sees the grant through it.
    let data = world
        .app
        .ok(&partner.user, "query($id: ID!) { acoRequest(id: $id) { status creditGrant { amount } agreements { status } customer { companyName } } }", json!({ "id": request.id }))
        .await;
    assert_eq!(
        data["acoRequest"],
        json!({ "status": "ACTIVE", "creditGrant": { "amount": "1500.00" }, "agreements": [{ "status": "SIGNED" }], "customer": { "companyName": "Alpine" } })
    );
}

#[tokio::test]
async fn flow_1_to_10_happy_path_for_an_indirect_reseller() {
    let world = World::new();
    let provider = world.signed_partner("Northwind", "INDIRECT_PROVIDER").await;
    let reseller = world.signed_partner("Fabrikam", "INDIRECT_RESELLER").await;
    world.link(&reseller, &provider).await;
    let customer = world.eligible_customer(&reseller, "Alpine").await;
    world.relate(&provider, &customer).await;
    let request = world.submitted(&reseller, &customer, Some(&provider)).await;
    let request = world.approved(&request).await;
    let (request, agreement) = world.published(&request).await;
    assert_eq!(
        world.sign(&customer, &agreement).await["userErrors"],
        json!([])
    );
    assert_eq!(world.request_state(&request).await["status"], "ACTIVE");

    // The provider reads its reseller's request, but may not act on it.
    let data = world
        .app
        .ok(&provider.user, "query($id: ID!) { acoRequest(id: $id) { status partner { id } indirectProvider { id } } }", json!({ "id": request.id }))
        .await;
    assert_eq!(
        data["acoRequest"],
        json!({ "status": "ACTIVE", "partner": { "id": reseller.id }, "indirectProvider": { "id": provider.id } })
    );
    let data = world
        .app
        .ok(&provider.admin, "{ acoRequests { totalCount } }", json!({}))
        .await;
    assert_eq!(data["acoRequests"]["totalCount"], 1);
}

#[tokio::test]
async fn flow_16_a_step_in_the_wrong_state_is_an_invalid_transition() {
    let (world, partner, customer) = direct_world(TestApp::new()).await;
    let request = world.submitted(&partner, &customer, None).await;
    let payload = world
        .act(
            &world.reviewer(Role::Finance),
            "approveAcoRequest",
            &request,
            json!({}),
        )
        .await;
    assert_eq!(user_error_codes(&payload), ["INVALID_TRANSITION"]);
    assert!(
        payload["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("SUBMITTED")
    );
    assert_eq!(payload["acoRequest"], Value::Null);
    // A reviewer acting in another reviewer's state.
    let payload = world
        .act(
            &world.reviewer(Role::ChannelSales),
            "rejectAcoRequest",
            &request,
            json!({ "reason": "no" }),
        )
        .await;
    assert_eq!(user_error_codes(&payload), ["INVALID_TRANSITION"]);
    // Nothing changed.
    let state = world.request_state(&request).await;
    assert_eq!(
        (state["status"].clone(), state["version"].clone()),
        (json!("SUBMITTED"), json!(1))
    );
    assert_eq!(history_actions(&state), ["SUBMIT"]);
}

#[tokio::test]
async fn role_2_partners_never_review_and_reviewers_never_act_for_partners() {
    let (world, partner, customer) = direct_world(TestApp::new()).await;
    let request = world.submitted(&partner, &customer, None).await;
    for mutation in ["supportAcoRequest", "approveAcoRequest"] {
        let body = world
            .act_raw(
                &partner.admin,
                mutation,
                json!({ "id": request.id, "version": 1 }),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "{mutation}");
        assert_eq!(
            body["errors"][0]["extensions"]["reason"],
            "PARTNER_CANNOT_REVIEW"
        );
    }
    let body = world
        .act_raw(
            &partner.user,
            "passAcoComplianceCheck",
            json!({ "id": request.id, "version": 1, "channelSalesManager": "x@y.com" }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"],
        "PARTNER_CANNOT_REVIEW"
    );
    let body = world
        .act_raw(
            &world.reviewer(Role::Plsr),
            "cancelAcoRequest",
            json!({ "id": request.id, "version": 1 }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    let body = world
        .act_raw(
            &customer.signer,
            "approveAcoRequest",
            json!({ "id": request.id, "version": 1 }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    // Another partner cannot even see it.
    let other = world.signed_partner("Litware", "DIRECT_BILL").await;
    let body = world
        .act_raw(
            &other.admin,
            "cancelAcoRequest",
            json!({ "id": request.id, "version": 1 }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = world
        .app
        .gql(
            Some(&other.user),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": request.id }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let data = world
        .app
        .ok(&other.user, "{ acoRequests { totalCount } }", json!({}))
        .await;
    assert_eq!(data["acoRequests"]["totalCount"], 0);
}

#[tokio::test]
async fn flow_18_two_reviewers_at_once_exactly_one_wins() {
    let (world, partner, customer) = direct_world(TestApp::new()).await;
    for _ in 0..5 {
        let request = world.submitted(&partner, &customer, None).await;
        let plsr = world.reviewer(Role::Plsr);
        let pass = world.act(
            &plsr,
            "passAcoComplianceCheck",
            &request,
            json!({ "channelSalesManager": "csm@programme.example" }),
        );
        let reject = world.act(
            &plsr,
            "rejectAcoRequest",
            &request,
            json!({ "reason": "duplicate" }),
        );
        let (a, b) = tokio::join!(pass, reject);
        let outcomes = [&a, &b].map(user_error_codes);
        let won = outcomes.iter().filter(|c| c.is_empty()).count();
        let conflicted = outcomes
            .iter()
            .filter(|c| c.as_slice() == ["CONFLICT"])
            .count();
        assert_eq!((won, conflicted), (1, 1), "{a} {b}");
        let state = world.request_state(&request).await;
        assert_eq!(state["version"], 2);
        assert_eq!(state["history"]["totalCount"], 2);
        // A stale version is refused even when the step would be valid.
        let stale = world
            .act(
                &world.reviewer(Role::Finance),
                "rejectAcoRequest",
                &request,
                json!({ "reason": "late" }),
            )
            .await;
        assert_eq!(user_error_codes(&stale), ["CONFLICT"]);
        if state["status"] == "CHANNEL_REVIEW" {
            let current = RequestHandle {
                id: request.id.clone(),
                version: 2,
            };
            world
                .advance(
                    &world.reviewer(Role::ChannelSales),
                    "rejectAcoRequest",
                    &current,
                    json!({ "reason": "tidy up" }),
                )
                .await;
        }
    }
}

#[tokio::test]
async fn flow_3_to_5_information_requests_return_to_the_state_that_asked() {
    let (world, partner, customer) = direct_world(TestApp::new()).await;
    let request = world.submitted(&partner, &customer, None).await;
    let (request, state) = world
        .advance(
            &world.reviewer(Role::Plsr),
            "requestAcoInformation",
            &request,
            json!({ "question": "Which workloads move first?" }),
        )
        .await;
    assert_eq!(state["status"], "NEEDS_INFO");
    assert_eq!(state["dueAt"], Value::Null, "the clock stops in NEEDS_INFO");

    // A correction below the minimum is refused and changes nothing.
    let payload = world
        .act(
            &partner.user,
            "answerAcoInformationRequest",
            &request,
            json!({ "answer": "AKS first.", "estimatedAcr": "4000.00" }),
        )
        .await;
    assert_eq!(user_error_codes(&payload), ["DEAL_BELOW_MINIMUM"]);
    let (request, state) = world
        .advance(
            &partner.user,
            "answerAcoInformationRequest",
            &request,
            json!({ "answer": "AKS first.", "estimatedAcr": "23456.78" }),
        )
        .await;
    assert_eq!(state["status"], "SUBMITTED");
    assert_eq!(
        state["acoAmount"], "2345.67",
        "the ACO amount is recomputed"
    );

    let (request, _) = world
        .advance(
            &world.reviewer(Role::Plsr),
            "passAcoComplianceCheck",
            &request,
            json!({ "channelSalesManager": "csm@programme.example" }),
        )
        .await;
    let (request, _) = world
        .advance(
            &world.reviewer(Role::ChannelSales),
            "requestAcoInformation",
            &request,
            json!({ "question": "Business justification?" }),
        )
        .await;
    let (request, state) = world
        .advance(
            &partner.admin,
            "answerAcoInformationRequest",
            &request,
            json!({ "answer": "Competitive offer." }),
        )
        .await;
    assert_eq!(state["status"], "CHANNEL_REVIEW");
    let history = world.request_state(&request).await;
    assert_eq!(
        history_actions(&history),
        [
            "SUBMIT",
            "REQUEST_INFORMATION",
            "ANSWER_INFORMATION_REQUEST",
            "PASS_COMPLIANCE_CHECK",
            "REQUEST_INFORMATION",
            "ANSWER_INFORMATION_REQUEST"
        ]
    );
    assert_eq!(
        history["history"]["nodes"][1]["comment"],
        "Which workloads move first?"
    );
}

#[tokio::test]
async fn flow_6_and_13_rejection_and_cancellation_are_final() {
    let (world, partner, customer) = direct_world(TestApp::new()).await;
    let request = world.submitted(&partner, &customer, None).await;
    let body = world
        .act_raw(
            &world.reviewer(Role::Plsr),
            "rejectAcoRequest",
            json!({ "id": request.id, "version": 1, "reason": " " }),
        )
        .await;
    assert_eq!(
        code(&body),
        "BAD_USER_INPUT",
        "a rejection states its reason"
    );
    let (request, _) = world
        .advance(
            &world.reviewer(Role::Plsr),
            "rejectAcoRequest",
            &request,
            json!({ "reason": "Duplicate of an earlier request." }),
        )
        .await;
    let state = world.request_state(&request).await;
    assert_eq!(
        (state["status"].clone(), state["decisionReason"].clone()),
        (json!("REJECTED"), json!("Duplicate of an earlier request."))
    );
    let payload = world
        .act(&partner.user, "cancelAcoRequest", &request, json!({}))
        .await;
    assert_eq!(user_error_codes(&payload), ["INVALID_TRANSITION"]);

    // Cancelling while awaiting signature withdraws the published agreement.
    let request = world.submitted(&partner, &customer, None).await;
    let request = world.approved(&request).await;
    let (request, agreement) = world.published(&request).await;
    world
        .advance(
            &partner.user,
            "cancelAcoRequest",
            &request,
            json!({ "reason": "Project stopped." }),
        )
        .await;
    let payload = world.sign(&customer, &agreement).await;
    assert_eq!(user_error_codes(&payload), ["INVALID_TRANSITION"]);
}

#[tokio::test]
async fn flow_12_agr_6_withdrawn_agreements_are_kept_and_a_new_one_published() {
    let (world, partner, customer) = direct_world(TestApp::new()).await;
    let request = world.submitted(&partner, &customer, None).await;
    let request = world.approved(&request).await;
    let (request, first) = world.published(&request).await;
    let (request, state) = world
        .advance(
            &world.reviewer(Role::Operations),
            "withdrawAcoAgreement",
            &request,
            json!({ "reason": "Signer changed." }),
        )
        .await;
    assert_eq!(state["status"], "FINANCE_REVIEW");
    let (request, _) = world
        .advance(
            &world.reviewer(Role::Finance),
            "approveAcoRequest",
            &request,
            json!({}),
        )
        .await;
    let (_, second) = world.published(&request).await;
    assert_eq!(
        user_error_codes(&world.sign(&customer, &first).await),
        ["INVALID_TRANSITION"]
    );
    assert_eq!(
        world.sign(&customer, &second).await["userErrors"],
        json!([])
    );
    let data = world
        .app
        .ok(&customer.signer, "query($id: ID!) { customer(id: $id) { acoAgreements { nodes { status closedReason acoRequest { id } } } } }", json!({ "id": customer.id }))
        .await;
    assert_eq!(
        data["customer"]["acoAgreements"]["nodes"],
        json!([{ "status": "WITHDRAWN", "closedReason": "Signer changed.", "acoRequest": null }, { "status": "SIGNED", "closedReason": null, "acoRequest": null }]),
        "the signer sees its agreements, not the requests"
    );
}

/// AGR-4: the deadline is the midnight that ends the month; every instant
/// before it is in time, its last fraction of a second included.
#[tokio::test]
async fn agr_4_signing_in_the_last_second_of_the_month_is_accepted() {
    let (world, partner, customer) = direct_world(TestApp::configured(|c| {
        c.clock = at("2027-07-20T15:00:00Z")
    }))
    .await;
    let request = world.submitted(&partner, &customer, None).await;
    let request = world.approved(&request).await;
    let (request, agreement) = world.published(&request).await;
    let world = world.at("2027-07-31T23:59:59.500Z");
    let payload = world.sign(&customer, &agreement).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    assert_eq!(world.request_state(&request).await["status"], "ACTIVE");
}

/// FLOW-19: a clock that starts on a weekend or holiday starts at 00:00 of
/// the next business day, which is not counted.
#[tokio::test]
async fn flow_19_a_request_submitted_on_a_saturday_counts_from_the_next_business_day() {
    // Saturday 16 January 2027; Monday 18 is Martin Luther King Jr. Day.
    let (world, partner, customer) = direct_world(TestApp::configured(|c| {
        c.clock = at("2027-01-16T11:00:00Z")
    }))
    .await;
    let request = world.submitted(&partner, &customer, None).await;
    let state = world.request_state(&request).await;
    assert_eq!(
        state["dueAt"], "2027-01-27T00:00:00.000000Z",
        "counted from Tuesday 19 January: 20, 21, 22, 25, 26"
    );
    let world = world.at("2027-01-26T23:59:59.999Z");
    assert_eq!(world.request_state(&request).await["overdue"], false);
    let world = world.at("2027-01-27T00:00:00Z");
    assert_eq!(world.request_state(&request).await["overdue"], true);
}

#[tokio::test]
async fn agr_4_signing_on_the_first_of_the_next_month_is_agreement_expired() {
    let (world, partner, customer) = direct_world(TestApp::configured(|c| {
        c.clock = at("2027-07-20T15:00:00Z")
    }))
    .await;
    let request = world.submitted(&partner, &customer, None).await;
    let request = world.approved(&request).await;
    let (request, agreement) = world.published(&request).await;
    let state = world.request_state(&request).await;
    assert_eq!(
        state["dueAt"], "2027-08-01T00:00:00.000000Z",
        "the signing deadline is the stage's due date"
    );

    // No sweep has run; the signer comes back on 1 August.
    let world = world.at("2027-08-01T00:00:00Z");
    let payload = world.sign(&customer, &agreement).await;
    assert_eq!(user_error_codes(&payload), ["AGREEMENT_EXPIRED"]);
    assert_eq!(payload["acoAgreement"]["status"], "EXPIRED");
    assert_eq!(payload["creditGrant"], Value::Null);
    let state = world.request_state(&request).await;
    assert_eq!(
        state["status"], "FINANCE_REVIEW",
        "FLOW-11: back to Finance for re-approval"
    );
    let last = state["history"]["nodes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["action"].clone(), last["actorRole"].clone()),
        (json!("EXPIRE_AGREEMENT"), json!("SYSTEM"))
    );
    let data = world
        .app
        .ok(
            &customer.signer,
            "query($id: ID!) { customer(id: $id) { creditGrants { totalCount } } }",
            json!({ "id": customer.id }),
        )
        .await;
    assert_eq!(data["customer"]["creditGrants"]["totalCount"], 0);
}

async fn publish_then_sign_at(timezone: &str, published: &str, signed: &str) -> (String, Value) {
    let tz = timezone.parse().unwrap();
    let (world, partner, customer) = direct_world(TestApp::configured(|c| {
        c.clock = at(published);
        c.timezone = tz;
    }))
    .await;
    let request = world.submitted(&partner, &customer, None).await;
    let request = world.approved(&request).await;
    let (_, agreement) = world.published(&request).await;
    let World { app, admin } = world;
    let world = World {
        app: app.restart_with(|c| c.clock = at(signed)),
        admin,
    };
    let payload = world.sign(&customer, &agreement).await;
    (
        payload["acoAgreement"]["expiresAt"]
            .as_str()
            .unwrap()
            .to_owned(),
        payload,
    )
}

#[tokio::test]
async fn agr_4_month_ends_of_a_leap_february_and_of_december() {
    let (expires, payload) =
        publish_then_sign_at("UTC", "2028-02-10T09:00:00Z", "2028-02-29T23:59:00Z").await;
    assert_eq!(expires, "2028-03-01T00:00:00.000000Z");
    assert_eq!(payload["userErrors"], json!([]));
    let (_, payload) =
        publish_then_sign_at("UTC", "2028-02-10T09:00:00Z", "2028-03-01T00:00:00Z").await;
    assert_eq!(user_error_codes(&payload), ["AGREEMENT_EXPIRED"]);
    let (expires, payload) =
        publish_then_sign_at("UTC", "2027-12-15T09:00:00Z", "2027-12-31T23:00:00Z").await;
    assert_eq!(expires, "2028-01-01T00:00:00.000000Z");
    assert_eq!(payload["creditGrant"]["firstMonth"], "2027-12");
    assert_eq!(payload["creditGrant"]["lastMonth"], "2028-11");
    let (_, payload) =
        publish_then_sign_at("UTC", "2027-12-15T09:00:00Z", "2028-01-01T00:00:00Z").await;
    assert_eq!(user_error_codes(&payload), ["AGREEMENT_EXPIRED"]);
}

#[tokio::test]
async fn agr_4_programme_time_zones_either_side_of_utc() {
    // West of UTC: 1 August 05:00 UTC is still 31 July in Los Angeles.
    let (expires, payload) = publish_then_sign_at(
        "America/Los_Angeles",
        "2027-07-20T18:00:00Z",
        "2027-08-01T05:00:00Z",
    )
    .await;
    assert_eq!(expires, "2027-08-01T07:00:00.000000Z");
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["creditGrant"]["firstMonth"], "2027-07");
    let (_, payload) = publish_then_sign_at(
        "America/Los_Angeles",
        "2027-07-20T18:00:00Z",
        "2027-08-01T07:00:00Z",
    )
    .await;
    assert_eq!(user_error_codes(&payload), ["AGREEMENT_EXPIRED"]);
    // East of UTC: published 31 July 20:00 UTC is 1 August in Tokyo, so August's deadline applies.
    let (expires, payload) =
        publish_then_sign_at("Asia/Tokyo", "2027-07-31T20:00:00Z", "2027-08-20T00:00:00Z").await;
    assert_eq!(expires, "2027-08-31T15:00:00.000000Z");
    assert_eq!(payload["userErrors"], json!([]));
    let (_, payload) =
        publish_then_sign_at("Asia/Tokyo", "2027-07-31T20:00:00Z", "2027-08-31T15:00:00Z").await;
    assert_eq!(user_error_codes(&payload), ["AGREEMENT_EXPIRED"]);
}

#[tokio::test]
async fn agr_4_the_expiry_sweep_sends_requests_back_to_finance() {
    let (world, partner, customer) = direct_world(TestApp::configured(|c| {
        c.clock = at("2027-07-20T15:00:00Z")
    }))
    .await;
    let request = world.submitted(&partner, &customer, None).await;
    let request = world.approved(&request).await;
    let (request, _) = world.published(&request).await;
    const SWEEP: &str =
        "mutation { expireAcoAgreements { expiredAgreements { status } userErrors { code } } }";
    let data = world
        .app
        .ok(&world.reviewer(Role::Operations), SWEEP, json!({}))
        .await;
    assert_eq!(
        data["expireAcoAgreements"]["expiredAgreements"],
        json!([]),
        "nothing is due yet"
    );
    let body = world.app.gql(Some(&partner.admin), SWEEP, json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN");

    let world = world.at("2027-08-02T08:00:00Z");
    // Overdue before the sweep: the signing deadline has passed.
    let data = world
        .app
        .ok(
            &world.reviewer(Role::Operations),
            "{ acoRequests(filter: { overdue: true }) { nodes { id status } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["acoRequests"]["nodes"],
        json!([{ "id": request.id, "status": "AWAITING_SIGNATURE" }])
    );
    let data = world
        .app
        .ok(&world.reviewer(Role::Operations), SWEEP, json!({}))
        .await;
    assert_eq!(
        data["expireAcoAgreements"]["expiredAgreements"],
        json!([{ "status": "EXPIRED" }])
    );
    let state = world.request_state(&request).await;
    assert_eq!(state["status"], "FINANCE_REVIEW");
    // FLOW-11: the expiry happened at the deadline (Sunday 1 August 00:00),
    // found the next morning: recorded at the deadline, saying when it was
    // written, and the finance clock starts there — on a Sunday, so at the
    // next business day, not itself counted: 7 business days to 11 August.
    assert_eq!(
        state["dueAt"], "2027-08-12T00:00:00.000000Z",
        "7 business days from re-entering finance review"
    );
    let history = world
        .app
        .ok(
            &world.admin,
            "query($id: ID!) { acoRequest(id: $id) { history { nodes { at recordedAt action actorRole } } } }",
            json!({ "id": request.id }),
        )
        .await;
    let entries = history["acoRequest"]["history"]["nodes"]
        .as_array()
        .unwrap();
    assert_eq!(
        entries.last().unwrap(),
        &json!({ "at": "2027-08-01T00:00:00.000000Z", "recordedAt": "2027-08-02T08:00:00.000000Z",
            "action": "EXPIRE_AGREEMENT", "actorRole": "SYSTEM" })
    );
    assert!(
        entries[..entries.len() - 1]
            .iter()
            .all(|e| e["recordedAt"].is_null()),
        "entries written at their instant do not repeat it"
    );

    // Signing after the sweep is refused just the same.
    let agreement = world
        .app
        .ok(
            &customer.signer,
            "query($id: ID!) { customer(id: $id) { acoAgreements { nodes { id } } } }",
            json!({ "id": customer.id }),
        )
        .await["customer"]["acoAgreements"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        user_error_codes(&world.sign(&customer, &agreement).await),
        ["AGREEMENT_EXPIRED"]
    );

    // The service's own sweep does the same.
    let count = aco_api::jobs::sweep_expired_agreements(
        &crate::support::open_store(&world.app.config),
        &world.app.config,
    )
    .await
    .unwrap();
    assert_eq!(count, 0, "nothing left to expire");
}

#[tokio::test]
async fn flow_19_due_dates_across_thanksgiving_and_overdue_lists() {
    let (world, partner, customer) = direct_world(TestApp::configured(|c| {
        c.clock = at("2026-11-24T15:00:00Z")
    }))
    .await;
    let request = world.submitted(&partner, &customer, None).await;
    let state = world.request_state(&request).await;
    assert_eq!(
        state["dueAt"], "2026-12-03T00:00:00.000000Z",
        "Tue 24 Nov + 5 business days, Thanksgiving skipped"
    );
    assert_eq!(state["overdue"], false);
    // Asked on Wed 25 Nov, answered Mon 30 Nov: the 27th and the 30th do not count.
    let world = world.at("2026-11-25T10:00:00Z");
    let (request, _) = world
        .advance(
            &world.reviewer(Role::Plsr),
            "requestAcoInformation",
            &request,
            json!({ "question": "Timeline?" }),
        )
        .await;
    let world = world.at("2026-11-30T10:00:00Z");
    let (request, state) = world
        .advance(
            &partner.user,
            "answerAcoInformationRequest",
            &request,
            json!({ "answer": "Q1." }),
        )
        .await;
    assert_eq!(state["dueAt"], "2026-12-05T00:00:00.000000Z");

    let world = world.at("2026-12-05T09:00:00Z");
    let reviewer = world.reviewer(Role::Plsr);
    let data = world
        .app
        .ok(
            &reviewer,
            "{ acoRequests(filter: { overdue: true }) { totalCount nodes { id overdue stage } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["acoRequests"]["nodes"],
        json!([{ "id": request.id, "overdue": true, "stage": "APPLICATION_REVIEW" }])
    );
    let data = world
        .app
        .ok(
            &reviewer,
            "{ acoRequests(filter: { overdue: false }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["acoRequests"]["totalCount"], 0);
    let data = world
        .app
        .ok(
            &reviewer,
            "{ acoRequests(filter: { status: [ACTIVE, REJECTED] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["acoRequests"]["totalCount"], 0);
    // Several states, each read through its own index range: the page holds
    // the request of any of them, once.
    let data = world
        .app
        .ok(
            &reviewer,
            "{ acoRequests(filter: { status: [REJECTED, SUBMITTED, SUBMITTED] }) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["acoRequests"]["totalCount"], 1);
    assert_eq!(data["acoRequests"]["nodes"], json!([{ "id": request.id }]));
}

#[tokio::test]
async fn flow_19_due_dates_across_christmas_and_a_saturday_new_year() {
    let (world, partner, customer) = direct_world(TestApp::configured(|c| {
        c.clock = at("2027-12-23T12:00:00Z")
    }))
    .await;
    let request = world.submitted(&partner, &customer, None).await;
    // Thu 23 Dec 2027 + 5 business days: Fri 24 (Christmas observed) and Fri 31
    // (New Year's Day 2028 observed) are skipped.
    assert_eq!(
        world.request_state(&request).await["dueAt"],
        "2028-01-04T00:00:00.000000Z"
    );
    let (request, _) = world
        .advance(
            &world.reviewer(Role::Plsr),
            "passAcoComplianceCheck",
            &request,
            json!({ "channelSalesManager": "csm@programme.example" }),
        )
        .await;
    let (request, _) = world
        .advance(
            &world.reviewer(Role::ChannelSales),
            "supportAcoRequest",
            &request,
            json!({}),
        )
        .await;
    // Finance and operations: 7 business days from entering finance review.
    assert_eq!(
        world.request_state(&request).await["dueAt"],
        "2028-01-06T00:00:00.000000Z"
    );
}

#[tokio::test]
async fn flow_17_history_is_append_only_in_the_database() {
    if crate::support::sqlite_only("SQLite's triggers refuse changing a history entry") {
        return;
    }
    let (world, partner, customer) = direct_world(TestApp::new()).await;
    world.submitted(&partner, &customer, None).await;
    let conn = rusqlite::Connection::open(&world.app.config.store.path).unwrap();
    let update = conn.execute("UPDATE aco_request_history SET comment = 'rewritten'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.execute("DELETE FROM aco_request_history", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn flow_17_a_token_with_several_roles_acts_and_is_recorded_as_the_role_that_may() {
    let (world, partner, customer) = direct_world(TestApp::new()).await;
    let request = world.submitted(&partner, &customer, None).await;
    let both = world.app.token(
        PROGRAM_TENANT,
        &[Role::Plsr, Role::Finance],
        "reviewer@programme.example",
    );
    let (request, _) = world
        .advance(
            &both,
            "passAcoComplianceCheck",
            &request,
            json!({ "channelSalesManager": "csm@programme.example" }),
        )
        .await;
    let (request, _) = world
        .advance(
            &world.reviewer(Role::ChannelSales),
            "supportAcoRequest",
            &request,
            json!({}),
        )
        .await;
    let (request, _) = world
        .advance(
            &both,
            "rejectAcoRequest",
            &request,
            json!({ "reason": "Budget withdrawn." }),
        )
        .await;
    let state = world.request_state(&request).await;
    let roles: Vec<&str> = state["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["actorRole"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["PARTNER_USER", "PLSR", "CHANNEL_SALES", "FINANCE"]);
}

#[tokio::test]
async fn a_list_page_costs_the_same_statements_whatever_its_size() {
    let _counting = COUNTING_STATEMENTS.lock().await;
    let app = TestApp::configured(|c| c.store.count_statements = true);
    let (world, partner, _) = direct_world(app).await;
    for i in 0..30 {
        let customer = world.eligible_customer(&partner, &format!("Many{i}")).await;
        world.submitted(&partner, &customer, None).await;
    }
    const PAGE: &str = "query($n: Int) { acoRequests(first: $n) { totalCount nodes { id status dueAt customer { companyName } partner { companyName } indirectProvider { id } lastEvent { action } } } }";
    let mut cost = Vec::new();
    for n in [1, 5, 30] {
        let before = aco_api::store::statements_run();
        let data = world.app.ok(&partner.user, PAGE, json!({ "n": n })).await;
        cost.push(aco_api::store::statements_run() - before);
        assert_eq!(
            data["acoRequests"]["nodes"].as_array().unwrap().len(),
            n as usize
        );
        assert!(data["acoRequests"]["nodes"][0]["customer"]["companyName"].is_string());
    }
    assert_eq!(cost[0], cost[1], "statements for first: 1, 5, 30: {cost:?}");
    assert_eq!(cost[1], cost[2], "statements for first: 1, 5, 30: {cost:?}");
    // The same on both stores (the suite runs on each): no more on PostgreSQL
    // than on SQLite. A change that adds a statement to a page updates it.
    assert_eq!(cost[0], LIST_PAGE_STATEMENTS, "a list page's statements");
    // A partner's requests, nested under the partner, load their page the same way.
    const NESTED: &str = "query($id: ID!, $n: Int) { partner(id: $id) { acoRequests(first: $n) { totalCount nodes { id status customer { companyName } partner { companyName } lastEvent { action } } } } }";
    let mut cost = Vec::new();
    for n in [1, 5, 30] {
        let before = aco_api::store::statements_run();
        let data = world
            .app
            .ok(&partner.user, NESTED, json!({ "id": partner.id, "n": n }))
            .await;
        cost.push(aco_api::store::statements_run() - before);
        let nodes = data["partner"]["acoRequests"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), n as usize);
        assert!(nodes[0]["customer"]["companyName"].is_string(), "{data}");
    }
    assert_eq!(cost[0], cost[1], "nested, first: 1, 5, 30: {cost:?}");
    assert_eq!(cost[1], cost[2], "nested, first: 1, 5, 30: {cost:?}");
    assert_eq!(
        cost[0], NESTED_PAGE_STATEMENTS,
        "a nested list page's statements"
    );
}

/// On PostgreSQL a read waits for the server only as often as its statements
/// depend on each other: the transaction's start goes with the first
/// statement, the nested customers, partners and last events go together,
/// and the read's end is not waited for. A round trip is what a read on a
/// distributed engine pays most for.
#[tokio::test]
async fn a_point_read_and_a_list_page_each_wait_for_postgresql_twice() {
    let _counting = COUNTING_STATEMENTS.lock().await;
    let app = TestApp::configured(|c| c.store.count_statements = true);
    let (world, partner, _) = direct_world(app).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let customer = world.eligible_customer(&partner, &format!("Trip{i}")).await;
        ids.push(world.submitted(&partner, &customer, None).await);
    }
    const ONE: &str = "query($id: ID!) { acoRequest(id: $id) { id status customer { companyName } partner { companyName } lastEvent { action } } }";
    const PAGE: &str = "{ acoRequests(first: 3) { nodes { id customer { companyName } partner { companyName } lastEvent { action } } } }";
    let waits = |token: String, query: &'static str, variables: Value| {
        let world = &world;
        async move {
            // The first prepares its statements on the connection.
            world.app.ok(&token, query, variables.clone()).await;
            let before = aco_api::store::round_trips_run();
            let data = world.app.ok(&token, query, variables).await;
            (data, aco_api::store::round_trips_run() - before)
        }
    };
    let reviewer = world.reviewer(Role::Plsr);
    let one_id = json!({ "id": ids[1].id });
    let (one, one_waits) = waits(reviewer.clone(), ONE, one_id.clone()).await;
    assert_eq!(one["acoRequest"]["customer"]["companyName"], "Trip1");
    assert_eq!(one["acoRequest"]["lastEvent"]["action"], "SUBMIT");
    let (page, page_waits) = waits(reviewer, PAGE, json!({})).await;
    assert_eq!(page["acoRequests"]["nodes"].as_array().unwrap().len(), 3);
    assert!(page["acoRequests"]["nodes"][2]["partner"]["companyName"].is_string());
    // A partner's token is one more: its partner is looked up first, in a
    // read of its own.
    let (mine, partner_waits) = waits(partner.user.clone(), ONE, one_id).await;
    assert_eq!(mine["acoRequest"]["customer"]["companyName"], "Trip1");
    // SQLite is in the process: nothing to wait for.
    let (two, three) = if on_postgres() { (2, 3) } else { (0, 0) };
    assert_eq!(one_waits, two, "acoRequest(id)");
    assert_eq!(page_waits, two, "a list page");
    assert_eq!(
        partner_waits, three,
        "acoRequest(id) with a partner's token"
    );
}

/// What a list page costs, in statements (its transaction's beginning and
/// end among them), on either store.
const LIST_PAGE_STATEMENTS: u64 = 10;
const NESTED_PAGE_STATEMENTS: u64 = 13;

/// A list page whose selection needs only ids, states and names reads those
/// columns alone; one that needs more — however it is spelt — reads whole rows.
/// Either way every caller gets the same answer as `acoRequest(id)` gives.
#[tokio::test]
async fn a_list_page_answers_the_same_whatever_columns_its_selection_needs() {
    let _counting = COUNTING_STATEMENTS.lock().await;
    let app = TestApp::configured(|c| c.store.count_statements = true);
    let world = World::on(app);
    let provider = world.signed_partner("Northwind", "INDIRECT_PROVIDER").await;
    let reseller = world.signed_partner("Fabrikam", "INDIRECT_RESELLER").await;
    world.link(&reseller, &provider).await;
    for name in ["Alpine", "Baltic", "Cobalt"] {
        let customer = world.eligible_customer(&reseller, name).await;
        world.relate(&provider, &customer).await;
        let request = world.submitted(&reseller, &customer, Some(&provider)).await;
        if name == "Baltic" {
            world.approved(&request).await;
        }
    }
    let direct = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let own = world.eligible_customer(&direct, "Delta").await;
    world.submitted(&direct, &own, None).await;

    const BRIEF: &str = "{ acoRequests(first: 10) { nodes { id status version dueAt stage customer { id companyName } partner { id companyName } indirectProvider { id companyName } lastEvent { action } } } }";
    const WHOLE: &str = "{ acoRequests(first: 10) { nodes { id status version dueAt stage acoAmount customer { id companyName tenantId } partner { id companyName partnerType } indirectProvider { id companyName partnerType } lastEvent { action } } } }";
    // The same selection through an alias, an inline fragment and named fragments.
    const SPELT: &str = "query { acoRequests(first: 10) { edges { node { ...Req } } } } fragment Req on AcoRequest { id status version dueAt stage amount: acoAmount customer { ... on Customer { id companyName tenantId } } partner { ...P } indirectProvider { ...P } lastEvent { action } } fragment P on Partner { id companyName partnerType }";
    const PLAIN: &str = "{ acoRequests(first: 10) { nodes { __typename id status version informationRequestedFrom stage dueAt overdue key: id customer { __typename id companyName } partner { id name: companyName } indirectProvider { id companyName } lastEvent { __typename at actorSubject actorName actorRole action fromStatus toStatus comment } } } }";
    const PLAIN_IN_FRAGMENT: &str = "{ acoRequests(first: 10) { nodes { ... on AcoRequest { __typename id status version informationRequestedFrom stage dueAt overdue key: id customer { __typename id companyName } partner { id name: companyName } indirectProvider { id companyName } lastEvent { __typename at actorSubject actorName actorRole action fromStatus toStatus comment } } } } }";
    // Three selections of the same page's nodes, each worked out once for the page.
    const ALIASED: &str = "{ acoRequests(first: 10) { ids: nodes { id } states: nodes { status customer { companyName } } edges { node { key: id version } } } }";
    const ONE: &str = "query($id: ID!) { acoRequest(id: $id) { id status version dueAt stage acoAmount customer { id companyName tenantId } partner { id companyName partnerType } indirectProvider { id companyName partnerType } lastEvent { action } } }";
    let program = world.reviewer(Role::Plsr);
    for (token, seen) in [
        (&reseller.user, 3),
        (&provider.user, 3),
        (&direct.user, 1),
        (&program, 4),
    ] {
        let app = &world.app;
        let run = |query: &'static str| async move {
            let before = aco_api::store::statements_run();
            let data = app.ok(token, query, json!({})).await;
            (data, aco_api::store::statements_run() - before)
        };
        let (brief, brief_cost) = run(BRIEF).await;
        let (whole, whole_cost) = run(WHOLE).await;
        // Every field a node answers without the engine, and the same through a fragment.
        let (plain, _) = run(PLAIN).await;
        let (fragment, _) = run(PLAIN_IN_FRAGMENT).await;
        assert_eq!(plain, fragment);
        let nodes = plain["acoRequests"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), seen);
        assert_eq!(nodes[0]["__typename"], "AcoRequest");
        assert_eq!(nodes[0]["key"], nodes[0]["id"]);
        assert!(nodes[0]["lastEvent"]["actorSubject"].is_string(), "{plain}");
        let (aliased, _) = run(ALIASED).await;
        let page = &aliased["acoRequests"];
        for (i, node) in nodes.iter().enumerate() {
            assert_eq!(page["ids"][i], json!({ "id": node["id"] }));
            assert_eq!(
                page["states"][i],
                json!({ "status": node["status"], "customer": { "companyName": node["customer"]["companyName"] } })
            );
            assert_eq!(
                page["edges"][i]["node"],
                json!({ "key": node["id"], "version": node["version"] })
            );
        }
        let (spelt, spelt_cost) = run(SPELT).await;
        let whole = whole["acoRequests"]["nodes"].as_array().unwrap().clone();
        assert_eq!(whole.len(), seen);
        // The whole page, less what the brief one did not ask, is the brief page.
        let mut less = whole.clone();
        for node in &mut less {
            node.as_object_mut().unwrap().remove("acoAmount");
            node["customer"].as_object_mut().unwrap().remove("tenantId");
            node["partner"]
                .as_object_mut()
                .unwrap()
                .remove("partnerType");
            if let Some(p) = node["indirectProvider"].as_object_mut() {
                p.remove("partnerType");
            }
        }
        assert_eq!(json!(less), brief["acoRequests"]["nodes"]);
        // However it is spelt, the same selection answers the same at the same cost:
        // no field was left to a read per row.
        let spelt: Vec<Value> = spelt["acoRequests"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edge| {
                let mut node = edge["node"].clone();
                let amount = node.as_object_mut().unwrap().remove("amount").unwrap();
                node["acoAmount"] = amount;
                node
            })
            .collect();
        assert_eq!(spelt, whole);
        assert_eq!(spelt_cost, whole_cost);
        assert!(brief_cost <= whole_cost, "{brief_cost} > {whole_cost}");
        // And each node is what the request itself says.
        for node in &whole {
            let data = world.app.ok(token, ONE, json!({ "id": node["id"] })).await;
            assert_eq!(&data["acoRequest"], node);
            assert!(node["customer"]["tenantId"].is_string());
            assert_eq!(node["acoAmount"], "1500.00");
        }
    }
    // Another partner sees none of it, in either form.
    let stranger = world.signed_partner("Tailspin", "DIRECT_BILL").await;
    for query in [BRIEF, WHOLE] {
        let data = world.app.ok(&stranger.user, query, json!({})).await;
        assert_eq!(data["acoRequests"]["nodes"], json!([]));
    }
}

#[tokio::test]
async fn a_list_page_shows_each_request_s_newest_history_entry() {
    let app = TestApp::new();
    let (world, partner, customer) = direct_world(app).await;
    let walked = world.submitted(&partner, &customer, None).await;
    let walked = world.approved(&walked).await;
    let other = world.eligible_customer(&partner, "Fresh").await;
    let fresh = world.submitted(&partner, &other, None).await;
    let data = world
        .app
        .ok(
            &partner.user,
            "{ acoRequests(first: 10) { nodes { id lastEvent { action toStatus } } } }",
            json!({}),
        )
        .await;
    let last = |id: &str| {
        data["acoRequests"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .map(|n| n["lastEvent"].clone())
            .unwrap()
    };
    assert_eq!(
        last(&walked.id),
        json!({ "action": "APPROVE", "toStatus": "OPERATIONS_REVIEW" })
    );
    assert_eq!(
        last(&fresh.id),
        json!({ "action": "SUBMIT", "toStatus": "SUBMITTED" })
    );
}

/// Every mutation echoes the input's `clientMutationId`, whether it acted or
/// was refused, so a client matches answers to calls.
#[tokio::test]
async fn client_mutation_ids_are_echoed_on_success_and_on_refusal() {
    let (world, partner, customer) = direct_world(TestApp::new()).await;
    let request = world.submitted(&partner, &customer, None).await;
    let step = |mutation: &str, version: i64, id: &str| {
        let input = mutation[..1].to_uppercase() + &mutation[1..] + "Input";
        (
            format!(
                "mutation($input: {input}!) {{ {mutation}(input: $input) {{ clientMutationId userErrors {{ code }} }} }}"
            ),
            json!({ "input": { "id": request.id, "version": version, "clientMutationId": id } }),
        )
    };
    // Refused: approval while SUBMITTED.
    let (query, variables) = step("approveAcoRequest", request.version, "call-1");
    let body = world
        .app
        .ok(&world.reviewer(Role::Finance), &query, variables)
        .await;
    assert_eq!(body["approveAcoRequest"]["clientMutationId"], "call-1");
    assert_eq!(
        user_error_codes(&body["approveAcoRequest"]),
        ["INVALID_TRANSITION"]
    );
    // Done: the PLSR's pass, then a refusal for the version it already moved past.
    let query = "mutation($input: PassAcoComplianceCheckInput!) { passAcoComplianceCheck(input: $input) { clientMutationId acoRequest { version } userErrors { code } } }";
    let input = |id: &str| {
        json!({ "input": { "id": request.id, "version": request.version,
            "channelSalesManager": "csm@programme.example", "clientMutationId": id } })
    };
    let plsr = world.reviewer(Role::Plsr);
    let body = world.app.ok(&plsr, query, input("call-2")).await;
    assert_eq!(body["passAcoComplianceCheck"]["clientMutationId"], "call-2");
    assert_eq!(body["passAcoComplianceCheck"]["acoRequest"]["version"], 2);
    let body = world.app.ok(&plsr, query, input("call-3")).await;
    assert_eq!(body["passAcoComplianceCheck"]["clientMutationId"], "call-3");
    assert_eq!(
        user_error_codes(&body["passAcoComplianceCheck"]),
        ["CONFLICT"]
    );
    // Left out, it is null.
    let (query, mut variables) = step("supportAcoRequest", 2, "unused");
    variables["input"]
        .as_object_mut()
        .unwrap()
        .remove("clientMutationId");
    let body = world
        .app
        .ok(&world.reviewer(Role::ChannelSales), &query, variables)
        .await;
    assert_eq!(body["supportAcoRequest"]["clientMutationId"], Value::Null);
    assert!(user_error_codes(&body["supportAcoRequest"]).is_empty());
}
