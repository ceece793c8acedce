//! Requests built to take the service down, each refused cleanly and early:
//! nested values, fragment amplification, costly lists, a role gate stepped
//! around, leaks, weak settings, slow clients and floods. The last tests
//! drive the binary in production mode and read its memory and CPU from
//! `/proc`.

use std::time::{Duration, Instant};

use aco_api::domain::Role;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use std::future::Future;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::*;

async fn anonymous(app: &TestApp, query: &str, variables: Value) -> (StatusCode, Value) {
    app.post_raw(None, json!({ "query": query, "variables": variables }))
        .await
}

async fn still_answers(app: &TestApp) {
    let body = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

/// `[[[ … 1 … ]]]`, `depth` brackets deep.
fn nested_list(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

/// `{a: {a: … 1 … }}`, `depth` objects deep.
fn nested_object(depth: usize) -> String {
    format!("{}1{}", "{a: ".repeat(depth), "}".repeat(depth))
}

/// `query { ...F0 } fragment F0 { ...F1 ...F1 } … fragment Fn { __typename }`:
/// 2^n selections once expanded, in a few hundred bytes.
fn fragment_bomb(levels: usize) -> String {
    let mut query = String::from("query { ...F0 } ");
    for i in 0..levels {
        query += &format!("fragment F{i} on Query {{ ...F{n} ...F{n} }} ", n = i + 1);
    }
    query += &format!("fragment F{levels} on Query {{ __typename }}");
    query
}

#[tokio::test]
async fn deeply_nested_values_are_refused_before_anything_recurses() {
    let app = TestApp::new();
    let cases = [
        format!("{{ me(a: {}) {{ subject }} }}", nested_list(1500)),
        format!("{{ me(a: {}) {{ subject }} }}", nested_object(2500)),
        format!("{{ me @skip(if: {}) {{ subject }} }}", nested_list(2000)),
        format!(
            "query($v: [Int] = {}) {{ me {{ subject }} }}",
            nested_list(2000)
        ),
        format!(
            "query($v: {}Int{}) {{ __typename }}",
            "[".repeat(2000),
            "]".repeat(2000)
        ),
        format!("{}{}", "{ ".repeat(3000), "}".repeat(3000)),
    ];
    for query in &cases {
        let (status, body) = anonymous(&app, query, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("64"),
            "{body}"
        );
    }
    // Brackets inside strings, block strings and comments are text, not nesting.
    let text = format!(
        "{{ __typename # {deep}\n __typename @skip(if: false) }} fragment X on Query {{ __typename }} \"{deep}\" \"\"\"{deep}\"\"\"",
        deep = "[".repeat(100)
    );
    let (_, body) = anonymous(&app, &text, json!({})).await;
    assert_ne!(code(&body), "QUERY_TOO_DEEP", "{body}");
    // Variables are bounded by the JSON parser, with the same code.
    let deep_json: Value =
        serde_json::from_str(&format!("{}1{}", "[".repeat(120), "]".repeat(120))).unwrap();
    let _ = deep_json; // 120 levels parse; 129 do not:
    let body = format!(
        "{{\"query\": \"{{ __typename }}\", \"variables\": {{\"v\": {}1{}}}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    let (status, answer, _) = app
        .send(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(code(&answer), "QUERY_TOO_DEEP", "{answer}");
    still_answers(&app).await;
}

#[tokio::test]
async fn variables_wider_than_any_input_are_refused_before_they_are_parsed() {
    let app = TestApp::new();
    let send = |values: String| {
        let body =
            format!("{{\"query\": \"{{ __typename }}\", \"variables\": {{\"v\": [{values}]}}}}");
        app.send(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
    };
    let (status, body, _) = send(format!("{}1", "1,".repeat(20_000))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), "QUERY_TOO_LARGE", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("10000"),
        "{body}"
    );
    // Commas and brackets inside strings are text.
    let text = format!("\"{}\"", ",[{".repeat(100_000));
    let (status, body, _) = send(text).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = send(format!("{}1", "1,".repeat(500))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn fragment_spreads_are_counted_expanded_and_refused_over_the_limit() {
    let app = TestApp::new();
    let started = Instant::now();
    let (status, body) = anonymous(&app, &fragment_bomb(24), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("16777216") && message.contains("2000"),
        "the count and the limit: {message}"
    );
    assert!(body["data"].is_null(), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Under the limit, the same shape runs: 2^10 __typename.
    let body = app.gql(None, &fragment_bomb(10), json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    // A fragment that spreads itself is refused before anything walks it.
    let cycle = "query { ...A } fragment A on Query { ...A ...A __typename }";
    let (_, body) = anonymous(&app, cycle, json!({})).await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    // Aliases are counted through spreads too.
    let aliases: String = (0..10).map(|i| format!("a{i}: __typename ")).collect();
    let query = format!(
        "query {{ ...A ...B ...C ...D }} fragment A on Query {{ {aliases} }} fragment B on Query {{ ...A }} fragment C on Query {{ ...A }} fragment D on Query {{ ...A }}"
    );
    let (_, body) = anonymous(&app, &query, json!({})).await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("40 aliases"),
        "{body}"
    );
    still_answers(&app).await;
}

#[tokio::test]
async fn nodes_cost_their_ids_and_month_ranges_their_months() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let customer = world.customer(&partner, "Alpine").await;
    let ids: Vec<&str> = std::iter::repeat_n(customer.id.as_str(), 100).collect();
    let one = "nodes(ids: $ids) { ... on Customer { reconciliation(from: \"2022-01\", to: \"2026-12\") { month acr openingBalance applied aboveAco pec invoiceAmount closingBalance } } }";
    let aliased: String = (0..30).map(|i| format!("n{i}: {one} ")).collect();
    let query = format!("query($ids: [ID!]!) {{ {aliased} }}");
    let body = world
        .app
        .gql(Some(&world.admin), &query, json!({ "ids": ids }))
        .await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    // One alias of 100 ids over 60 months is over the limit on its own …
    let query = format!("query($ids: [ID!]!) {{ {one} }}");
    let body = world
        .app
        .gql(Some(&world.admin), &query, json!({ "ids": ids }))
        .await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    // … and a few ids over a year are not.
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { reconciliation(from: \"2026-01\", to: \"2026-12\") { month closingBalance } } } }";
    let data = world
        .app
        .ok(&world.admin, query, json!({ "ids": &ids[..3] }))
        .await;
    assert_eq!(data["nodes"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn the_role_gate_judges_the_operation_the_engine_runs() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let customer = world.eligible_customer(&partner, "Alpine").await;
    let request = world.submitted(&partner, &customer, None).await;
    let provider = world.signed_partner("Northwind", "INDIRECT_PROVIDER").await;
    let support = "mutation M($i: SupportAcoRequestInput!) { supportAcoRequest(input: $i) { userErrors { code } } }";
    let input = json!({ "i": { "id": request.id, "version": request.version } });
    for (token, reason) in [
        (&customer.signer, "ROLE_NOT_PERMITTED"),
        (&provider.admin, "PARTNER_CANNOT_REVIEW"),
    ] {
        // One named operation, sent without `operationName`: the engine runs it.
        let body = world.app.gql(Some(token), support, input.clone()).await;
        assert_eq!(code(&body), "FORBIDDEN", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["reason"], reason, "{body}");
        assert!(body["data"].is_null(), "{body}");
    }
    let submit = "mutation Sneaky($i: SubmitAcoRequestInput!) { submitAcoRequest(input: $i) { userErrors { code } } }";
    let body = world
        .app
        .gql(
            Some(&provider.admin),
            submit,
            json!({ "i": deal(&customer.id, "15000.00") }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"], "INDIRECT_PROVIDER_CANNOT_SUBMIT",
        "{body}"
    );
    // Named in the request too: the same.
    let (_, body) = world
        .app
        .post_raw(
            Some(&format!("Bearer {}", customer.signer)),
            json!({ "query": support, "variables": input, "operationName": "M" }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    // Unknown root fields are left to validation, which names them.
    let body = world
        .app
        .gql(
            Some(&partner.user),
            "{ custmers { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_ne!(code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn nothing_leaks_outside_dev_mode() {
    let app = TestApp::configured(|c| {
        c.limits.introspection = false;
        c.limits.suggestions = false;
    });
    let world = World::on(app);
    let body = world
        .app
        .gql(Some(&world.admin), "{ custmers { totalCount } }", json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
    assert!(!message.contains("\"customers\""), "{message}");
    // In dev mode the suggestion helps.
    let dev = World::new();
    let body = dev
        .app
        .gql(Some(&dev.admin), "{ custmers { totalCount } }", json!({}))
        .await;
    assert!(body.to_string().contains("Did you mean"), "{body}");

    // A 401 says which check failed, never what the token said.
    let script = "<script>alert(1)</script>";
    let token = mint_claims(json!({ "roles": [script] }));
    let (status, body) = world
        .app
        .post_raw(
            Some(&format!("Bearer {token}")),
            json!({ "query": "{ me { subject } }" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!body.to_string().contains("script"), "{body}");
    assert!(body.to_string().contains("role"), "{body}");
}

/// An HS256 token with the dev secret and the standard claims, `extra`
/// merged over them; `header` merged over the standard header.
fn mint_with(header: Value, extra: Value) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = chrono::Utc::now().timestamp();
    let mut head = json!({ "alg": "HS256", "typ": "JWT" });
    head.as_object_mut()
        .unwrap()
        .extend(header.as_object().unwrap().clone());
    let mut claims = json!({
        "sub": "someone", "tid": PROGRAM_TENANT, "roles": ["PROGRAM_ADMIN"],
        "iss": aco_api::config::dev::ISSUER, "aud": aco_api::config::dev::AUDIENCE,
        "iat": now, "nbf": now, "exp": now + 600,
    });
    claims
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let signing_input = format!(
        "{}.{}",
        engine.encode(head.to_string()),
        engine.encode(claims.to_string())
    );
    let key = jsonwebtoken::EncodingKey::from_secret(aco_api::config::dev::SECRET.as_bytes());
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &key,
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    format!("{signing_input}.{signature}")
}

fn mint_claims(extra: Value) -> String {
    mint_with(json!({}), extra)
}

#[tokio::test]
async fn tokens_with_critical_extensions_or_no_subject_are_refused() {
    let app = TestApp::new();
    let me = json!({ "query": "{ me { subject } }" });
    let good = mint_claims(json!({}));
    let (status, body) = app
        .post_raw(Some(&format!("Bearer {good}")), me.clone())
        .await;
    assert_eq!(
        (status, &body["data"]["me"]["subject"]),
        (StatusCode::OK, &json!("someone")),
        "{body}"
    );
    for (token, says) in [
        (mint_with(json!({ "crit": ["exp"] }), json!({})), "crit"),
        (
            mint_with(json!({ "crit": ["b64"], "b64": false }), json!({})),
            "crit",
        ),
        (mint_claims(json!({ "sub": "" })), "sub"),
        (mint_claims(json!({ "sub": "   " })), "sub"),
    ] {
        let (status, body) = app
            .post_raw(Some(&format!("Bearer {token}")), me.clone())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(code(&body), "UNAUTHENTICATED");
        assert!(body.to_string().contains(says), "{body}");
    }
}

fn production_config(
    secret: &str,
    issuer: &str,
    audience: &str,
) -> Result<aco_api::AppConfig, String> {
    use clap::Parser;
    let args = [
        "aco-api",
        "serve",
        "--jwt-secret",
        secret,
        "--jwt-issuer",
        issuer,
        "--jwt-audience",
        audience,
        "--program-tenant-id",
        "a0c0a0c0-0000-4000-8000-000000000001",
    ];
    let cli = aco_api::config::Cli::try_parse_from(args).map_err(|e| e.to_string())?;
    let aco_api::config::Command::Serve(serve) = cli.command else {
        unreachable!()
    };
    aco_api::AppConfig::from_args(&serve).map_err(|e| e.to_string())
}

#[test]
fn production_refuses_weak_or_empty_jwt_settings() {
    let strong = "k3Jw9-Qz0_vLx7RtYb2NcUe5HfGa8PmS1dWo4Ki6";
    let issuer = "https://login.microsoftonline.com/{tenantid}/v2.0";
    let audience = "api://aco-api";
    assert!(production_config(strong, issuer, audience).is_ok());
    let spaces = " ".repeat(32);
    let refusals = [
        (
            aco_api::config::dev::SECRET,
            issuer,
            audience,
            "development secret",
        ),
        (&spaces, issuer, audience, "distinct bytes"),
        (
            "abababababababababababababababababab",
            issuer,
            audience,
            "distinct bytes",
        ),
        (strong, "", audience, "ACO_JWT_ISSUER is empty"),
        (strong, issuer, " ", "ACO_JWT_AUDIENCE is empty"),
    ];
    for (secret, issuer, audience, says) in refusals {
        let refused = production_config(secret, issuer, audience).expect_err(says);
        assert!(refused.contains(says), "{refused}");
    }
}

/// A request body that sends its first bytes, then nothing until its holder
/// lets go: a slow client.
struct Trickle {
    first: Option<&'static str>,
    held: tokio::sync::oneshot::Receiver<()>,
}

impl http_body::Body for Trickle {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Some(first) = self.first.take() {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(first.into()))));
        }
        std::pin::Pin::new(&mut self.held).poll(cx).map(|_| None)
    }
}

/// A POST whose body stops after `first` until the returned sender is dropped.
fn slow_post(first: &'static str) -> (Request<Body>, tokio::sync::oneshot::Sender<()>) {
    let (hold, held) = tokio::sync::oneshot::channel();
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::new(Trickle {
            first: Some(first),
            held,
        }))
        .unwrap();
    (request, hold)
}

#[tokio::test]
async fn a_body_sent_too_slowly_is_408() {
    let app = TestApp::configured(|c| c.body_timeout = Duration::from_millis(300));
    let (request, _hold) = slow_post("{\"query\": \"{ __typ");
    let started = Instant::now();
    let (status, body, _) = app.send(request).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not received"),
        "{body}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    still_answers(&app).await;
}

#[tokio::test]
async fn requests_beyond_the_cap_in_flight_are_503_with_retry_after() {
    let app = TestApp::configured(|c| c.max_in_flight = 2);
    // Two requests in flight, each waiting for the rest of its body.
    let mut waiting = Vec::new();
    let mut holds = Vec::new();
    for _ in 0..2 {
        let (request, hold) = slow_post("{\"query\": ");
        holds.push(hold);
        let router = app.router.clone();
        waiting.push(tokio::spawn(async move {
            tower::ServiceExt::oneshot(router, request)
                .await
                .unwrap()
                .status()
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, body, headers) = app
        .send(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"query": "{ __typename }"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(code(&body), "OVERLOADED");
    assert_eq!(headers["retry-after"], "1");
    // The probes are not behind the cap.
    let (status, _, _) = app
        .send(Request::get("/livez").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    // Once the two are done, requests are served again.
    drop(holds);
    for request in waiting {
        assert!(request.await.unwrap().is_client_error());
    }
    still_answers(&app).await;
}

#[tokio::test]
async fn an_answer_over_its_limit_is_refused_whole() {
    let app = TestApp::configured(|c| c.max_response_bytes = 400);
    let world = World::on(app);
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    for i in 0..5 {
        world.customer(&partner, &format!("Customer {i}")).await;
    }
    let query = "{ customers(first: 50) { nodes { id companyName country segment tenantId } } }";
    let body = world.app.gql(Some(&world.admin), query, json!({})).await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    assert!(body["data"].is_null(), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("400 bytes"), "{message}");
    // A mutation's change stands; the refusal says so.
    let mutation = "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id companyName tenantId domain country segment organizationKind createdAt updatedAt billingProfile { legalName taxId registrationNumber } relationships { nodes { id status partner { id companyName tenantId domain partnerType } } } } userErrors { code } } }";
    let body = world
        .app
        .gql(
            Some(&partner.admin),
            mutation,
            json!({ "input": customer_input(&new_tenant(), "Big Answer") }),
        )
        .await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    assert!(
        body.to_string().contains("mutation itself was carried out"),
        "{body}"
    );
    let small = world
        .app
        .ok(&world.admin, "{ customers { totalCount } }", json!({}))
        .await;
    assert_eq!(small["customers"]["totalCount"], 6);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Generated documents, deep and wide, of brackets, fragments and aliases:
    /// every one is answered (refused with a limit's code, or run), never a
    /// crash or a hang.
    #[test]
    fn generated_deep_and_wide_documents_are_refused_cleanly(
        depth in 1usize..4000,
        kind in 0usize..5,
        width in 1usize..40,
    ) {
        let query = match kind {
            0 => format!("{{ me(a: {}) {{ subject }} }}", nested_list(depth)),
            1 => format!("{{ me(a: {}) {{ subject }} }}", nested_object(depth)),
            2 => format!("{}{}", "{ __typename ".repeat(depth.min(2000)), "}".repeat(depth.min(2000))),
            3 => fragment_bomb(depth % 40),
            _ => {
                let alias: String = (0..width).map(|i| format!("a{i}: __typename ")).collect();
                format!("{{ {} }}", alias.repeat(depth % 8 + 1))
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let app = TestApp::new();
        let (status, body) = runtime.block_on(anonymous(&app, &query, json!({})));
        prop_assert!(status == StatusCode::OK || status.is_client_error(), "{}", status);
        let code = code(&body).to_owned();
        if body.get("errors").is_some() {
            prop_assert!(
                ["QUERY_TOO_DEEP", "QUERY_TOO_COMPLEX", "QUERY_TOO_LARGE", "UNAUTHENTICATED", "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"]
                    .contains(&code.as_str()),
                "{}: {}", code, body
            );
        }
    }
}

// ---- The binary, in production mode -------------------------------------

const PRODUCTION_SECRET: &str = "Vq7-Lm2_Xc9pRt4sZb8nKd1wHy6fJg3e";
const PRODUCTION_ISSUER: &str = "https://login.example.test/aco/v2.0";
const PRODUCTION_AUDIENCE: &str = "api://aco-api-abuse";

fn production_token(tenant: &str, role: Role) -> String {
    aco_api::auth::mint_hs256(
        &aco_api::auth::Secret::new(PRODUCTION_SECRET),
        PRODUCTION_ISSUER,
        PRODUCTION_AUDIENCE,
        &aco_api::auth::TokenRequest {
            tenant_id: tenant.to_owned(),
            roles: vec![role],
            subject: format!("{}@abuse.test", role.as_str().to_lowercase()),
            name: None,
            email: None,
            issued_at: chrono::Utc::now(),
            ttl_seconds: 3600,
        },
    )
    .unwrap()
}

/// The binary serving `database` without `--dev`, with real JWT settings.
struct Production {
    child: tokio::process::Child,
    address: String,
    pid: u32,
}

async fn production_server(database: &std::path::Path, settings: &[(&str, &str)]) -> Production {
    let address = free_address();
    let mut command = tokio::process::Command::new(crate::durability::binary());
    command
        .args(["serve", "--bind", &address])
        .env_clear()
        .env("ACO_JWT_SECRET", PRODUCTION_SECRET)
        .env("ACO_JWT_ISSUER", PRODUCTION_ISSUER)
        .env("ACO_JWT_AUDIENCE", PRODUCTION_AUDIENCE)
        .env("ACO_PROGRAM_TENANT_ID", PROGRAM_TENANT)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    crate::support::use_database(&mut command, database);
    for (name, value) in settings {
        command.env(name, value);
    }
    let child = command.spawn().expect("the server starts");
    let pid = child.id().expect("a pid");
    let deadline = Instant::now() + Duration::from_secs(30);
    while exchange(
        &address,
        b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await
    .map(|(status, _)| status)
    .unwrap_or(0)
        != 200
    {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Production {
        child,
        address,
        pid,
    }
}

/// Sends raw bytes on a new connection; the status and the JSON body.
async fn exchange(address: &str, request: &[u8]) -> std::io::Result<(u16, Value)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream.write_all(request).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((
        status,
        serde_json::from_str(body).unwrap_or(Value::String(body.to_owned())),
    ))
}

fn post(address: &str, token: Option<&str>, body: &str) -> Vec<u8> {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn get(address: &str, token: Option<&str>, path: &str) -> Vec<u8> {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{auth}\r\n")
        .into_bytes()
}

fn graphql(query: &str, variables: Value) -> String {
    json!({ "query": query, "variables": variables }).to_string()
}

/// A field of `/proc/<pid>/status`, in kB.
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// User and system CPU the process has used, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let per_second = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    ticks as f64 / per_second
}

/// A world with a partner, customers with active credit and a request to
/// read, handed to the binary on the same file.
struct Abused {
    database: std::path::PathBuf,
    _dir: tempfile::TempDir,
    partner_tenant: String,
    customers: Vec<String>,
    request: String,
}

async fn abused_world() -> Abused {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let mut customers = Vec::new();
    let mut request = String::new();
    for i in 0..3 {
        let customer = world
            .eligible_customer(&partner, &format!("Abused {i}"))
            .await;
        let submitted = world.submitted(&partner, &customer, None).await;
        let approved = world.approved(&submitted).await;
        let (_, agreement) = world.published(&approved).await;
        let signed = world.sign(&customer, &agreement).await;
        assert_eq!(signed["userErrors"], json!([]), "{signed}");
        customers.push(customer.id);
        request = submitted.id;
    }
    let World { app, .. } = world;
    let (config, dir) = app.close();
    Abused {
        database: config.store.path,
        _dir: dir,
        partner_tenant: partner.tenant,
        customers,
        request,
    }
}

/// The abusive requests of the security review, each with the code it must
/// now be refused with (`None`: allowed, but as costly as the limits let it be).
fn abusive_requests(
    address: &str,
    admin: &str,
    customers: &[String],
) -> Vec<(&'static str, Vec<u8>, Option<&'static str>)> {
    let ids: Vec<&str> = customers
        .iter()
        .map(String::as_str)
        .cycle()
        .take(100)
        .collect();
    let nodes_alias = "nodes(ids: $ids) { ... on Customer { reconciliation(from: \"2022-01\", to: \"2026-12\") { month acr openingBalance applied aboveAco pec invoiceAmount closingBalance } } }";
    let thirty: String = (0..30).map(|i| format!("n{i}: {nodes_alias} ")).collect();
    let heavy_allowed = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { reconciliation(from: \"2026-01\", to: \"2026-12\") { month closingBalance } } } }";
    vec![
        (
            "list value 1,500 deep",
            post(
                address,
                None,
                &graphql(
                    &format!("{{ me(a: {}) {{ subject }} }}", nested_list(1500)),
                    json!({}),
                ),
            ),
            Some("QUERY_TOO_DEEP"),
        ),
        (
            "object value 2,500 deep",
            post(
                address,
                None,
                &graphql(
                    &format!("{{ me(a: {}) {{ subject }} }}", nested_object(2500)),
                    json!({}),
                ),
            ),
            Some("QUERY_TOO_DEEP"),
        ),
        (
            "directive argument 2,000 deep",
            post(
                address,
                None,
                &graphql(
                    &format!("{{ me @skip(if: {}) {{ subject }} }}", nested_list(2000)),
                    json!({}),
                ),
            ),
            Some("QUERY_TOO_DEEP"),
        ),
        (
            "variable default 2,000 deep",
            post(
                address,
                None,
                &graphql(
                    &format!("query($v: [Int] = {}) {{ __typename }}", nested_list(2000)),
                    json!({}),
                ),
            ),
            Some("QUERY_TOO_DEEP"),
        ),
        (
            "variables JSON 5,000 deep",
            post(
                address,
                None,
                &format!(
                    "{{\"query\": \"{{ __typename }}\", \"variables\": {{\"v\": {}1{}}}}}",
                    "[".repeat(5000),
                    "]".repeat(5000)
                ),
            ),
            Some("QUERY_TOO_DEEP"),
        ),
        (
            "variables JSON 1 MB wide",
            post(
                address,
                None,
                &format!(
                    "{{\"query\": \"{{ __typename }}\", \"variables\": {{\"v\": [{}1]}}}}",
                    "1,".repeat(520_000)
                ),
            ),
            Some("QUERY_TOO_LARGE"),
        ),
        (
            "fragment spreads 2^24",
            post(address, None, &graphql(&fragment_bomb(24), json!({}))),
            Some("QUERY_TOO_COMPLEX"),
        ),
        (
            "fragment cycle",
            post(
                address,
                None,
                &graphql(
                    "query { ...A } fragment A on Query { ...A ...A }",
                    json!({}),
                ),
            ),
            Some("GRAPHQL_VALIDATION_FAILED"),
        ),
        (
            "30 aliases x 100 ids x 60 months",
            post(
                address,
                Some(admin),
                &graphql(
                    &format!("query($ids: [ID!]!) {{ {thirty} }}"),
                    json!({ "ids": ids }),
                ),
            ),
            Some("QUERY_TOO_COMPLEX"),
        ),
        (
            "40 ids x 12 months (allowed)",
            post(
                address,
                Some(admin),
                &graphql(heavy_allowed, json!({ "ids": &ids[..40] })),
            ),
            None,
        ),
        (
            "credit balance report (allowed)",
            get(
                address,
                Some(admin),
                "/reports/credit-balance.csv?month=2026-12",
            ),
            None,
        ),
    ]
}

#[tokio::test]
async fn the_binary_in_production_mode_holds_under_abuse() {
    let world = abused_world().await;
    let server = production_server(&world.database, &[("ACO_REQUEST_TIMEOUT_SECONDS", "2")]).await;
    let address = server.address.clone();
    let admin = production_token(PROGRAM_TENANT, Role::ProgramAdmin);
    let partner = production_token(&world.partner_tenant, Role::PartnerUser);
    let ordinary = post(
        &address,
        Some(&partner),
        &graphql(
            "query($id: ID!) { acoRequest(id: $id) { id status customer { companyName } } }",
            json!({ "id": world.request }),
        ),
    );
    for _ in 0..20 {
        let (status, body) = exchange(&address, &ordinary).await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["acoRequest"]["status"], "ACTIVE", "{body}");
    }
    let idle_kb = proc_status_kb(server.pid, "VmRSS:");

    // One at a time: each refused (or answered) within its CPU budget.
    eprintln!("request | status | code | CPU ms");
    for (name, request, expected) in abusive_requests(&address, &admin, &world.customers) {
        let before = cpu_seconds(server.pid);
        let (status, body) = exchange(&address, &request).await.unwrap();
        let cpu = cpu_seconds(server.pid) - before;
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("-");
        eprintln!(
            "{name} | {status} | {code} | {:.0} | peak {} MB",
            cpu * 1000.0,
            proc_status_kb(server.pid, "VmHWM:") / 1024
        );
        match expected {
            Some(expected) => assert_eq!(code, expected, "{name}: {body}"),
            None => assert_eq!(status, 200, "{name}: {body}"),
        }
        assert!(cpu < 1.0, "{name} used {cpu:.2} s of CPU");
    }

    // Four at once, over and over, while an ordinary caller keeps asking.
    let stop = Instant::now() + Duration::from_secs(3);
    let mut attackers = Vec::new();
    for attacker in 0..4 {
        let requests = abusive_requests(&address, &admin, &world.customers);
        let address = address.clone();
        attackers.push(tokio::spawn(async move {
            let mut sent = 0;
            while Instant::now() < stop {
                let (_, request, _) = &requests[(attacker + sent) % requests.len()];
                let _ = exchange(&address, request).await;
                sent += 1;
            }
            sent
        }));
    }
    let (mut livez, mut reads) = (Vec::new(), Vec::new());
    while Instant::now() < stop {
        let started = Instant::now();
        let (status, _) = exchange(&address, &get(&address, None, "/livez"))
            .await
            .unwrap();
        assert_eq!(status, 200);
        livez.push(started.elapsed());
        let started = Instant::now();
        let (status, body) = exchange(&address, &ordinary).await.unwrap();
        assert_eq!(
            (status, &body["data"]["acoRequest"]["status"]),
            (200, &json!("ACTIVE")),
            "{body}"
        );
        reads.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut sent = 0;
    for attacker in attackers {
        sent += attacker.await.unwrap();
    }
    let peak_kb = proc_status_kb(server.pid, "VmHWM:");
    livez.sort();
    reads.sort();
    let median = |v: &[Duration]| v[v.len() / 2].as_secs_f64() * 1000.0;
    let worst = |v: &[Duration]| v[v.len() - 1].as_secs_f64() * 1000.0;
    eprintln!(
        "under {sent} abusive requests from 4 clients: /livez median {:.1} ms, worst {:.1} ms ({} probes); \
         acoRequest(id) median {:.1} ms, worst {:.1} ms; memory idle {} MB, peak {} MB",
        median(&livez),
        worst(&livez),
        livez.len(),
        median(&reads),
        worst(&reads),
        idle_kb / 1024,
        peak_kb / 1024
    );
    assert!(
        peak_kb < idle_kb + 100 * 1024,
        "peak RSS {peak_kb} kB against {idle_kb} kB idle"
    );
    let mut child = server.child;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the process is still running"
    );
}

#[tokio::test]
async fn the_binary_drops_clients_that_send_headers_too_slowly() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let world = abused_world().await;
    let server = production_server(&world.database, &[("ACO_HEADER_TIMEOUT_SECONDS", "1")]).await;
    // One byte every 200 ms: the headers never finish in time.
    let mut stream = tokio::net::TcpStream::connect(&server.address)
        .await
        .unwrap();
    let started = Instant::now();
    let slow = b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    let mut dropped = false;
    for byte in slow {
        if stream.write_all(&[*byte]).await.is_err() {
            dropped = true;
            break;
        }
        let mut buffer = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                dropped = true;
                break;
            }
            Ok(Ok(_)) => {} // an answer (408) before the close
            Err(_) => {}
        }
    }
    let after = started.elapsed();
    assert!(dropped, "the connection was still open after {after:?}");
    assert!(
        after < Duration::from_secs(4),
        "dropped only after {after:?}"
    );
    eprintln!("a client sending a byte every 200 ms was dropped after {after:?}");
    // An idle connection that never sends anything is dropped too.
    let mut idle = tokio::net::TcpStream::connect(&server.address)
        .await
        .unwrap();
    let mut buffer = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buffer)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    // Everyone else is served.
    let (status, _) = exchange(&server.address, &get(&server.address, None, "/livez"))
        .await
        .unwrap();
    assert_eq!(status, 200);
}
