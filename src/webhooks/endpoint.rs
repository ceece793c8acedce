//! Where webhooks may be sent: an `https` URL whose host is a public address.
//!
//! An endpoint is checked when it is registered ([`check_url`]: the URL and an
//! address written in it) and again at every connection: [`CheckingResolver`]
//! resolves the host and refuses it if any of its addresses is not public
//! ([`blocked`]), and the connection is made only to the addresses it checked,
//! so a name that resolves to a public address when registered and to an
//! internal one later (DNS rebinding) is refused then.
//!
//! In development ([`Policy::dev`]) plain `http` and loopback addresses are
//! allowed as well, for a receiver on the same machine.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The longest endpoint URL accepted, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// How long a connection may take to be established.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What endpoints are allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Development: plain `http` and loopback addresses are allowed too.
    pub dev: bool,
}

/// Why an endpoint is refused. The messages are shown to the endpoint's owner
/// and recorded with delivery attempts: they name the host, never the whole
/// URL (whose query may carry a token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("the endpoint is not an absolute URL")]
    NotUrl,
    #[error("the endpoint URL is {0} bytes long; at most 2048 are accepted")]
    TooLong(usize),
    #[error("the endpoint must be an https URL")]
    NotHttps,
    #[error("the endpoint must be an https or http URL")]
    NotHttp,
    #[error("the endpoint URL has no host")]
    NoHost,
    #[error("the endpoint URL must not carry a user name or password")]
    UserInfo,
    #[error("the endpoint URL must not have a fragment (#…)")]
    Fragment,
    #[error("{}", blocked_message(host, address, reason))]
    Blocked {
        host: String,
        address: IpAddr,
        reason: &'static str,
    },
    #[error("{host} could not be resolved: {reason}")]
    Unresolved { host: String, reason: String },
    #[error("{host} resolves to no address")]
    NoAddress { host: String },
}

fn blocked_message(host: &str, address: &IpAddr, reason: &str) -> String {
    let named = ip_literal(host) != Some(*address);
    let host = if named {
        format!("{host}: ")
    } else {
        String::new()
    };
    format!("{host}{address} is {reason}; webhooks are only sent to public addresses")
}

/// `url` as a URI if it may be an endpoint under `policy`: absolute, `https`
/// (or `http` in development), with a host and without user information or
/// fragment, at most [`MAX_URL_LEN`] bytes; a host written as an address must
/// not be [`blocked`]. A host name is checked when it is resolved.
pub fn check_url(url: &str, policy: &Policy) -> Result<Uri, EndpointError> {
    if url.len() > MAX_URL_LEN {
        return Err(EndpointError::TooLong(url.len()));
    }
    // The URI parser drops a fragment rather than refusing it.
    if url.contains('#') {
        return Err(EndpointError::Fragment);
    }
    let uri: Uri = url.parse().map_err(|_| EndpointError::NotUrl)?;
    let authority = uri.authority().ok_or(EndpointError::NotUrl)?;
    match uri.scheme_str() {
        Some(scheme) if scheme.eq_ignore_ascii_case("https") => {}
        Some(scheme) if policy.dev && scheme.eq_ignore_ascii_case("http") => {}
        Some(_) if policy.dev => return Err(EndpointError::NotHttp),
        Some(_) => return Err(EndpointError::NotHttps),
        None => return Err(EndpointError::NotUrl),
    }
    if authority.as_str().contains('@') {
        return Err(EndpointError::UserInfo);
    }
    let host = uri.host().filter(|host| !host.is_empty());
    let host = host.ok_or(EndpointError::NoHost)?;
    if let Some(address) = ip_literal(host) {
        check_address(host, address, policy)?;
    }
    Ok(uri)
}

/// The address a host is written as (`[…]` around IPv6), if it is one.
fn ip_literal(host: &str) -> Option<IpAddr> {
    host.strip_prefix('[')
        .and_then(|host| host.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()
}

fn check_address(host: &str, address: IpAddr, policy: &Policy) -> Result<(), EndpointError> {
    match blocked(address, policy) {
        Some(reason) => Err(EndpointError::Blocked {
            host: host.to_owned(),
            address,
            reason,
        }),
        None => Ok(()),
    }
}

/// Why `ip` may not be contacted under `policy`, or `None` if it may: every
/// address that is not public (loopback only outside development). IPv6
/// addresses that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are
/// judged by it.
pub fn blocked(ip: IpAddr, policy: &Policy) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => blocked_v4(ip, policy),
        IpAddr::V6(ip) => blocked_v6(ip, policy),
    }
}

fn blocked_v4(ip: Ipv4Addr, policy: &Policy) -> Option<&'static str> {
    let [a, b, c, d] = ip.octets();
    let reason = match (a, b, c, d) {
        (0, 0, 0, 0) => "the unspecified address",
        (0, ..) => "in 0.0.0.0/8 (this network)",
        (127, ..) if policy.dev => return None,
        (127, ..) => "a loopback address",
        (10, ..) => "a private address (10.0.0.0/8)",
        (172, 16..=31, ..) => "a private address (172.16.0.0/12)",
        (192, 168, ..) => "a private address (192.168.0.0/16)",
        (100, 100, 100, 200) => "a cloud metadata address",
        (100, 64..=127, ..) => "a shared (carrier-grade NAT) address (100.64.0.0/10)",
        (169, 254, 169, 254) | (169, 254, 170, 2) => "a cloud metadata address",
        (169, 254, ..) => "a link-local address (169.254.0.0/16)",
        (192, 0, 0, _) => "an IETF protocol address (192.0.0.0/24)",
        (192, 0, 2, _) | (198, 51, 100, _) | (203, 0, 113, _) => "a documentation address",
        (198, 18..=19, ..) => "a benchmarking address (198.18.0.0/15)",
        (224..=239, ..) => "a multicast address",
        (255, 255, 255, 255) => "the broadcast address",
        (240..=255, ..) => "a reserved address (240.0.0.0/4)",
        _ => return None,
    };
    Some(reason)
}

fn blocked_v6(ip: Ipv6Addr, policy: &Policy) -> Option<&'static str> {
    let segments = ip.segments();
    let embedded_v4 = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if ip.is_unspecified() {
        return Some("the unspecified address");
    }
    if ip.is_loopback() {
        return (!policy.dev).then_some("a loopback address");
    }
    // IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d.
    if let [0, 0, 0, 0, 0, 0xffff | 0, high, low] = segments {
        return blocked_v4(embedded_v4(high, low), policy);
    }
    // NAT64, well-known prefix 64:ff9b::/96.
    if let [0x64, 0xff9b, 0, 0, 0, 0, high, low] = segments {
        return blocked_v4(embedded_v4(high, low), policy);
    }
    // 6to4, 2002:aabb:ccdd::/48.
    if let [0x2002, high, low, ..] = segments {
        return blocked_v4(embedded_v4(high, low), policy);
    }
    let reason = match segments {
        [0x64, 0xff9b, 1, ..] => "a local-use NAT64 address (64:ff9b:1::/48)",
        [0x100, 0, 0, 0, ..] => "a discard-only address (100::/64)",
        [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] => "a cloud metadata address",
        [first, ..] if first & 0xfe00 == 0xfc00 => "a unique-local address (fc00::/7)",
        [first, ..] if first & 0xffc0 == 0xfe80 => "a link-local address (fe80::/10)",
        [first, ..] if first & 0xffc0 == 0xfec0 => "a site-local address (fec0::/10)",
        [first, ..] if first & 0xff00 == 0xff00 => "a multicast address",
        [0x2001, 0xdb8, ..] => "a documentation address (2001:db8::/32)",
        [0x3fff, second, ..] if second & 0xf000 == 0 => "a documentation address (3fff::/20)",
        _ => return None,
    };
    Some(reason)
}

/// The first of `addresses` that may not be contacted, as an error naming `host`.
fn check_addresses(
    host: &str,
    addresses: &[SocketAddr],
    policy: &Policy,
) -> Result<(), EndpointError> {
    if addresses.is_empty() {
        return Err(EndpointError::NoAddress {
            host: host.to_owned(),
        });
    }
    addresses
        .iter()
        .try_for_each(|address| check_address(host, address.ip(), policy))
}

/// The addresses of `host` (a name or an address) with `port`, all allowed
/// under `policy`; refused if any is not.
async fn lookup(host: &str, port: u16, policy: Policy) -> Result<Vec<SocketAddr>, EndpointError> {
    if let Some(address) = ip_literal(host) {
        check_address(host, address, &policy)?;
        return Ok(vec![SocketAddr::new(address, port)]);
    }
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| EndpointError::Unresolved {
            host: host.to_owned(),
            reason: e.to_string(),
        })?
        .collect();
    check_addresses(host, &addresses, &policy)?;
    Ok(addresses)
}

/// The addresses of `uri`'s host with its port, refused if any of them may
/// not be contacted under `policy`.
pub async fn resolve(uri: &Uri, policy: &Policy) -> Result<Vec<SocketAddr>, EndpointError> {
    let host = uri.host().ok_or(EndpointError::NoHost)?;
    let port = match (uri.port_u16(), uri.scheme_str()) {
        (Some(port), _) => port,
        (None, Some("http")) => 80,
        _ => 443,
    };
    lookup(host, port, *policy).await
}

/// A resolver for hyper-util's [`HttpConnector::new_with_resolver`] that
/// refuses a name if any of its addresses may not be contacted: the
/// connector then connects only to addresses checked here.
///
/// The connector skips the resolver for a host written as an address;
/// [`CheckingConnector`] checks those.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckingResolver {
    /// What may be contacted.
    pub policy: Policy,
}

/// The future of [`CheckingResolver`]'s look-up.
pub type Resolving =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, EndpointError>> + Send>>;

impl tower::Service<Name> for CheckingResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = EndpointError;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), EndpointError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Resolving {
        let policy = self.policy;
        // The connector sets the port on the addresses returned.
        Box::pin(async move { Ok(lookup(name.as_str(), 0, policy).await?.into_iter()) })
    }
}

/// The error of a connection, boxed as hyper's connectors box theirs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A TCP connector for endpoints: refuses a URI that [`check_url`] would
/// refuse (scheme, an address host that may not be contacted) and resolves
/// names with [`CheckingResolver`]. Wrap it in TLS for `https`.
#[derive(Debug, Clone)]
pub struct CheckingConnector {
    policy: Policy,
    http: HttpConnector<CheckingResolver>,
}

impl CheckingConnector {
    /// A connector allowing what `policy` allows.
    pub fn new(policy: Policy) -> CheckingConnector {
        let mut http = HttpConnector::new_with_resolver(CheckingResolver { policy });
        // The scheme is checked here, and TLS is layered on top.
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        CheckingConnector { policy, http }
    }

    fn check(&self, uri: &Uri) -> Result<(), EndpointError> {
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if self.policy.dev => {}
            _ if self.policy.dev => return Err(EndpointError::NotHttp),
            _ => return Err(EndpointError::NotHttps),
        }
        let host = uri.host().ok_or(EndpointError::NoHost)?;
        match ip_literal(host) {
            Some(address) => check_address(host, address, &self.policy),
            None => Ok(()),
        }
    }
}

/// The future of [`CheckingConnector`]'s connection.
pub type Connecting = Pin<Box<dyn Future<Output = Result<TokioIo<TcpStream>, BoxError>> + Send>>;

impl tower::Service<Uri> for CheckingConnector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Connecting {
        if let Err(refused) = self.check(&uri) {
            return Box::pin(std::future::ready(Err(refused.into())));
        }
        let connecting = self.http.call(uri);
        Box::pin(async move { connecting.await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: Policy = Policy { dev: false };
    const DEV: Policy = Policy { dev: true };

    fn v4(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.1.1",
            "169.253.1.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(blocked(v4(ip), &PROD), None, "{ip}");
            assert_eq!(blocked(v4(ip), &DEV), None, "{ip}");
        }
    }

    #[test]
    fn every_non_public_range_is_blocked_in_both_modes() {
        for (ip, reason) in [
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "this network"),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "shared"),
            ("100.127.255.255", "shared"),
            ("169.254.0.1", "link-local"),
            ("169.254.169.254", "metadata"),
            ("169.254.170.2", "metadata"),
            ("100.100.100.200", "metadata"),
            ("192.0.0.8", "IETF"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("254.1.1.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("fc00::1", "unique-local"),
            ("fdff::1", "unique-local"),
            ("fd00:ec2::254", "metadata"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("100::1", "discard"),
            ("64:ff9b:1::1", "NAT64"),
            // IPv6 addresses that carry an IPv4 one.
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "metadata"),
            ("::ffff:0.0.0.0", "unspecified"),
            ("::ffff:192.168.0.1", "private"),
            ("::10.0.0.1", "private"),
            ("::169.254.169.254", "metadata"),
            ("64:ff9b::a00:1", "private"),
            ("64:ff9b::a9fe:a9fe", "metadata"),
            ("2002:a00:1::", "private"),
        ] {
            for policy in [PROD, DEV] {
                let why = blocked(v4(ip), &policy);
                assert!(
                    why.is_some_and(|why| why.contains(reason)),
                    "{ip} {policy:?}: {why:?}"
                );
            }
        }
    }

    #[test]
    fn loopback_is_allowed_only_in_development() {
        for ip in [
            "127.0.0.1",
            "127.255.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
        ] {
            assert_eq!(blocked(v4(ip), &PROD), Some("a loopback address"), "{ip}");
            assert_eq!(blocked(v4(ip), &DEV), None, "{ip}");
        }
    }

    #[test]
    fn check_url_accepts_https_with_a_host() {
        for url in [
            "https://hooks.example.com/aco",
            "https://hooks.example.com:8443/aco?token=abc",
            "https://8.8.8.8/hook",
            "https://[2606:4700:4700::1111]/hook",
            "HTTPS://hooks.example.com/",
        ] {
            assert!(check_url(url, &PROD).is_ok(), "{url}");
        }
        let uri = check_url("https://hooks.example.com/aco?x=1", &PROD).unwrap();
        assert_eq!(uri.host(), Some("hooks.example.com"));
    }

    #[test]
    fn check_url_refuses_what_is_not_an_endpoint() {
        use EndpointError::*;
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        for (url, error) in [
            ("http://hooks.example.com/aco", NotHttps),
            ("ftp://hooks.example.com/aco", NotHttps),
            ("hooks.example.com/aco", NotUrl),
            ("/aco", NotUrl),
            ("", NotUrl),
            ("https://exa mple.com/", NotUrl),
            ("https://user:pass@hooks.example.com/", UserInfo),
            ("https://user@hooks.example.com/", UserInfo),
            ("https://hooks.example.com/aco#part", Fragment),
            (long.as_str(), TooLong(long.len())),
        ] {
            assert_eq!(check_url(url, &PROD).unwrap_err(), error, "{url}");
        }
        assert_eq!(
            check_url("ftp://hooks.example.com/", &DEV).unwrap_err(),
            NotHttp
        );
    }

    #[test]
    fn check_url_refuses_a_blocked_address_at_once() {
        let error = check_url("https://169.254.169.254/latest/meta-data?k=v", &PROD).unwrap_err();
        assert_eq!(
            error,
            EndpointError::Blocked {
                host: "169.254.169.254".into(),
                address: v4("169.254.169.254"),
                reason: "a cloud metadata address",
            }
        );
        assert_eq!(
            error.to_string(),
            "169.254.169.254 is a cloud metadata address; \
             webhooks are only sent to public addresses"
        );
        assert!(check_url("https://[::ffff:10.1.2.3]/", &DEV).is_err());
        assert!(check_url("https://[fd00:ec2::254]/", &DEV).is_err());
        assert!(check_url("http://127.0.0.1:8080/", &PROD).is_err());
        assert!(check_url("https://127.0.0.1:8080/", &PROD).is_err());
        assert!(check_url("https://[::1]:8080/", &PROD).is_err());
    }

    #[test]
    fn development_allows_http_and_loopback() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://[::1]:8080/hook",
            "http://localhost:8080/hook",
            "https://127.0.0.1/hook",
        ] {
            assert!(check_url(url, &DEV).is_ok(), "{url}");
        }
        assert!(check_url("http://10.0.0.1/hook", &DEV).is_err());
    }

    #[test]
    fn any_blocked_address_refuses_the_host() {
        let addresses: Vec<SocketAddr> = vec![
            "93.184.216.34:443".parse().unwrap(),
            "10.0.0.7:443".parse().unwrap(),
        ];
        let error = check_addresses("rebind.example", &addresses, &PROD).unwrap_err();
        assert_eq!(
            error.to_string(),
            "rebind.example: 10.0.0.7 is a private address (10.0.0.0/8); \
             webhooks are only sent to public addresses"
        );
        assert!(check_addresses("example.com", &addresses[..1], &PROD).is_ok());
        assert_eq!(
            check_addresses("nowhere.example", &[], &PROD).unwrap_err(),
            EndpointError::NoAddress {
                host: "nowhere.example".into()
            }
        );
    }

    #[tokio::test]
    async fn resolve_checks_every_address_of_the_host() {
        let uri: Uri = "http://localhost:8123/hook?token=secret".parse().unwrap();
        let error = resolve(&uri, &PROD).await.unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("localhost: "), "{message}");
        assert!(message.contains("loopback"), "{message}");
        assert!(!message.contains("token"), "{message}");
        let addresses = resolve(&uri, &DEV).await.unwrap();
        assert!(!addresses.is_empty());
        assert!(
            addresses
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 8123)
        );
        let uri: Uri = "https://127.0.0.1/hook".parse().unwrap();
        assert_eq!(
            resolve(&uri, &DEV).await.unwrap(),
            vec!["127.0.0.1:443".parse().unwrap()]
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_blocked_addresses() {
        use tower::ServiceExt as _;
        let name: Name = "localhost".parse().unwrap();
        let refused = CheckingResolver { policy: PROD }
            .oneshot(name.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(refused, EndpointError::Blocked { .. }),
            "{refused}"
        );
        let allowed: Vec<SocketAddr> = CheckingResolver { policy: DEV }
            .oneshot(name)
            .await
            .unwrap()
            .collect();
        assert!(allowed.iter().all(|a| a.ip().is_loopback()));
    }
}
