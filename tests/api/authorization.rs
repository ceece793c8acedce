//! DOMAIN §8: CSP authorization requirements per partner type, reassessment,
//! the 30-day remediation window and demotion (AUTH-1).

use serde_json::{Value, json};

use crate::support::*;

const PROFILE: &str = "mutation($input: UpdatePartnerProfileInput!) { updatePartnerProfile(input: $input) { authorization { meetsRequirements requirements { code passed figure } } userErrors { code field } } }";
const AUTHORIZATION: &str = "query($id: ID!) { partner(id: $id) { partnerType authorization { partnerType meetsRequirements authorized authorizedSince nextReassessment remediationDeadline reapplyBlockedUntil requirements { code passed figure remedy } lastAssessment { passed failedRequirements outcome } } } }";
const REASSESS: &str = "mutation($input: ReassessPartnerInput!) { reassessPartner(input: $input) { authorization { authorized remediationDeadline meetsRequirements } userErrors { code } } }";
const EXPIRE: &str = "mutation { expireRemediation { outcomes { outcome partner { id partnerType } } userErrors { code } } }";

fn failing(authorization: &Value) -> Vec<String> {
    authorization["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] == false)
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

fn codes(authorization: &Value) -> Vec<String> {
    authorization["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

async fn set_profile(world: &World, partner: &str, fields: Value) -> Value {
    let mut input = json!({ "partnerId": partner });
    for (k, v) in fields.as_object().unwrap() {
        input[k] = v.clone();
    }
    let data = world
        .app
        .ok(&world.admin, PROFILE, json!({ "input": input }))
        .await;
    data["updatePartnerProfile"].clone()
}

async fn authorization(world: &World, partner: &str) -> Value {
    world
        .app
        .ok(&world.admin, AUTHORIZATION, json!({ "id": partner }))
        .await["partner"]["authorization"]
        .clone()
}

fn complete(revenue: &str) -> Value {
    json!({ "revenueTrailing12m": revenue, "mfaForAllAdmins": true, "securityContactEmail": "security@partner.example.com",
        "supportPlan": "ASFP", "indirectResellerSince": "2024-01-15", "solutionsPartnerDesignations": ["Infrastructure (Azure)"],
        "capabilitiesAssessmentPassed": true, "creditCheckPassed": true, "priorExperienceAssessed": true,
        "businessEmail": "jane.doe@partner.example.com" })
}

#[tokio::test]
async fn each_type_lists_its_own_requirements() {
    let world = World::on(TestApp::configured(|c| {
        c.clock = at("2027-01-20T10:00:00Z")
    }));
    let reseller = world
        .signed_partner_without_profile("Fabrikam", "INDIRECT_RESELLER")
        .await;
    let direct = world
        .signed_partner_without_profile("Contoso", "DIRECT_BILL")
        .await;
    let provider = world
        .signed_partner_without_profile("Northwind", "INDIRECT_PROVIDER")
        .await;
    assert_eq!(
        codes(&authorization(&world, &reseller.id).await),
        [
            "REVENUE",
            "MPA_ACCEPTED",
            "MFA_ALL_ADMINS",
            "SECURITY_CONTACT",
            "BUSINESS_EMAIL"
        ]
    );
    assert_eq!(
        codes(&authorization(&world, &direct.id).await),
        [
            "REVENUE",
            "MPA_ACCEPTED",
            "MFA_ALL_ADMINS",
            "SECURITY_CONTACT",
            "SUPPORT_PLAN",
            "PRIOR_EXPERIENCE",
            "SOLUTIONS_PARTNER_DESIGNATION",
            "CAPABILITIES_ASSESSMENT",
            "CREDIT_CHECK"
        ]
    );
    assert_eq!(
        codes(&authorization(&world, &provider.id).await),
        [
            "REVENUE",
            "MPA_ACCEPTED",
            "MFA_ALL_ADMINS",
            "SECURITY_CONTACT",
            "SUPPORT_PLAN",
            "PRIOR_EXPERIENCE",
            "CAPABILITIES_ASSESSMENT"
        ]
    );
    // Every requirement says what it was judged on and how to fix it.
    let a = authorization(&world, &direct.id).await;
    assert!(
        a["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !r["figure"].as_str().unwrap().is_empty()
                && !r["remedy"].as_str().unwrap().is_empty())
    );
    assert_eq!(a["meetsRequirements"], false);
}

#[tokio::test]
async fn revenue_thresholds_pass_at_exactly_the_minimum() {
    let world = World::on(TestApp::configured(|c| {
        c.clock = at("2027-01-20T10:00:00Z")
    }));
    for (kind, minimum, below) in [
        ("INDIRECT_RESELLER", "1000.00", "999.99"),
        ("DIRECT_BILL", "1000000.00", "999999.99"),
    ] {
        let partner = world
            .signed_partner_without_profile(&format!("P{}", kind.replace('_', "")), kind)
            .await;
        let payload = set_profile(&world, &partner.id, complete(minimum)).await;
        assert_eq!(
            failing(&payload["authorization"]),
            Vec::<String>::new(),
            "{kind} at {minimum}: {payload}"
        );
        let payload =
            set_profile(&world, &partner.id, json!({ "revenueTrailing12m": below })).await;
        assert_eq!(
            failing(&payload["authorization"]),
            ["REVENUE"],
            "{kind} at {below}"
        );
        let revenue = &payload["authorization"]["requirements"][0];
        assert_eq!(revenue["figure"], format!("USD {below}"));
    }
    // An indirect provider: every authorized region on its own.
    let provider = world
        .signed_partner_without_profile("Northwind", "INDIRECT_PROVIDER")
        .await;
    let mut fields = complete("0.00");
    fields["regionalRevenue"] = json!([{ "region": "US", "amount": "30000000.00" }, { "region": "CA", "amount": "30000000.00" }]);
    let payload = set_profile(&world, &provider.id, fields).await;
    assert_eq!(
        failing(&payload["authorization"]),
        Vec::<String>::new(),
        "{payload}"
    );
    let payload = set_profile(&world, &provider.id, json!({ "regionalRevenue": [{ "region": "US", "amount": "31000000.00" }, { "region": "CA", "amount": "29999999.99" }] })).await;
    assert_eq!(failing(&payload["authorization"]), ["REVENUE"]);
}

#[tokio::test]
async fn each_requirement_fails_on_its_own() {
    let world = World::on(TestApp::configured(|c| {
        c.clock = at("2027-01-20T10:00:00Z")
    }));
    let direct = world
        .signed_partner_without_profile("Contoso", "DIRECT_BILL")
        .await;
    set_profile(&world, &direct.id, complete("2000000.00")).await;
    for (change, undo, code) in [
        (
            json!({ "mfaForAllAdmins": false }),
            json!({ "mfaForAllAdmins": true }),
            "MFA_ALL_ADMINS",
        ),
        (
            json!({ "supportPlan": "NONE" }),
            json!({ "supportPlan": "PSFP" }),
            "SUPPORT_PLAN",
        ),
        (
            json!({ "indirectResellerSince": "2026-02-01" }),
            json!({ "indirectResellerSince": "2026-01-20" }),
            "PRIOR_EXPERIENCE",
        ),
        (
            json!({ "solutionsPartnerDesignations": [] }),
            json!({ "solutionsPartnerDesignations": ["Security"] }),
            "SOLUTIONS_PARTNER_DESIGNATION",
        ),
        (
            json!({ "capabilitiesAssessmentPassed": false }),
            json!({ "capabilitiesAssessmentPassed": true }),
            "CAPABILITIES_ASSESSMENT",
        ),
        (
            json!({ "creditCheckPassed": false }),
            json!({ "creditCheckPassed": true }),
            "CREDIT_CHECK",
        ),
    ] {
        let payload = set_profile(&world, &direct.id, change).await;
        assert_eq!(failing(&payload["authorization"]), [code]);
        let payload = set_profile(&world, &direct.id, undo).await;
        assert_eq!(
            failing(&payload["authorization"]),
            Vec::<String>::new(),
            "{code} back: 12 months to the day passes"
        );
    }
    // MPA: a partner that never signed.
    let unsigned = world.partner("Litware", "DIRECT_BILL").await;
    let payload = set_profile(&world, &unsigned.id, complete("2000000.00")).await;
    assert_eq!(failing(&payload["authorization"]), ["MPA_ACCEPTED"]);
}

#[tokio::test]
async fn generic_and_personal_business_emails_are_refused() {
    let world = World::new();
    let reseller = world
        .signed_partner_without_profile("Fabrikam", "INDIRECT_RESELLER")
        .await;
    for email in [
        "info@fabrikam.example.com",
        "admin@fabrikam.example.com",
        "jane@gmail.com",
        "joe@outlook.com",
        "x@mailinator.com",
    ] {
        let data = world
            .app
            .ok(
                &reseller.admin,
                PROFILE,
                json!({ "input": { "partnerId": reseller.id, "businessEmail": email } }),
            )
            .await;
        assert_eq!(
            data["updatePartnerProfile"]["userErrors"],
            json!([{ "code": "GENERIC_OR_PERSONAL_EMAIL", "field": ["input", "businessEmail"] }]),
            "{email}"
        );
    }
    assert_eq!(
        authorization(&world, &reseller.id).await["requirements"][4]["figure"],
        "none",
        "nothing was stored"
    );
    let data = world.app.ok(&reseller.admin, PROFILE, json!({ "input": { "partnerId": reseller.id, "businessEmail": "jane.doe@fabrikam.example.com", "mfaForAllAdmins": true } })).await;
    assert_eq!(data["updatePartnerProfile"]["userErrors"], json!([]));
    // What Microsoft establishes is not the partner's to set.
    let body = world
        .app
        .gql(
            Some(&reseller.admin),
            PROFILE,
            json!({ "input": { "partnerId": reseller.id, "revenueTrailing12m": "5000.00" } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"],
        "PROGRAM_ADMIN_ONLY"
    );
    let body = world
        .app
        .gql(
            Some(&reseller.user),
            PROFILE,
            json!({ "input": { "partnerId": reseller.id, "mfaForAllAdmins": true } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn auth_1_thirty_days_to_remediate_then_demotion_and_a_year_blocked() {
    let world = World::on(TestApp::configured(|c| {
        c.clock = at("2027-01-20T10:00:00Z")
    }));
    let direct = world
        .signed_partner_without_profile("Contoso", "DIRECT_BILL")
        .await;
    set_profile(&world, &direct.id, complete("2000000.00")).await;
    let data = world
        .app
        .ok(
            &world.admin,
            REASSESS,
            json!({ "input": { "partnerId": direct.id } }),
        )
        .await;
    assert_eq!(data["reassessPartner"]["authorization"]["authorized"], true);
    let a = authorization(&world, &direct.id).await;
    // AUTH-2: assessed in January 2027, next due in January 2028.
    assert_eq!(
        (a["authorizedSince"].clone(), a["nextReassessment"].clone()),
        (json!("2027-01-20"), json!("2028-01"))
    );
    // An open ACO request submitted while direct bill.
    let customer = world.eligible_customer(&direct, "Alpine").await;
    let request = world.submitted(&direct, &customer, None).await;

    // A year later it fails: 30 days to remediate, still authorized meanwhile.
    set_profile(
        &world,
        &direct.id,
        json!({ "revenueTrailing12m": "999999.99" }),
    )
    .await;
    let world = world.at("2028-01-10T10:00:00Z");
    let data = world
        .app
        .ok(
            &world.admin,
            REASSESS,
            json!({ "input": { "partnerId": direct.id } }),
        )
        .await;
    let a = &data["reassessPartner"]["authorization"];
    assert_eq!(
        (
            a["authorized"].clone(),
            a["meetsRequirements"].clone(),
            a["remediationDeadline"].clone()
        ),
        (
            json!(true),
            json!(false),
            json!("2028-02-10T00:00:00.000000Z")
        )
    );
    // Within the window nothing happens.
    let world = world.at("2028-02-09T20:00:00Z");
    let data = world.app.ok(&world.admin, EXPIRE, json!({})).await;
    assert_eq!(data["expireRemediation"]["outcomes"], json!([]));

    // After it, still failing: the service's own sweep demotes it to
    // indirect reseller, blocked for a year.
    let world = world.at("2028-02-10T09:00:00Z");
    let db = crate::support::open_store(&world.app.config);
    aco_api::jobs::sweep_expired_agreements(&db, &world.app.config)
        .await
        .unwrap();
    drop(db);
    let data = world.app.ok(&world.admin, EXPIRE, json!({})).await;
    assert_eq!(
        data["expireRemediation"]["outcomes"],
        json!([]),
        "already closed"
    );
    let data = world
        .app
        .ok(&world.admin, AUTHORIZATION, json!({ "id": direct.id }))
        .await;
    assert_eq!(data["partner"]["partnerType"], "INDIRECT_RESELLER");
    assert_eq!(
        data["partner"]["authorization"]["reapplyBlockedUntil"],
        "2029-02-10"
    );
    assert_eq!(
        data["partner"]["authorization"]["lastAssessment"]["outcome"],
        "DEMOTED"
    );
    let history = world
        .app
        .ok(
            &world.admin,
            "query($id: ID!) { partner(id: $id) { history { nodes { action actorRole } } } }",
            json!({ "id": direct.id }),
        )
        .await;
    let actions: Vec<&str> = history["partner"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.ends_with(&[
            "PARTNER_REASSESSED",
            "PARTNER_DEMOTED",
            "REMEDIATION_CLOSED"
        ]),
        "{actions:?}"
    );
    // AUTH-3: what the service did by itself is recorded as SYSTEM.
    let roles: Vec<&Value> = history["partner"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .take(3)
        .map(|n| &n["actorRole"])
        .collect();
    assert_eq!(
        roles,
        [&json!("SYSTEM"), &json!("SYSTEM"), &json!("PROGRAM_ADMIN")]
    );
    // Its open request keeps its transacting partner.
    let data = world
        .app
        .ok(
            &world.admin,
            "query($id: ID!) { acoRequest(id: $id) { status partner { id partnerType } } }",
            json!({ "id": request.id }),
        )
        .await;
    assert_eq!(
        data["acoRequest"],
        json!({ "status": "SUBMITTED", "partner": { "id": direct.id, "partnerType": "INDIRECT_RESELLER" } })
    );

    // Reapplying within the year is refused, on its last day too; on the
    // first anniversary of the demotion day it is accepted (AUTH-1).
    const UPDATE: &str = "mutation($input: UpdatePartnerInput!) { updatePartner(input: $input) { partner { partnerType } userErrors { code field } } }";
    let world = world.at("2029-02-09T23:00:00Z");
    let data = world
        .app
        .ok(
            &world.admin,
            UPDATE,
            json!({ "input": { "id": direct.id, "partnerType": "DIRECT_BILL" } }),
        )
        .await;
    assert_eq!(
        data["updatePartner"]["userErrors"],
        json!([{ "code": "REAPPLY_BLOCKED", "field": ["input", "partnerType"] }])
    );
    let world = world.at("2029-02-10T00:00:00Z");
    let data = world
        .app
        .ok(
            &world.admin,
            UPDATE,
            json!({ "input": { "id": direct.id, "partnerType": "DIRECT_BILL" } }),
        )
        .await;
    assert_eq!(
        data["updatePartner"]["partner"]["partnerType"],
        "DIRECT_BILL"
    );
}

#[tokio::test]
async fn auth_1_a_partner_that_remediates_in_time_keeps_its_type() {
    let world = World::on(TestApp::configured(|c| {
        c.clock = at("2027-01-20T10:00:00Z")
    }));
    let direct = world
        .signed_partner_without_profile("Contoso", "DIRECT_BILL")
        .await;
    let mut fields = complete("2000000.00");
    fields["creditCheckPassed"] = json!(false);
    set_profile(&world, &direct.id, fields).await;
    world
        .app
        .ok(
            &world.admin,
            REASSESS,
            json!({ "input": { "partnerId": direct.id } }),
        )
        .await;
    set_profile(&world, &direct.id, json!({ "creditCheckPassed": true })).await;
    let world = world.at("2027-03-01T10:00:00Z");
    let data = world.app.ok(&world.admin, EXPIRE, json!({})).await;
    assert_eq!(
        data["expireRemediation"]["outcomes"][0]["outcome"],
        "REMEDIATED"
    );
    assert_eq!(
        data["expireRemediation"]["outcomes"][0]["partner"]["partnerType"],
        "DIRECT_BILL"
    );
}

#[tokio::test]
async fn a_partner_sees_only_its_own_standing() {
    let world = World::new();
    let provider = world
        .signed_partner_without_profile("Northwind", "INDIRECT_PROVIDER")
        .await;
    let reseller = world
        .signed_partner_without_profile("Fabrikam", "INDIRECT_RESELLER")
        .await;
    world.link(&reseller, &provider).await;
    let other = world
        .signed_partner_without_profile("Contoso", "DIRECT_BILL")
        .await;
    const MINE: &str =
        "query($id: ID!) { partner(id: $id) { authorization { meetsRequirements } } }";
    let data = world
        .app
        .ok(&reseller.user, MINE, json!({ "id": reseller.id }))
        .await;
    assert!(data["partner"]["authorization"].is_object());
    // A linked partner is visible, its standing is not.
    let data = world
        .app
        .ok(&reseller.user, MINE, json!({ "id": provider.id }))
        .await;
    assert_eq!(data["partner"]["authorization"], Value::Null);
    let body = world
        .app
        .gql(Some(&reseller.user), MINE, json!({ "id": other.id }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = world
        .app
        .gql(
            Some(&reseller.admin),
            PROFILE,
            json!({ "input": { "partnerId": provider.id, "mfaForAllAdmins": false } }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = world
        .app
        .gql(
            Some(&reseller.admin),
            REASSESS,
            json!({ "input": { "partnerId": reseller.id } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
}
