//! Production JWT: RS256 and ES256 with keys from a JWKS document, chosen by
//! `kid`, several at once, the algorithm fixed by configuration. Keys are made
//! here, in the test.

use std::sync::Arc;

use aco_api::auth::JwksKeys;
use aco_api::config::dev;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

use crate::support::*;

pub(crate) struct RsaKey {
    private: rsa::RsaPrivateKey,
}

impl RsaKey {
    pub(crate) fn new() -> Self {
        RsaKey {
            private: rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap(),
        }
    }
    pub(crate) fn jwk(&self, kid: &str) -> Value {
        let public = self.private.to_public_key();
        json!({ "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()), "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()) })
    }
    pub(crate) fn encoding(&self) -> EncodingKey {
        EncodingKey::from_rsa_der(self.private.to_pkcs1_der().unwrap().as_bytes())
    }
}

struct EcKey {
    private: p256::SecretKey,
}

impl EcKey {
    fn new() -> Self {
        EcKey {
            private: p256::SecretKey::random(&mut rand::rngs::OsRng),
        }
    }
    fn jwk(&self, kid: &str) -> Value {
        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
            &self.private.public_key(),
            false,
        );
        json!({ "kty": "EC", "kid": kid, "crv": "P-256", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()), "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()) })
    }
    fn encoding(&self) -> EncodingKey {
        EncodingKey::from_ec_der(self.private.to_pkcs8_der().unwrap().as_bytes())
    }
}

fn app_with_jwks(keys: Vec<Value>, algorithm: Algorithm) -> TestApp {
    let document = json!({ "keys": keys }).to_string();
    let jwks = Arc::new(JwksKeys::from_document(&document, algorithm).unwrap());
    TestApp::configured(|c| {
        c.jwt.secret = None;
        c.jwt.jwks = Some(jwks);
    })
}

pub(crate) fn claims(offset: i64, audience: &str) -> Value {
    let now = chrono::Utc::now().timestamp() + offset;
    json!({ "sub": "reviewer", "tid": dev::PROGRAM_TENANT_ID, "roles": ["PLSR"],
        "iss": dev::ISSUER, "aud": audience, "iat": now, "nbf": now, "exp": now + 600 })
}

pub(crate) fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

async fn status_of(app: &TestApp, token: &str) -> StatusCode {
    let (status, body) = app
        .post_raw(
            Some(&format!("Bearer {token}")),
            json!({ "query": "{ me { roles } }" }),
        )
        .await;
    if status == StatusCode::OK {
        assert_eq!(body["data"]["me"]["roles"], json!(["PLSR"]), "{body}");
    } else {
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    status
}

#[tokio::test]
async fn rs256_tokens_are_checked_against_the_key_set() {
    let (k1, k2, stranger) = (RsaKey::new(), RsaKey::new(), RsaKey::new());
    let app = app_with_jwks(vec![k1.jwk("k1"), k2.jwk("k2")], Algorithm::RS256);
    let good = claims(0, dev::AUDIENCE);
    assert_eq!(
        status_of(
            &app,
            &sign(Algorithm::RS256, Some("k1"), &k1.encoding(), &good)
        )
        .await,
        StatusCode::OK
    );
    // Rotation: both keys are trusted at once.
    assert_eq!(
        status_of(
            &app,
            &sign(Algorithm::RS256, Some("k2"), &k2.encoding(), &good)
        )
        .await,
        StatusCode::OK
    );
    // Unknown kid, no kid, or the right kid on another key.
    assert_eq!(
        status_of(
            &app,
            &sign(Algorithm::RS256, Some("k9"), &k1.encoding(), &good)
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(&app, &sign(Algorithm::RS256, None, &k1.encoding(), &good)).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(
            &app,
            &sign(Algorithm::RS256, Some("k1"), &stranger.encoding(), &good)
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    // Algorithm confusion: HS256 signed with the public key as the secret.
    let public_der = k1.private.to_public_key().to_pkcs1_der().unwrap();
    let confused = sign(
        Algorithm::HS256,
        Some("k1"),
        &EncodingKey::from_secret(public_der.as_bytes()),
        &good,
    );
    assert_eq!(status_of(&app, &confused).await, StatusCode::UNAUTHORIZED);
    let jwk_n = k1.jwk("k1")["n"].as_str().unwrap().to_owned();
    let confused = sign(
        Algorithm::HS256,
        Some("k1"),
        &EncodingKey::from_secret(jwk_n.as_bytes()),
        &good,
    );
    assert_eq!(status_of(&app, &confused).await, StatusCode::UNAUTHORIZED);
    // alg: none.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#);
    let none = format!("{header}.{}.", URL_SAFE_NO_PAD.encode(good.to_string()));
    assert_eq!(status_of(&app, &none).await, StatusCode::UNAUTHORIZED);
    // Expired, and for another audience.
    assert_eq!(
        status_of(
            &app,
            &sign(
                Algorithm::RS256,
                Some("k1"),
                &k1.encoding(),
                &claims(-7200, dev::AUDIENCE)
            )
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(
            &app,
            &sign(
                Algorithm::RS256,
                Some("k1"),
                &k1.encoding(),
                &claims(0, "api://someone-else")
            )
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    // The development secret no longer opens anything.
    assert_eq!(
        status_of(
            &app,
            &app.token(PROGRAM_TENANT, &[aco_api::domain::Role::Plsr], "x")
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn es256_tokens_are_checked_against_the_key_set() {
    let (ec, rsa_key) = (EcKey::new(), RsaKey::new());
    let app = app_with_jwks(vec![ec.jwk("ec1"), rsa_key.jwk("rsa1")], Algorithm::ES256);
    let good = claims(0, dev::AUDIENCE);
    assert_eq!(
        status_of(
            &app,
            &sign(Algorithm::ES256, Some("ec1"), &ec.encoding(), &good)
        )
        .await,
        StatusCode::OK
    );
    // The algorithm is the configured one: an RS256 token is refused even with a known key.
    assert_eq!(
        status_of(
            &app,
            &sign(Algorithm::RS256, Some("rsa1"), &rsa_key.encoding(), &good)
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(
            &app,
            &sign(Algorithm::ES256, Some("ec9"), &ec.encoding(), &good)
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(
            &app,
            &sign(
                Algorithm::ES256,
                Some("ec1"),
                &ec.encoding(),
                &claims(-7200, dev::AUDIENCE)
            )
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn a_key_set_without_usable_keys_is_refused_at_start() {
    assert!(JwksKeys::from_document("not json", Algorithm::RS256).is_err());
    assert!(JwksKeys::from_document(r#"{"keys": []}"#, Algorithm::RS256).is_err());
    let ec_only = json!({ "keys": [EcKey::new().jwk("ec1")] }).to_string();
    assert!(JwksKeys::from_document(&ec_only, Algorithm::RS256).is_err());
    assert!(JwksKeys::from_document(&ec_only, Algorithm::HS256).is_err());
}
