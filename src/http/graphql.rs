//! `POST /graphql` and `GET /graphql`: the request checked and read with
//! async-graphql-axum's extractor, or the explorer's page (`explorer`).
//!
//! Before the adapter parses a body, this service checks what it will not
//! take: a body not received in full, one not sent as JSON, and one holding
//! more JSON values than any request needs. The adapter's own refusals (not
//! JSON, not a request, a batch, nesting past serde_json's limit) answer in
//! the API's error shape through [`Refusal`].

use async_graphql::ParseRequestError;
use async_graphql_axum::GraphQLRequest;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::execute::execute;
use super::{AppState, error_response};

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

/// A request the GraphQL adapter refused, answered in the API's error shape.
pub(super) struct Refusal(Response);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        self.0
    }
}

impl From<Response> for Refusal {
    fn from(response: Response) -> Self {
        Refusal(response)
    }
}

impl From<ParseRequestError> for Refusal {
    fn from(error: ParseRequestError) -> Self {
        let bad =
            |message: &str| error_response(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", message);
        Refusal(match error {
            ParseRequestError::UnsupportedBatch => {
                bad("batched requests are not supported: send one operation per request")
            }
            ParseRequestError::PayloadTooLarge => error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "QUERY_TOO_LARGE",
                "the request body is too large",
            ),
            ParseRequestError::InvalidRequest(e) => match e.downcast_ref::<serde_json::Error>() {
                // serde_json stops at 128 levels of nesting, before anything
                // else recurses into the variables.
                Some(json) if json.to_string().starts_with("recursion limit exceeded") => {
                    error_response(
                        StatusCode::BAD_REQUEST,
                        "QUERY_TOO_DEEP",
                        "the variables nest more than 128 levels deep",
                    )
                }
                Some(json) if json.is_syntax() || json.is_eof() => {
                    bad(&format!("the body is not valid JSON: {json}"))
                }
                _ => bad(
                    "not a GraphQL request: send one JSON object with a string `query`, and \
                     optionally `operationName`, `variables` (an object) and `extensions`",
                ),
            },
            other => bad(&format!("not a GraphQL request: {other}")),
        })
    }
}

/// A `POST` body received in full, sent as JSON and within the value count,
/// then read by the adapter.
pub(super) struct Checked(async_graphql::Request);

impl FromRequest<AppState> for Checked {
    type Rejection = Refusal;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Refusal> {
        let content_type = request.headers().get(CONTENT_TYPE).cloned();
        let body = match Bytes::from_request(request, state).await {
            Ok(body) => body,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(rejection.into_response().into()); // answered by `body_too_large`
            }
            // The body was not received: too slow (`ACO_BODY_TIMEOUT_SECONDS`),
            // or cut off.
            Err(_) => {
                return Err(Refusal(error_response(
                    StatusCode::REQUEST_TIMEOUT,
                    "BAD_USER_INPUT",
                    &format!(
                        "the request body was not received in full within {} s",
                        state.config.body_timeout.as_secs()
                    ),
                )));
            }
        };
        let is_json = content_type
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            });
        let Some(content_type) = content_type.filter(|_| is_json) else {
            return Err(Refusal(error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BAD_USER_INPUT",
                "send the request as Content-Type: application/json",
            )));
        };
        // Each JSON value becomes a tree node of its own (over a hundred bytes
        // each): a body of a million `1,` would take 90 MB before anything
        // looked at it. Counted on the raw bytes first.
        if json_values(&body, MAX_JSON_VALUES) > MAX_JSON_VALUES {
            return Err(Refusal(error_response(
                StatusCode::BAD_REQUEST,
                "QUERY_TOO_LARGE",
                &format!(
                    "the request holds more than {MAX_JSON_VALUES} JSON values in its variables"
                ),
            )));
        }
        let mut checked = Request::new(Body::from(body));
        *checked.method_mut() = Method::POST;
        checked.headers_mut().insert(CONTENT_TYPE, content_type);
        let request = GraphQLRequest::<Refusal>::from_request(checked, state).await?;
        Ok(Checked(request.into_inner()))
    }
}

pub(super) async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Checked(request): Checked,
) -> Response {
    execute(&state, &headers, request).await
}

/// `GET /graphql?query=…` runs queries (never mutations: `405`); a
/// WebSocket upgrade serves subscriptions; without a query it serves the
/// explorer, when enabled.
pub(super) async fn graphql_get(State(state): State<AppState>, request: Request) -> Response {
    if super::subscriptions::wants_upgrade(request.headers()) {
        let (mut parts, _) = request.into_parts();
        return super::subscriptions::upgrade(state, &mut parts).await;
    }
    type GetParts = (HeaderMap, RawQuery, GraphQLRequest<Refusal>);
    let extracted = <GetParts as FromRequest<AppState>>::from_request(request, &state).await;
    let (headers, RawQuery(query), request) = match extracted {
        Ok(extracted) => extracted,
        Err(refusal) => return refusal,
    };
    if query.unwrap_or_default().is_empty() {
        return super::explorer::page(&state);
    }
    let request = request.into_inner();
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
