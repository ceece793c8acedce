//! Requests the service makes itself: the issuer's signing keys (JWKS), on
//! Lambda a secret from the Parameters and Secrets extension, and the answer
//! to a CloudFormation custom resource.
//!
//! One client for all of them: `https` with rustls and Mozilla's roots
//! (certificates verified), plain `http` only to a loopback address; no
//! redirects followed; a deadline and a size limit on every answer.

use std::sync::OnceLock;
use std::time::Duration;

use axum::http::{Method, Request, StatusCode, Uri};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Why an outbound request gave nothing usable. Messages name the URL, which
/// never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0} is not a URL")]
    NotUrl(String),
    #[error("{0}: only https is accepted (plain http only to a loopback address)")]
    NotHttps(String),
    #[error("{url}: {reason}")]
    Failed { url: String, reason: String },
    #[error("{url}: answered {status}")]
    Status { url: String, status: StatusCode },
    #[error("{url}: no answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url}: the answer is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
}

/// `url` if it is `https`, or `http` to a loopback address (tests, the Lambda extension).
pub fn checked_url(url: &str) -> Result<Uri, FetchError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| FetchError::NotUrl(url.to_owned()))?;
    let host = uri
        .host()
        .ok_or_else(|| FetchError::NotUrl(url.to_owned()))?;
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if is_loopback(host) => Ok(uri),
        Some("http") => Err(FetchError::NotHttps(url.to_owned())),
        _ => Err(FetchError::NotUrl(url.to_owned())),
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// TLS for every connection the service opens (HTTPS, the database):
/// certificates verified against `roots`.
pub fn tls_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, rustls::Error> {
    // ring, not aws-lc-rs: no C library to build, a smaller binary. Its
    // provider is marked deprecated for lacking post-quantum key exchange.
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

fn client() -> &'static HttpsClient {
    static CLIENT: OnceLock<HttpsClient> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = tls_config(roots).expect("ring supports the default protocol versions");
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector)
    })
}

/// GETs `uri` (checked by [`checked_url`]) with `headers`; the body of a
/// `2xx` answer, at most `limit` bytes, within `timeout`. A redirect is an
/// answer like any other non-`2xx`: refused, not followed.
pub async fn get(
    uri: &Uri,
    headers: &[(&str, &str)],
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, FetchError> {
    send(Method::GET, uri, headers, Bytes::new(), limit, timeout).await
}

/// PUTs `body` to `uri` (checked by [`checked_url`]), as [`get`] does.
pub async fn put(
    uri: &Uri,
    headers: &[(&str, &str)],
    body: Bytes,
    timeout: Duration,
) -> Result<Bytes, FetchError> {
    send(Method::PUT, uri, headers, body, 64 * 1024, timeout).await
}

async fn send(
    method: Method,
    uri: &Uri,
    headers: &[(&str, &str)],
    body: Bytes,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, FetchError> {
    let url = uri.to_string();
    let failed = |reason: String| FetchError::Failed {
        url: url.clone(),
        reason,
    };
    let mut request = Request::builder().method(method).uri(uri.clone());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(body))
        .map_err(|e| failed(e.to_string()))?;
    let exchange = async {
        let response = client()
            .request(request)
            .await
            .map_err(|e| failed(error_chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.clone(),
                status,
            });
        }
        Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map(|body| body.to_bytes())
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    FetchError::TooLarge {
                        url: url.clone(),
                        limit,
                    }
                } else {
                    failed(e.to_string())
                }
            })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| FetchError::Timeout {
            url: url.clone(),
            seconds: timeout.as_secs(),
        })?
}

/// An error with its causes, which say what actually went wrong (refused,
/// certificate, DNS): the client's own message alone is "client error (Connect)".
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_accepted() {
        for good in [
            "https://login.microsoftonline.com/common/discovery/v2.0/keys",
            "http://127.0.0.1:8123/keys",
            "http://localhost:2773/secretsmanager/get?secretId=x",
            "http://[::1]:9000/jwks",
        ] {
            assert!(checked_url(good).is_ok(), "{good}");
        }
        assert!(matches!(
            checked_url("http://login.microsoftonline.com/keys"),
            Err(FetchError::NotHttps(_))
        ));
        assert!(matches!(
            checked_url("http://10.0.0.1/keys"),
            Err(FetchError::NotHttps(_))
        ));
        assert!(matches!(
            checked_url("ftp://example.com/keys"),
            Err(FetchError::NotUrl(_))
        ));
        assert!(matches!(checked_url("keys"), Err(FetchError::NotUrl(_))));
    }
}
