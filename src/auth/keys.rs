//! Where verification keys come from: the [`KeySource`] seam, a shared
//! secret for development and tests, and JWKS key sets for production; and
//! the [`Secret`] that never prints.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, Header};

use super::AuthError;

/// A secret that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where verification keys come from.
pub trait KeySource: Send + Sync + fmt::Debug {
    /// The key and the (configured, never token-chosen) algorithm for a token with `header`.
    fn key_for(&self, header: &Header) -> Result<(DecodingKey, Algorithm), AuthError>;

    /// Moves on whenever the keys change, so that tokens checked with the
    /// old keys are checked again. Fixed keys never change.
    fn generation(&self) -> u64 {
        0
    }
}

/// HS256 with a shared secret: local development and tests.
#[derive(Debug)]
pub struct SharedSecret {
    secret: Secret,
}

impl SharedSecret {
    pub fn new(secret: Secret) -> Self {
        SharedSecret { secret }
    }
}

impl KeySource for SharedSecret {
    fn key_for(&self, header: &Header) -> Result<(DecodingKey, Algorithm), AuthError> {
        if header.alg != Algorithm::HS256 {
            return Err(AuthError::WrongAlgorithm);
        }
        Ok((
            DecodingKey::from_secret(self.secret.expose().as_bytes()),
            Algorithm::HS256,
        ))
    }
}

/// RS256 or ES256 with public keys from a JWKS document: production. Keys
/// are chosen by the token's `kid`; several may be present at once (rotation).
/// The algorithm is fixed by configuration: a key set for RS256 never
/// validates an ES256 or HS256 token (no algorithm confusion).
#[derive(Debug)]
pub struct JwksKeys {
    algorithm: Algorithm,
    keys: Vec<(String, DecodingKey)>,
    /// Each key's `kid` and JWK, sorted: what tells two sets apart.
    fingerprint: Vec<(String, String)>,
}

/// Why a key set could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    #[error("not a JWKS document: {0}")]
    Malformed(String),
    #[error("the JWKS document has no usable {0} key with a `kid`")]
    NoKeys(&'static str),
    #[error("only RS256 and ES256 are accepted with a JWKS document")]
    Algorithm,
}

impl JwksKeys {
    /// Reads the keys of `algorithm` (RS256: RSA keys; ES256: P-256 keys) from a JWKS document.
    pub fn from_document(document: &str, algorithm: Algorithm) -> Result<Self, JwksError> {
        use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
        let set: JwkSet =
            serde_json::from_str(document).map_err(|e| JwksError::Malformed(e.to_string()))?;
        let name = match algorithm {
            Algorithm::RS256 => "RS256",
            Algorithm::ES256 => "ES256",
            _ => return Err(JwksError::Algorithm),
        };
        let usable: Vec<_> = set
            .keys
            .iter()
            .filter(|jwk| match (&jwk.algorithm, algorithm) {
                (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
                (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
                    ec.curve == EllipticCurve::P256
                }
                _ => false,
            })
            // A key that names another algorithm is not used for this one.
            .filter(|jwk| {
                jwk.common
                    .key_algorithm
                    .is_none_or(|a| format!("{a:?}") == name)
            })
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key, jwk))
            })
            .collect();
        if usable.is_empty() {
            return Err(JwksError::NoKeys(name));
        }
        let mut fingerprint: Vec<(String, String)> = usable
            .iter()
            .map(|(kid, _, jwk)| (kid.clone(), serde_json::to_string(jwk).unwrap_or_default()))
            .collect();
        fingerprint.sort();
        let keys = usable.into_iter().map(|(kid, key, _)| (kid, key)).collect();
        Ok(JwksKeys {
            algorithm,
            keys,
            fingerprint,
        })
    }

    /// Whether `other` holds the same keys under the same `kid`s.
    pub fn same_keys(&self, other: &JwksKeys) -> bool {
        self.algorithm == other.algorithm && self.fingerprint == other.fingerprint
    }

    /// The `kid`s of the keys held.
    pub fn kids(&self) -> Vec<&str> {
        self.fingerprint
            .iter()
            .map(|(kid, _)| kid.as_str())
            .collect()
    }
}

impl KeySource for JwksKeys {
    fn key_for(&self, header: &Header) -> Result<(DecodingKey, Algorithm), AuthError> {
        if header.alg != self.algorithm {
            return Err(AuthError::WrongAlgorithm);
        }
        let kid = header.kid.as_deref().ok_or(AuthError::UnknownKey)?;
        self.keys
            .iter()
            .find(|(id, _)| id == kid)
            .map(|(_, key)| (key.clone(), self.algorithm))
            .ok_or(AuthError::UnknownKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }
}
