//! GraphQL subscriptions over a WebSocket on `GET /graphql`
//! (`graphql-transport-ws`, served by async-graphql-axum).
//!
//! - The token comes in `connection_init` (`{"Authorization": "Bearer …"}`)
//!   and is checked as a request's header is; without one, or without
//!   `connection_init` within [`INIT_TIMEOUT`], the connection is closed.
//! - Operations run while the token is valid: at its expiry their streams
//!   end and new ones are refused, so a client connects again with a fresh
//!   token.
//! - Only subscriptions run here (queries and mutations go over HTTP, with
//!   its timeout, answer cap and request log), each through the same text
//!   limits, document cache and role gate as a request, and the schema's
//!   cost limit; a connection runs at most [`MAX_OPERATIONS`] at once, and a
//!   process keeps at most [`MAX_SOCKETS`] connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Data, Executor, Request, Response, ServerError};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{FromRequestParts, WebSocketUpgrade};
use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use futures_util::stream::{self, BoxStream, StreamExt};

use super::caller::authenticate;
use super::{AppState, error_response};
use crate::domain::actor::Actor;
use crate::graphql::RequestContext;

/// Operations one connection may run at once.
pub const MAX_OPERATIONS: usize = 10;

/// WebSocket connections one process keeps open at once; more are refused
/// (HTTP 503) until some close.
pub const MAX_SOCKETS: usize = 1_024;

static SOCKETS: AtomicUsize = AtomicUsize::new(0);

/// Holds one of the [`MAX_SOCKETS`] places while its connection lives.
struct Place;

impl Place {
    fn take() -> Option<Place> {
        let taken = SOCKETS.fetch_add(1, Ordering::SeqCst);
        if taken >= MAX_SOCKETS {
            SOCKETS.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Place)
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        SOCKETS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How long a new connection has to send `connection_init`.
pub const INIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The largest message a client may send (an operation and its variables).
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Whether the request asks to become a WebSocket.
pub(super) fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Upgrades to a WebSocket speaking `graphql-transport-ws`.
pub(super) async fn upgrade(state: AppState, parts: &mut Parts) -> HttpResponse {
    let offered = parts
        .headers
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim() == "graphql-transport-ws"));
    if !offered {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "subscriptions speak the graphql-transport-ws protocol (Sec-WebSocket-Protocol: graphql-transport-ws)",
        );
    }
    let protocol = match GraphQLProtocol::from_request_parts(parts, &state).await {
        Ok(protocol) => protocol,
        Err(status) => return status.into_response(),
    };
    let socket = match WebSocketUpgrade::from_request_parts(parts, &state).await {
        Ok(socket) => socket,
        Err(rejection) => return rejection.into_response(),
    };
    let Some(place) = Place::take() else {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "OVERLOADED",
            &format!("{MAX_SOCKETS} subscription connections are open; try again later"),
        );
    };
    socket
        .protocols(["graphql-transport-ws"])
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            let _place = place;
            let executor = Gated {
                state: state.clone(),
                running: Arc::new(AtomicUsize::new(0)),
            };
            let initialised = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = initialised.clone();
            let serve = GraphQLWebSocket::new(socket, executor, protocol)
                .on_connection_init(move |payload| {
                    flag.store(true, Ordering::SeqCst);
                    connection_init(state, payload)
                })
                .serve();
            tokio::pin!(serve);
            // A connection that never says who it is is closed (dropped).
            let silent = async {
                tokio::time::sleep(INIT_TIMEOUT).await;
                if initialised.load(Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = &mut serve => {}
                () = silent => {}
            }
        })
}

/// The caller of a connection, from its `connection_init` payload, and
/// when its token expires.
#[derive(Clone)]
struct Caller {
    actor: Actor,
    expires: Option<tokio::time::Instant>,
}

async fn connection_init(
    state: AppState,
    payload: serde_json::Value,
) -> async_graphql::Result<Data> {
    let token = ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(*key).and_then(|v| v.as_str()))
        .ok_or_else(|| {
            async_graphql::Error::new(
                "a token is required: send {\"Authorization\": \"Bearer <token>\"} in connection_init",
            )
        })?;
    let value = HeaderValue::from_str(token)
        .map_err(|_| async_graphql::Error::new("the Authorization value is not a header value"))?;
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value);
    let actor = authenticate(&state, &headers)
        .await
        .map_err(|e| async_graphql::Error::new(e.to_string()))?
        .ok_or_else(|| async_graphql::Error::new("a token is required"))?;
    let mut data = Data::default();
    data.insert(Caller {
        actor,
        expires: expiry(token),
    });
    Ok(data)
}

/// When a verified token expires (its `exp`), as an instant of this process.
fn expiry(header: &str) -> Option<tokio::time::Instant> {
    use base64::Engine;
    let token = header.split_whitespace().last()?;
    let claims = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .ok()?;
    let exp = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_i64()?;
    let left = exp.saturating_sub(chrono::Utc::now().timestamp()).max(0);
    Some(tokio::time::Instant::now() + std::time::Duration::from_secs(left as u64))
}

/// A refusal with an API error code.
fn refusal(code: &'static str, message: &str) -> ServerError {
    use async_graphql::ErrorExtensions;
    async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", code))
        .into_server_error(Default::default())
}

/// Runs a connection's operations as HTTP requests run: parsed within the
/// limits, through the document cache, past the role gate.
#[derive(Clone)]
struct Gated {
    state: AppState,
    running: Arc<AtomicUsize>,
}

/// Counts an operation running on its connection while it lives.
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn refused(error: ServerError) -> BoxStream<'static, Response> {
    stream::once(async move { Response::from_errors(vec![error]) }).boxed()
}

impl Executor for Gated {
    async fn execute(&self, request: Request) -> Response {
        let mut responses = self.execute_stream(request, None);
        responses
            .next()
            .await
            .unwrap_or_else(|| Response::from_errors(Vec::new()))
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let caller = session_data
            .as_ref()
            .and_then(|data| data.get(&std::any::TypeId::of::<Caller>()))
            .and_then(|caller| caller.downcast_ref::<Caller>())
            .cloned();
        let expires = caller.as_ref().and_then(|c| c.expires);
        if expires.is_some_and(|at| at <= tokio::time::Instant::now()) {
            return refused(refusal(
                "UNAUTHENTICATED",
                "the connection's token has expired: connect again with a fresh one",
            ));
        }
        let context = RequestContext {
            actor: caller.map(|c| c.actor),
            request_id: uuid::Uuid::now_v7().to_string(),
            now: self.state.config.clock.now(),
            deadline: None,
        };
        let mut request = request;
        let parsed = match self.state.documents.parse(&request.query) {
            Ok(parsed) => parsed,
            Err(error) => return refused(error),
        };
        let subscription =
            crate::graphql::gate::operation(&parsed.document, request.operation_name.as_deref())
                .is_none_or(|op| {
                    op.node.ty == async_graphql::parser::types::OperationType::Subscription
                });
        if !subscription {
            return refused(refusal(
                "BAD_USER_INPUT",
                "only subscriptions run over a WebSocket; send queries and mutations over HTTP",
            ));
        }
        if let Err(error) = crate::graphql::gate::check_operation(
            &parsed.document,
            request.operation_name.as_deref(),
            context.actor.as_ref(),
            &context.request_id,
        ) {
            return refused(error);
        }
        if self.running.fetch_add(1, Ordering::SeqCst) >= MAX_OPERATIONS {
            self.running.fetch_sub(1, Ordering::SeqCst);
            return refused(ServerError::new(
                format!("a connection runs at most {MAX_OPERATIONS} operations at once"),
                None,
            ));
        }
        let running = Running(self.running.clone());
        request.set_parsed_query(parsed.document.clone());
        let request = request.data(context);
        let responses = match session_data {
            Some(data) => self
                .state
                .schema
                .execute_stream_with_session_data(request, data),
            None => self.state.schema.execute_stream(request),
        };
        // The streams end when the token expires.
        let expiry = async move {
            match expires {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        responses
            .take_until(expiry)
            .map(move |response| {
                let _ = &running;
                response
            })
            .boxed()
    }
}
