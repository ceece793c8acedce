//! Running a GraphQL request: the caller, the parsed and gated document,
//! the deadline, the errors' codes, and the answer, capped in size.

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use async_graphql_axum::GraphQLResponse;
use axum::body::HttpBody;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::caller::{authenticate, unauthenticated};
use super::{AppState, error_response, request_id};
use crate::error::LogSafe;
use crate::graphql::RequestContext;
use crate::graphql::limits::Parsed;

pub(super) async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> Response {
    let started = std::time::Instant::now();
    let actor = match authenticate(state, headers).await {
        Ok(actor) => actor,
        Err(e) => {
            let response = unauthenticated(e);
            let code = if response.status() == StatusCode::UNAUTHORIZED {
                "UNAUTHENTICATED"
            } else {
                "UNAVAILABLE"
            };
            crate::observe::request("unknown", code, &[code.to_owned()], started.elapsed());
            return response;
        }
    };
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
    let label = match &prepared {
        Ok(parsed) if crate::observe::on() => crate::graphql::gate::operation_label(
            &parsed.document,
            request.operation_name.as_deref(),
        ),
        _ => "unknown".to_owned(),
    };
    // Kept for a refusal that must say what the document costs.
    let replay = (prepared.as_ref().ok().cloned(), request.variables.clone());
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
        let timeout = ["TIMEOUT".to_owned()];
        crate::observe::request(&label, "TIMEOUT", &timeout, started.elapsed());
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
    if let Some(error) = response
        .errors
        .iter_mut()
        .find(|e| e.message == crate::graphql::cost::ENGINE_REFUSAL)
    {
        let (parsed, variables) = replay;
        let operation = (!operation.is_empty()).then(|| operation.clone());
        let cost = match parsed {
            Some(parsed) => {
                crate::graphql::cost::of(parsed.document.clone(), operation, variables).await
            }
            None => None,
        };
        error.message = too_complex(cost, state.config.limits.max_complexity);
    }
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
    let mut codes = Vec::new();
    for error in &mut response.errors {
        let code = error_code(&error.message);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code);
        }
        codes.push(match extensions.get("code") {
            Some(async_graphql::Value::String(code)) => code.clone(),
            _ => code.to_owned(),
        });
    }
    let outcome = codes.first().map_or("ok", String::as_str);
    crate::observe::request(&label, outcome, &codes, started.elapsed());
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
    // Refused before any field ran: no data, and no error names a field.
    let refused_before_running = response.data == async_graphql::Value::Null
        && !codes.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
        && codes
            .iter()
            .all(|code| REQUEST_ERRORS.contains(&code.as_str()));
    if refused_before_running {
        // A request error: no `data` entry at all, and with the newer media
        // type a 400 (GraphQL over HTTP); plain JSON clients keep their 200.
        let status = if wants_graphql_media_type {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        let mut answer = (
            status,
            axum::Json(serde_json::json!({ "errors": response.errors })),
        )
            .into_response();
        answer
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(media_type));
        return answer;
    }
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

/// The HTTP answer for an executed GraphQL request, written by
/// async-graphql-axum (its JSON, cache hints and the headers resolvers set),
/// in the media type the client asked for and within the size limit.
fn graphql_response(
    response: async_graphql::Response,
    media_type: &'static str,
    limit: AnswerLimit,
) -> Response {
    let mut answer = GraphQLResponse::from(response).into_response();
    let size = answer.body().size_hint().exact().unwrap_or(u64::MAX);
    if size > limit.bytes as u64 {
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
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(media_type));
    answer
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

/// A refusal for cost that says the cost and the limit.
fn too_complex(cost: Option<usize>, limit: usize) -> String {
    let cost = cost.map_or_else(|| "more than that".to_owned(), |c| c.to_string());
    format!(
        "the query is too complex: it costs {cost}, and at most {limit} is accepted (a field \
         costs 1, a list its page size, `first` or 20, times what each item asks for): ask for \
         smaller pages or fewer nested lists"
    )
}

/// The code for an error raised by the GraphQL engine itself rather than by
/// a resolver (which always sets its own): the document's validation
/// against the schema, variables included, or its cost.
fn error_code(message: &str) -> &'static str {
    if message.contains("too complex") {
        "QUERY_TOO_COMPLEX"
    } else if message.starts_with("Invalid value for ")
        || message.starts_with("Expected input type ")
        || message.starts_with("Failed to parse ")
        || message.starts_with("Variable ")
    {
        // An argument's or variable's value (an amount, a month, an enum
        // value): malformed input, as the API's table has it.
        "BAD_USER_INPUT"
    } else {
        "GRAPHQL_VALIDATION_FAILED"
    }
}

/// Codes of a request refused before it ran (GraphQL over HTTP's "request
/// errors"): with `application/graphql-response+json` they are answered `400`.
const REQUEST_ERRORS: [&str; 6] = [
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_USER_INPUT",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_COMPLEX",
    "QUERY_TOO_LARGE",
];
