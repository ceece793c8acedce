//! Token validation: the claims read, the checks of signature, algorithm,
//! issuer, audience, expiry and not-before, and the tokens verified already.

use std::fmt;
use std::sync::Arc;

use jsonwebtoken::Validation;
use jsonwebtoken::errors::ErrorKind;
use serde::{Deserialize, Serialize};

use super::{AuthError, KeySource, RemoteJwks};

/// The claims we read (Microsoft Entra ID access-token names).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tid: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
}

/// The claims every token must carry.
const REQUIRED_CLAIMS: [&str; 4] = ["exp", "iss", "aud", "sub"];

/// Whether the token's header has a `crit` member (which `Header` drops).
fn names_critical_extensions(token: &str) -> Result<bool, AuthError> {
    use base64::Engine;
    let encoded = token.split('.').next().ok_or(AuthError::Malformed)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| AuthError::Malformed)?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&json).map_err(|_| AuthError::Malformed)?;
    Ok(header.contains_key("crit"))
}

/// Stands for the token's tenant in a per-tenant issuer.
const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// The claims with the issuer, for checking a per-tenant issuer, and the
/// expiry, for checking a token again without its signature.
#[derive(Deserialize)]
struct WithIssuer {
    iss: String,
    exp: u64,
    #[serde(flatten)]
    claims: Claims,
}

/// How many verified tokens are remembered.
const VERIFIED_TOKENS: usize = 1024;

/// Tokens whose signature and claims were checked already, with their claims
/// and expiry. A client sends the same token with every request until it
/// expires: a repeat skips the signature check, as long as the keys are those
/// it was checked with, but never the expiry check.
#[derive(Default)]
struct VerifiedTokens(std::sync::Mutex<std::collections::HashMap<Box<str>, Verified>>);

#[derive(Clone)]
struct Verified {
    claims: Claims,
    exp: u64,
    /// The keys' generation when it was checked.
    generation: u64,
}

impl Verified {
    /// The claims, unless the token expired since (`exp < now - leeway`, as
    /// the full check decides).
    fn at(&self, now: u64, leeway: u64) -> Result<Claims, AuthError> {
        if self.exp < now.saturating_sub(leeway) {
            return Err(AuthError::Expired);
        }
        Ok(self.claims.clone())
    }
}

impl VerifiedTokens {
    fn get(&self, token: &str) -> Option<Verified> {
        self.0.lock().ok()?.get(token).cloned()
    }

    /// Remembers a verified token; when full, drops the expired ones, and
    /// everything if none had expired.
    fn insert(&self, token: &str, verified: Verified, now: u64, leeway: u64) {
        let Ok(mut tokens) = self.0.lock() else {
            return;
        };
        if tokens.len() >= VERIFIED_TOKENS {
            tokens.retain(|_, v| v.exp >= now.saturating_sub(leeway));
            if tokens.len() >= VERIFIED_TOKENS {
                tokens.clear();
            }
        }
        tokens.insert(token.into(), verified);
    }
}

impl fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.lock().map(|t| t.len()).unwrap_or_default();
        write!(f, "VerifiedTokens({count})") // never the tokens themselves
    }
}

/// Token validation settings.
#[derive(Debug, Clone)]
pub struct Authenticator {
    keys: Arc<dyn KeySource>,
    /// The same keys when they are fetched from the issuer.
    remote: Option<Arc<RemoteJwks>>,
    issuer: String,
    audience: String,
    leeway_seconds: u64,
    program_tenant_id: String,
    verified: Arc<VerifiedTokens>,
}

impl Authenticator {
    pub fn new(
        keys: Arc<dyn KeySource>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        leeway_seconds: u64,
        program_tenant_id: impl Into<String>,
    ) -> Self {
        Authenticator {
            keys,
            remote: None,
            issuer: issuer.into(),
            audience: audience.into(),
            leeway_seconds,
            program_tenant_id: program_tenant_id.into(),
            verified: Arc::default(),
        }
    }

    /// Keys fetched from the issuer: a token naming an unknown `kid` makes
    /// [`Self::verify_fresh`] fetch them again.
    pub fn with_remote_keys(
        remote: Arc<RemoteJwks>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        leeway_seconds: u64,
        program_tenant_id: impl Into<String>,
    ) -> Self {
        let mut authenticator = Authenticator::new(
            remote.clone(),
            issuer,
            audience,
            leeway_seconds,
            program_tenant_id,
        );
        authenticator.remote = Some(remote);
        authenticator
    }

    /// [`Self::verify`], with keys fetched from the issuer: waits for the
    /// first fetch while none is known, and fetches again (at most once a
    /// minute) for a token whose `kid` is not in the set.
    pub async fn verify_fresh(&self, token: &str) -> Result<Claims, AuthError> {
        let Some(remote) = &self.remote else {
            return self.verify(token);
        };
        remote.wait_for_keys().await;
        match self.verify(token) {
            Err(AuthError::UnknownKey) => {
                remote.refresh_for_unknown_kid().await;
                self.verify(token)
            }
            other => other,
        }
    }

    pub fn program_tenant_id(&self) -> &str {
        &self.program_tenant_id
    }

    /// Validates signature, algorithm, issuer, audience, expiry and not-before.
    /// An issuer containing `{tenantid}` (Entra's multi-tenant form,
    /// `https://login.microsoftonline.com/{tenantid}/v2.0`) must equal the
    /// template with the token's own `tid` in it.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let now = jsonwebtoken::get_current_timestamp();
        let generation = self.keys.generation();
        if let Some(seen) = self
            .verified
            .get(token)
            .filter(|seen| seen.generation == generation)
        {
            return seen.at(now, self.leeway_seconds);
        }
        let verified = self.verify_signed(token, generation)?;
        let claims = verified.claims.clone();
        self.verified
            .insert(token, verified, now, self.leeway_seconds);
        Ok(claims)
    }

    fn verify_signed(&self, token: &str, generation: u64) -> Result<Verified, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        // RFC 7515 §4.1.11: an extension named critical must be understood,
        // and this service understands none.
        if names_critical_extensions(token)? {
            return Err(AuthError::CriticalExtension);
        }
        let (key, algorithm) = self.keys.key_for(&header)?;
        let mut validation = Validation::new(algorithm);
        let per_tenant = self.issuer.contains(TENANT_PLACEHOLDER);
        if !per_tenant {
            validation.set_issuer(&[&self.issuer]);
        }
        validation.set_audience(&[&self.audience]);
        validation.leeway = self.leeway_seconds;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&REQUIRED_CLAIMS);
        let decoded = jsonwebtoken::decode::<WithIssuer>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                ErrorKind::InvalidAlgorithm => AuthError::WrongAlgorithm,
                ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(
                    REQUIRED_CLAIMS
                        .iter()
                        .find(|required| **required == c.as_str())
                        .copied()
                        .unwrap_or("a required claim"),
                ),
                _ => AuthError::Malformed,
            })?;
        if decoded.claims.sub.trim().is_empty() {
            return Err(AuthError::EmptySubject);
        }
        if per_tenant {
            let expected = self.issuer.replace(TENANT_PLACEHOLDER, &decoded.claims.tid);
            if !decoded.iss.eq_ignore_ascii_case(&expected) {
                return Err(AuthError::WrongIssuer);
            }
        }
        Ok(Verified {
            claims: decoded.claims,
            exp: decoded.exp,
            generation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Secret, SharedSecret, TokenRequest, mint_hs256};
    use crate::domain::Role;
    use chrono::Utc;

    fn authenticator() -> Authenticator {
        Authenticator::new(
            Arc::new(SharedSecret::new(Secret::new(
                "s3cret-s3cret-s3cret-s3cret-s3cret",
            ))),
            "iss",
            "aud",
            0,
            "00000000-0000-4000-8000-000000000001",
        )
    }

    fn request() -> TokenRequest {
        TokenRequest {
            tenant_id: "00000000-0000-4000-8000-000000000001".into(),
            roles: vec![Role::Finance],
            subject: "u1".into(),
            name: None,
            email: None,
            issued_at: Utc::now(),
            ttl_seconds: 600,
        }
    }

    #[test]
    fn good_token_verifies_and_bad_ones_do_not() {
        let auth = authenticator();
        let secret = Secret::new("s3cret-s3cret-s3cret-s3cret-s3cret");
        let good = mint_hs256(&secret, "iss", "aud", &request()).unwrap();
        assert_eq!(auth.verify(&good).unwrap().sub, "u1");

        let other = mint_hs256(
            &Secret::new("other-secret-other-secret-other"),
            "iss",
            "aud",
            &request(),
        )
        .unwrap();
        assert_eq!(auth.verify(&other).unwrap_err(), AuthError::BadSignature);
        let wrong_iss = mint_hs256(&secret, "evil", "aud", &request()).unwrap();
        assert_eq!(auth.verify(&wrong_iss).unwrap_err(), AuthError::WrongIssuer);
        let wrong_aud = mint_hs256(&secret, "iss", "evil", &request()).unwrap();
        assert_eq!(
            auth.verify(&wrong_aud).unwrap_err(),
            AuthError::WrongAudience
        );
        let expired = mint_hs256(
            &secret,
            "iss",
            "aud",
            &TokenRequest {
                issued_at: Utc::now() - chrono::Duration::hours(2),
                ..request()
            },
        )
        .unwrap();
        assert_eq!(auth.verify(&expired).unwrap_err(), AuthError::Expired);
        assert_eq!(
            auth.verify("not.a.token").unwrap_err(),
            AuthError::Malformed
        );
    }

    #[test]
    fn a_token_seen_before_is_recalled_but_still_expires() {
        let auth = authenticator();
        let secret = Secret::new("s3cret-s3cret-s3cret-s3cret-s3cret");
        let good = mint_hs256(&secret, "iss", "aud", &request()).unwrap();
        assert_eq!(auth.verify(&good).unwrap().sub, "u1");
        assert_eq!(auth.verify(&good).unwrap().sub, "u1");
        assert_eq!(format!("{:?}", auth.verified), "VerifiedTokens(1)");
        // One character changed is another token, checked in full.
        let mut tampered = good.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(auth.verify(&tampered).is_err());
        assert_eq!(format!("{:?}", auth.verified), "VerifiedTokens(1)");

        let seen = auth.verified.get(&good).unwrap();
        assert!(seen.at(seen.exp, 0).is_ok());
        assert_eq!(seen.at(seen.exp + 1, 0).unwrap_err(), AuthError::Expired);
        assert!(seen.at(seen.exp + 60, 60).is_ok());
        assert_eq!(seen.at(seen.exp + 61, 60).unwrap_err(), AuthError::Expired);
    }

    #[test]
    fn the_verified_tokens_stay_bounded() {
        let tokens = VerifiedTokens::default();
        let verified = |exp| Verified {
            claims: Claims {
                sub: "u".into(),
                tid: "t".into(),
                roles: Vec::new(),
                name: None,
                email: None,
                preferred_username: None,
            },
            exp,
            generation: 0,
        };
        for i in 0..VERIFIED_TOKENS {
            tokens.insert(
                &format!("t{i}"),
                verified(if i % 2 == 0 { 10 } else { 1000 }),
                100,
                0,
            );
        }
        tokens.insert("one more", verified(1000), 100, 0);
        // The expired half was dropped to make room.
        assert_eq!(tokens.0.lock().unwrap().len(), VERIFIED_TOKENS / 2 + 1);
        assert!(tokens.get("t0").is_none() && tokens.get("t1").is_some());
    }

    #[test]
    fn a_per_tenant_issuer_must_name_the_tokens_own_tenant() {
        let secret = Secret::new("s3cret-s3cret-s3cret-s3cret-s3cret");
        let auth = Authenticator::new(
            Arc::new(SharedSecret::new(secret.clone())),
            "https://login.microsoftonline.com/{tenantid}/v2.0",
            "aud",
            0,
            "00000000-0000-4000-8000-000000000001",
        );
        let own = mint_hs256(
            &secret,
            "https://login.microsoftonline.com/00000000-0000-4000-8000-000000000001/v2.0",
            "aud",
            &request(),
        )
        .unwrap();
        assert_eq!(auth.verify(&own).unwrap().sub, "u1");
        let other = mint_hs256(
            &secret,
            "https://login.microsoftonline.com/99999999-0000-4000-8000-000000000009/v2.0",
            "aud",
            &request(),
        )
        .unwrap();
        assert_eq!(auth.verify(&other).unwrap_err(), AuthError::WrongIssuer);
    }
}
