//! The GraphiQL explorer, served by the binary itself: the page at
//! `GET /graphql`, and its scripts and style sheets under
//! `/graphql/explorer/`. Nothing is loaded from another origin, so the
//! explorer works without internet access.
//!
//! GraphiQL and React are stored gzip-compressed (`assets/explorer/`, made by
//! `scripts/explorer-assets.sh` from the pinned npm packages) and sent as they
//! are, to any client that accepts gzip; every browser does. The binary has no
//! decompressor (none is in its dependencies, and one would cost more than the
//! clients it would serve), so a client that does not accept gzip is told so
//! with `406`. Their names carry their versions, so they are cached for a year.
//!
//! A build without the `explorer` cargo feature (for a deployment that never
//! serves it) has none of this: the page and the files answer `404`, saying so.

use axum::http::StatusCode;
use axum::response::Response;

use super::{AppState, error_response};

/// The explorer's page, or why there is none.
#[cfg(feature = "explorer")]
pub(super) fn page(state: &AppState) -> Response {
    if !state.config.explorer {
        return not_served();
    }
    files::serve_page()
}

/// `GET /graphql/explorer/{file}`: one of the page's scripts or style sheets.
#[cfg(feature = "explorer")]
pub(super) async fn asset(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    if !state.config.explorer {
        return not_served();
    }
    files::serve_asset(&file, &headers)
}

#[cfg(not(feature = "explorer"))]
pub(super) fn page(_: &AppState) -> Response {
    not_served()
}

#[cfg(not(feature = "explorer"))]
pub(super) async fn asset() -> Response {
    not_served()
}

/// The `404` when this build has no explorer or this server does not serve it.
fn not_served() -> Response {
    let message = if cfg!(feature = "explorer") {
        "the explorer is disabled; POST GraphQL requests to /graphql"
    } else {
        "this build of aco-api has no explorer (it was built without the cargo feature \
         `explorer`); POST GraphQL requests to /graphql"
    };
    error_response(StatusCode::NOT_FOUND, "NOT_FOUND", message)
}

/// The page and the files it loads, embedded.
#[cfg(feature = "explorer")]
mod files {
    use axum::http::header::{
        ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
        VARY, X_CONTENT_TYPE_OPTIONS,
    };
    use axum::http::{HeaderMap, HeaderValue, StatusCode};
    use axum::response::{IntoResponse, Response};

    use super::super::error_response;

    /// The page's own rules: scripts, style sheets and requests from this
    /// origin only, no inline script, and never inside another site's frame.
    /// Inline styles are allowed: GraphiQL's dialogs insert a `<style>`
    /// element while open (its fonts and icons are `data:` URLs inside its
    /// style sheet). Only the page gets this header: the API answers JSON.
    const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' \
        'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; connect-src 'self'; \
        base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    pub(super) fn serve_page() -> Response {
        let mut response = (
            [
                (CONTENT_TYPE, "text/html; charset=utf-8"),
                (CONTENT_SECURITY_POLICY, PAGE_POLICY),
                // The page names the versioned files, so it is checked each time.
                (CACHE_CONTROL, "no-cache"),
            ],
            include_str!("../explorer.html"),
        )
            .into_response();
        no_sniffing(&mut response);
        response
    }

    /// One file the page loads.
    struct Asset {
        /// The name it is served under, after `/graphql/explorer/`.
        name: &'static str,
        content_type: &'static str,
        /// Its bytes, gzip-compressed when `gzip` is set.
        bytes: &'static [u8],
        gzip: bool,
    }

    const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
    const CSS: &str = "text/css; charset=utf-8";

    const ASSETS: &[Asset] = &[
        Asset {
            name: "graphiql-3.9.0.min.js",
            content_type: JAVASCRIPT,
            bytes: include_bytes!("../../assets/explorer/graphiql-3.9.0.min.js.gz"),
            gzip: true,
        },
        Asset {
            name: "graphiql-3.9.0-system-fonts.min.css",
            content_type: CSS,
            bytes: include_bytes!("../../assets/explorer/graphiql-3.9.0-system-fonts.min.css.gz"),
            gzip: true,
        },
        Asset {
            name: "react-18.3.1.production.min.js",
            content_type: JAVASCRIPT,
            bytes: include_bytes!("../../assets/explorer/react-18.3.1.production.min.js.gz"),
            gzip: true,
        },
        Asset {
            name: "react-dom-18.3.1.production.min.js",
            content_type: JAVASCRIPT,
            bytes: include_bytes!("../../assets/explorer/react-dom-18.3.1.production.min.js.gz"),
            gzip: true,
        },
        // The page's own script (it starts GraphiQL, or says why it cannot)
        // and style sheet.
        Asset {
            name: "explorer.js",
            content_type: JAVASCRIPT,
            bytes: include_bytes!("../explorer.js"),
            gzip: false,
        },
        Asset {
            name: "explorer.css",
            content_type: CSS,
            bytes: include_bytes!("../explorer.css"),
            gzip: false,
        },
    ];

    pub(super) fn serve_asset(name: &str, headers: &HeaderMap) -> Response {
        let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
            return error_response(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                &format!("the explorer has no file {name:?}"),
            );
        };
        if asset.gzip && !accepts_gzip(headers) {
            return error_response(
                StatusCode::NOT_ACCEPTABLE,
                "NOT_ACCEPTABLE",
                &format!(
                    "{name} is only served gzip-compressed: send Accept-Encoding: gzip \
                     (browsers do; with curl, --compressed)"
                ),
            );
        }
        let mut response = (
            [
                (CONTENT_TYPE, asset.content_type),
                // The versioned names never change content; the page's own
                // script is checked each time.
                (
                    CACHE_CONTROL,
                    if asset.gzip {
                        "public, max-age=31536000, immutable"
                    } else {
                        "no-cache"
                    },
                ),
            ],
            asset.bytes,
        )
            .into_response();
        if asset.gzip {
            let headers = response.headers_mut();
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
        }
        no_sniffing(&mut response);
        response
    }

    fn no_sniffing(response: &mut Response) {
        response
            .headers_mut()
            .insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    }

    /// Whether `Accept-Encoding` allows gzip: `gzip`, `x-gzip` or `*` listed
    /// with a weight above zero, and gzip not refused by name (RFC 9110, 12.5.3).
    /// A request without the header is treated as one that does not.
    fn accepts_gzip(headers: &HeaderMap) -> bool {
        let (mut named, mut any) = (None, false);
        for value in headers.get_all(ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for coding in value.split(',') {
                let mut parts = coding.split(';');
                let name = parts.next().unwrap_or("").trim();
                let allowed = parts
                    .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                    .all(|q| q.trim().parse::<f32>().is_ok_and(|q| q > 0.0));
                if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                    named = Some(named.unwrap_or(false) || allowed);
                } else if name == "*" {
                    any |= allowed;
                }
            }
        }
        named.unwrap_or(any)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn accepts(value: &str) -> bool {
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
            accepts_gzip(&headers)
        }

        #[test]
        fn gzip_is_sent_only_where_accept_encoding_allows_it() {
            assert!(accepts("gzip"));
            assert!(accepts("gzip, deflate, br, zstd"));
            assert!(accepts("br;q=1.0, GZIP;q=0.5"));
            assert!(accepts("x-gzip"));
            assert!(accepts("*"));
            assert!(!accepts("identity"));
            assert!(!accepts("br, deflate"));
            assert!(!accepts("gzip;q=0"));
            assert!(!accepts("gzip;q=0.000, *"));
            assert!(!accepts("*;q=0"));
            assert!(!accepts_gzip(&HeaderMap::new()));
        }

        #[test]
        fn every_stored_asset_is_gzip() {
            for asset in ASSETS.iter().filter(|asset| asset.gzip) {
                assert_eq!(&asset.bytes[..2], &[0x1f, 0x8b], "{}", asset.name);
            }
        }
    }
}
