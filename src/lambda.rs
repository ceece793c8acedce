//! AWS Lambda: the same router behind API Gateway, ALB or a Function URL, and
//! the scheduled sweep, from the same binary.
//!
//! `main` chooses: with `AWS_LAMBDA_RUNTIME_API` set it serves Lambda
//! invocations — HTTP events through [`run_http`]; when
//! `ACO_LAMBDA_HANDLER=sweep`, scheduled (EventBridge) events through
//! [`run_sweep`]; when `ACO_LAMBDA_HANDLER=migrate`, the migrations, for a
//! CloudFormation custom resource on each deployment, through
//! [`run_migrations`]. Everything else (schema, database) is set up once per
//! container, before the first invocation.

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
    /// CloudFormation custom resource events (or a direct invocation): apply
    /// the migrations and make the service's database role.
    Migrate,
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
            let swept = crate::jobs::sweep_expired_agreements(&db, &config).await;
            crate::observe::sweep(&swept);
            // Webhooks: what is due now (this schedule is their latency
            // here), whether or not the sweep succeeded, within what is left
            // of the invocation less one delivery's timeout and its record.
            let left = std::time::Duration::from_millis(
                event
                    .context
                    .deadline
                    .saturating_sub(chrono::Utc::now().timestamp_millis().max(0) as u64),
            );
            let budget = WEBHOOK_BUDGET.min(
                left.saturating_sub(config.webhook_timeout + std::time::Duration::from_secs(5)),
            );
            let delivered = crate::jobs::deliverer(db.clone(), &config)
                .drain(budget)
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "webhook delivery failed");
                    0
                });
            let expired = swept?;
            tracing::info!(
                request_id = %event.context.request_id,
                expired,
                duration_ms = started.elapsed().as_millis() as u64,
                "sweep"
            );
            Ok::<Value, lambda_http::Error>(
                json!({ "expiredAgreements": expired, "webhookSends": delivered }),
            )
        }
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// How long one scheduled invocation spends sending webhooks before it
/// waits for the sends in flight (within the sweep function's timeout).
const WEBHOOK_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

/// A CloudFormation custom resource's answer is at most 4,096 bytes: the
/// reason is cut well within it.
const MAX_REASON: usize = 1_000;

/// Serves migration invocations. A CloudFormation custom resource event
/// (`RequestType` and `ResponseURL`) applies the migrations on `Create` and
/// `Update` (with `AppRole` and `AppRoleArn` from its properties, on
/// PostgreSQL) and does nothing on `Delete` (the data stays), then answers
/// CloudFormation at its `ResponseURL`, success or failure: a stack never
/// waits an hour for an answer that does not come. Any other event applies
/// the migrations and returns what was done.
pub async fn run_migrations(
    database: crate::config::DatabaseArgs,
    timezone: String,
) -> Result<(), lambda_http::Error> {
    let handler = service_fn(move |event: LambdaEvent<Value>| {
        let (database, timezone) = (database.clone(), timezone.clone());
        async move {
            let payload = &event.payload;
            let text = |name: &str| payload.get(name).and_then(Value::as_str);
            let property = |name: &str| {
                payload
                    .get("ResourceProperties")
                    .and_then(|p| p.get(name))
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty())
            };
            let outcome = if text("RequestType") == Some("Delete") {
                Ok(vec!["nothing to do: the database is kept".to_owned()])
            } else {
                match property("AppRole")
                    .map(|name| {
                        crate::store::postgres_roles::AppRole::new(name, property("AppRoleArn"))
                    })
                    .transpose()
                {
                    Ok(role) => {
                        crate::commands::apply_migrations(&database, &timezone, role.as_ref()).await
                    }
                    Err(e) => Err(e.to_string()),
                }
            };
            match &outcome {
                Ok(report) => tracing::info!(
                    request_id = %event.context.request_id,
                    report = %report.join("; "),
                    "migrations"
                ),
                Err(e) => tracing::error!(
                    request_id = %event.context.request_id,
                    error = %e,
                    "migrations failed"
                ),
            }
            let Some(response_url) = text("ResponseURL") else {
                return outcome
                    .map(|report| json!({ "report": report }))
                    .map_err(lambda_http::Error::from);
            };
            let answer = custom_resource_answer(payload, &outcome);
            let uri = crate::outbound::checked_url(response_url)?;
            crate::outbound::put(
                &uri,
                // A presigned S3 URL is signed without a content type.
                &[("content-type", "")],
                bytes::Bytes::from(answer.to_string()),
                std::time::Duration::from_secs(30),
            )
            .await?;
            Ok(answer)
        }
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// The answer to a CloudFormation custom resource event, for `outcome`.
pub fn custom_resource_answer(event: &Value, outcome: &Result<Vec<String>, String>) -> Value {
    let field = |name: &str| event.get(name).cloned().unwrap_or(Value::Null);
    let (status, reason) = match outcome {
        Ok(report) => ("SUCCESS", report.join("; ")),
        Err(e) => ("FAILED", e.clone()),
    };
    let mut reason = reason;
    if reason.len() > MAX_REASON {
        let mut cut = MAX_REASON;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
        reason.push('…');
    }
    json!({
        "Status": status,
        "Reason": reason,
        // One schema per stack: the same id on every update, so that
        // CloudFormation never deletes a replaced one.
        "PhysicalResourceId": event
            .get("PhysicalResourceId")
            .cloned()
            .unwrap_or_else(|| json!("aco-api-schema")),
        "StackId": field("StackId"),
        "RequestId": field("RequestId"),
        "LogicalResourceId": field("LogicalResourceId"),
        "Data": {},
    })
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
