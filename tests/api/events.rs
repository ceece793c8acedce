//! Events: every change written as an event with it, the feed a client
//! resumes from its last cursor, and who sees which events.

use serde_json::{Value, json};

use crate::support::*;

pub const EVENTS: &str = "query($after: String, $first: Int, $types: [EventType!]) {
    events(after: $after, first: $first, types: $types) {
        nodes { id type schemaVersion timestamp actorRole objectId requestId data }
        pageInfo { hasNextPage endCursor }
    }
}";

/// Every event the caller sees after `after`, paged `size` at a time; and
/// the cursor to resume from.
pub async fn feed(
    app: &TestApp,
    token: &str,
    after: Option<String>,
    size: i64,
    types: Option<Value>,
) -> (Vec<Value>, Option<String>) {
    let mut after = after;
    let mut all = Vec::new();
    loop {
        let data = app
            .ok(
                token,
                EVENTS,
                json!({ "after": after, "first": size, "types": types }),
            )
            .await;
        let page = &data["events"];
        let nodes = page["nodes"].as_array().unwrap();
        all.extend(nodes.iter().cloned());
        if let Some(end) = page["pageInfo"]["endCursor"].as_str() {
            after = Some(end.to_owned());
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (all, after);
        }
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// A request of `partner`'s for `customer`, taken to signature: the request
/// and its agreement's id.
async fn signed_request(
    world: &World,
    partner: &PartnerHandle,
    customer: &CustomerHandle,
) -> (RequestHandle, String) {
    let submitted = world.submitted(partner, customer, None).await;
    let approved = world.approved(&submitted).await;
    let (request, agreement) = world.published(&approved).await;
    let signed = world.sign(customer, &agreement).await;
    assert_eq!(signed["userErrors"], json!([]), "{signed}");
    (request, agreement)
}

#[tokio::test]
async fn every_change_of_the_workflow_is_an_event_and_a_refusal_is_none() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let customer = world.eligible_customer(&partner, "Fabrikam").await;
    settle().await;
    let (_, start) = feed(&world.app, &world.admin, None, 100, None).await;
    let (request, agreement) = signed_request(&world, &partner, &customer).await;
    settle().await;
    let (events, end) = feed(&world.app, &world.admin, start.clone(), 100, None).await;
    assert_eq!(
        types(&events),
        [
            "ACO_REQUEST_SUBMITTED",
            "ACO_REQUEST_STATUS_CHANGED",
            "ACO_REQUEST_STATUS_CHANGED",
            "ACO_REQUEST_STATUS_CHANGED",
            "ACO_REQUEST_STATUS_CHANGED",
            "AGREEMENT_PUBLISHED",
            "ACO_REQUEST_STATUS_CHANGED",
            "AGREEMENT_SIGNED",
            "CREDIT_GRANTED",
        ]
    );
    for event in &events {
        assert_eq!(event["requestId"], json!(request.id));
        assert_eq!(event["schemaVersion"], json!(1));
        assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    }
    let submitted = &events[0];
    assert_eq!(submitted["objectId"], json!(request.id));
    assert_eq!(submitted["actorRole"], json!("PARTNER_USER"));
    assert_eq!(submitted["data"]["toStatus"], json!("SUBMITTED"));
    assert_eq!(events[1]["data"]["fromStatus"], json!("SUBMITTED"));
    assert_eq!(events[1]["actorRole"], json!("PLSR"));
    assert_eq!(events[5]["objectId"], json!(agreement));
    assert_eq!(events[7]["actorRole"], json!("CUSTOMER_SIGNER"));
    assert_eq!(events[8]["data"]["amount"], json!("1500.00"));

    // A refused step (a stale version) changes nothing: no event.
    let refused = world
        .act(
            &partner.user,
            "cancelAcoRequest",
            &RequestHandle {
                id: request.id.clone(),
                version: 1,
            },
            json!({}),
        )
        .await;
    assert_ne!(refused["userErrors"], json!([]));
    settle().await;
    let (after, _) = feed(&world.app, &world.admin, end.clone(), 100, None).await;
    assert_eq!(after, Vec::<Value>::new());

    // Usage recorded and corrected, each an event of the customer's.
    for acr in ["100.00", "120.00"] {
        let data = world
            .app
            .ok(
                &partner.admin,
                "mutation($input: RecordMonthlyUsageInput!) { recordMonthlyUsage(input: $input) { userErrors { code message } } }",
                json!({ "input": { "customerId": customer.id, "month": current_month(), "firstPartyAcr": acr, "thirdPartyCharges": "0.00" } }),
            )
            .await;
        assert_eq!(data["recordMonthlyUsage"]["userErrors"], json!([]));
    }
    settle().await;
    let (usage, _) = feed(&world.app, &world.admin, end, 100, None).await;
    assert_eq!(types(&usage), ["USAGE_RECORDED", "USAGE_CORRECTED"]);
    assert_eq!(usage[1]["objectId"], json!(customer.id));
    assert_eq!(usage[1]["data"]["partnerId"], json!(partner.id));
}

/// This month, as the service's clock in tests has it.
fn current_month() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

#[tokio::test]
async fn a_client_resumes_from_its_last_cursor_and_misses_nothing() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    for name in ["Alpha", "Beta", "Gamma"] {
        world.customer(&partner, name).await;
    }
    settle().await;
    let (whole, _) = feed(&world.app, &world.admin, None, 100, None).await;
    assert!(whole.len() >= 9, "{whole:?}");
    // Pages of every size give the same events, in the same order.
    for size in [1, 2, 3, 7] {
        let (paged, _) = feed(&world.app, &world.admin, None, size, None).await;
        assert_eq!(paged, whole, "pages of {size}");
    }
    // Resumed from the last cursor: only what came since.
    let (_, cursor) = feed(&world.app, &world.admin, None, 5, None).await;
    world.customer(&partner, "Delta").await;
    settle().await;
    let (since, _) = feed(&world.app, &world.admin, cursor, 5, None).await;
    assert_eq!(
        types(&since),
        ["CUSTOMER_CREATED", "RELATIONSHIP_CREATED"],
        "{since:?}"
    );
    // Filtered by type.
    let (created, _) = feed(
        &world.app,
        &world.admin,
        None,
        2,
        Some(json!(["CUSTOMER_CREATED"])),
    )
    .await;
    assert_eq!(created.len(), 4);
    // A cursor that is not one of the feed's is bad input.
    let body = world
        .app
        .gql(
            Some(&world.admin),
            EVENTS,
            json!({ "after": "bm90LWEtY3Vyc29y" }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn role_3_ledger_2_each_reader_sees_the_events_of_the_objects_it_may_see() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let rival = world.signed_partner("Rival", "DIRECT_BILL").await;
    let customer = world.eligible_customer(&partner, "Fabrikam").await;
    settle().await;
    let (_, start) = feed(&world.app, &world.admin, None, 100, None).await;
    let (request, _) = signed_request(&world, &partner, &customer).await;
    let data = world
        .app
        .ok(
            &partner.admin,
            "mutation($input: RecordMonthlyUsageInput!) { recordMonthlyUsage(input: $input) { userErrors { code message } } }",
            json!({ "input": { "customerId": customer.id, "month": current_month(), "firstPartyAcr": "10.00", "thirdPartyCharges": "0.00" } }),
        )
        .await;
    assert_eq!(data["recordMonthlyUsage"]["userErrors"], json!([]));
    settle().await;
    let (everything, _) = feed(&world.app, &world.admin, start.clone(), 100, None).await;
    assert_eq!(everything.len(), 10);
    // The partner sees its request, agreement, credit and usage events.
    let (own, _) = feed(&world.app, &partner.user, start.clone(), 100, None).await;
    assert_eq!(own, everything);
    // Another partner sees none of them (LEDGER-2, ROLE-3).
    let (theirs, _) = feed(&world.app, &rival.admin, start.clone(), 100, None).await;
    assert_eq!(theirs, Vec::<Value>::new());
    // The customer's signer sees its agreement and credit, not the review.
    let (signer, _) = feed(&world.app, &customer.signer, start.clone(), 100, None).await;
    assert_eq!(
        types(&signer),
        [
            "AGREEMENT_PUBLISHED",
            "AGREEMENT_SIGNED",
            "CREDIT_GRANTED",
            "USAGE_RECORDED"
        ]
    );
    assert!(
        signer
            .iter()
            .all(|e| e["requestId"] == json!(request.id) || e["type"] == json!("USAGE_RECORDED"))
    );
    // Partner events: the partner's own authorization is its own.
    let (rival_all, _) = feed(&world.app, &rival.admin, None, 100, None).await;
    assert!(
        rival_all
            .iter()
            .all(|e| e["objectId"] != json!(partner.id) && e["objectId"] != json!(customer.id)),
        "{rival_all:?}"
    );
    assert!(
        types(&rival_all).contains(&"PARTNER_AUTHORIZATION_CHANGED"),
        "{rival_all:?}"
    );
}

#[tokio::test]
async fn events_are_kept_for_the_retention_period_then_removed_oldest_first() {
    let world = World::on(TestApp::configured(|c| {
        c.clock = at("2027-01-05T10:00:00Z");
    }));
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    world.customer(&partner, "Old Customer").await;
    settle().await;
    let (before, _) = feed(&world.app, &world.admin, None, 100, None).await;
    // 91 days on: the old events are past the 90 days they are kept.
    let world = world.at("2027-04-06T10:00:00Z");
    let young = world.customer(&partner, "Young Customer").await;
    let config = world.app.config.clone();
    let (removed, _) = aco_api::jobs::remove_expired_events(&open_store(&config), &config)
        .await
        .unwrap();
    assert_eq!(removed, before.len());
    settle().await;
    let (after, _) = feed(&world.app, &world.admin, None, 100, None).await;
    assert_eq!(
        types(&after),
        ["CUSTOMER_CREATED", "RELATIONSHIP_CREATED"],
        "{after:?}"
    );
    assert_eq!(after[0]["objectId"], json!(young.id));
    // Nothing more is old enough: a second run removes nothing.
    let (again, _) = aco_api::jobs::remove_expired_events(&open_store(&config), &config)
        .await
        .unwrap();
    assert_eq!(again, 0);
}
