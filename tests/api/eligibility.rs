//! DOMAIN §3 through the API: the pre-flight check lists every rule with a
//! remedy, and submission refuses with every failing rule and stores nothing.

use aco_api::domain::Role;
use serde_json::{Value, json};

use crate::support::*;

const ELIGIBILITY: &str = "query($input: AcoEligibilityInput!) { acoEligibility(input: $input) { eligible acoAmount rules { rule code passed message remedy } } }";

fn failing(report: &Value) -> Vec<String> {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] == false)
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Checks the pre-flight report and the submission agree on exactly `codes`,
/// and that a refused submission stored nothing.
async fn assert_fails(world: &World, token: &str, input: Value, codes: &[&str]) {
    let data = world
        .app
        .ok(token, ELIGIBILITY, json!({ "input": input }))
        .await;
    let report = &data["acoEligibility"];
    assert_eq!(failing(report), codes, "{report}");
    assert_eq!(report["eligible"], codes.is_empty());
    assert_eq!(
        report["rules"].as_array().unwrap().len(),
        aco_api::domain::eligibility::RULES.len(),
        "every rule is listed"
    );
    for rule in report["rules"].as_array().unwrap() {
        assert!(!rule["message"].as_str().unwrap().is_empty());
        assert_eq!(rule["remedy"].is_null(), rule["passed"] == true, "{rule}");
    }
    let before = world
        .app
        .ok(&world.admin, "{ acoRequests { totalCount } }", json!({}))
        .await;
    let mut submit_input = input.clone();
    submit_input.as_object_mut().unwrap().remove("partnerId");
    let data = world
        .app
        .ok(token, SUBMIT, json!({ "input": submit_input }))
        .await;
    let payload = &data["submitAcoRequest"];
    if codes.is_empty() {
        assert_eq!(payload["userErrors"], json!([]));
        assert_eq!(payload["acoRequest"]["status"], "SUBMITTED");
    } else {
        assert_eq!(user_error_codes(payload), codes);
        assert_eq!(payload["acoRequest"], Value::Null);
        let after = world
            .app
            .ok(&world.admin, "{ acoRequests { totalCount } }", json!({}))
            .await;
        assert_eq!(before, after, "a refused submission stores nothing");
    }
}

/// The rule `code` as the report lists it.
fn listed(report: &Value, code: &str) -> Value {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .cloned()
        .unwrap_or_else(|| panic!("{code} is not listed: {report}"))
}

async fn direct_world() -> (World, PartnerHandle, CustomerHandle) {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let customer = world.eligible_customer(&partner, "Alpine").await;
    (world, partner, customer)
}

async fn update_customer(
    world: &World,
    partner: &PartnerHandle,
    customer: &CustomerHandle,
    change: Value,
) {
    let mut input = json!({ "id": customer.id });
    for (k, v) in change.as_object().unwrap() {
        input[k] = v.clone();
    }
    let data = world
        .app
        .ok(&partner.admin, "mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) { userErrors { code } } }", json!({ "input": input }))
        .await;
    assert_eq!(data["updateCustomer"]["userErrors"], json!([]));
}

#[tokio::test]
async fn an_eligible_deal_passes_every_rule() {
    let (world, partner, customer) = direct_world().await;
    assert_fails(&world, &partner.user, deal(&customer.id, "15000.00"), &[]).await;
}

#[tokio::test]
async fn elig_1_customer_not_us() {
    let (world, partner, customer) = direct_world().await;
    update_customer(&world, &partner, &customer, json!({ "country": "CA" })).await;
    assert_fails(
        &world,
        &partner.user,
        deal(&customer.id, "15000.00"),
        &["CUSTOMER_NOT_US"],
    )
    .await;
}

#[tokio::test]
async fn elig_2_customer_not_smb() {
    let (world, partner, customer) = direct_world().await;
    update_customer(
        &world,
        &partner,
        &customer,
        json!({ "segment": "ENTERPRISE" }),
    )
    .await;
    assert_fails(
        &world,
        &partner.user,
        deal(&customer.id, "15000.00"),
        &["CUSTOMER_NOT_SMB"],
    )
    .await;
}

#[tokio::test]
async fn elig_3_customer_not_commercial() {
    let (world, partner, customer) = direct_world().await;
    for kind in ["NON_PROFIT", "EDUCATION", "GOVERNMENT"] {
        update_customer(
            &world,
            &partner,
            &customer,
            json!({ "organizationKind": kind }),
        )
        .await;
        let data = world
            .app
            .ok(
                &partner.user,
                ELIGIBILITY,
                json!({ "input": deal(&customer.id, "15000.00") }),
            )
            .await;
        assert_eq!(
            failing(&data["acoEligibility"]),
            ["CUSTOMER_NOT_COMMERCIAL"],
            "{kind}"
        );
    }
    assert_fails(
        &world,
        &partner.user,
        deal(&customer.id, "15000.00"),
        &["CUSTOMER_NOT_COMMERCIAL"],
    )
    .await;
}

#[tokio::test]
async fn elig_4_billing_profile_incomplete() {
    let (world, partner, customer) = direct_world().await;
    update_customer(
        &world,
        &partner,
        &customer,
        json!({ "billingProfile": { "legalName": "Alpine LLC", "taxId": "91-1", "registrationNumber": "R1", "defaultAddress": { "addressLine1": "1 Main", "city": "Seattle", "postalCode": "98101", "country": "US" } } }),
    )
    .await;
    assert_fails(
        &world,
        &partner.user,
        deal(&customer.id, "15000.00"),
        &["BILLING_PROFILE_INCOMPLETE"],
    )
    .await;
}

#[tokio::test]
async fn elig_5_mca_not_accepted_legacy_csp() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let customer = world.customer(&partner, "Legacy").await;
    // Without an acceptance there is nothing the partner could have confirmed either.
    assert_fails(
        &world,
        &partner.user,
        deal(&customer.id, "15000.00"),
        &["MCA_NOT_ACCEPTED", "MCA_NOT_CONFIRMED"],
    )
    .await;
}

#[tokio::test]
async fn elig_6_mpa_not_signed() {
    let world = World::new();
    let partner = world.partner("Contoso", "DIRECT_BILL").await;
    world.meet_requirements(&partner, "DIRECT_BILL").await;
    let customer = world.eligible_customer(&partner, "Alpine").await;
    // The MPA is also one of the CSP requirements (§8): without it the
    // partner is not in good standing either.
    assert_fails(
        &world,
        &partner.user,
        deal(&customer.id, "15000.00"),
        &["MPA_NOT_SIGNED", "PARTNER_NOT_AUTHORIZED"],
    )
    .await;
}

#[tokio::test]
async fn elig_7_mca_not_confirmed_by_the_partner() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let customer = world.customer(&partner, "Alpine").await;
    world.accept_mca(&partner, &customer).await;
    assert_fails(
        &world,
        &partner.user,
        deal(&customer.id, "15000.00"),
        &["MCA_NOT_CONFIRMED"],
    )
    .await;
    // A confirmation of an older acceptance does not count for a newer one.
    world.confirm_mca(&partner, &customer).await;
    world.accept_mca(&partner, &customer).await;
    assert_fails(
        &world,
        &partner.user,
        deal(&customer.id, "15000.00"),
        &["MCA_NOT_CONFIRMED"],
    )
    .await;
}

#[tokio::test]
async fn elig_8_no_reseller_relationship() {
    let (world, partner, customer) = direct_world().await;
    let rel = world.relationship_of(&partner, &customer).await;
    world
        .app
        .ok(&customer.signer, "mutation($input: RevokeResellerRelationshipInput!) { revokeResellerRelationship(input: $input) { userErrors { code } } }", json!({ "input": { "relationshipId": rel } }))
        .await;
    // A programme reviewer sees the rule fail for that partner.
    let mut input = deal(&customer.id, "15000.00");
    input["partnerId"] = json!(partner.id);
    let data = world
        .app
        .ok(
            &world.reviewer(Role::Plsr),
            ELIGIBILITY,
            json!({ "input": input }),
        )
        .await;
    assert_eq!(
        failing(&data["acoEligibility"]),
        ["NO_RESELLER_RELATIONSHIP"]
    );
    // The partner itself no longer sees the customer at all (ROLE-3).
    let body = world
        .app
        .gql(
            Some(&partner.user),
            SUBMIT,
            json!({ "input": deal(&customer.id, "15000.00") }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn elig_9_provider_relationship_missing() {
    let world = World::new();
    let provider = world.signed_partner("Northwind", "INDIRECT_PROVIDER").await;
    let other_provider = world.signed_partner("Litware", "INDIRECT_PROVIDER").await;
    let reseller = world.signed_partner("Fabrikam", "INDIRECT_RESELLER").await;
    world.link(&reseller, &provider).await;
    let customer = world.eligible_customer(&reseller, "Alpine").await;
    let with_provider = |p: &PartnerHandle| {
        let mut input = deal(&customer.id, "15000.00");
        input["indirectProviderId"] = json!(p.id);
        input
    };
    // No provider named; a provider that is not linked; a linked one without its own relationship.
    let data = world
        .app
        .ok(
            &reseller.user,
            ELIGIBILITY,
            json!({ "input": deal(&customer.id, "15000.00") }),
        )
        .await;
    assert_eq!(
        failing(&data["acoEligibility"]),
        ["PROVIDER_RELATIONSHIP_MISSING"]
    );
    world.relate(&other_provider, &customer).await;
    let data = world
        .app
        .ok(
            &reseller.user,
            ELIGIBILITY,
            json!({ "input": with_provider(&other_provider) }),
        )
        .await;
    assert_eq!(
        failing(&data["acoEligibility"]),
        ["PROVIDER_RELATIONSHIP_MISSING"]
    );
    assert_fails(
        &world,
        &reseller.user,
        with_provider(&provider),
        &["PROVIDER_RELATIONSHIP_MISSING"],
    )
    .await;
    // Once the linked provider relates to the customer, the reseller may submit.
    world.relate(&provider, &customer).await;
    assert_fails(&world, &reseller.user, with_provider(&provider), &[]).await;
}

#[tokio::test]
async fn elig_10_deal_below_minimum() {
    let (world, partner, customer) = direct_world().await;
    let data = world
        .app
        .ok(
            &partner.user,
            ELIGIBILITY,
            json!({ "input": deal(&customer.id, "5000.00") }),
        )
        .await;
    assert_eq!(
        data["acoEligibility"]["eligible"], true,
        "exactly the minimum passes"
    );
    assert_fails(
        &world,
        &partner.user,
        deal(&customer.id, "4999.99"),
        &["DEAL_BELOW_MINIMUM"],
    )
    .await;
}

#[tokio::test]
async fn elig_11_aco_amount_is_a_tenth_rounded_down() {
    let (world, partner, customer) = direct_world().await;
    for (acr, aco) in [
        ("15000.00", "1500.00"),
        ("12345.67", "1234.56"),
        ("5000.09", "500.00"),
    ] {
        let data = world
            .app
            .ok(
                &partner.user,
                ELIGIBILITY,
                json!({ "input": deal(&customer.id, acr) }),
            )
            .await;
        assert_eq!(data["acoEligibility"]["acoAmount"], aco, "{acr}");
    }
    let data = world
        .app
        .ok(
            &partner.user,
            SUBMIT,
            json!({ "input": deal(&customer.id, "12345.67") }),
        )
        .await;
    assert_eq!(
        data["submitAcoRequest"]["acoRequest"]["acoAmount"],
        "1234.56"
    );
    // The amount is computed, never typed in; and money is a string.
    let mut input = deal(&customer.id, "15000.00");
    input["estimatedAcr"] = json!(15000);
    let body = world
        .app
        .gql(Some(&partner.user), ELIGIBILITY, json!({ "input": input }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    for bad in ["-1.00", "1e3", "NaN", "0.001"] {
        let body = world
            .app
            .gql(
                Some(&partner.user),
                ELIGIBILITY,
                json!({ "input": deal(&customer.id, bad) }),
            )
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad}: {body}");
    }
}

#[tokio::test]
async fn elig_12_scope_missing() {
    let (world, partner, customer) = direct_world().await;
    for field in ["scenario", "workloads", "timeline"] {
        let mut input = deal(&customer.id, "15000.00");
        input.as_object_mut().unwrap().remove(field);
        let data = world
            .app
            .ok(&partner.user, ELIGIBILITY, json!({ "input": input }))
            .await;
        assert_eq!(
            failing(&data["acoEligibility"]),
            ["SCOPE_MISSING"],
            "{field}"
        );
    }
    let mut input = deal(&customer.id, "15000.00");
    input["timeline"] = json!({ "start": "2027-08-01", "end": "2027-02-01" });
    assert_fails(&world, &partner.user, input, &["SCOPE_MISSING"]).await;
}

/// ELIG-12 names each missing part at its own input field, so that a form
/// can mark it: one user error per part, never a field the input lacks.
#[tokio::test]
async fn elig_12_scope_missing_points_to_each_missing_field() {
    let (world, partner, customer) = direct_world().await;
    let mut input = deal(&customer.id, "15000.00");
    for field in ["scenario", "workloads", "timeline"] {
        input.as_object_mut().unwrap().remove(field);
    }
    let data = world
        .app
        .ok(&partner.user, SUBMIT, json!({ "input": input }))
        .await;
    let errors = data["submitAcoRequest"]["userErrors"].as_array().unwrap();
    let fields: Vec<&Value> = errors.iter().map(|e| &e["field"]).collect();
    assert_eq!(
        fields,
        [
            &json!(["input", "scenario"]),
            &json!(["input", "workloads"]),
            &json!(["input", "timeline"])
        ],
        "{errors:?}"
    );
    assert!(errors.iter().all(|e| e["code"] == "SCOPE_MISSING"));
}

#[tokio::test]
async fn elig_13_open_request_exists() {
    let (world, partner, customer) = direct_world().await;
    let request = world.submitted(&partner, &customer, None).await;
    assert_fails(
        &world,
        &partner.user,
        deal(&customer.id, "20000.00"),
        &["OPEN_REQUEST_EXISTS"],
    )
    .await;
    world
        .advance(
            &partner.user,
            "cancelAcoRequest",
            &request,
            json!({ "reason": "wrong estimate" }),
        )
        .await;
    assert_fails(&world, &partner.user, deal(&customer.id, "20000.00"), &[]).await;
}

#[tokio::test]
async fn several_failing_rules_are_all_reported_at_once() {
    let world = World::new();
    let partner = world.partner("Contoso", "DIRECT_BILL").await;
    let customer = world.customer(&partner, "Alpine").await;
    update_customer(
        &world,
        &partner,
        &customer,
        json!({ "country": "CA", "segment": "ENTERPRISE" }),
    )
    .await;
    let mut input = deal(&customer.id, "100.00");
    input.as_object_mut().unwrap().remove("workloads");
    assert_fails(
        &world,
        &partner.user,
        input,
        &[
            "CUSTOMER_NOT_US",
            "CUSTOMER_NOT_SMB",
            "MCA_NOT_ACCEPTED",
            "MPA_NOT_SIGNED",
            "MCA_NOT_CONFIRMED",
            "DEAL_BELOW_MINIMUM",
            "SCOPE_MISSING",
            "PARTNER_NOT_AUTHORIZED",
        ],
    )
    .await;
}

/// ELIG-15: a partner failing its type's CSP requirements may not submit,
/// unless it is within the 30 days a reassessment gave it to remediate.
#[tokio::test]
async fn elig_15_partner_not_authorized() {
    let world = World::on(TestApp::configured(|c| {
        c.clock = at("2027-01-20T10:00:00Z")
    }));
    let partner = world
        .signed_partner_without_profile("Contoso", "DIRECT_BILL")
        .await;
    let customer = world.eligible_customer(&partner, "Alpine").await;
    let data = world
        .app
        .ok(
            &partner.user,
            ELIGIBILITY,
            json!({ "input": deal(&customer.id, "15000.00") }),
        )
        .await;
    let rule = listed(&data["acoEligibility"], "PARTNER_NOT_AUTHORIZED");
    assert_eq!(
        (rule["rule"].clone(), rule["passed"].clone()),
        (json!("ELIG-15"), json!(false))
    );
    assert!(
        rule["remedy"]
            .as_str()
            .unwrap()
            .contains("updatePartnerProfile")
    );
    assert_fails(
        &world,
        &partner.user,
        deal(&customer.id, "15000.00"),
        &["PARTNER_NOT_AUTHORIZED"],
    )
    .await;
    // Within a remediation window it is still authorized.
    let data = world
        .app
        .ok(
            &world.admin,
            "mutation($input: ReassessPartnerInput!) { reassessPartner(input: $input) { authorization { authorized meetsRequirements } } }",
            json!({ "input": { "partnerId": partner.id } }),
        )
        .await;
    assert_eq!(
        data["reassessPartner"]["authorization"],
        json!({ "authorized": true, "meetsRequirements": false })
    );
    assert_fails(&world, &partner.user, deal(&customer.id, "15000.00"), &[]).await;
}

#[tokio::test]
async fn role_1_an_indirect_provider_can_never_submit() {
    let world = World::new();
    let provider = world.signed_partner("Northwind", "INDIRECT_PROVIDER").await;
    let customer = world.eligible_customer(&provider, "Alpine").await;
    for token in [&provider.admin, &provider.user] {
        for input in [
            deal(&customer.id, "15000.00"),
            json!({ "customerId": "garbage", "estimatedAcr": "x" }),
        ] {
            let body = world
                .app
                .gql(Some(token), SUBMIT, json!({ "input": input }))
                .await;
            assert_eq!(code(&body), "FORBIDDEN", "{body}");
            assert_eq!(
                body["errors"][0]["extensions"]["reason"],
                "INDIRECT_PROVIDER_CANNOT_SUBMIT"
            );
        }
        let body = world
            .app
            .gql(
                Some(token),
                ELIGIBILITY,
                json!({ "input": deal(&customer.id, "15000.00") }),
            )
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["reason"],
            "INDIRECT_PROVIDER_CANNOT_SUBMIT"
        );
    }
    assert_eq!(
        world
            .app
            .ok(&world.admin, "{ acoRequests { totalCount } }", json!({}))
            .await["acoRequests"]["totalCount"],
        0
    );
}

#[tokio::test]
async fn role_2_programme_roles_and_signers_never_submit() {
    let (world, _partner, customer) = direct_world().await;
    for role in [
        Role::Plsr,
        Role::ChannelSales,
        Role::Finance,
        Role::Operations,
        Role::ProgramAdmin,
    ] {
        let body = world
            .app
            .gql(
                Some(&world.reviewer(role)),
                SUBMIT,
                json!({ "input": deal(&customer.id, "15000.00") }),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "{role}");
        assert_eq!(
            body["errors"][0]["extensions"]["reason"],
            "PROGRAM_ROLE_CANNOT_SUBMIT"
        );
    }
    let body = world
        .app
        .gql(
            Some(&customer.signer),
            SUBMIT,
            json!({ "input": deal(&customer.id, "15000.00") }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"],
        "CUSTOMER_CANNOT_SUBMIT"
    );
}

#[tokio::test]
async fn elig_14_a_programme_check_for_an_indirect_provider_is_not_eligible() {
    let world = World::new();
    let provider = world.signed_partner("Northwind", "INDIRECT_PROVIDER").await;
    let customer = world.eligible_customer(&provider, "Alpine").await;
    let mut input = deal(&customer.id, "15000.00");
    input["partnerId"] = json!(provider.id);
    let data = world
        .app
        .ok(
            &world.reviewer(aco_api::domain::Role::Plsr),
            ELIGIBILITY,
            json!({ "input": input }),
        )
        .await;
    let report = &data["acoEligibility"];
    assert_eq!(report["eligible"], false, "{report}");
    assert_eq!(failing(report), ["NOT_TRANSACTING_PARTNER"], "{report}");
    // What the deal would be worth is still shown.
    assert_eq!(report["acoAmount"], "1500.00", "{report}");
    // For a transacting partner the rule is listed, and passed.
    let direct = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let other = world.eligible_customer(&direct, "Bravo").await;
    let data = world
        .app
        .ok(
            &direct.user,
            ELIGIBILITY,
            json!({ "input": deal(&other.id, "15000.00") }),
        )
        .await;
    let rule = listed(&data["acoEligibility"], "NOT_TRANSACTING_PARTNER");
    assert_eq!(rule["passed"], true, "{rule}");
}
