//! AWS Lambda without AWS: events written as fixtures answered by the router,
//! and the whole loop — the binary polling a Runtime API served here on
//! loopback — for an HTTP invocation, the scheduled sweep and the
//! migrations run for a CloudFormation custom resource.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aco_api::domain::Role;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower::ServiceExt;

use crate::support::*;

fn fixture(name: &str, token: &str, body: &Value) -> String {
    let path = format!("{}/tests/api/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let body_literal = serde_json::to_string(&body.to_string()).unwrap();
    raw.replace("{{TOKEN}}", token)
        .replace("\"{{BODY}}\"", &body_literal)
}

async fn answer(app: &TestApp, event: &str) -> (StatusCode, HeaderMap, Value) {
    let request = lambda_http::request::from_str(event).expect("a Lambda event");
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn api_gateway_http_api_events_reach_the_router() {
    let world = World::new();
    let query = json!({ "query": "{ me { roles isProgram } }" });
    let (status, headers, body) = answer(
        &world.app,
        &fixture("apigw_v2_http_api.json", &world.admin, &query),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["me"],
        json!({ "roles": ["PROGRAM_ADMIN"], "isProgram": true })
    );
    assert!(headers.contains_key("x-request-id"));

    let mutation = json!({
        "query": "mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { companyName } userErrors { code } } }",
        "variables": { "input": { "tenantId": new_tenant(), "domain": "contoso.example.com", "companyName": "Contoso", "partnerType": "DIRECT_BILL" } }
    });
    let (status, _, body) = answer(
        &world.app,
        &fixture("apigw_v2_http_api.json", &world.admin, &mutation),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"]["createPartner"]["partner"]["companyName"],
        "Contoso"
    );

    let (status, _, body) = answer(
        &world.app,
        &fixture("apigw_v2_http_api.json", "not.a.token", &query),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn rest_api_alb_and_function_url_events_reach_the_router() {
    let world = World::new();
    let query = json!({ "query": "{ me { roles } }" });
    let partner_user = world.reviewer(Role::Finance);
    // A REST API (v1) event from the named stage `prod`: its path carries the stage.
    let (status, _, body) = answer(
        &world.app,
        &fixture("apigw_v1_rest_api.json", &partner_user, &query),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["me"]["roles"], json!(["FINANCE"]));
    let (status, _, body) = answer(
        &world.app,
        &fixture("function_url.json", &partner_user, &query),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["me"]["roles"], json!(["FINANCE"]));
    let (status, _, body) = answer(&world.app, &fixture("alb.json", "", &Value::Null)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "ok" })));
    // An HTTP API with a named stage puts it in front of the path: still /healthz.
    let (status, _, body) = answer(
        &world.app,
        &fixture("apigw_v2_named_stage.json", "", &Value::Null),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "ok" })));
}

/// A Lambda Runtime API on loopback: hands out `events` one by one and
/// reports what the function posts back.
struct FakeRuntime {
    address: String,
    posted: mpsc::UnboundedReceiver<(String, String, Value)>,
}

#[derive(Clone)]
struct RuntimeState {
    events: Arc<Mutex<VecDeque<(String, String)>>>,
    posted: mpsc::UnboundedSender<(String, String, Value)>,
}

async fn next_invocation(State(state): State<RuntimeState>) -> axum::response::Response {
    let next = state.events.lock().unwrap().pop_front();
    let Some((id, event)) = next else {
        // No more work: keep the function waiting, as Lambda does.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return StatusCode::NO_CONTENT.into_response();
    };
    let deadline = (chrono::Utc::now().timestamp_millis() + 60_000).to_string();
    (
        [
            ("lambda-runtime-aws-request-id", id),
            ("lambda-runtime-deadline-ms", deadline),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:aco-api".to_owned(),
            ),
            (
                "lambda-runtime-trace-id",
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
                    .to_owned(),
            ),
            ("content-type", "application/json".to_owned()),
        ],
        event,
    )
        .into_response()
}

async fn posted(
    State(state): State<RuntimeState>,
    Path((id, kind)): Path<(String, String)>,
    body: String,
) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = state.posted.send((kind, id, value));
    StatusCode::ACCEPTED
}

async fn init_error(State(state): State<RuntimeState>, body: String) -> StatusCode {
    let _ = state
        .posted
        .send(("init-error".into(), String::new(), Value::String(body)));
    StatusCode::ACCEPTED
}

async fn fake_runtime(events: Vec<(String, String)>) -> FakeRuntime {
    let (tx, rx) = mpsc::unbounded_channel();
    let state = RuntimeState {
        events: Arc::new(Mutex::new(events.into())),
        posted: tx,
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(posted))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });
    FakeRuntime {
        address,
        posted: rx,
    }
}

use crate::durability::binary;

fn lambda_process(
    runtime: &FakeRuntime,
    database: &std::path::Path,
    extra: &[(&str, &str)],
) -> tokio::process::Child {
    let mut command = tokio::process::Command::new(binary());
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &runtime.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "aco-api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("ACO_DEV", "true")
        .env("ACO_LOG_FORMAT", "json")
        // What it logs, beside its database: `<database>.log`.
        .stdout(std::fs::File::create(database.with_extension("log")).unwrap())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    crate::support::use_database(&mut command, database);
    for (k, v) in extra {
        command.env(k, v);
    }
    command.spawn().expect("the binary starts")
}

async fn first_post(runtime: &mut FakeRuntime) -> (String, String, Value) {
    tokio::time::timeout(Duration::from_secs(60), runtime.posted.recv())
        .await
        .expect("the function answers within a minute")
        .expect("a post")
}

#[tokio::test]
async fn the_binary_answers_an_invocation_through_the_runtime_api() {
    let dir = tempfile::tempdir().unwrap();
    let token = mint(
        PROGRAM_TENANT,
        &[Role::Plsr],
        "plsr@programme.example",
        aco_api::config::dev::ISSUER,
        aco_api::config::dev::AUDIENCE,
        0,
        600,
    );
    let event = fixture(
        "apigw_v2_http_api.json",
        &token,
        &json!({ "query": "{ me { roles } }", "operationName": null }),
    );
    let mut runtime = fake_runtime(vec![("inv-1".into(), event)]).await;
    let mut child = lambda_process(
        &runtime,
        &dir.path().join("aco.db"),
        &[("ACO_JOURNAL_MODE", "DELETE")],
    );
    let (kind, id, response) = first_post(&mut runtime).await;
    child.kill().await.ok();
    assert_eq!(
        (kind.as_str(), id.as_str()),
        ("response", "inv-1"),
        "{response}"
    );
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["data"]["me"]["roles"], json!(["PLSR"]));
    let headers = &response["headers"];
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        headers["x-request-id"], "inv-1",
        "the Lambda request id is the request id"
    );
    // The request's figures as a CloudWatch Embedded Metric Format line.
    let log = std::fs::read_to_string(dir.path().join("aco.log")).unwrap();
    let emf: Value = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line.get("_aws").is_some())
        .unwrap_or_else(|| panic!("an EMF line in {log}"));
    assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Namespace"], "aco-api");
    assert_eq!(
        (&emf["operation"], &emf["outcome"], &emf["Requests"]),
        (&json!("query:me"), &json!("ok"), &json!(1))
    );
    assert!(emf["Duration"].as_f64().is_some_and(|ms| ms > 0.0), "{emf}");
}

#[tokio::test]
async fn the_binary_runs_the_sweep_for_a_scheduled_event() {
    // An agreement published in January, not signed by the end of the month.
    let app = TestApp::configured(|c| c.clock = at("2027-01-20T10:00:00Z"));
    let database = app.config.store.path.clone();
    let world = World::on(app);
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let customer = world.eligible_customer(&partner, "Alpine").await;
    let request = world.submitted(&partner, &customer, None).await;
    let request = world.approved(&request).await;
    world.published(&request).await;
    let World { app, admin } = world;
    let (config, dir) = app.close();

    let event = std::fs::read_to_string(format!(
        "{}/tests/api/fixtures/scheduled_event.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    // An HTTP event sent to the sweep function by mistake is refused first,
    // without sweeping.
    let http_event = std::fs::read_to_string(format!(
        "{}/tests/api/fixtures/apigw_v2_http_api.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut runtime = fake_runtime(vec![
        ("http-1".into(), http_event),
        ("sweep-1".into(), event),
    ])
    .await;
    let mut child = lambda_process(
        &runtime,
        &database,
        &[
            ("ACO_LAMBDA_HANDLER", "sweep"),
            ("ACO_NOW", "2027-02-01T00:05:00Z"),
        ],
    );
    let (kind, id, refusal) = first_post(&mut runtime).await;
    assert_eq!(
        (kind.as_str(), id.as_str()),
        ("error", "http-1"),
        "{refusal}"
    );
    assert!(
        refusal
            .to_string()
            .contains("scheduled EventBridge events only"),
        "{refusal}"
    );
    let (kind, id, response) = first_post(&mut runtime).await;
    child.kill().await.ok();
    assert_eq!(
        (kind.as_str(), id.as_str()),
        ("response", "sweep-1"),
        "{response}"
    );
    assert_eq!(
        response,
        json!({ "expiredAgreements": 1, "webhookSends": 0 })
    );

    let world = World {
        app: TestApp {
            router: aco_api::build_app(config.clone()).unwrap(),
            config,
            dir,
        },
        admin,
    };
    assert_eq!(
        world.request_state(&request).await["status"],
        "FINANCE_REVIEW"
    );
}

/// CloudFormation on loopback: takes the custom resource answers PUT to
/// the `ResponseURL`s it hands out, with their content type.
async fn cloudformation() -> (
    String,
    mpsc::UnboundedReceiver<(String, Option<String>, Value)>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/answers/{id}",
        axum::routing::put(
            |State(tx): State<mpsc::UnboundedSender<(String, Option<String>, Value)>>,
             Path(id): Path<String>,
             headers: HeaderMap,
             body: String| async move {
                let content_type = headers
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_owned());
                let _ = tx.send((id, content_type, serde_json::from_str(&body).unwrap()));
                StatusCode::OK
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/answers", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app.with_state(tx)).await });
    (base, rx)
}

fn custom_resource_event(kind: &str, answers: &str, id: &str, role: Option<&str>) -> String {
    let mut properties = json!({
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:aco-api-MigrateFunction"
    });
    if let Some(role) = role {
        properties["AppRole"] = json!(role);
    }
    let mut event = json!({
        "RequestType": kind,
        "ServiceToken": properties["ServiceToken"],
        "ResponseURL": format!("{answers}/{id}"),
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/aco-api/4d1c7b40-0000-11ef-9f3a-0a1b2c3d4e5f",
        "RequestId": format!("request-{id}"),
        "LogicalResourceId": "Schema",
        "ResourceType": "Custom::Schema",
        "ResourceProperties": properties,
    });
    if kind != "Create" {
        event["PhysicalResourceId"] = json!("aco-api-schema");
    }
    event.to_string()
}

/// The migration function (`ACO_LAMBDA_HANDLER=migrate`) on a database that
/// has no schema yet: a stack's `Create` migrates it and answers
/// CloudFormation `SUCCESS`; a bad property answers `FAILED`, saying why,
/// rather than leaving the stack waiting; `Delete` keeps the data. The
/// database then serves.
#[tokio::test]
async fn the_binary_migrates_for_a_cloudformation_custom_resource() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("fresh.db");
    let url = on_postgres().then(empty_postgres);
    let (answers, mut answered) = cloudformation().await;
    let mut runtime = fake_runtime(vec![
        (
            "m-1".into(),
            custom_resource_event("Create", &answers, "1", None),
        ),
        (
            "m-2".into(),
            custom_resource_event("Update", &answers, "2", Some("Not A Role")),
        ),
        (
            "m-3".into(),
            custom_resource_event("Delete", &answers, "3", None),
        ),
    ])
    .await;
    let mut extra = vec![("ACO_LAMBDA_HANDLER", "migrate"), ("ACO_DEV", "false")];
    if let Some(url) = &url {
        extra.push(("ACO_DATABASE_URL", url));
    }
    let mut child = lambda_process(&runtime, &database, &extra);
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let (kind, id, _) = first_post(&mut runtime).await;
        assert_eq!(kind, "response", "{id}");
        let (answer_id, content_type, answer) =
            tokio::time::timeout(Duration::from_secs(30), answered.recv())
                .await
                .unwrap()
                .unwrap();
        assert_eq!(
            content_type.as_deref(),
            Some(""),
            "presigned S3 URLs sign no content type"
        );
        assert_eq!(answer["RequestId"], format!("request-{answer_id}"));
        assert_eq!(answer["LogicalResourceId"], "Schema");
        assert_eq!(answer["PhysicalResourceId"], "aco-api-schema");
        outcomes.push((
            answer["Status"].clone(),
            answer["Reason"].as_str().unwrap().to_owned(),
        ));
    }
    child.kill().await.ok();
    assert_eq!(outcomes[0].0, "SUCCESS", "{:?}", outcomes[0]);
    let applied = if url.is_some() {
        "migration steps applied now"
    } else {
        "schema version"
    };
    assert!(outcomes[0].1.contains(applied), "{:?}", outcomes[0]);
    assert_eq!(outcomes[1].0, "FAILED");
    assert!(
        outcomes[1].1.contains("ACO_DATABASE_APP_ROLE"),
        "{:?}",
        outcomes[1]
    );
    assert_eq!(
        outcomes[2],
        (
            json!("SUCCESS"),
            "nothing to do: the database is kept".to_owned()
        )
    );

    let mut check = std::process::Command::new(binary());
    check
        .arg("check")
        .env_clear()
        .env("ACO_DATABASE_PATH", &database);
    if let Some(url) = &url {
        check.env("ACO_DATABASE_URL", url);
    }
    let checked = check.output().unwrap();
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// The AWS Parameters and Secrets Lambda Extension on loopback: answers
/// `GET /secretsmanager/get?secretId=…` asked with the function's session
/// token, as the extension does; counts what it was asked.
async fn secrets_extension(
    secret_id: &'static str,
    secret: &'static str,
) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = asked.clone();
    let app = Router::new().route(
        "/secretsmanager/get",
        get(
            move |headers: HeaderMap, query: axum::extract::Query<std::collections::HashMap<String, String>>| {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let token = headers.get("x-aws-parameters-secrets-token");
                    if token.map(|t| t.to_str().unwrap()) != Some("the-session-token") {
                        return (StatusCode::UNAUTHORIZED, String::new());
                    }
                    if query.get("secretId").map(String::as_str) != Some(secret_id) {
                        return (StatusCode::BAD_REQUEST, String::new());
                    }
                    let answer = json!({ "Name": secret_id, "SecretString": secret,
                        "ARN": format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:{secret_id}-AbCdEf") });
                    (StatusCode::OK, answer.to_string())
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, asked)
}

/// Outside dev mode, with `ACO_JWT_SECRET_ID`: the HS256 secret is read at
/// start through the secrets extension, never from the environment, and
/// tokens signed with it are accepted.
#[tokio::test]
async fn the_hs256_secret_is_read_through_the_secrets_extension() {
    const SECRET: &str = "k9Vx2QmT7rLw4ZpN8sYc3HbJ6dFg1AeU5oKi0tRnMz";
    let (port, asked) = secrets_extension("aco-api/jwt-secret", SECRET).await;
    let dir = tempfile::tempdir().unwrap();
    let claims = json!({ "sub": "plsr", "tid": PROGRAM_TENANT, "roles": ["PLSR"],
        "iss": "https://login.microsoftonline.com/programme/v2.0", "aud": "api://aco-api",
        "exp": chrono::Utc::now().timestamp() + 600 });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let event = fixture(
        "apigw_v2_http_api.json",
        &token,
        &json!({ "query": "{ me { roles } }" }),
    );
    let mut runtime = fake_runtime(vec![("inv-1".into(), event)]).await;
    let port = port.to_string();
    let mut child = lambda_process(
        &runtime,
        &dir.path().join("aco.db"),
        &[
            ("ACO_DEV", "false"),
            ("ACO_JWT_SECRET_ID", "aco-api/jwt-secret"),
            (
                "ACO_JWT_ISSUER",
                "https://login.microsoftonline.com/programme/v2.0",
            ),
            ("ACO_JWT_AUDIENCE", "api://aco-api"),
            ("ACO_PROGRAM_TENANT_ID", PROGRAM_TENANT),
            ("AWS_SESSION_TOKEN", "the-session-token"),
            ("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", &port),
        ],
    );
    let (kind, _, response) = first_post(&mut runtime).await;
    child.kill().await.ok();
    assert_eq!(kind, "response", "{response}");
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["data"]["me"]["roles"], json!(["PLSR"]));
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Fills a fresh database with `requests` ACO requests (with their history)
/// spread over partners' customers, as a realistic start-up load.
fn populate(database: &std::path::Path, requests: usize) {
    let config = aco_api::AppConfig::for_dev(database);
    drop(aco_api::build_app(config).unwrap());
    let mut conn = rusqlite::Connection::open(database).unwrap();
    let tx = conn.transaction().unwrap();
    let now = "2027-01-20T10:00:00.000000Z";
    tx.execute(
        "INSERT INTO partners (id, tenant_id, company_name, domain, partner_type, created_at, updated_at) \
         VALUES ('prt_00000000000070008000000000000001', '99999999-0000-4000-8000-000000000001', 'Load Partner', 'load.example.com', 'DIRECT_BILL', ?1, ?1)",
        [now],
    )
    .unwrap();
    let per_customer = 10;
    for c in 0..requests.div_ceil(per_customer) {
        let customer = format!("cus_{:032x}", c + 1);
        tx.execute(
            "INSERT INTO customers (id, tenant_id, domain, company_name, country, segment, organization_kind, created_at, updated_at) \
             VALUES (?1, ?2, 'c.example.com', 'Customer', 'US', 'SMB', 'COMMERCIAL', ?3, ?3)",
            rusqlite::params![customer, format!("88888888-0000-4000-8000-{:012}", c + 1), now],
        )
        .unwrap();
        for r in 0..per_customer {
            let id = format!("req_{:032x}", c * per_customer + r + 1);
            // One open request per customer (ELIG-13); the rest are finished.
            let status = if r == 0 { "SUBMITTED" } else { "CANCELLED" };
            tx.execute(
                "INSERT INTO aco_requests (id, customer_id, partner_id, status, scenario, workloads, timeline_start, timeline_end, \
                    estimated_acr, aco_amount, stage_entered_at, version, submitted_at, submitted_by, updated_at) \
                 VALUES (?1, ?2, 'prt_00000000000070008000000000000001', ?3, 'MIGRATION', '[\"AKS\"]', '2027-02-01', '2027-08-01', \
                    '15000.00', '1500.00', ?4, ?5, ?4, 'load', ?4)",
                rusqlite::params![id, customer, status, now, if r == 0 { 1 } else { 2 }],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO aco_request_history (request_id, at, actor_subject, actor_role, action, to_status) \
                 VALUES (?1, ?2, 'load', 'PARTNER_USER', 'SUBMIT', 'SUBMITTED')",
                rusqlite::params![id, now],
            )
            .unwrap();
            if status == "CANCELLED" {
                tx.execute(
                    "INSERT INTO aco_request_history (request_id, at, actor_subject, actor_role, action, from_status, to_status) \
                     VALUES (?1, ?2, 'load', 'PARTNER_USER', 'CANCEL', 'SUBMITTED', 'CANCELLED')",
                    rusqlite::params![id, now],
                )
                .unwrap();
            }
        }
    }
    tx.commit().unwrap();
}

/// Cold start: process start until the first invocation is answered, median of
/// 10, on a database with 10,000 requests. Run with the release build:
/// `cargo build --release && ACO_TEST_BINARY=target/release/aco-api
/// cargo test --test api lambda::cold_start -- --ignored --nocapture`.
/// With `ACO_COLD_START_DATABASE_URL` (an empty PostgreSQL database, as
/// `benches/cold_start.sh` makes one: TLS, and IAM tokens accepted) the same
/// data is copied there and each start connects to it with a new IAM token
/// over TLS.
#[tokio::test]
#[ignore = "a measurement, not a check; see docs/operations.md"]
async fn cold_start() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("aco.db");
    populate(&database, 10_000);
    let postgres = std::env::var("ACO_COLD_START_DATABASE_URL").ok();
    let mut extra = vec![("ACO_JOURNAL_MODE", "DELETE")];
    if let Some(url) = &postgres {
        let copied = std::process::Command::new(binary())
            .args(["copy", "--to", url, "--database-path"])
            .arg(&database)
            .env_clear()
            .output()
            .unwrap();
        assert!(
            copied.status.success(),
            "{}",
            String::from_utf8_lossy(&copied.stderr)
        );
        extra.extend([
            ("ACO_DATABASE_URL", url.as_str()),
            ("ACO_DATABASE_AUTH", "iam"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            ),
            ("AWS_SESSION_TOKEN", "session-token"),
            ("ACO_DATABASE_POOL_SIZE", "2"),
        ]);
    }
    let token = mint(
        PROGRAM_TENANT,
        &[Role::Plsr],
        "plsr@programme.example",
        aco_api::config::dev::ISSUER,
        aco_api::config::dev::AUDIENCE,
        0,
        600,
    );
    let query = json!({ "query": "{ acoRequests(first: 1) { totalCount } }" });
    let mut times = Vec::new();
    for i in 0..10 {
        let id = format!("cold-{i}");
        let mut runtime = fake_runtime(vec![(
            id.clone(),
            fixture("apigw_v2_http_api.json", &token, &query),
        )])
        .await;
        let started = std::time::Instant::now();
        let mut child = lambda_process(&runtime, &database, &extra);
        let (kind, _, response) = first_post(&mut runtime).await;
        times.push(started.elapsed());
        child.kill().await.ok();
        assert_eq!(kind, "response", "{response}");
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["data"]["acoRequests"]["totalCount"], 10_000, "{body}");
    }
    times.sort();
    let ms: Vec<String> = times
        .iter()
        .map(|t| format!("{:.1}", t.as_secs_f64() * 1000.0))
        .collect();
    println!("binary: {}", binary());
    println!(
        "store: {}",
        if postgres.is_some() {
            "PostgreSQL (TLS, IAM token)"
        } else {
            "SQLite"
        }
    );
    println!("cold start to first answer (ms, sorted): {}", ms.join(" "));
    println!(
        "median: {:.1} ms",
        (times[4] + times[5]).as_secs_f64() * 500.0
    );
}

/// The server processes connected to the test database as `aco-api`: their
/// process ids and when each connection began.
async fn connections(url: &str) -> Vec<(i32, String)> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut rows: Vec<(i32, String)> = client
        .query(
            "SELECT pid, backend_start::text FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'aco-api'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    rows.sort();
    rows
}

/// A warm Lambda instance answers from the connections it opened for its
/// first request: the next requests open none.
#[tokio::test]
async fn a_warm_lambda_instance_opens_no_new_connection() {
    if !on_postgres() {
        eprintln!("no ACO_TEST_DATABASE_URL: the PostgreSQL tests did not run");
        return;
    }
    let app = TestApp::new();
    let database = app.config.store.path.clone();
    let url = postgres_url_for(&database).unwrap();
    let token = app.token(PROGRAM_TENANT, &[Role::Plsr], "plsr@programme.example");
    let query =
        json!({ "query": "{ acoRequests(first: 5) { totalCount edges { node { id } } } }" });
    let events = (0..6)
        .map(|i| {
            (
                format!("warm-{i}"),
                fixture("apigw_v2_http_api.json", &token, &query),
            )
        })
        .collect();
    let mut runtime = fake_runtime(events).await;
    let mut child = lambda_process(&runtime, &database, &[("ACO_DATABASE_POOL_SIZE", "2")]);
    let (kind, _, response) = first_post(&mut runtime).await;
    assert_eq!(
        (kind.as_str(), &response["statusCode"]),
        ("response", &json!(200)),
        "{response}"
    );
    let after_first = connections(&url).await;
    assert!(
        !after_first.is_empty() && after_first.len() <= 2,
        "{after_first:?}"
    );
    for _ in 0..5 {
        let (kind, _, response) = first_post(&mut runtime).await;
        assert_eq!(
            (kind.as_str(), &response["statusCode"]),
            ("response", &json!(200)),
            "{response}"
        );
    }
    let after_warm = connections(&url).await;
    child.kill().await.ok();
    assert_eq!(
        after_warm, after_first,
        "the warm requests opened no connection"
    );
}
