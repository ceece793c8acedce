//! `POST /graphql` and `GET /graphql`: the body or the query string checked
//! and read as one GraphQL request, and the explorer page.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::execute::execute;
use super::{AppState, error_response};

/// The GraphiQL explorer page served at `GET /graphql` when enabled.
const EXPLORER: &str = include_str!("../explorer.html");

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

pub(super) async fn graphql_post(
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
pub(super) async fn graphql_get(
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
