//! Each mutation's happy path and its refusals (DOMAIN §1, AGR-1, AGR-2).

use serde_json::{Value, json};

use crate::support::*;

const UPDATE_PARTNER: &str = "mutation($input: UpdatePartnerInput!) { updatePartner(input: $input) { partner { id companyName version primaryContact { email } history { nodes { action actorSubject actorRole detail } } } userErrors { code } } }";
const SIGN_MPA: &str = "mutation($input: SignPartnerAgreementInput!) { signPartnerAgreement(input: $input) { partner { partnerAgreement { signerName signerEmail dateAgreed } } userErrors { code field } } }";
const RECORD_MCA: &str = "mutation($input: RecordCustomerAgreementInput!) { recordCustomerAgreement(input: $input) { customer { id } customerAgreement { id dateAgreed acceptanceMethod primaryContact { email } } userErrors { code field } } }";
const CONFIRM_MCA: &str = "mutation($input: ConfirmCustomerAgreementInput!) { confirmCustomerAgreement(input: $input) { customer { mcaConfirmations { partner { id } isCurrent } } userErrors { code } } }";
const REQUEST_REL: &str = "mutation($input: RequestResellerRelationshipInput!) { requestResellerRelationship(input: $input) { relationship { id status customer { id } } userErrors { code field } } }";
const ACCEPT_REL: &str = "mutation($input: AcceptResellerRelationshipInput!) { acceptResellerRelationship(input: $input) { relationship { id status acceptedAt } userErrors { code message } } }";

fn mca_input(customer: &str, method: &str) -> Value {
    json!({ "input": { "customerId": customer, "dateAgreed": "2026-06-01", "acceptanceMethod": method,
        "primaryContact": { "firstName": "Jordan", "lastName": "Signer", "email": "jordan@alpine.example.com" } } })
}

async fn count(app: &TestApp, token: &str, list: &str) -> i64 {
    let data = app
        .ok(token, &format!("{{ {list} {{ totalCount }} }}"), json!({}))
        .await;
    data[list]["totalCount"].as_i64().unwrap()
}

#[tokio::test]
async fn create_partner_is_for_program_admins_and_tenants_are_unique() {
    let world = World::new();
    let app = &world.app;
    let contoso = world.partner("Contoso", "DIRECT_BILL").await;

    // Wrong role: FORBIDDEN whatever the input, even malformed input.
    for token in [
        &contoso.admin,
        &app.token(PROGRAM_TENANT, &[aco_api::domain::Role::Finance], "f"),
    ] {
        let body = app
            .gql(Some(token), CREATE_PARTNER, json!({ "input": { "tenantId": "bad", "domain": "x", "companyName": "", "partnerType": "DIRECT_BILL" } }))
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["reason"],
            "ROLE_NOT_PERMITTED"
        );
    }

    // However the field is reached: an alias, a fragment, an inline fragment,
    // beside a field the caller may use — and nothing of the operation runs.
    let before = count(app, &world.admin, "partners").await;
    for hidden in [
        "mutation { made: createPartner(input: $input) { partner { id } } }",
        "mutation { ...F } fragment F on Mutation { createPartner(input: $input) { partner { id } } }",
        "mutation { ... on Mutation { ... on Mutation { createPartner(input: $input) { partner { id } } } } }",
    ] {
        let query = hidden.replacen("mutation", "mutation($input: CreatePartnerInput!)", 1);
        let input = json!({ "input": { "tenantId": "c1d2e3f4-0000-4000-8000-000000000009", "domain": "hidden.example.com", "companyName": "Hidden", "partnerType": "DIRECT_BILL" } });
        let body = app.gql(Some(&contoso.admin), &query, input).await;
        assert_eq!(code(&body), "FORBIDDEN", "{hidden}: {body}");
        assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    }
    let body = app
        .gql(Some(&contoso.admin), "{ me { subject } } mutation M { createPartner(input: {tenantId: \"x\", domain: \"x\", companyName: \"x\", partnerType: DIRECT_BILL}) { partner { id } } }", json!({}))
        .await;
    assert!(body["errors"][0]["message"].as_str().is_some(), "{body}");
    assert_eq!(count(app, &world.admin, "partners").await, before);

    // A tenant already in use is a business refusal that stores nothing.
    let data = app
        .ok(&world.admin, CREATE_PARTNER, json!({ "input": { "tenantId": contoso.tenant, "domain": "dup.example.com", "companyName": "Dup", "partnerType": "INDIRECT_RESELLER" } }))
        .await;
    assert_eq!(data["createPartner"]["partner"], Value::Null);
    assert_eq!(
        data["createPartner"]["userErrors"][0]["code"],
        "TENANT_IN_USE"
    );
    assert_eq!(
        data["createPartner"]["userErrors"][0]["field"],
        json!(["input", "tenantId"])
    );
    let data = app
        .ok(&world.admin, CREATE_PARTNER, json!({ "input": { "tenantId": PROGRAM_TENANT, "domain": "p.example.com", "companyName": "P", "partnerType": "DIRECT_BILL" } }))
        .await;
    assert_eq!(user_error_codes(&data["createPartner"]), ["TENANT_IN_USE"]);
    assert_eq!(count(app, &world.admin, "partners").await, before);
}

#[tokio::test]
async fn update_partner_changes_fields_and_keeps_history() {
    let world = World::new();
    let contoso = world.partner("Contoso", "DIRECT_BILL").await;
    let data = world
        .app
        .ok(&world.admin, UPDATE_PARTNER, json!({ "input": { "id": contoso.id, "companyName": "Contoso Cloud", "primaryContact": { "email": "ops@contoso.example.com" } } }))
        .await;
    let partner = &data["updatePartner"]["partner"];
    assert_eq!(partner["companyName"], "Contoso Cloud");
    assert_eq!(partner["version"], 2);
    assert_eq!(
        partner["primaryContact"]["email"],
        "ops@contoso.example.com"
    );
    let history = partner["history"]["nodes"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["action"], "PARTNER_UPDATED");
    assert_eq!(history[1]["actorSubject"], "program-admin");
    assert_eq!(history[1]["actorRole"], "PROGRAM_ADMIN");
    assert_eq!(
        history[1]["detail"]["fields"],
        json!(["companyName", "primaryContact"])
    );

    let body = world
        .app
        .gql(
            Some(&contoso.admin),
            UPDATE_PARTNER,
            json!({ "input": { "id": contoso.id, "companyName": "Mine now" } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn link_indirect_reseller_checks_both_partner_types_at_once() {
    let world = World::new();
    let direct = world.partner("Contoso", "DIRECT_BILL").await;
    let reseller = world.partner("Fabrikam", "INDIRECT_RESELLER").await;
    let provider = world.partner("Northwind", "INDIRECT_PROVIDER").await;
    const LINK: &str = "mutation($input: LinkIndirectResellerInput!) { linkIndirectReseller(input: $input) { reseller { id } provider { id } userErrors { code field } } }";

    let data = world
        .app
        .ok(
            &world.admin,
            LINK,
            json!({ "input": { "resellerId": provider.id, "providerId": direct.id } }),
        )
        .await;
    assert_eq!(
        user_error_codes(&data["linkIndirectReseller"]),
        ["NOT_INDIRECT_RESELLER", "NOT_INDIRECT_PROVIDER"]
    );

    let data = world
        .app
        .ok(
            &world.admin,
            LINK,
            json!({ "input": { "resellerId": reseller.id, "providerId": provider.id } }),
        )
        .await;
    assert_eq!(
        data["linkIndirectReseller"]["provider"]["id"],
        provider.id.as_str()
    );
    assert_eq!(data["linkIndirectReseller"]["userErrors"], json!([]));

    let data = world
        .app
        .ok(
            &world.admin,
            LINK,
            json!({ "input": { "resellerId": reseller.id, "providerId": provider.id } }),
        )
        .await;
    assert_eq!(
        user_error_codes(&data["linkIndirectReseller"]),
        ["ALREADY_LINKED"]
    );
}

#[tokio::test]
async fn agr_1_partner_admin_signs_the_mpa() {
    let world = World::new();
    let contoso = world.partner("Contoso", "DIRECT_BILL").await;
    let input = json!({ "input": { "signerName": "Avery Admin", "signerEmail": "avery@contoso.example.com", "dateAgreed": "2026-01-15" } });

    let body = world
        .app
        .gql(Some(&contoso.user), SIGN_MPA, input.clone())
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    let body = world
        .app
        .gql(Some(&world.admin), SIGN_MPA, input.clone())
        .await;
    assert_eq!(code(&body), "FORBIDDEN");

    let data = world.app.ok(&contoso.admin, SIGN_MPA, input).await;
    assert_eq!(
        data["signPartnerAgreement"]["partner"]["partnerAgreement"],
        json!({ "signerName": "Avery Admin", "signerEmail": "avery@contoso.example.com", "dateAgreed": "2026-01-15" })
    );

    let future = json!({ "input": { "signerName": "A", "signerEmail": "a@contoso.example.com", "dateAgreed": "2999-01-01" } });
    let data = world.app.ok(&contoso.admin, SIGN_MPA, future).await;
    assert_eq!(
        data["signPartnerAgreement"]["userErrors"],
        json!([{ "code": "DATE_IN_FUTURE", "field": ["input", "dateAgreed"] }])
    );

    let body = world
        .app
        .gql(
            Some(&contoso.admin),
            SIGN_MPA,
            json!({ "input": { "signerName": "A", "signerEmail": "not-an-email" } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        json!(["input", "signerEmail"])
    );
}

#[tokio::test]
async fn create_customer_by_partner_admin_makes_an_active_relationship() {
    let world = World::new();
    let contoso = world.partner("Contoso", "DIRECT_BILL").await;
    let alpine = world.customer(&contoso, "Alpine").await;
    let data = world
        .app
        .ok(&contoso.user, "query($id: ID!) { customer(id: $id) { tenantId billingProfile { isComplete } relationships { nodes { status partner { id } } } } }", json!({ "id": alpine.id }))
        .await;
    assert_eq!(data["customer"]["tenantId"], alpine.tenant.as_str());
    assert_eq!(data["customer"]["billingProfile"]["isComplete"], true);
    assert_eq!(
        data["customer"]["relationships"]["nodes"],
        json!([{ "status": "ACTIVE", "partner": { "id": contoso.id } }])
    );

    // Programme admins create customers without a relationship; partner users may not create.
    let tenant = new_tenant();
    let data = world
        .app
        .ok(
            &world.admin,
            CREATE_CUSTOMER,
            json!({ "input": customer_input(&tenant, "Coho") }),
        )
        .await;
    let coho = data["createCustomer"]["customer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = world
        .app
        .gql(
            Some(&contoso.user),
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": coho }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = world
        .app
        .gql(
            Some(&contoso.user),
            CREATE_CUSTOMER,
            json!({ "input": customer_input(&new_tenant(), "X") }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");

    // Same tenant twice: refused, nothing stored.
    let data = world
        .app
        .ok(
            &contoso.admin,
            CREATE_CUSTOMER,
            json!({ "input": customer_input(&alpine.tenant, "Again") }),
        )
        .await;
    assert_eq!(user_error_codes(&data["createCustomer"]), ["TENANT_IN_USE"]);
    assert_eq!(count(&world.app, &world.admin, "customers").await, 2);
}

#[tokio::test]
async fn update_customer_replaces_the_billing_profile() {
    let world = World::new();
    let contoso = world.partner("Contoso", "DIRECT_BILL").await;
    let alpine = world.customer(&contoso, "Alpine").await;
    let data = world
        .app
        .ok(
            &contoso.admin,
            "mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) { customer { segment version billingProfile { legalName taxId isComplete } } userErrors { code } } }",
            json!({ "input": { "id": alpine.id, "segment": "ENTERPRISE", "billingProfile": { "legalName": "Alpine Ski House LLC" } } }),
        )
        .await;
    let customer = &data["updateCustomer"]["customer"];
    assert_eq!(customer["segment"], "ENTERPRISE");
    assert_eq!(customer["version"], 2);
    assert_eq!(
        customer["billingProfile"],
        json!({ "legalName": "Alpine Ski House LLC", "taxId": null, "isComplete": false })
    );
}

#[tokio::test]
async fn agr_2_mca_is_recorded_then_confirmed_by_the_partner() {
    let world = World::new();
    let contoso = world.partner("Contoso", "DIRECT_BILL").await;
    let alpine = world.customer(&contoso, "Alpine").await;

    // Nothing to confirm before the customer accepted.
    let data = world
        .app
        .ok(
            &contoso.admin,
            CONFIRM_MCA,
            json!({ "input": { "customerId": alpine.id } }),
        )
        .await;
    assert_eq!(
        user_error_codes(&data["confirmCustomerAgreement"]),
        ["MCA_NOT_ACCEPTED"]
    );

    // The customer records its own acceptance, never as partner-attested.
    let data = world
        .app
        .ok(
            &alpine.signer,
            RECORD_MCA,
            mca_input(&alpine.id, "PARTNER_ATTESTED"),
        )
        .await;
    assert_eq!(
        user_error_codes(&data["recordCustomerAgreement"]),
        ["ACCEPTANCE_METHOD_NOT_ALLOWED"]
    );
    let data = world
        .app
        .ok(
            &alpine.signer,
            RECORD_MCA,
            mca_input(&alpine.id, "CUSTOMER_ACCEPTED"),
        )
        .await;
    let agreement = &data["recordCustomerAgreement"]["customerAgreement"];
    assert_eq!(agreement["acceptanceMethod"], "CUSTOMER_ACCEPTED");
    assert_eq!(agreement["dateAgreed"], "2026-06-01");

    let data = world
        .app
        .ok(
            &contoso.admin,
            CONFIRM_MCA,
            json!({ "input": { "customerId": alpine.id } }),
        )
        .await;
    assert_eq!(
        data["confirmCustomerAgreement"]["customer"]["mcaConfirmations"],
        json!([{ "partner": { "id": contoso.id }, "isCurrent": true }])
    );

    // A newer acceptance makes the old confirmation stale until confirmed again.
    world
        .app
        .ok(
            &contoso.admin,
            RECORD_MCA,
            mca_input(&alpine.id, "PARTNER_ATTESTED"),
        )
        .await;
    let data = world
        .app
        .ok(&contoso.user, "query($id: ID!) { customer(id: $id) { customerAgreement { acceptanceMethod } mcaConfirmations { isCurrent } } }", json!({ "id": alpine.id }))
        .await;
    assert_eq!(
        data["customer"]["customerAgreement"]["acceptanceMethod"],
        "PARTNER_ATTESTED"
    );
    assert_eq!(
        data["customer"]["mcaConfirmations"],
        json!([{ "isCurrent": false }])
    );

    // Partner users read but do not record or confirm.
    let body = world
        .app
        .gql(
            Some(&contoso.user),
            CONFIRM_MCA,
            json!({ "input": { "customerId": alpine.id } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");

    // Incomplete contact: malformed input.
    let body = world
        .app
        .gql(Some(&contoso.admin), RECORD_MCA, json!({ "input": { "customerId": alpine.id, "dateAgreed": "2026-06-01", "acceptanceMethod": "PARTNER_ATTESTED", "primaryContact": { "firstName": "J" } } }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        json!(["input", "primaryContact", "lastName"])
    );
}

#[tokio::test]
async fn reseller_relationship_is_requested_accepted_and_revoked() {
    let world = World::new();
    let contoso = world.partner("Contoso", "DIRECT_BILL").await;
    let northwind = world.partner("Northwind", "INDIRECT_PROVIDER").await;
    let alpine = world.customer(&contoso, "Alpine").await;
    let app = &world.app;

    let data = app
        .ok(
            &northwind.admin,
            REQUEST_REL,
            json!({ "input": { "customerTenantId": new_tenant() } }),
        )
        .await;
    assert_eq!(
        data["requestResellerRelationship"]["userErrors"],
        json!([{ "code": "CUSTOMER_NOT_FOUND", "field": ["input", "customerTenantId"] }])
    );

    let data = app
        .ok(
            &northwind.admin,
            REQUEST_REL,
            json!({ "input": { "customerTenantId": alpine.tenant } }),
        )
        .await;
    let rel = &data["requestResellerRelationship"]["relationship"];
    assert_eq!(rel["status"], "PENDING");
    assert_eq!(
        rel["customer"],
        Value::Null,
        "a pending relationship does not reveal the customer"
    );
    let rel_id = rel["id"].as_str().unwrap().to_owned();

    let data = app
        .ok(
            &northwind.admin,
            REQUEST_REL,
            json!({ "input": { "customerTenantId": alpine.tenant } }),
        )
        .await;
    assert_eq!(
        user_error_codes(&data["requestResellerRelationship"]),
        ["RELATIONSHIP_EXISTS"]
    );

    // The partner cannot accept its own request; the customer can.
    let body = app
        .gql(
            Some(&northwind.admin),
            ACCEPT_REL,
            json!({ "input": { "relationshipId": rel_id } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    let data = app
        .ok(
            &alpine.signer,
            ACCEPT_REL,
            json!({ "input": { "relationshipId": rel_id } }),
        )
        .await;
    assert_eq!(
        data["acceptResellerRelationship"]["relationship"]["status"],
        "ACTIVE"
    );
    let data = app
        .ok(
            &northwind.user,
            "query($id: ID!) { customer(id: $id) { companyName } }",
            json!({ "id": alpine.id }),
        )
        .await;
    assert_eq!(data["customer"]["companyName"], "Alpine");

    let data = app
        .ok(
            &alpine.signer,
            ACCEPT_REL,
            json!({ "input": { "relationshipId": rel_id } }),
        )
        .await;
    let errors = &data["acceptResellerRelationship"]["userErrors"];
    assert_eq!(errors[0]["code"], "INVALID_TRANSITION");
    assert!(errors[0]["message"].as_str().unwrap().contains("ACTIVE"));

    // Another customer's signer cannot even see it.
    let other = world.customer(&contoso, "Coho").await;
    let body = app
        .gql(
            Some(&other.signer),
            ACCEPT_REL,
            json!({ "input": { "relationshipId": rel_id } }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");

    let data = app
        .ok(&northwind.admin, "mutation($input: RevokeResellerRelationshipInput!) { revokeResellerRelationship(input: $input) { relationship { status revokedAt } userErrors { code } } }", json!({ "input": { "relationshipId": rel_id } }))
        .await;
    assert_eq!(
        data["revokeResellerRelationship"]["relationship"]["status"],
        "REVOKED"
    );
    let body = app
        .gql(
            Some(&northwind.user),
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": alpine.id }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    // Revoked is final; a new request starts a new relationship.
    let data = app
        .ok(
            &northwind.admin,
            REQUEST_REL,
            json!({ "input": { "customerTenantId": alpine.tenant } }),
        )
        .await;
    assert_eq!(
        data["requestResellerRelationship"]["relationship"]["status"],
        "PENDING"
    );
}
