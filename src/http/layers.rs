//! The layers' own parts: which browser origins may call (CORS), and the
//! JSON answers when the service is full and when a body is too large.

use std::time::Duration;

use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{REQUEST_ID, error_response};

/// Which browser origins may call the API: `*` any (the API uses bearer
/// tokens, never cookies, so no credentials are allowed); else the origins
/// listed; in dev mode with none listed, pages served from this machine
/// (`http://localhost:*`, `http://127.0.0.1:*`). `x-request-id` is exposed,
/// and the tracing headers browser SDKs add are allowed.
pub(super) fn cors_layer(origins: &[String], dev: bool) -> Option<CorsLayer> {
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
pub(super) async fn overloaded(_: tower::BoxError) -> Response {
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

/// Answers a refused body size with the same JSON error shape as everything else.
pub(super) async fn body_too_large(response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "QUERY_TOO_LARGE",
            "the request body is too large",
        );
    }
    response
}
