//! Keys fetched from the issuer (`ACO_JWT_JWKS_URL`): an issuer on loopback
//! that rotates its keys mid-test, goes down and comes back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aco_api::config::{JwksUrl, dev};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::jwks::{RsaKey, claims, sign};
use crate::support::*;

/// What the issuer answers: its key set, or 500 while it is down.
struct Issuer {
    keys: Mutex<Option<Vec<Value>>>,
    fetches: AtomicUsize,
    base: String,
}

impl Issuer {
    async fn start(keys: Vec<Value>) -> Arc<Issuer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = Arc::new(Issuer {
            keys: Mutex::new(Some(keys)),
            fetches: AtomicUsize::new(0),
            base: format!("http://{}", listener.local_addr().unwrap()),
        });
        let router = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/keys", get(key_set))
            .with_state(issuer.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        issuer
    }

    fn serve(&self, keys: Option<Vec<Value>>) {
        *self.keys.lock().unwrap() = keys;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn discovery(State(issuer): State<Arc<Issuer>>) -> Response {
    axum::Json(json!({ "issuer": dev::ISSUER, "jwks_uri": format!("{}/keys", issuer.base) }))
        .into_response()
}

async fn key_set(State(issuer): State<Arc<Issuer>>) -> Response {
    issuer.fetches.fetch_add(1, Ordering::SeqCst);
    match issuer.keys.lock().unwrap().clone() {
        Some(keys) => axum::Json(json!({ "keys": keys })).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn app_with_issuer(url: String, refresh_every: Duration) -> TestApp {
    TestApp::configured(|c| {
        c.jwt.secret = None;
        c.jwt.jwks_url = Some(JwksUrl {
            url,
            algorithm: Algorithm::RS256,
            refresh_every,
        });
    })
}

/// A fresh token (a distinct `iat`, so never one checked before) signed by `key` as `kid`.
fn token(key: &RsaKey, kid: &str, nonce: i64) -> String {
    sign(
        Algorithm::RS256,
        Some(kid),
        &key.encoding(),
        &claims(-nonce, dev::AUDIENCE),
    )
}

async fn answer(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.post_raw(
        Some(&format!("Bearer {token}")),
        json!({ "query": "{ me { roles } }" }),
    )
    .await
}

async fn status(app: &TestApp, token: &str) -> StatusCode {
    answer(app, token).await.0
}

#[tokio::test]
async fn tokens_of_a_rotated_key_are_accepted_without_a_restart_and_those_of_a_removed_key_refused()
{
    let (old, new) = (RsaKey::new(), RsaKey::new());
    let issuer = Issuer::start(vec![old.jwk("old")]).await;
    // OpenID discovery: the key set is found through `jwks_uri`.
    let app = app_with_issuer(
        format!("{}/.well-known/openid-configuration", issuer.base),
        Duration::from_secs(3600),
    );
    let old_token = token(&old, "old", 1);
    let (status_code, body) = answer(&app, &old_token).await;
    assert_eq!(status_code, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["me"]["roles"], json!(["PLSR"]));
    assert_eq!(issuer.fetches(), 1);

    // The issuer rotates: the new key in, the old one out.
    issuer.serve(Some(vec![new.jwk("new")]));
    assert_eq!(status(&app, &token(&new, "new", 2)).await, StatusCode::OK);
    assert_eq!(
        issuer.fetches(),
        2,
        "the unknown kid fetched the keys again"
    );
    // A token of the removed key is refused, even one accepted before.
    let (status_code, body) = answer(&app, &old_token).await;
    assert_eq!(status_code, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(code(&body), "UNAUTHENTICATED");
    assert_eq!(
        status(&app, &token(&old, "old", 3)).await,
        StatusCode::UNAUTHORIZED
    );

    // A flood of made-up kids costs the issuer nothing more within the minute.
    let stranger = RsaKey::new();
    for i in 0..25 {
        let made_up = token(&stranger, &format!("made-up-{i}"), 10 + i);
        assert_eq!(status(&app, &made_up).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(issuer.fetches(), 2);
    assert_eq!(status(&app, &token(&new, "new", 4)).await, StatusCode::OK);
}

#[tokio::test]
async fn while_the_issuer_is_unreachable_tokens_are_answered_503_and_served_once_it_answers() {
    let key = RsaKey::new();
    let issuer = Issuer::start(vec![key.jwk("k1")]).await;
    issuer.serve(None);
    let app = app_with_issuer(format!("{}/keys", issuer.base), Duration::from_secs(3600));
    let (status_code, body) = answer(&app, &token(&key, "k1", 1)).await;
    assert_eq!(status_code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("signing keys"),
        "{body}"
    );
    // Anonymous requests (introspection) do not need keys.
    let (status_code, _) = app
        .post_raw(None, json!({ "query": "{ __typename }" }))
        .await;
    assert_eq!(status_code, StatusCode::OK);

    issuer.serve(Some(vec![key.jwk("k1")]));
    let mut waited = Duration::ZERO;
    let step = Duration::from_millis(250);
    loop {
        match status(&app, &token(&key, "k1", 2)).await {
            StatusCode::OK => break,
            StatusCode::SERVICE_UNAVAILABLE if waited < Duration::from_secs(20) => {
                tokio::time::sleep(step).await;
                waited += step;
            }
            other => panic!("{other} after {waited:?}"),
        }
    }
    let failed_attempts = issuer.fetches() - 1;
    assert!(
        (1..=6).contains(&failed_attempts),
        "retried with a growing pause, not in a loop: {failed_attempts} attempts in {waited:?}"
    );
}

#[tokio::test]
async fn keys_are_fetched_again_on_schedule_and_kept_when_a_refresh_fails() {
    let key = RsaKey::new();
    let issuer = Issuer::start(vec![key.jwk("k1")]).await;
    let app = app_with_issuer(format!("{}/keys", issuer.base), Duration::from_millis(200));
    assert_eq!(status(&app, &token(&key, "k1", 1)).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(900)).await;
    let fetched = issuer.fetches();
    assert!(fetched >= 3, "fetched {fetched} times in 0.9 s");
    // The issuer fails: the keys known stay in use.
    issuer.serve(None);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(issuer.fetches() > fetched);
    assert_eq!(status(&app, &token(&key, "k1", 2)).await, StatusCode::OK);
}

#[tokio::test]
async fn entra_app_only_and_user_tokens_are_accepted_under_the_multi_tenant_issuer() {
    const ENTRA_ISSUER: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
    let key = RsaKey::new();
    let issuer = Issuer::start(vec![key.jwk("entra")]).await;
    let app = TestApp::configured(|c| {
        c.jwt.secret = None;
        c.jwt.issuer = ENTRA_ISSUER.into();
        c.jwt.jwks_url = Some(JwksUrl {
            url: format!("{}/keys", issuer.base),
            algorithm: Algorithm::RS256,
            refresh_every: Duration::from_secs(3600),
        });
    });
    let now = chrono::Utc::now().timestamp();
    let tenant = dev::PROGRAM_TENANT_ID;
    let own_issuer = ENTRA_ISSUER.replace("{tenantid}", tenant);
    // Client credentials: an application's own token, roles and no user names.
    let app_only = json!({ "aud": dev::AUDIENCE, "iss": own_issuer, "iat": now, "nbf": now,
        "exp": now + 600, "sub": "5b1c3f5e-0d1e-4a7c-9f59-0a2b3c4d5e6f", "oid": "5b1c3f5e-0d1e-4a7c-9f59-0a2b3c4d5e6f",
        "tid": tenant, "azp": "11111111-2222-4333-8444-555555555555", "azpacr": "1",
        "idtyp": "app", "roles": ["PLSR"], "ver": "2.0" });
    // A signed-in user's token.
    let user = json!({ "aud": dev::AUDIENCE, "iss": own_issuer, "iat": now, "nbf": now,
        "exp": now + 600, "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "tid": tenant,
        "name": "Rita Reviewer", "preferred_username": "rita@programme.example",
        "roles": ["PLSR"], "scp": "access_as_user", "ver": "2.0" });
    for claims in [&app_only, &user] {
        let token = sign(Algorithm::RS256, Some("entra"), &key.encoding(), claims);
        let (status_code, body) = answer(&app, &token).await;
        assert_eq!(status_code, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["me"]["roles"], json!(["PLSR"]));
    }
    // The issuer must name the token's own tenant.
    let mut elsewhere = app_only.clone();
    elsewhere["iss"] =
        json!(ENTRA_ISSUER.replace("{tenantid}", "9a1b2c3d-0000-4000-8000-000000000009"));
    let token = sign(Algorithm::RS256, Some("entra"), &key.encoding(), &elsewhere);
    assert_eq!(status(&app, &token).await, StatusCode::UNAUTHORIZED);
}
