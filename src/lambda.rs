//! AWS Lambda: the same router behind API Gateway, ALB or a Function URL, and
//! the scheduled sweep, from the same binary.
//!
//! `main` chooses: with `AWS_LAMBDA_RUNTIME_API` set it serves Lambda
//! invocations — HTTP events through [`run_http`], or, when
//! `ACO_LAMBDA_HANDLER=sweep`, scheduled (EventBridge) events through
//! [`run_sweep`]. Everything else (schema, database, migrations) is set up
//! once per container, before the first invocation.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use lambda_http::{LambdaEvent, service_fn};
use serde_json::{Value, json};

use crate::config::AppConfig;
use crate::error::LogSafe;
use crate::store::Db;

/// Which kind of invocation this function handles (`ACO_LAMBDA_HANDLER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LambdaHandler {
    /// API Gateway (HTTP or REST API), ALB and Function URL events.
    Http,
    /// Scheduled events: run the agreement expiry sweep.
    Sweep,
}

/// For requests that came through Lambda: takes the Lambda request id as the
/// request id, and removes a named API Gateway stage from the path (a stage
/// other than `$default` puts its name in front of every path).
pub async fn lambda_request(mut request: Request, next: Next) -> Response {
    let lambda_id = request
        .extensions()
        .lambda_context_ref()
        .map(|c| c.request_id.clone());
    if let Some(id) = lambda_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        request.headers_mut().insert("x-request-id", id);
    }
    let stage = match request.extensions().request_context_ref() {
        Some(RequestContext::ApiGatewayV1(c)) => c.stage.clone(),
        Some(RequestContext::ApiGatewayV2(c)) => c.stage.clone(),
        _ => None,
    };
    if let Some(stage) = stage.filter(|s| s != "$default" && !s.is_empty()) {
        let prefix = format!("/{stage}");
        let path = request.uri().path();
        let stripped = match path.strip_prefix(&prefix) {
            Some("") => Some("/".to_owned()),
            Some(rest) if rest.starts_with('/') => Some(rest.to_owned()),
            _ => None,
        };
        if let Some(rest) = stripped {
            let with_query = match request.uri().query() {
                Some(q) => format!("{rest}?{q}"),
                None => rest,
            };
            if let Ok(uri) = with_query.parse::<Uri>() {
                *request.uri_mut() = uri;
            }
        }
    }
    next.run(request).await
}

/// Serves HTTP invocations with the router.
pub async fn run_http(app: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(app).await
}

/// Whether an invocation is one of the scheduled events `infra/` configures
/// (an EventBridge rule: `source: aws.events`, `detail-type: Scheduled
/// Event`). Anything else — an HTTP event routed here by mistake, a test
/// invocation, another service's event — must not sweep.
pub fn is_scheduled_event(payload: &Value) -> bool {
    payload.get("source").and_then(Value::as_str) == Some("aws.events")
        && payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
}

/// Serves scheduled invocations: each runs the expiry sweep (agreements past
/// their deadline, credits past their period) and answers what it did. Any
/// other event is refused with an error, without sweeping.
pub async fn run_sweep(db: Db, config: AppConfig) -> Result<(), lambda_http::Error> {
    let handler = service_fn(move |event: LambdaEvent<Value>| {
        let (db, config) = (db.clone(), config.clone());
        async move {
            if !is_scheduled_event(&event.payload) {
                let source = event.payload.get("source").and_then(Value::as_str);
                tracing::warn!(
                    request_id = %event.context.request_id,
                    source = %LogSafe(source.unwrap_or("none")),
                    "an invocation that is not a scheduled event was refused; nothing was swept"
                );
                return Err(lambda_http::Error::from(
                    "the sweep function runs for scheduled EventBridge events only \
                     (source aws.events, detail-type Scheduled Event)",
                ));
            }
            let started = std::time::Instant::now();
            let expired = crate::jobs::sweep_expired_agreements(&db, &config).await?;
            tracing::info!(
                request_id = %event.context.request_id,
                expired,
                duration_ms = started.elapsed().as_millis() as u64,
                "sweep"
            );
            Ok::<Value, lambda_http::Error>(json!({ "expiredAgreements": expired }))
        }
    });
    lambda_http::lambda_runtime::run(handler).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_scheduled_eventbridge_events_sweep() {
        let scheduled =
            json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
        assert!(is_scheduled_event(&scheduled));
        for other in [
            json!({"source": "aws.events", "detail-type": "EC2 Instance State-change Notification"}),
            json!({"source": "my.app", "detail-type": "Scheduled Event"}),
            json!({"version": "2.0", "routeKey": "POST /graphql", "rawPath": "/graphql"}),
            json!({}),
            json!(null),
        ] {
            assert!(!is_scheduled_event(&other), "{other}");
        }
    }
}
