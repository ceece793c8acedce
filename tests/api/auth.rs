//! Authentication (API.md "Authentication"): every kind of bad token is a 401
//! with UNAUTHENTICATED, never anonymous; good tokens find their organisation.

use aco_api::config::dev;
use aco_api::domain::Role;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::support::*;

const ME: &str = "{ me { subject tenantId roles isProgram partner { id } customer { id } } }";

async fn assert_refused(app: &TestApp, authorization: &str, why: &str) {
    let (status, body) = app
        .post_raw(Some(authorization), json!({ "query": ME }))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
    assert_eq!(code(&body), "UNAUTHENTICATED", "{why}: {body}");
    assert!(body.get("data").is_none_or(Value::is_null), "{why}: {body}");
}

fn unsigned(claims: Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

#[tokio::test]
async fn every_bad_token_is_401_unauthenticated() {
    let world = World::new();
    let app = &world.app;
    let partner = world.partner("Contoso", "DIRECT_BILL").await;
    let now = chrono::Utc::now().timestamp();

    let good = mint(
        &partner.tenant,
        &[Role::PartnerAdmin],
        "u",
        dev::ISSUER,
        dev::AUDIENCE,
        0,
        600,
    );
    let (status, _) = app
        .post_raw(Some(&format!("Bearer {good}")), json!({ "query": ME }))
        .await;
    assert_eq!(status, StatusCode::OK);

    assert_refused(app, "Bearer", "empty bearer").await;
    assert_refused(app, "Basic dXNlcjpwYXNz", "not a bearer token").await;
    assert_refused(app, "Bearer not-a-jwt", "malformed").await;
    assert_refused(app, "Bearer a.b.c", "malformed parts").await;

    let mut forged = good.clone();
    forged.pop();
    forged.push(if good.ends_with('A') { 'B' } else { 'A' });
    assert_refused(app, &format!("Bearer {forged}"), "wrong signature").await;

    let other_secret = aco_api::auth::mint_hs256(
        &aco_api::auth::Secret::new("another-secret-another-secret-another"),
        dev::ISSUER,
        dev::AUDIENCE,
        &aco_api::auth::TokenRequest {
            tenant_id: partner.tenant.clone(),
            roles: vec![Role::PartnerAdmin],
            subject: "u".into(),
            name: None,
            email: None,
            issued_at: chrono::Utc::now(),
            ttl_seconds: 600,
        },
    )
    .unwrap();
    assert_refused(
        app,
        &format!("Bearer {other_secret}"),
        "signed with another secret",
    )
    .await;

    let expired = mint(
        &partner.tenant,
        &[Role::PartnerAdmin],
        "u",
        dev::ISSUER,
        dev::AUDIENCE,
        -7200,
        600,
    );
    assert_refused(app, &format!("Bearer {expired}"), "expired").await;
    let future = mint(
        &partner.tenant,
        &[Role::PartnerAdmin],
        "u",
        dev::ISSUER,
        dev::AUDIENCE,
        7200,
        600,
    );
    assert_refused(app, &format!("Bearer {future}"), "not yet valid").await;
    let wrong_issuer = mint(
        &partner.tenant,
        &[Role::PartnerAdmin],
        "u",
        "https://evil.example",
        dev::AUDIENCE,
        0,
        600,
    );
    assert_refused(app, &format!("Bearer {wrong_issuer}"), "wrong issuer").await;
    let wrong_audience = mint(
        &partner.tenant,
        &[Role::PartnerAdmin],
        "u",
        dev::ISSUER,
        "api://other",
        0,
        600,
    );
    assert_refused(app, &format!("Bearer {wrong_audience}"), "wrong audience").await;

    let none = unsigned(json!({
        "sub": "u", "tid": partner.tenant, "roles": ["PARTNER_ADMIN"],
        "iss": dev::ISSUER, "aud": dev::AUDIENCE, "iat": now, "nbf": now, "exp": now + 600
    }));
    assert_refused(app, &format!("Bearer {none}"), "alg none").await;

    let program_role_from_partner = app.token(&partner.tenant, &[Role::Finance], "u");
    assert_refused(
        app,
        &format!("Bearer {program_role_from_partner}"),
        "programme role from a partner tenant",
    )
    .await;
    let partner_role_from_program = app.token(PROGRAM_TENANT, &[Role::PartnerAdmin], "u");
    assert_refused(
        app,
        &format!("Bearer {partner_role_from_program}"),
        "partner role from the programme tenant",
    )
    .await;
    let signer_from_partner = app.token(&partner.tenant, &[Role::CustomerSigner], "u");
    assert_refused(
        app,
        &format!("Bearer {signer_from_partner}"),
        "customer role from a partner tenant",
    )
    .await;
    let mixed = app.token(&partner.tenant, &[Role::PartnerAdmin, Role::Finance], "u");
    assert_refused(app, &format!("Bearer {mixed}"), "roles of two kinds").await;
    let unknown_tenant = app.token(&new_tenant(), &[Role::PartnerAdmin], "u");
    assert_refused(app, &format!("Bearer {unknown_tenant}"), "unknown tenant").await;
    let no_roles = app.token(&partner.tenant, &[], "u");
    assert_refused(app, &format!("Bearer {no_roles}"), "no role").await;
}

#[tokio::test]
async fn without_a_token_only_introspection_answers() {
    let app = TestApp::new();
    let body = app
        .gql(
            None,
            "{ __typename __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["__typename"], "Query");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    for query in [
        ME,
        "{ customers { totalCount } }",
        "{ partners { totalCount } }",
    ] {
        let body = app.gql(None, query, json!({})).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{query}: {body}");
    }
    let body = app
        .gql(None, "mutation { createPartner(input: {tenantId: \"x\", domain: \"a.com\", companyName: \"A\", partnerType: DIRECT_BILL}) { partner { id } } }", json!({}))
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn good_tokens_act_for_their_organisation() {
    let world = World::new();
    let partner = world.partner("Contoso", "DIRECT_BILL").await;
    let customer = world.customer(&partner, "Alpine").await;

    let me = world.app.ok(&world.admin, ME, json!({})).await;
    assert_eq!(me["me"]["isProgram"], true);
    assert_eq!(me["me"]["roles"], json!(["PROGRAM_ADMIN"]));

    let me = world.app.ok(&partner.user, ME, json!({})).await;
    assert_eq!(me["me"]["partner"]["id"], partner.id.as_str());
    assert_eq!(me["me"]["roles"], json!(["PARTNER_USER"]));
    assert_eq!(me["me"]["customer"], Value::Null);

    let me = world.app.ok(&customer.signer, ME, json!({})).await;
    assert_eq!(me["me"]["customer"]["id"], customer.id.as_str());
    assert_eq!(me["me"]["tenantId"], customer.tenant.as_str());
}
