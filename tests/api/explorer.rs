//! The explorer (issue 31): its page and every file the page loads come from
//! the binary itself, nothing from another origin; the files are sent
//! gzip-compressed with long-lived caching; a build without the `explorer`
//! feature says it has none.

use axum::body::Body;
#[cfg(feature = "explorer")]
use axum::http::HeaderMap;
use axum::http::{Request, StatusCode};

use crate::support::*;

/// What a browser sends.
const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

fn get(path: &str, accept_encoding: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(encodings) = accept_encoding {
        request = request.header("accept-encoding", encodings);
    }
    request.body(Body::empty()).unwrap()
}

#[cfg(feature = "explorer")]
fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map_or("", |value| value.to_str().unwrap())
}

/// The values of every `src` and `href` attribute of `page`.
#[cfg(feature = "explorer")]
fn references(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in [" src=\"", " href=\""] {
        let mut rest = page;
        while let Some(at) = rest.find(attribute) {
            rest = &rest[at + attribute.len()..];
            let end = rest.find('"').expect("a closing quote");
            found.push(rest[..end].to_owned());
        }
    }
    found
}

#[cfg(feature = "explorer")]
fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("valid gzip holding UTF-8");
    text
}

#[cfg(feature = "explorer")]
#[tokio::test]
async fn the_page_is_served_in_dev_mode_and_names_only_its_own_files() {
    let app = TestApp::new();
    let (status, body, headers) = app.send_raw(get("/graphql", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    let policy = header(&headers, "content-security-policy");
    for rule in [
        "default-src 'none'",
        "script-src 'self';",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(rule), "{rule} missing from {policy}");
    }
    let page = std::str::from_utf8(&body).unwrap();
    // No inline script or style for the policy to allow, and no header
    // prefilled (an empty `Bearer ` would make every first request a 401).
    for inline in ["<script>", "<style", " style=", " onerror=", " onload="] {
        assert!(!page.contains(inline), "{inline} in {page}");
    }
    assert!(!page.contains("defaultHeaders"), "{page}");
    let files = references(page);
    assert_eq!(files.len(), 6, "{files:?}");
    for file in &files {
        // Relative to the page, so the same server (behind any prefix).
        assert!(
            file.starts_with("graphql/explorer/") && !file.contains("//") && !file.contains(':'),
            "{file} is not one of this server's paths"
        );
    }
    assert!(
        !page.contains("unpkg") && !page.contains("https://"),
        "{page}"
    );
}

#[cfg(feature = "explorer")]
#[tokio::test]
async fn every_file_the_page_loads_is_sent_compressed_and_cached_for_a_year() {
    let app = TestApp::new();
    let (_, body, _) = app.send_raw(get("/graphql", None)).await;
    let page = std::str::from_utf8(&body).unwrap().to_owned();
    let expected = [
        ("graphiql-3.9.0.min.js", "text/javascript", "GraphiQL"),
        (
            "graphiql-3.9.0-system-fonts.min.css",
            "text/css",
            ".graphiql-container",
        ),
        (
            "react-18.3.1.production.min.js",
            "text/javascript",
            "react.production.min.js",
        ),
        (
            "react-dom-18.3.1.production.min.js",
            "text/javascript",
            "react-dom.production.min.js",
        ),
    ];
    for (name, media_type, content) in expected {
        let path = format!("graphql/explorer/{name}");
        assert!(references(&page).contains(&path), "the page loads {path}");
        let (status, bytes, headers) = app
            .send_raw(get(&format!("/{path}"), Some(BROWSER_ENCODINGS)))
            .await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(
            header(&headers, "content-type"),
            format!("{media_type}; charset=utf-8"),
            "{name}"
        );
        assert_eq!(header(&headers, "content-encoding"), "gzip", "{name}");
        assert_eq!(header(&headers, "vary"), "accept-encoding", "{name}");
        assert_eq!(
            header(&headers, "cache-control"),
            "public, max-age=31536000, immutable",
            "{name}"
        );
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        let text = gunzip(&bytes);
        assert!(text.contains(content), "{name} holds {content}");
        assert!(!text.contains("unpkg.com"), "{name} names no CDN");
    }
    // The page's own script, which starts GraphiQL, and style sheet: small,
    // sent as they are, and checked again on each load (their names have no
    // version).
    for (name, media_type, content) in [
        ("explorer.js", "text/javascript", "GraphiQL.createFetcher"),
        ("explorer.css", "text/css", "#graphiql"),
    ] {
        let path = format!("graphql/explorer/{name}");
        assert!(references(&page).contains(&path), "the page loads {path}");
        let (status, bytes, headers) = app.send_raw(get(&format!("/{path}"), None)).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(
            header(&headers, "content-type"),
            format!("{media_type}; charset=utf-8"),
            "{name}"
        );
        assert_eq!(header(&headers, "content-encoding"), "", "{name}");
        assert_eq!(header(&headers, "cache-control"), "no-cache", "{name}");
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.contains(content), "{name} holds {content}");
    }
}

#[cfg(feature = "explorer")]
#[tokio::test]
async fn a_client_that_does_not_accept_gzip_is_told_to() {
    let app = TestApp::new();
    for accept in [
        None,
        Some("identity"),
        Some("br, deflate"),
        Some("gzip;q=0"),
    ] {
        let (status, body, headers) = app
            .send(get("/graphql/explorer/graphiql-3.9.0.min.js", accept))
            .await;
        assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{accept:?}: {body}");
        assert_eq!(code(&body), "NOT_ACCEPTABLE");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("Accept-Encoding: gzip"),
            "{body}"
        );
        assert_eq!(header(&headers, "content-encoding"), "");
    }
    let (status, _, headers) = app
        .send_raw(get(
            "/graphql/explorer/react-18.3.1.production.min.js",
            Some("*"),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-encoding"), "gzip");
}

#[cfg(feature = "explorer")]
#[tokio::test]
async fn a_file_the_explorer_does_not_have_is_404() {
    let app = TestApp::new();
    for path in [
        "/graphql/explorer/graphiql-3.8.0.min.js",
        "/graphql/explorer/..%2Fexplorer.html",
        "/graphql/explorer/index.umd.js.map",
    ] {
        let (status, body, _) = app.send(get(path, Some(BROWSER_ENCODINGS))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(code(&body), "NOT_FOUND", "{path}");
    }
}

#[tokio::test]
async fn with_the_explorer_disabled_the_page_and_its_files_are_404() {
    let app = TestApp::configured(|c| c.explorer = false);
    for path in ["/graphql", "/graphql/explorer/graphiql-3.9.0.min.js"] {
        let (status, body, _) = app.send(get(path, Some(BROWSER_ENCODINGS))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(code(&body), "NOT_FOUND", "{path}");
    }
}

/// Dev mode in a build without the explorer: the page and the files say
/// this build has none.
#[cfg(not(feature = "explorer"))]
#[tokio::test]
async fn a_build_without_the_explorer_says_it_has_none() {
    let app = TestApp::new();
    assert!(!app.config.explorer);
    for path in ["/graphql", "/graphql/explorer/graphiql-3.9.0.min.js"] {
        let (status, body, _) = app.send(get(path, Some(BROWSER_ENCODINGS))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("cargo feature `explorer`"), "{message}");
    }
}
