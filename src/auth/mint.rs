//! Development tokens: HS256 tokens signed with the shared secret, for
//! local development, the demo and tests only.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::{Claims, Secret};
use crate::domain::Role;

/// What a development token says.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub tenant_id: String,
    pub roles: Vec<Role>,
    pub subject: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub ttl_seconds: i64,
}

#[derive(Serialize)]
struct SignedClaims<'a> {
    #[serde(flatten)]
    claims: &'a Claims,
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
}

/// Signs an HS256 token: for development and tests only.
pub fn mint_hs256(
    secret: &Secret,
    issuer: &str,
    audience: &str,
    request: &TokenRequest,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = Claims {
        sub: request.subject.clone(),
        tid: request.tenant_id.clone(),
        roles: request
            .roles
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        name: request.name.clone(),
        email: request.email.clone(),
        preferred_username: None,
    };
    let iat = request.issued_at.timestamp();
    let signed = SignedClaims {
        claims: &claims,
        iss: issuer,
        aud: audience,
        iat,
        nbf: iat,
        exp: iat + request.ttl_seconds,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &signed,
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )
}
