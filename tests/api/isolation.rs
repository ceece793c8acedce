//! ROLE-3: another partner's (or customer's) data is NOT_FOUND on every path —
//! by id, through node/nodes, through nested fields and in lists.

use serde_json::{Value, json};

use crate::support::*;

async fn two_partners() -> (
    World,
    PartnerHandle,
    PartnerHandle,
    CustomerHandle,
    CustomerHandle,
) {
    let world = World::new();
    let a = world.partner("Contoso", "DIRECT_BILL").await;
    let b = world.partner("Litware", "DIRECT_BILL").await;
    let ca = world.customer(&a, "Alpine").await;
    let cb = world.customer(&b, "Coho").await;
    (world, a, b, ca, cb)
}

#[tokio::test]
async fn role_3_partner_cannot_reach_another_partners_customer() {
    let (world, a, b, ca, cb) = two_partners().await;
    let app = &world.app;

    for token in [&b.admin, &b.user] {
        let body = app
            .gql(
                Some(token),
                "query($id: ID!) { customer(id: $id) { id } }",
                json!({ "id": ca.id }),
            )
            .await;
        assert_eq!(code(&body), "NOT_FOUND", "{body}");
        // `null` at its key, the error's path naming it: the rest of the answer stays.
        assert_eq!(body["data"], json!({ "customer": null }), "{body}");
        assert_eq!(body["errors"][0]["path"], json!(["customer"]));

        let body = app
            .gql(
                Some(token),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": ca.id }),
            )
            .await;
        assert_eq!(code(&body), "NOT_FOUND", "{body}");
        assert_eq!(body["data"]["node"], Value::Null);

        let body = app
            .gql(
                Some(token),
                "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                json!({ "ids": [cb.id, ca.id] }),
            )
            .await;
        assert_eq!(body["data"]["nodes"][0]["id"], cb.id.as_str(), "{body}");
        assert_eq!(body["data"]["nodes"][1], Value::Null, "{body}");
        assert_eq!(code(&body), "NOT_FOUND");
        assert_eq!(body["errors"][0]["path"], json!(["nodes", 1]));

        let data = app
            .ok(
                token,
                "{ customers { totalCount nodes { id } } }",
                json!({}),
            )
            .await;
        assert_eq!(data["customers"]["totalCount"], 1);
        assert_eq!(data["customers"]["nodes"], json!([{ "id": cb.id }]));

        let body = app
            .gql(
                Some(token),
                "query($id: ID!) { partner(id: $id) { id } }",
                json!({ "id": a.id }),
            )
            .await;
        assert_eq!(code(&body), "NOT_FOUND", "{body}");

        let data = app
            .ok(token, "{ partners { totalCount nodes { id } } }", json!({}))
            .await;
        assert_eq!(data["partners"]["nodes"], json!([{ "id": b.id }]));
    }

    // Writes through the same scope: NOT_FOUND, not FORBIDDEN, and nothing changes.
    let body = app
        .gql(
            Some(&b.admin),
            "mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) { customer { id } } }",
            json!({ "input": { "id": ca.id, "companyName": "Hijacked" } }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let body = app
        .gql(
            Some(&b.admin),
            "mutation($input: RecordCustomerAgreementInput!) { recordCustomerAgreement(input: $input) { customer { id } } }",
            json!({ "input": { "customerId": ca.id, "dateAgreed": "2026-01-05", "acceptanceMethod": "PARTNER_ATTESTED",
                "primaryContact": { "firstName": "A", "lastName": "B", "email": "a@b.com" } } }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let data = app
        .ok(
            &a.admin,
            "query($id: ID!) { customer(id: $id) { companyName customerAgreement { id } } }",
            json!({ "id": ca.id }),
        )
        .await;
    assert_eq!(data["customer"]["companyName"], "Alpine");
    assert_eq!(data["customer"]["customerAgreement"], Value::Null);
}

#[tokio::test]
async fn role_3_nested_fields_are_scoped_like_every_other_path() {
    let (world, a, b, ca, _cb) = two_partners().await;
    let app = &world.app;
    let provider = world.partner("Northwind", "INDIRECT_PROVIDER").await;
    let reseller = world.partner("Fabrikam", "INDIRECT_RESELLER").await;
    world.link(&reseller, &provider).await;
    // The provider and partner B also relate to customer A; partner B's view of
    // the customer's relationships holds only its own.
    world.relate(&b, &ca).await;
    world.relate(&provider, &ca).await;

    let query = "query($id: ID!) { customer(id: $id) { relationships { totalCount nodes { partner { id } customer { id } } } } }";
    let data = app.ok(&b.admin, query, json!({ "id": ca.id })).await;
    assert_eq!(data["customer"]["relationships"]["totalCount"], 1);
    assert_eq!(
        data["customer"]["relationships"]["nodes"][0]["partner"]["id"],
        b.id.as_str()
    );
    let data = app.ok(&world.admin, query, json!({ "id": ca.id })).await;
    assert_eq!(data["customer"]["relationships"]["totalCount"], 3);

    // A partner's customers, seen by someone else, are only those the viewer may see.
    let data = app
        .ok(
            &b.admin,
            "query($id: ID!) { partner(id: $id) { customers { totalCount } } }",
            json!({ "id": b.id }),
        )
        .await;
    assert_eq!(data["partner"]["customers"]["totalCount"], 2);
    let data = app
        .ok(
            &world.admin,
            "query($id: ID!) { partner(id: $id) { customers { totalCount nodes { id } } } }",
            json!({ "id": a.id }),
        )
        .await;
    assert_eq!(
        data["partner"]["customers"]["nodes"],
        json!([{ "id": ca.id }])
    );

    // Linked partners see each other; others do not.
    let data = app
        .ok(&reseller.user, "query($id: ID!) { partner(id: $id) { indirectProviders { nodes { id companyName } } } }", json!({ "id": reseller.id }))
        .await;
    assert_eq!(
        data["partner"]["indirectProviders"]["nodes"][0]["id"],
        provider.id.as_str()
    );
    let data = app
        .ok(
            &provider.user,
            "query($id: ID!) { partner(id: $id) { indirectResellers { totalCount } } }",
            json!({ "id": provider.id }),
        )
        .await;
    assert_eq!(data["partner"]["indirectResellers"]["totalCount"], 1);
    let body = app
        .gql(
            Some(&a.user),
            "query($id: ID!) { partner(id: $id) { id } }",
            json!({ "id": provider.id }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");

    // History is for the partner itself and the programme.
    let data = app
        .ok(
            &reseller.user,
            "query($id: ID!) { partner(id: $id) { history { totalCount } } }",
            json!({ "id": provider.id }),
        )
        .await;
    assert_eq!(data["partner"]["history"], Value::Null);
    let data = app
        .ok(
            &provider.user,
            "query($id: ID!) { partner(id: $id) { history { nodes { action } } } }",
            json!({ "id": provider.id }),
        )
        .await;
    assert_eq!(
        data["partner"]["history"]["nodes"],
        json!([{ "action": "PARTNER_CREATED" }, { "action": "INDIRECT_RESELLER_LINKED" }])
    );
}

#[tokio::test]
async fn role_3_customer_signer_sees_only_its_own_customer() {
    let (world, a, b, ca, cb) = two_partners().await;
    let app = &world.app;
    let data = app
        .ok(
            &ca.signer,
            "{ customers { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["customers"]["nodes"], json!([{ "id": ca.id }]));
    let body = app
        .gql(
            Some(&ca.signer),
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": cb.id }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = app
        .gql(
            Some(&ca.signer),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": cb.id }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    // Its partner is visible; the other partner is not.
    let data = app
        .ok(&ca.signer, "{ partners { nodes { id } } }", json!({}))
        .await;
    assert_eq!(data["partners"]["nodes"], json!([{ "id": a.id }]));
    let body = app
        .gql(
            Some(&ca.signer),
            "query($id: ID!) { partner(id: $id) { id } }",
            json!({ "id": b.id }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn role_3_a_revoked_relationship_hides_the_customer() {
    let world = World::new();
    let a = world.partner("Contoso", "DIRECT_BILL").await;
    let ca = world.customer(&a, "Alpine").await;
    let rel = world.relationship_of(&a, &ca).await;
    let data = world
        .app
        .ok(
            &ca.signer,
            "mutation($input: RevokeResellerRelationshipInput!) { revokeResellerRelationship(input: $input) { relationship { status revokeReason } userErrors { code } } }",
            json!({ "input": { "relationshipId": rel, "reason": "changed partner" } }),
        )
        .await;
    assert_eq!(
        data["revokeResellerRelationship"]["relationship"]["status"],
        "REVOKED"
    );
    let body = world
        .app
        .gql(
            Some(&a.user),
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": ca.id }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    // The partner still sees its own (revoked) relationship, but not the customer through it.
    let data = world
        .app
        .ok(&a.user, "query($id: ID!) { node(id: $id) { ... on ResellerRelationship { status customer { id } } } }", json!({ "id": rel }))
        .await;
    assert_eq!(
        data["node"],
        json!({ "status": "REVOKED", "customer": null })
    );
}

/// A partner's customers are those with an active relationship with it: not
/// pending, not revoked, not another partner's; paged both ways in id order,
/// the same for the programme and for the partner itself.
#[tokio::test]
async fn a_partner_s_customers_are_its_active_relationships_paged_in_id_order() {
    let (world, a, b, ca, cb) = two_partners().await;
    let mut expected = vec![ca.id.clone()];
    for name in ["Bravo", "Cedar", "Delta"] {
        expected.push(world.customer(&a, name).await.id);
    }
    // Another partner's customer that a also works with.
    world.relate(&a, &cb).await;
    expected.push(cb.id.clone());
    // A revoked relationship and a pending one do not count.
    let gone = world.customer(&a, "Gone").await;
    let rel = world.relationship_of(&a, &gone).await;
    world
        .app
        .ok(
            &gone.signer,
            "mutation($input: RevokeResellerRelationshipInput!) { revokeResellerRelationship(input: $input) { userErrors { code } } }",
            json!({ "input": { "relationshipId": rel, "reason": "moved" } }),
        )
        .await;
    let pending = world.customer(&b, "Pending").await;
    world
        .app
        .ok(
            &a.admin,
            "mutation($input: RequestResellerRelationshipInput!) { requestResellerRelationship(input: $input) { userErrors { code } } }",
            json!({ "input": { "customerTenantId": pending.tenant } }),
        )
        .await;
    expected.sort();

    let forwards = "query($id: ID!, $after: String) { partner(id: $id) { customers(first: 2, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } } }";
    let backwards = "query($id: ID!, $before: String) { partner(id: $id) { customers(last: 2, before: $before) { nodes { id } pageInfo { hasPreviousPage startCursor } } } }";
    let ids = |page: &Value| -> Vec<String> {
        page["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    };
    for token in [&world.admin, &a.user] {
        let (mut seen, mut after) = (Vec::new(), Value::Null);
        loop {
            let data = world
                .app
                .ok(token, forwards, json!({ "id": a.id, "after": after }))
                .await;
            let page = &data["partner"]["customers"];
            assert_eq!(page["totalCount"], 5);
            seen.extend(ids(page));
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen, expected);
        let (mut seen, mut before) = (Vec::new(), Value::Null);
        loop {
            let data = world
                .app
                .ok(token, backwards, json!({ "id": a.id, "before": before }))
                .await;
            let page = &data["partner"]["customers"];
            let mut got = ids(page);
            got.extend(seen);
            seen = got;
            if page["pageInfo"]["hasPreviousPage"] != true {
                break;
            }
            before = page["pageInfo"]["startCursor"].clone();
        }
        assert_eq!(seen, expected);
    }
}
