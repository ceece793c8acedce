//! Authentication: validating Entra-style bearer tokens and finding the
//! organisation the caller acts for.
//!
//! Keys come from a [`KeySource`], the one seam between "which key and which
//! algorithm" and everything else, so that production key sets plug in
//! without touching validation or scoping.
//!
//! - `keys`: where keys come from ([`KeySource`], a shared secret, JWKS).
//! - `remote`: keys fetched from the issuer and kept fresh ([`RemoteJwks`]).
//! - `validation`: checking a token and remembering the ones checked
//!   ([`Authenticator::verify`]).
//! - `organization`: finding the organisation the caller acts for
//!   ([`Resolution`], [`Pending`]).
//! - `mint`: signing development tokens ([`mint_hs256`]).

mod keys;
mod mint;
mod organization;
mod remote;
mod validation;

pub use keys::{JwksError, JwksKeys, KeySource, Secret, SharedSecret};
pub use mint::{TokenRequest, mint_hs256};
pub use organization::{Pending, Resolution};
pub use remote::{RemoteJwks, UNKNOWN_KID_INTERVAL};
pub use validation::{Authenticator, Claims};

/// Why a token was refused. Every variant is answered with `401 UNAUTHENTICATED`,
/// but [`AuthError::Unavailable`] and [`AuthError::KeysUnknown`]: `503`, the
/// token may be fine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the Authorization header must be `Bearer <token>`")]
    MalformedHeader,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    WrongAlgorithm,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    #[error("the token's audience is not accepted")]
    WrongAudience,
    #[error("the token lacks a required claim: {0}")]
    MissingClaim(&'static str),
    #[error("the token's subject (`sub`) is empty")]
    EmptySubject,
    #[error("the token's header names critical extensions (`crit`), which are not supported")]
    CriticalExtension,
    #[error("no key matches the token")]
    UnknownKey,
    #[error("the token names no role")]
    NoRole,
    #[error("the token names a role that is not one of the service's roles")]
    UnknownRole,
    #[error("the token's roles belong to different kinds of organisation")]
    MixedRoles,
    #[error("the token's tenant id is not a GUID")]
    BadTenant,
    #[error("the token's tenant is not a known {0}")]
    UnknownTenant(&'static str),
    #[error("programme roles are only accepted from the programme tenant")]
    NotProgramTenant,
    #[error("the organisation could not be looked up")]
    Unavailable,
    #[error("the issuer's signing keys are not known yet")]
    KeysUnknown,
}
