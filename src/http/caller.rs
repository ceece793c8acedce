//! Who is calling: the bearer token checked and the caller's organisation
//! found, or the answer to a token that was not accepted.

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::{AppState, error_response};
use crate::auth::AuthError;
use crate::store::Engine;

/// Validates the bearer token, if any, and finds the caller's organisation.
/// `Ok(None)` means no token: anonymous, which only introspection may serve.
pub(super) async fn authenticate(
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
    let claims = state.auth.verify_fresh(token).await?;
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
/// may be fine but its organisation could not be looked up or the issuer's
/// keys are not known yet.
pub(super) fn unauthenticated(error: AuthError) -> Response {
    let unavailable = match error {
        AuthError::Unavailable => Some("the service cannot answer right now; try again"),
        AuthError::KeysUnknown => Some(
            "the issuer's signing keys could not be fetched yet, so no token can be checked; try again",
        ),
        _ => None,
    };
    if let Some(message) = unavailable {
        let mut response = error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "INTERNAL_SERVER_ERROR",
            message,
        );
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static("5"));
        return response;
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
