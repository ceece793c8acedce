//! What operators see: the Prometheus endpoint on its own address, with
//! requests by operation and outcome, errors by code and latency
//! histograms; and the trace id of a W3C `traceparent` in the log lines of
//! its request. The release binary, as deployed.

use std::time::Duration;

use aco_api::domain::Role;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::durability::{binary, serve_until_healthy};
use crate::support::*;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// One HTTP/1.1 exchange on its own connection: the status and the body.
async fn exchange(address: &str, head: &str, body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "{head}\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let status = raw[9..12].parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

async fn graphql(address: &str, token: &str, extra: &str, query: &str) -> (u16, Value) {
    let head = format!(
        "POST /graphql HTTP/1.1\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}{extra}"
    );
    let (status, body) = exchange(address, &head, &json!({ "query": query }).to_string()).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The value of the series of `name` whose labels include every one of `labels`.
fn series(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn operators_see_requests_errors_and_latency_by_operation_and_the_trace_id_in_the_logs() {
    // A test app's database: on the PostgreSQL run, its database there.
    let app = TestApp::new();
    let database = app.config.store.path.clone();
    let dir = tempfile::tempdir().unwrap();
    let (address, metrics) = (free_address(), free_address());
    let log = dir.path().join("server.log");
    let mut command = tokio::process::Command::new(binary());
    command
        .args(["serve", "--dev", "--bind", &address, "--database-path"])
        .arg(&database)
        .env_clear()
        .env("ACO_METRICS_BIND", &metrics)
        .env("ACO_LOG_FORMAT", "json")
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::null());
    use_database(&mut command, &database);
    let mut child = serve_until_healthy(command, &address).await;

    let token = app.token(PROGRAM_TENANT, &[Role::Plsr], "plsr@programme.example");
    let traced = format!("\r\ntraceparent: 00-{TRACE_ID}-00f067aa0ba902b7-01");
    let (status, body) = graphql(&address, &token, &traced, "{ me { roles } }").await;
    assert_eq!(
        (status, &body["data"]["me"]["roles"]),
        (200, &json!(["PLSR"])),
        "{body}"
    );
    for _ in 0..2 {
        let (_, body) = graphql(
            &address,
            &token,
            "",
            r#"{ acoRequest(id: "not-an-id") { id } }"#,
        )
        .await;
        assert!(body["errors"].is_array(), "{body}");
    }
    let admin = app.token(
        PROGRAM_TENANT,
        &[Role::ProgramAdmin],
        "admin@programme.example",
    );
    let create = format!(
        r#"mutation {{ createPartner(input: {{ tenantId: "{}", domain: "contoso.example", companyName: "Contoso", partnerType: DIRECT_BILL }}) {{ partner {{ id }} userErrors {{ code }} }} }}"#,
        new_tenant()
    );
    let (_, body) = graphql(&address, &admin, "", &create).await;
    assert!(
        body["data"]["createPartner"]["partner"]["id"].is_string(),
        "{body}"
    );
    let (status, _) = graphql(&address, "not.a.token", "", "{ me { roles } }").await;
    assert_eq!(status, 401);
    // A field the schema does not have gives no label of its own.
    let (_, body) = graphql(&address, &token, "", "{ madeUpField123 }").await;
    assert!(body["errors"].is_array());

    let (status, text) = exchange(&metrics, "GET /metrics HTTP/1.1", "").await;
    child.kill().await.ok();
    assert_eq!(status, 200, "{text}");
    let me = [r#"operation="query:me""#, r#"outcome="ok""#];
    assert_eq!(
        series(&text, "aco_requests_total", &me),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "aco_request_duration_seconds_count", &me),
        Some(1.0),
        "{text}"
    );
    assert!(
        series(
            &text,
            "aco_request_duration_seconds_bucket",
            &[me[0], r#"le="15""#]
        )
        .is_some(),
        "{text}"
    );
    let lookup = series(
        &text,
        "aco_requests_total",
        &[r#"operation="query:acoRequest""#],
    );
    assert_eq!(lookup, Some(2.0), "{text}");
    assert!(!text.contains(r#"outcome="ok",operation="query:acoRequest""#));
    assert_eq!(
        series(&text, "aco_errors_total", &[r#"code="UNAUTHENTICATED""#]),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("madeUpField123"), "{text}");
    assert!(
        series(&text, "aco_requests_total", &[r#"operation="unknown""#]).is_some(),
        "{text}"
    );
    // The write went through the store: SQLite's writer counts its batch;
    // PostgreSQL's pool counts every wait for a connection.
    let store_figure = if on_postgres() {
        "aco_store_pool_wait_seconds_count"
    } else {
        "aco_store_write_batch_size_count"
    };
    let written = text
        .lines()
        .find(|line| line.starts_with(store_figure))
        .and_then(|line| line.rsplit(' ').next()?.parse::<f64>().ok());
    assert!(
        written.is_some_and(|n| n >= 1.0),
        "{store_figure} in {text}"
    );
    assert_eq!(
        series(
            &text,
            "aco_requests_total",
            &[r#"operation="mutation:createPartner""#, r#"outcome="ok""#]
        ),
        Some(1.0),
        "{text}"
    );

    tokio::time::sleep(Duration::from_millis(100)).await;
    let lines = std::fs::read_to_string(&log).unwrap();
    let traced: Vec<&str> = lines.lines().filter(|l| l.contains(TRACE_ID)).collect();
    assert!(
        traced.iter().any(|l| l.contains(r#""message":"graphql""#)),
        "the request's log line carries its trace id: {lines}"
    );
}
