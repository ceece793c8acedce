//! Standard Webhooks signatures: an endpoint's secret (`whsec_` and the key in
//! base64) and the `webhook-signature` header, `v1,` and the base64 of the
//! HMAC-SHA256 of `{msg_id}.{timestamp}.{body}`.
//!
//! HMAC and randomness from ring, which rustls already links for TLS.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;
use ring::rand::SecureRandom as _;

/// The prefix of a secret's text.
const PREFIX: &str = "whsec_";

/// The length of a generated key, in bytes.
const GENERATED_LEN: usize = 32;

/// The lengths of key accepted by [`Secret::parse`], in bytes.
const KEY_LENS: std::ops::RangeInclusive<usize> = 24..=64;

/// Why a text is not a webhook secret. The messages never repeat the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret starts with `whsec_`")]
    NoPrefix,
    #[error("a webhook secret is `whsec_` and base64 (standard alphabet, padded)")]
    NotBase64,
    #[error("a webhook secret's key is 24 to 64 bytes, not {0}")]
    Length(usize),
}

/// An endpoint's signing secret: `whsec_` and the base64 of the key.
///
/// Its `Debug` output never shows the key; [`Secret::as_str`] gives the text,
/// to be stored and shown to the endpoint's owner once.
#[derive(Clone)]
pub struct Secret {
    text: String,
    key: hmac::Key,
}

impl Secret {
    /// A new secret of 32 random bytes from the operating system.
    pub fn generate() -> Secret {
        let mut bytes = [0u8; GENERATED_LEN];
        if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
            // The same source, through uuid (which panics if it fails too).
            let (first, second) = bytes.split_at_mut(GENERATED_LEN / 2);
            first.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
            second.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        }
        Secret::from_key(&bytes)
    }

    /// The secret written as `text`: `whsec_` and the base64 of a 24 to 64
    /// byte key.
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        let encoded = text.strip_prefix(PREFIX).ok_or(SecretError::NoPrefix)?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        if !KEY_LENS.contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(Secret::from_key(&key))
    }

    fn from_key(key: &[u8]) -> Secret {
        Secret {
            text: format!("{PREFIX}{}", STANDARD.encode(key)),
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// The secret's text, `whsec_…`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(whsec_…)")
    }
}

/// What is signed: `{msg_id}.{timestamp}.{body}`.
fn signed_content(msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let timestamp = timestamp.to_string();
    let mut content = Vec::with_capacity(msg_id.len() + timestamp.len() + body.len() + 2);
    content.extend_from_slice(msg_id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// The `webhook-signature` header of a message: `v1,<base64>` for each of
/// `secrets` (more than one while an endpoint's secret is being rotated),
/// separated by spaces.
pub fn sign(secrets: &[&Secret], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let content = signed_content(msg_id, timestamp, body);
    let mut header = String::new();
    for secret in secrets {
        if !header.is_empty() {
            header.push(' ');
        }
        header.push_str("v1,");
        STANDARD.encode_string(hmac::sign(&secret.key, &content), &mut header);
    }
    header
}

/// Whether any `v1,` signature in `signature_header` is the one `secret`
/// gives the message (compared in constant time). Other versions are ignored.
pub fn verify(
    secret: &Secret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    signature_header: &str,
) -> bool {
    let content = signed_content(msg_id, timestamp, body);
    signature_header
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .any(|tag| hmac::verify(&secret.key, &content, &tag).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector published with the specification and its reference libraries.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_specifications_test_vector() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        assert_eq!(
            sign(&[&secret], SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY),
            SPEC_SIGNATURE
        );
        assert!(verify(
            &secret,
            SPEC_MSG_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY,
            SPEC_SIGNATURE
        ));
    }

    #[test]
    fn verify_refuses_another_message_or_secret() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        let verify_spec = |msg_id: &str, timestamp: i64, body: &[u8], header: &str| {
            verify(&secret, msg_id, timestamp, body, header)
        };
        assert!(!verify_spec(
            "msg_other",
            SPEC_TIMESTAMP,
            SPEC_BODY,
            SPEC_SIGNATURE
        ));
        assert!(!verify_spec(
            SPEC_MSG_ID,
            SPEC_TIMESTAMP + 1,
            SPEC_BODY,
            SPEC_SIGNATURE
        ));
        assert!(!verify_spec(
            SPEC_MSG_ID,
            SPEC_TIMESTAMP,
            b"{}",
            SPEC_SIGNATURE
        ));
        // The same tag under another version, or mangled, or none.
        let tag = SPEC_SIGNATURE.trim_start_matches("v1,");
        assert!(!verify_spec(
            SPEC_MSG_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY,
            &format!("v1a,{tag}")
        ));
        assert!(!verify_spec(
            SPEC_MSG_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY,
            &format!("v1,{}", &tag[1..])
        ));
        assert!(!verify_spec(
            SPEC_MSG_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY,
            "v1,not base64!"
        ));
        assert!(!verify_spec(SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY, ""));
        let other = Secret::generate();
        assert!(!verify(
            &other,
            SPEC_MSG_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY,
            SPEC_SIGNATURE
        ));
    }

    #[test]
    fn signs_with_every_secret_during_a_rotation() {
        let old = Secret::parse(SPEC_SECRET).unwrap();
        let new = Secret::generate();
        let header = sign(&[&new, &old], SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY);
        let entries: Vec<&str> = header.split(' ').collect();
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().all(|entry| entry.starts_with("v1,")));
        assert_eq!(entries[1], SPEC_SIGNATURE);
        assert!(verify(
            &old,
            SPEC_MSG_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY,
            &header
        ));
        assert!(verify(
            &new,
            SPEC_MSG_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY,
            &header
        ));
        assert_eq!(sign(&[], SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY), "");
    }

    #[test]
    fn generated_secrets_are_32_random_bytes_that_parse_back() {
        let secret = Secret::generate();
        let encoded = secret.as_str().strip_prefix("whsec_").unwrap();
        assert_eq!(STANDARD.decode(encoded).unwrap().len(), 32);
        assert_eq!(
            Secret::parse(secret.as_str()).unwrap().as_str(),
            secret.as_str()
        );
        assert_ne!(Secret::generate().as_str(), secret.as_str());
    }

    #[test]
    fn parse_wants_the_prefix_base64_and_24_to_64_bytes() {
        assert_eq!(
            Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SecretError::NoPrefix
        );
        assert_eq!(
            Secret::parse("whsec_not*base64").unwrap_err(),
            SecretError::NotBase64
        );
        let of_len = |len: usize| format!("whsec_{}", STANDARD.encode(vec![7u8; len]));
        assert_eq!(
            Secret::parse(&of_len(23)).unwrap_err(),
            SecretError::Length(23)
        );
        assert_eq!(
            Secret::parse(&of_len(65)).unwrap_err(),
            SecretError::Length(65)
        );
        assert!(Secret::parse(&of_len(24)).is_ok());
        assert!(Secret::parse(&of_len(64)).is_ok());
        assert_eq!(Secret::parse(SPEC_SECRET).unwrap().as_str(), SPEC_SECRET);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        let shown = format!("{secret:?}");
        assert!(!shown.contains("MfKQ9r8"), "{shown}");
        assert_eq!(shown, "Secret(whsec_…)");
    }
}
