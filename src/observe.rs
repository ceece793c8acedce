//! Figures about the service, for operators: Prometheus text on an address
//! of its own (`ACO_METRICS_BIND`), and on Lambda the same figures as
//! CloudWatch Embedded Metric Format lines on stdout; and the W3C trace id
//! (`traceparent`) of each request in its log lines.
//!
//! The figures are recorded through the `metrics` facade wherever they
//! happen; with no exporter installed, recording costs next to nothing.
//! Every label value comes from a closed set (the schema's root fields, the
//! API's error codes, the stores' names), never from raw input.
//!
//! | name | kind | labels |
//! | --- | --- | --- |
//! | `aco_requests_total` | counter | `operation`, `outcome` (`ok` or the first error's code) |
//! | `aco_request_duration_seconds` | histogram | `operation`, `outcome` |
//! | `aco_errors_total` | counter | `code` |
//! | `aco_store_pool_wait_seconds` | histogram | `store` (the wait for a PostgreSQL connection, or for SQLite's writer) |
//! | `aco_store_write_batch_size` | histogram | — (writes committed together by SQLite's writer) |
//! | `aco_sweep_runs_total` | counter | `outcome` (`ok`, `error`) |
//! | `aco_sweep_expired_agreements_total` | counter | — |

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::HeaderMap;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;

/// Whether figures are recorded at all (an exporter is installed, or EMF
/// lines are written): when not, requests skip working out their labels.
static ON: AtomicBool = AtomicBool::new(false);
/// Whether figures are also written as EMF lines (on Lambda).
static EMF: AtomicBool = AtomicBool::new(false);

/// Whether figures are recorded.
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Latency buckets, in seconds: from a cached read to the request timeout.
const SECONDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0,
];
const BATCH_SIZES: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// Installs the Prometheus recorder for the whole process; its handle
/// renders the figures.
pub fn install_prometheus() -> Result<PrometheusHandle, String> {
    ON.store(true, Ordering::Relaxed);
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_size".into()), &BATCH_SIZES))
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| format!("the metrics recorder: {e}"))
}

/// Serves `GET /metrics` (Prometheus text) on `listener` until the process
/// ends, and keeps the histograms' windows moving.
pub async fn serve_metrics(listener: tokio::net::TcpListener, handle: PrometheusHandle) {
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(5));
        loop {
            ticks.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    handle.render(),
                )
            }
        }),
    );
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "the metrics endpoint stopped");
    }
}

/// On Lambda: each request's figures also as an EMF line, which CloudWatch
/// turns into metrics (namespace `aco-api`).
pub fn write_emf() {
    EMF.store(true, Ordering::Relaxed);
    ON.store(true, Ordering::Relaxed);
}

/// A GraphQL request answered: its operation, outcome, every error's code,
/// and how long it took.
pub fn request(operation: &str, outcome: &str, codes: &[String], elapsed: Duration) {
    if !on() {
        return;
    }
    let labels = [
        ("operation", operation.to_owned()),
        ("outcome", outcome.to_owned()),
    ];
    metrics::counter!("aco_requests_total", &labels).increment(1);
    metrics::histogram!("aco_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    for code in codes {
        metrics::counter!("aco_errors_total", "code" => code.clone()).increment(1);
    }
    if EMF.load(Ordering::Relaxed) {
        println!("{}", emf_request(operation, outcome, codes.len(), elapsed));
    }
}

/// The EMF line for a request: dimensions operation and outcome.
fn emf_request(operation: &str, outcome: &str, errors: usize, elapsed: Duration) -> String {
    json!({
        "_aws": {
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "aco-api",
                "Dimensions": [["operation", "outcome"], ["outcome"]],
                "Metrics": [
                    { "Name": "Requests", "Unit": "Count" },
                    { "Name": "Errors", "Unit": "Count" },
                    { "Name": "Duration", "Unit": "Milliseconds" }
                ]
            }]
        },
        "operation": operation,
        "outcome": outcome,
        "Requests": 1,
        "Errors": errors,
        "Duration": elapsed.as_secs_f64() * 1000.0,
    })
    .to_string()
}

/// How long a use case waited for the store (`postgres`: a connection of
/// the pool; `sqlite`: the writer).
pub fn store_wait(store: &'static str, waited: Duration) {
    if !on() {
        return;
    }
    metrics::histogram!("aco_store_pool_wait_seconds", "store" => store)
        .record(waited.as_secs_f64());
}

/// Writes committed in one transaction by SQLite's writer.
pub fn write_batch(size: usize) {
    if !on() {
        return;
    }
    metrics::histogram!("aco_store_write_batch_size").record(size as f64);
}

/// A sweep ended: how many agreements it expired, or that it failed.
/// One webhook delivery attempt: whether the endpoint took it, and how long it took.
pub fn webhook_attempt(delivered: bool, took: std::time::Duration) {
    if !on() {
        return;
    }
    let outcome = if delivered { "delivered" } else { "failed" };
    metrics::counter!("aco_webhook_attempts_total", "outcome" => outcome).increment(1);
    metrics::histogram!("aco_webhook_attempt_duration_seconds").record(took.as_secs_f64());
}

pub fn sweep(expired: &crate::error::Result<usize>) {
    if !on() {
        return;
    }
    let outcome = if expired.is_ok() { "ok" } else { "error" };
    metrics::counter!("aco_sweep_runs_total", "outcome" => outcome).increment(1);
    if let Ok(expired) = expired {
        metrics::counter!("aco_sweep_expired_agreements_total").increment(*expired as u64);
    }
    if EMF.load(Ordering::Relaxed) {
        println!(
            "{}",
            json!({
                "_aws": {
                    "Timestamp": chrono::Utc::now().timestamp_millis(),
                    "CloudWatchMetrics": [{
                        "Namespace": "aco-api",
                        "Dimensions": [["outcome"]],
                        "Metrics": [
                            { "Name": "SweepRuns", "Unit": "Count" },
                            { "Name": "ExpiredAgreements", "Unit": "Count" }
                        ]
                    }]
                },
                "outcome": outcome,
                "SweepRuns": 1,
                "ExpiredAgreements": expired.as_ref().copied().unwrap_or(0),
            })
        );
    }
}

/// The trace id of a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`),
/// when it is one: version `ff` and all-zero ids are invalid.
pub fn trace_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("traceparent")?.to_str().ok()?;
    let parts: Vec<&str> = value.trim().split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    match parts.as_slice() {
        [version, trace, parent, flags, ..]
            if hex(version, 2)
                && *version != "ff"
                && hex(trace, 32)
                && hex(parent, 16)
                && hex(flags, 2)
                && trace.bytes().any(|b| b != b'0')
                && parent.bytes().any(|b| b != b'0')
                && (*version != "00" || parts.len() == 4) =>
        {
            Some((*trace).to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", value.parse().unwrap());
        headers
    }

    #[test]
    fn only_a_well_formed_traceparent_gives_a_trace_id() {
        assert_eq!(
            trace_id(&with(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            ))
            .as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "not a traceparent",
        ] {
            assert_eq!(trace_id(&with(bad)), None, "{bad}");
        }
        assert_eq!(trace_id(&HeaderMap::new()), None);
    }

    #[test]
    fn an_emf_line_names_its_metrics_and_dimensions() {
        let line: serde_json::Value = serde_json::from_str(&emf_request(
            "query:acoRequest",
            "ok",
            0,
            Duration::from_millis(3),
        ))
        .unwrap();
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "aco-api");
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(
                line.get(metric["Name"].as_str().unwrap()).is_some(),
                "{metric}"
            );
        }
        for dimension in directive["Dimensions"][0].as_array().unwrap() {
            assert!(line.get(dimension.as_str().unwrap()).is_some());
        }
        assert_eq!(line["Duration"], 3.0);
    }
}
