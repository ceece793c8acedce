//! One delivery attempt: the message `POST`ed to its endpoint, and what came
//! of it.
//!
//! `https` with rustls and Mozilla's roots (plain `http` only in
//! development), HTTP/1.1, connections only to addresses the endpoint policy
//! allows ([`CheckingConnector`]), redirects never followed, at most 64 KiB of
//! the answer read, the whole exchange within a deadline.

use std::sync::OnceLock;
use std::time::Duration;

use axum::http::header::{CONTENT_TYPE, USER_AGENT};
use axum::http::{HeaderValue, Method, Request, Uri};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::endpoint::{CheckingConnector, Policy};

/// The `user-agent` of deliveries.
pub const USER_AGENT_VALUE: &str = concat!("aco-api-webhooks/", env!("CARGO_PKG_VERSION"));

/// How much of an answer is read before it is dropped, in bytes.
pub const ANSWER_LIMIT: usize = 64 * 1024;

/// How long an idle connection to an endpoint is kept for the next message.
const POOL_IDLE: Duration = Duration::from_secs(60);

/// A signed message to deliver.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    /// The endpoint, checked by [`super::endpoint::check_url`].
    pub url: &'a Uri,
    /// `webhook-id`: the same on every attempt, for the receiver to spot repeats.
    pub msg_id: &'a str,
    /// `webhook-timestamp`: seconds since the Unix epoch, as signed.
    pub timestamp: i64,
    /// The JSON payload.
    pub body: Bytes,
    /// `webhook-signature`, from [`super::signature::sign`].
    pub signature: String,
}

/// What came of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered `2xx`.
    Delivered { status: u16 },
    /// The endpoint answered something else, a redirect included (never followed).
    Refused { status: u16 },
    /// No answer: the address is not allowed, the connection or TLS failed,
    /// or the deadline passed.
    Failed { reason: String },
}

impl Outcome {
    /// Whether the endpoint took the message.
    pub fn is_delivered(&self) -> bool {
        matches!(self, Outcome::Delivered { .. })
    }
}

type WebhookClient = Client<HttpsConnector<CheckingConnector>, Full<Bytes>>;

/// The client for `policy`: one for production and one for development,
/// each with its pool of connections.
fn client(policy: &Policy) -> Result<&'static WebhookClient, String> {
    static PRODUCTION: OnceLock<Result<WebhookClient, String>> = OnceLock::new();
    static DEVELOPMENT: OnceLock<Result<WebhookClient, String>> = OnceLock::new();
    let cell = if policy.dev {
        &DEVELOPMENT
    } else {
        &PRODUCTION
    };
    cell.get_or_init(|| build_client(*policy))
        .as_ref()
        .map_err(Clone::clone)
}

fn build_client(policy: Policy) -> Result<WebhookClient, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = crate::outbound::tls_config(roots).map_err(|e| format!("TLS: {e}"))?;
    let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls);
    let builder = if policy.dev {
        builder.https_or_http()
    } else {
        builder.https_only()
    };
    let connector = builder
        .enable_http1()
        .wrap_connector(CheckingConnector::new(policy));
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE)
        .build(connector))
}

/// `POST`s `message` to its endpoint under `policy`, all within `timeout`.
pub async fn post(message: &Message<'_>, policy: &Policy, timeout: Duration) -> Outcome {
    let deadline = tokio::time::Instant::now() + timeout;
    let failed = |reason: String| Outcome::Failed { reason };
    let client = match client(policy) {
        Ok(client) => client,
        Err(reason) => return failed(reason),
    };
    let request = match request(message) {
        Ok(request) => request,
        Err(reason) => return failed(reason),
    };
    let response = match tokio::time::timeout_at(deadline, client.request(request)).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => return failed(crate::outbound::error_chain(&error)),
        Err(_) => return failed(format!("no answer within {} ms", timeout.as_millis())),
    };
    let status = response.status().as_u16();
    // The answer is read (up to the limit, before the deadline), so that the
    // connection may serve the next message, and dropped; the status says it all.
    let _ = tokio::time::timeout_at(deadline, drain(response.into_body())).await;
    if response_is_success(status) {
        Outcome::Delivered { status }
    } else {
        Outcome::Refused { status }
    }
}

fn response_is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

fn request(message: &Message<'_>) -> Result<Request<Full<Bytes>>, String> {
    let header = |name: &str, value: &str| {
        HeaderValue::from_str(value).map_err(|_| format!("the {name} is not a valid header value"))
    };
    Request::builder()
        .method(Method::POST)
        .uri(message.url.clone())
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE))
        .header("webhook-id", header("message id", message.msg_id)?)
        .header("webhook-timestamp", message.timestamp)
        .header(
            "webhook-signature",
            header("signature", &message.signature)?,
        )
        .body(Full::new(message.body.clone()))
        .map_err(|e| e.to_string())
}

/// Reads `body` until its end or [`ANSWER_LIMIT`] bytes, whichever is first.
async fn drain(mut body: hyper::body::Incoming) {
    let mut read = 0;
    while read < ANSWER_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
            Some(Err(_)) | None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use axum::http::{HeaderMap, Response, StatusCode};
    use hyper::body::Incoming;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use tokio::net::TcpListener;

    use super::*;
    use crate::webhooks::endpoint::check_url;
    use crate::webhooks::signature::{Secret, sign, verify};

    const DEV: Policy = Policy { dev: true };
    const PROD: Policy = Policy { dev: false };
    const TIMEOUT: Duration = Duration::from_millis(300);

    struct Received {
        path: String,
        headers: HeaderMap,
        body: Bytes,
    }

    #[derive(Clone, Default)]
    struct Receiver {
        received: Arc<Mutex<Vec<Received>>>,
        connections: Arc<AtomicUsize>,
    }

    /// A receiver on 127.0.0.1: `/ok` answers 204, `/fail` 500, `/moved` a
    /// redirect to `/target`, `/large` 200 with a megabyte; its address.
    async fn receiver() -> (String, Receiver) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let receiver = Receiver::default();
        let state = receiver.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                state.connections.fetch_add(1, Ordering::SeqCst);
                let received = state.received.clone();
                let service = service_fn(move |request: Request<Incoming>| {
                    let received = received.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        let path = parts.uri.path().to_owned();
                        received.lock().unwrap().push(Received {
                            path: path.clone(),
                            headers: parts.headers,
                            body,
                        });
                        let response = match path.as_str() {
                            "/ok" => Response::builder().status(StatusCode::NO_CONTENT),
                            "/fail" => Response::builder().status(500),
                            "/moved" => Response::builder()
                                .status(302)
                                .header("location", "/target"),
                            "/large" => Response::builder().status(200),
                            _ => Response::builder().status(404),
                        };
                        let body = if path == "/large" {
                            Bytes::from(vec![b'x'; 1024 * 1024])
                        } else {
                            Bytes::new()
                        };
                        Ok::<_, Infallible>(response.body(Full::new(body)).unwrap())
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        (format!("127.0.0.1:{}", address.port()), receiver)
    }

    fn message<'a>(url: &'a Uri, secret: &Secret, body: &'static str) -> Message<'a> {
        let msg_id = "msg_2mVtGx4Y0vRhO6h7XxQq3tZ8";
        let timestamp = 1_767_225_600;
        Message {
            url,
            msg_id,
            timestamp,
            body: Bytes::from_static(body.as_bytes()),
            signature: sign(&[secret], msg_id, timestamp, body.as_bytes()),
        }
    }

    #[tokio::test]
    async fn delivers_a_signed_message_with_the_standard_headers() {
        let (address, receiver) = receiver().await;
        let url = check_url(&format!("http://{address}/ok"), &DEV).unwrap();
        let secret = Secret::generate();
        let sent = message(&url, &secret, r#"{"type":"request.created"}"#);
        let outcome = post(&sent, &DEV, Duration::from_secs(5)).await;
        assert_eq!(outcome, Outcome::Delivered { status: 204 });
        assert!(outcome.is_delivered());

        let received = receiver.received.lock().unwrap();
        let [got] = received.as_slice() else {
            panic!("{} requests", received.len());
        };
        assert_eq!(got.path, "/ok");
        let header = |name: &str| got.headers[name].to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "application/json");
        assert_eq!(header("user-agent"), USER_AGENT_VALUE);
        assert!(header("user-agent").starts_with("aco-api-webhooks/"));
        assert_eq!(header("webhook-id"), sent.msg_id);
        assert_eq!(header("webhook-timestamp"), "1767225600");
        assert_eq!(got.body, sent.body);
        let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
        assert!(verify(
            &secret,
            &header("webhook-id"),
            timestamp,
            &got.body,
            &header("webhook-signature"),
        ));
    }

    #[tokio::test]
    async fn an_error_status_is_refused() {
        let (address, _receiver) = receiver().await;
        let url = check_url(&format!("http://{address}/fail"), &DEV).unwrap();
        let sent = message(&url, &Secret::generate(), "{}");
        let outcome = post(&sent, &DEV, Duration::from_secs(5)).await;
        assert_eq!(outcome, Outcome::Refused { status: 500 });
        assert!(!outcome.is_delivered());
    }

    #[tokio::test]
    async fn a_redirect_is_refused_and_not_followed() {
        let (address, receiver) = receiver().await;
        let url = check_url(&format!("http://{address}/moved"), &DEV).unwrap();
        let sent = message(&url, &Secret::generate(), "{}");
        let outcome = post(&sent, &DEV, Duration::from_secs(5)).await;
        assert_eq!(outcome, Outcome::Refused { status: 302 });
        let paths: Vec<String> = receiver
            .received
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.path.clone())
            .collect();
        assert_eq!(paths, ["/moved"]);
    }

    #[tokio::test]
    async fn a_large_answer_is_read_only_in_part() {
        let (address, _receiver) = receiver().await;
        let url = check_url(&format!("http://{address}/large"), &DEV).unwrap();
        let sent = message(&url, &Secret::generate(), "{}");
        let outcome = post(&sent, &DEV, Duration::from_secs(5)).await;
        assert_eq!(outcome, Outcome::Delivered { status: 200 });
    }

    #[tokio::test]
    async fn a_silent_receiver_fails_within_the_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        // Accepts connections and holds them, never answering.
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let url = check_url(&format!("http://{address}/ok"), &DEV).unwrap();
        let sent = message(&url, &Secret::generate(), "{}");
        let started = std::time::Instant::now();
        let outcome = post(&sent, &DEV, TIMEOUT).await;
        let took = started.elapsed();
        assert_eq!(
            outcome,
            Outcome::Failed {
                reason: "no answer within 300 ms".into()
            }
        );
        assert!(took >= TIMEOUT && took < TIMEOUT * 3, "{took:?}");
        holder.abort();
    }

    #[tokio::test]
    async fn a_closed_port_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let url = check_url(&format!("http://{address}/ok"), &DEV).unwrap();
        let sent = message(&url, &Secret::generate(), "{}");
        let Outcome::Failed { reason } = post(&sent, &DEV, Duration::from_secs(5)).await else {
            panic!("delivered to a closed port");
        };
        assert!(reason.contains("connect"), "{reason}");
    }

    #[tokio::test]
    async fn outside_development_loopback_is_never_contacted() {
        let (address, receiver) = receiver().await;
        assert!(check_url(&format!("http://{address}/ok"), &PROD).is_err());
        assert!(check_url(&format!("https://{address}/ok"), &PROD).is_err());

        // Even when the URL was not checked first: plain http is refused by
        // the TLS layer, an address before any connection.
        let http: Uri = format!("http://{address}/ok").parse().unwrap();
        let sent = message(&http, &Secret::generate(), "{}");
        let Outcome::Failed { reason } = post(&sent, &PROD, TIMEOUT).await else {
            panic!("delivered");
        };
        assert!(reason.contains("unsupported scheme http"), "{reason}");
        let https: Uri = format!("https://{address}/ok").parse().unwrap();
        let sent = message(&https, &Secret::generate(), "{}");
        let Outcome::Failed { reason } = post(&sent, &PROD, TIMEOUT).await else {
            panic!("delivered");
        };
        assert!(
            reason.contains("127.0.0.1 is a loopback address"),
            "{reason}"
        );
        // And a name resolving to it.
        let named: Uri = format!("https://localhost:{}/ok", https.port_u16().unwrap())
            .parse()
            .unwrap();
        let sent = message(&named, &Secret::generate(), "{}");
        let Outcome::Failed { reason } = post(&sent, &PROD, TIMEOUT).await else {
            panic!("delivered");
        };
        assert!(reason.contains("localhost: "), "{reason}");
        assert!(reason.contains("loopback"), "{reason}");

        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(receiver.connections.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_header_that_cannot_be_sent_fails() {
        let url: Uri = "http://127.0.0.1:9/ok".parse().unwrap();
        let mut sent = message(&url, &Secret::generate(), "{}");
        sent.msg_id = "msg\nbad";
        assert_eq!(
            post(&sent, &DEV, TIMEOUT).await,
            Outcome::Failed {
                reason: "the message id is not a valid header value".into()
            }
        );
    }
}
