//! The HTTP surface: `POST /graphql`, the explorer at `GET /graphql` (its
//! files under `/graphql/explorer/`), `/healthz` (readiness, with the
//! database) and `/livez` (liveness, without).
//!
//! This module holds the state, the router and what every route shares;
//! `layers` the CORS rules and the layers' own answers, `caller` who is
//! calling, `graphql` the GraphQL endpoint, `execute` how a GraphQL request
//! runs and is answered, `explorer` the explorer's page and files, and
//! `report` the CSV report.

mod caller;
mod execute;
mod explorer;
mod graphql;
mod layers;
mod report;
mod subscriptions;

use std::sync::Arc;

use async_graphql::ValidationMode;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Authenticator;
use crate::config::AppConfig;
use crate::graphql::limits::{Documents, QueryLimits};
use crate::graphql::variables::InputTypes;
use crate::graphql::{AcoSchema, AppData, build_schema};
use crate::store::Db;
use crate::store::Engine;
use graphql::{graphql_get, graphql_post};
use layers::{body_too_large, cors_layer, overloaded};
use report::credit_balance_report;

const REQUEST_ID: &str = "x-request-id";

/// Everything a request handler needs; built once per process.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<AppConfig>,
    pub auth: Arc<Authenticator>,
    pub schema: AcoSchema,
    /// The same schema without the document-only validation rules, for
    /// documents that passed them already and requests whose variables pass
    /// the schema's input types; built when first needed.
    fast_schema: Arc<std::sync::OnceLock<(AcoSchema, InputTypes)>>,
    /// Parsed (and cached) query documents, with the text limits.
    pub documents: Arc<Documents>,
}

impl AppState {
    fn fast_schema(&self) -> &(AcoSchema, InputTypes) {
        self.fast_schema.get_or_init(|| {
            let schema = build_schema(
                AppData {
                    db: self.db.clone(),
                    config: self.config.clone(),
                },
                ValidationMode::Fast,
            );
            (schema, InputTypes::of_schema())
        })
    }

    pub fn new(config: AppConfig, db: Db) -> Self {
        let config = Arc::new(config);
        let schema = build_schema(
            AppData {
                db: db.clone(),
                config: config.clone(),
            },
            ValidationMode::Strict,
        );
        let documents = Arc::new(Documents::new(QueryLimits {
            max_bytes: config.limits.max_query_bytes,
            max_depth: config.limits.max_depth,
            max_aliases: config.limits.max_aliases,
            max_selections: config.limits.max_selections,
        }));
        AppState {
            documents,
            auth: Arc::new(config.jwt.authenticator()),
            db,
            config,
            schema,
            fast_schema: Arc::default(),
        }
    }
}

/// Opens the store and builds the router: what the binary serves locally and
/// on Lambda, and what the tests call.
pub fn build_app(config: AppConfig) -> crate::error::Result<Router> {
    let db = Db::open_configured(&config.store, config.postgres.as_ref())?;
    Ok(router(AppState::new(config, db)))
}

pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let cors = cors_layer(&state.config.cors_origins, state.config.dev);
    // The API's routes share one cap on requests in flight; beyond it a
    // request is refused at once, not queued. The probes stay outside it.
    let api = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/reports/credit-balance.csv", get(credit_balance_report))
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(overloaded))
                .load_shed()
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                    state.config.max_in_flight,
                )),
        );
    // The explorer's files are bytes in memory, like the probes' answers:
    // outside the cap, so that a busy API does not half-load a page.
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/livez", get(livez))
        .route("/graphql/explorer/{file}", get(explorer::asset))
        .merge(api)
        .with_state(state.clone())
        // The limit reads the body the timeout hands it, so that a body too
        // large is told apart from a body too slow.
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(RequestBodyTimeoutLayer::new(state.config.body_timeout))
        .layer(axum::middleware::map_response(body_too_large))
        .layer(CatchPanicLayer::custom(|_| {
            let id = uuid::Uuid::new_v4();
            tracing::error!(request_id = %id, "a request handler panicked");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                &format!("internal error (request id {id})"),
            )
        }));
    if let Some(cors) = cors {
        app = app.layer(cors);
    }
    let app = app
        // Each request's log lines carry the trace id of its W3C `traceparent`.
        .layer(TraceLayer::new_for_http().make_span_with(
            |request: &axum::http::Request<axum::body::Body>| match crate::observe::trace_id(
                request.headers(),
            ) {
                Some(trace_id) => tracing::info_span!("request", trace_id = %trace_id),
                None => tracing::Span::none(),
            },
        ))
        .layer(PropagateRequestIdLayer::new(HeaderName::from_static(
            REQUEST_ID,
        )))
        .layer(SetRequestIdLayer::new(
            HeaderName::from_static(REQUEST_ID),
            MakeRequestUuid,
        ));
    // Lambda requests are adjusted (stage prefix, request id) before routing,
    // so this wraps the whole router rather than its routes.
    let lambda = tower::Layer::layer(
        &axum::middleware::from_fn(crate::lambda::lambda_request),
        app,
    );
    Router::new().fallback_service(lambda)
}

/// A GraphQL-shaped error body with `extensions.code`.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}

/// The request id (set by the id layer, or the client's own if it is a sane token).
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .unwrap_or("-")
        .to_owned()
}

/// Readiness: the process answers and so does its database.
async fn healthz(State(state): State<AppState>) -> Response {
    if state.db.ping().await {
        (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "unavailable" })),
        )
            .into_response()
    }
}

/// Liveness: the process answers, without touching the database (also the
/// benchmark's yardstick).
async fn livez() -> Response {
    (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response()
}
