//! GraphQL subscriptions over a WebSocket on `GET /graphql`
//! (`graphql-transport-ws`, served by async-graphql-axum): the token comes in
//! `connection_init` (`{"Authorization": "Bearer …"}`) and is checked as a
//! request's header is; each operation goes through the same text limits,
//! document cache and role gate as one sent over HTTP, and the schema's cost
//! limit; a connection runs at most [`MAX_OPERATIONS`] at once, and a
//! process keeps at most [`MAX_SOCKETS`] connections.

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
            GraphQLWebSocket::new(socket, executor, protocol)
                .on_connection_init(move |payload| connection_init(state, payload))
                .serve()
                .await;
        })
}

/// The caller of a connection, from its `connection_init` payload.
#[derive(Clone)]
struct Caller(Option<Actor>);

async fn connection_init(
    state: AppState,
    payload: serde_json::Value,
) -> async_graphql::Result<Data> {
    let mut headers = HeaderMap::new();
    let token = ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(*key).and_then(|v| v.as_str()));
    if let Some(token) = token {
        let value = HeaderValue::from_str(token).map_err(|_| {
            async_graphql::Error::new("the Authorization value is not a header value")
        })?;
        headers.insert(AUTHORIZATION, value);
    }
    let actor = authenticate(&state, &headers)
        .await
        .map_err(|e| async_graphql::Error::new(e.to_string()))?;
    let mut data = Data::default();
    data.insert(Caller(actor));
    Ok(data)
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
        let actor = session_data
            .as_ref()
            .and_then(|data| data.get(&std::any::TypeId::of::<Caller>()))
            .and_then(|caller| caller.downcast_ref::<Caller>())
            .and_then(|caller| caller.0.clone());
        let context = RequestContext {
            actor,
            request_id: uuid::Uuid::now_v7().to_string(),
            now: self.state.config.clock.now(),
            deadline: None,
        };
        let mut request = request;
        let parsed = match self.state.documents.parse(&request.query) {
            Ok(parsed) => parsed,
            Err(error) => return refused(error),
        };
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
        responses
            .map(move |response| {
                let _ = &running;
                response
            })
            .boxed()
    }
}
