//! The HTTP surface: `POST /graphql`, the explorer at `GET /graphql`, `/healthz`
//! (readiness, with the database) and `/livez` (liveness, without).

use std::sync::Arc;
use std::time::Duration;

use async_graphql::{ErrorExtensions, ValidationMode};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{AuthError, Authenticator};
use crate::config::AppConfig;
use crate::error::LogSafe;
use crate::graphql::limits::{Documents, Parsed, QueryLimits};
use crate::graphql::variables::InputTypes;
use crate::graphql::{AcoSchema, AppData, RequestContext, build_schema};
use crate::store::Db;

const REQUEST_ID: &str = "x-request-id";

/// The GraphiQL explorer page served at `GET /graphql` when enabled.
const EXPLORER: &str = include_str!("explorer.html");

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
    let db = Db::open(&config.store)?;
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
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/livez", get(livez))
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
        .layer(TraceLayer::new_for_http())
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

/// Which browser origins may call the API: `*` any (the API uses bearer
/// tokens, never cookies, so no credentials are allowed); else the origins
/// listed; in dev mode with none listed, pages served from this machine
/// (`http://localhost:*`, `http://127.0.0.1:*`). `x-request-id` is exposed,
/// and the tracing headers browser SDKs add are allowed.
fn cors_layer(origins: &[String], dev: bool) -> Option<CorsLayer> {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else if !origins.is_empty() {
        AllowOrigin::list(origins.iter().filter_map(|o| o.parse().ok()))
    } else if dev {
        AllowOrigin::predicate(|origin: &HeaderValue, _| is_this_machine(origin.as_bytes()))
    } else {
        return None;
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                AUTHORIZATION,
                CONTENT_TYPE,
                HeaderName::from_static("traceparent"),
                HeaderName::from_static("tracestate"),
                HeaderName::from_static("baggage"),
            ])
            .expose_headers([HeaderName::from_static(REQUEST_ID)])
            .max_age(Duration::from_secs(600)),
    )
}

/// `http://localhost` or `http://127.0.0.1`, on any port.
fn is_this_machine(origin: &[u8]) -> bool {
    ["http://localhost", "http://127.0.0.1"].iter().any(|host| {
        origin.strip_prefix(host.as_bytes()).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix(b":")
                    .is_some_and(|port| !port.is_empty() && port.iter().all(u8::is_ascii_digit))
        })
    })
}

/// The answer when the cap on requests in flight is reached.
async fn overloaded(_: tower::BoxError) -> Response {
    let mut response = error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "OVERLOADED",
        "the service is answering as many requests as it can; try again in a second",
    );
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from_static("1"),
    );
    response
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

/// Answers a refused body size with the same JSON error shape as everything else.
async fn body_too_large(response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "QUERY_TOO_LARGE",
            "the request body is too large",
        );
    }
    response
}

/// Validates the bearer token, if any, and finds the caller's organisation.
/// `Ok(None)` means no token: anonymous, which only introspection may serve.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<crate::domain::actor::Actor>, AuthError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::MalformedHeader)?;
    let claims = state.auth.verify(token)?;
    let pending = match state.auth.resolve_without_store(claims)? {
        crate::auth::Resolution::Done(actor) => return Ok(Some(actor)),
        crate::auth::Resolution::NeedsLookup(pending) => pending,
    };
    let actor = state
        .db
        .read(move |tx| pending.finish(tx))
        .await
        .map_err(|_| AuthError::Unavailable)??;
    Ok(Some(actor))
}

/// The answer to a token that was not accepted: 401, or 503 when the token
/// may be fine but its organisation could not be looked up.
fn unauthenticated(error: AuthError) -> Response {
    if error == AuthError::Unavailable {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "INTERNAL_SERVER_ERROR",
            "the service cannot answer right now; try again",
        );
    }
    let mut response = error_response(
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        &error.to_string(),
    );
    response
        .headers_mut()
        .insert("www-authenticate", HeaderValue::from_static("Bearer"));
    response
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> Response {
    let actor = match authenticate(state, headers).await {
        Ok(actor) => actor,
        Err(e) => return unauthenticated(e),
    };
    let started = std::time::Instant::now();
    let tenant = actor
        .as_ref()
        .map(|a| a.tenant_id.clone())
        .unwrap_or_default();
    let operation = request.operation_name.clone().unwrap_or_default();
    let context = RequestContext {
        actor,
        request_id: request_id(headers),
        now: state.config.clock.now(),
        // A little before the cut-off, so that a write never commits unanswered.
        deadline: Some(started + state.config.request_timeout.mul_f64(0.9)),
    };
    let request_id = context.request_id.clone();
    let mut request = request;
    let prepared = prepare(state, &mut request, &context);
    let mutation = prepared.as_ref().is_ok_and(|parsed| {
        crate::graphql::gate::runs_mutation(&parsed.document, request.operation_name.as_deref())
    });
    let answer = async {
        match prepared {
            Ok(parsed)
                if parsed.validated()
                    && state.fast_schema().1.accept(
                        &parsed.document,
                        request.operation_name.as_deref(),
                        &request.variables,
                    ) =>
            {
                state.fast_schema().0.execute(request.data(context)).await
            }
            Ok(parsed) => {
                let response = state.schema.execute(request.data(context)).await;
                // Data means the document passed validation and ran.
                if response.data != async_graphql::Value::Null {
                    parsed.mark_validated();
                }
                response
            }
            Err(refusal) => async_graphql::Response::from_errors(vec![refusal]),
        }
    };
    let timed_out = || {
        tracing::warn!(request_id = %request_id, operation = %LogSafe(&operation), "request timed out");
        error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "TIMEOUT",
            &format!(
                "the request took longer than {} s (request id {request_id})",
                state.config.request_timeout.as_secs()
            ),
        )
    };
    let Ok(mut response) = tokio::time::timeout(state.config.request_timeout, answer).await else {
        return timed_out();
    };
    // A read interrupted at the deadline answers as the deadline would have.
    if response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|code| *code == async_graphql::Value::from("TIMEOUT"))
    }) {
        return timed_out();
    }
    tracing::info!(
        request_id = %request_id,
        tenant = %tenant,
        operation = %LogSafe(&operation),
        errors = response.errors.len(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "graphql"
    );
    for error in &mut response.errors {
        let code = error_code(&error.message);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code);
        }
    }
    let wants_graphql_media_type = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/graphql-response+json"));
    // Clients that did not ask for the newer media type get plain JSON.
    let media_type = if wants_graphql_media_type {
        "application/graphql-response+json"
    } else {
        "application/json"
    };
    graphql_response(
        response,
        media_type,
        AnswerLimit {
            bytes: state.config.max_response_bytes,
            mutation,
        },
    )
}

/// The largest answer to send, and whether the operation was a mutation
/// (whose change stands even when its answer is refused).
struct AnswerLimit {
    bytes: usize,
    mutation: bool,
}

/// A buffer that refuses to grow past its limit.
struct Capped {
    buffer: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buffer.len() + data.len() > self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "the answer is over its limit",
            ));
        }
        self.buffer.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Room for a typical answer: a buffer grown from empty is copied a dozen
/// times on the way to a list page's few kilobytes.
const ANSWER_CAPACITY: usize = 8 * 1024;

/// The HTTP answer for an executed GraphQL request: its JSON, its cache hints
/// and any headers its resolvers set.
fn graphql_response(
    response: async_graphql::Response,
    media_type: &'static str,
    limit: AnswerLimit,
) -> Response {
    let mut body = Capped {
        buffer: Vec::with_capacity(ANSWER_CAPACITY.min(limit.bytes)),
        limit: limit.bytes,
    };
    if let Err(e) = serde_json::to_writer(&mut body, &response) {
        if e.io_error_kind() == Some(std::io::ErrorKind::FileTooLarge) {
            let ran = if limit.mutation {
                "; the mutation itself was carried out: read its result with a smaller query"
            } else {
                ""
            };
            let refusal = async_graphql::Response::from_errors(vec![
                async_graphql::Error::new(format!(
                    "the answer would be larger than {} bytes, which is the most sent: \
                     ask for fewer items or fields{ran}",
                    limit.bytes
                ))
                .extend_with(|_, e| e.set("code", "QUERY_TOO_COMPLEX"))
                .into_server_error(Default::default()),
            ]);
            return graphql_response(
                refusal,
                media_type,
                AnswerLimit {
                    bytes: usize::MAX,
                    mutation: false,
                },
            );
        }
        tracing::error!(error = %e, "an answer could not be written as JSON");
        return error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "the answer could not be written",
        );
    }
    let body = body.buffer;
    let mut http_response = Response::new(axum::body::Body::from(body));
    let headers = http_response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(media_type));
    if response.is_ok()
        && let Some(value) = response.cache_control.value()
        && let Ok(value) = HeaderValue::from_str(&value)
    {
        headers.insert(axum::http::header::CACHE_CONTROL, value);
    }
    headers.extend(response.http_headers);
    http_response
}

/// Parses the query (limits, cache) and lets the role gate see the root
/// fields the operation asks for, before the engine validates and runs it.
fn prepare(
    state: &AppState,
    request: &mut async_graphql::Request,
    context: &RequestContext,
) -> Result<Arc<Parsed>, async_graphql::ServerError> {
    let parsed = state.documents.parse(&request.query)?;
    crate::graphql::gate::check_operation(
        &parsed.document,
        request.operation_name.as_deref(),
        context.actor.as_ref(),
        &context.request_id,
    )?;
    request.set_parsed_query(parsed.document.clone());
    Ok(parsed)
}

/// The code for an error raised by the GraphQL engine itself (parsing,
/// validation, limits) rather than by a resolver.
fn error_code(message: &str) -> &'static str {
    if message.contains("too complex") {
        "QUERY_TOO_COMPLEX"
    } else {
        "BAD_USER_INPUT"
    }
}

/// The most JSON values (numbers, strings, lists, objects and the like) a
/// request's body may hold: far above the largest input of the schema.
const MAX_JSON_VALUES: usize = 10_000;

/// How many JSON values `body` holds outside strings (its commas and
/// opening brackets), counted up to `limit + 1`.
fn json_values(body: &[u8], limit: usize) -> usize {
    let (mut count, mut in_string, mut escaped) = (1usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b',' | b'[' | b'{' => {
                count += 1;
                if count > limit {
                    break;
                }
            }
            _ => {}
        }
    }
    count
}

async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return rejection.into_response(); // answered by `body_too_large`
        }
        // The body was not received: too slow (`ACO_BODY_TIMEOUT_SECONDS`),
        // or cut off.
        Err(_) => {
            return error_response(
                StatusCode::REQUEST_TIMEOUT,
                "BAD_USER_INPUT",
                &format!(
                    "the request body was not received in full within {} s",
                    state.config.body_timeout.as_secs()
                ),
            );
        }
    };
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false);
    if !is_json {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_USER_INPUT",
            "send the request as Content-Type: application/json",
        );
    }
    // One operation per request: a JSON array is a batch, which we refuse.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "batched requests are not supported: send one operation per request",
        );
    }
    // Each JSON value becomes a tree node of its own (over a hundred bytes
    // each): a body of a million `1,` would take 90 MB before anything
    // looked at it. Counted on the raw bytes first.
    let values = json_values(&body, MAX_JSON_VALUES);
    if values > MAX_JSON_VALUES {
        return error_response(
            StatusCode::BAD_REQUEST,
            "QUERY_TOO_LARGE",
            &format!("the request holds more than {MAX_JSON_VALUES} JSON values in its variables"),
        );
    }
    let request = match serde_json::from_slice::<async_graphql::Request>(&body) {
        Ok(request) => request,
        // serde_json stops at 128 levels of nesting, before anything else
        // recurses into the variables.
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "QUERY_TOO_DEEP",
                "the variables nest more than 128 levels deep",
            );
        }
        Err(e) if e.is_syntax() || e.is_eof() => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("the body is not valid JSON: {e}"),
            );
        }
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("not a GraphQL request: {e}"),
            );
        }
    };
    execute(&state, &headers, request).await
}

/// `GET /graphql?query=…` runs queries (never mutations: `405`); without a
/// query it serves the explorer, when enabled.
async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    if query.is_empty() {
        if state.config.explorer {
            return Html(EXPLORER).into_response();
        }
        return error_response(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "the explorer is disabled; POST GraphQL requests to /graphql",
        );
    }
    let request = match async_graphql::http::parse_query_string(&query) {
        Ok(request) => request,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &e.to_string()),
    };
    let mutation = state.documents.parse(&request.query).is_ok_and(|parsed| {
        crate::graphql::gate::runs_mutation(&parsed.document, request.operation_name.as_deref())
    });
    if mutation {
        let mut response = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_USER_INPUT",
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert("allow", HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, &headers, request).await
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

#[derive(serde::Deserialize)]
struct ReportQuery {
    month: Option<String>,
}

/// `GET /reports/credit-balance.csv?month=YYYY-MM`: the credit balance report
/// for finance tools, with the same bearer token and visibility as the API.
async fn credit_balance_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<ReportQuery>,
) -> Response {
    let actor = match authenticate(&state, &headers).await {
        Ok(Some(actor)) => actor,
        Ok(None) => return unauthenticated(AuthError::MalformedHeader),
        Err(e) => return unauthenticated(e),
    };
    let Some(month) = query
        .month
        .as_deref()
        .and_then(|m| m.parse::<crate::domain::time::Month>().ok())
    else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "give the invoice month as ?month=YYYY-MM",
        );
    };
    let deadline = std::time::Instant::now() + state.config.request_timeout;
    // The CSV is written inside the read, so that a large report is written
    // where a long read runs: off the async workers.
    let body = match state
        .db
        .read_until(Some(deadline), move |tx| {
            let lines = crate::service::credits::balance_report(tx, &actor, month)?;
            balance_report_csv(&lines).map_err(crate::error::Error::Internal)
        })
        .await
    {
        Ok(body) => body,
        Err(crate::error::Error::Timeout) => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                &format!(
                    "the report took longer than {} s (request id {})",
                    state.config.request_timeout.as_secs(),
                    request_id(&headers)
                ),
            );
        }
        Err(e) => {
            let id = request_id(&headers);
            tracing::error!(request_id = %id, error = %LogSafe(&e.to_string()), "credit balance report failed");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                &format!("internal error (request id {id})"),
            );
        }
    };
    (
        StatusCode::OK,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!(
                    "attachment; filename=\"credit-balance-{month}.csv\""
                ))
                .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

/// The report's lines as CSV, with Partner Center's columns; the header row
/// is written even when there are no lines.
fn balance_report_csv(
    lines: &[crate::service::credits::BalanceReportLine],
) -> Result<Vec<u8>, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "PartnerId",
        "CustomerId",
        "InvoiceMonth",
        "CreditName",
        "CreditAmount",
        "Status",
        "BalanceAmount",
        "CurrencyCode",
        "AgreementId",
        "EffectiveDate",
        "ExpiryDate",
    ];
    if lines.is_empty() {
        writer.write_record(header).map_err(|e| e.to_string())?;
    } else {
        for line in lines {
            writer.serialize(line).map_err(|e| e.to_string())?;
        }
    }
    writer.into_inner().map_err(|e| e.to_string())
}
