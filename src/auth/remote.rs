//! Signing keys fetched from the issuer (Microsoft Entra ID's JWKS URL, or
//! its OpenID discovery document), kept fresh while the process runs.
//!
//! - At start the keys are fetched once; if that fails the service starts
//!   anyway, tries again with a growing pause (1 s up to a minute), and
//!   answers tokens `503` until keys are known.
//! - Every `refresh_every` the keys are fetched again; a failed refresh keeps
//!   the keys already known.
//! - A token naming a `kid` not in the set fetches the keys again at once
//!   (the issuer has rotated), at most once a minute: a flood of made-up
//!   `kid`s costs the issuer one request a minute.
//! - Each change of the set moves [`RemoteJwks::generation`] on, so that
//!   tokens checked under the old set are checked again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::Uri;
use jsonwebtoken::{Algorithm, DecodingKey, Header};
use tokio::time::Instant;

use super::{AuthError, JwksKeys, KeySource};
use crate::outbound::{self, FetchError};

/// The least time between two fetches caused by unknown `kid`s.
pub const UNKNOWN_KID_INTERVAL: Duration = Duration::from_secs(60);
/// The longest pause between two attempts while no keys are known.
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(60);
/// A key set document is a few kilobytes; Entra's is about 10 KB.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Keys from a JWKS URL.
pub struct RemoteJwks {
    url: Uri,
    algorithm: Algorithm,
    refresh_every: Duration,
    keys: RwLock<Option<Arc<JwksKeys>>>,
    generation: AtomicU64,
    /// Held while fetching: one fetch at a time, and waiters see its result.
    attempts: tokio::sync::Mutex<Attempts>,
}

#[derive(Default)]
struct Attempts {
    /// When unknown `kid`s last caused a fetch.
    unknown_kid: Option<Instant>,
    /// Failed attempts in a row while no keys are known, and when the next may start.
    failures: u32,
    next: Option<Instant>,
}

impl std::fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteJwks")
            .field("url", &self.url)
            .field("algorithm", &self.algorithm)
            .field("generation", &self.generation())
            .finish()
    }
}

impl RemoteJwks {
    /// Keys of `algorithm` (RS256 or ES256) from `url`: `https`, or `http` to
    /// a loopback address. Nothing is fetched yet ([`Self::start`]).
    pub fn new(url: &str, algorithm: Algorithm, refresh_every: Duration) -> Result<Self, String> {
        let url = outbound::checked_url(url).map_err(|e| e.to_string())?;
        if !matches!(algorithm, Algorithm::RS256 | Algorithm::ES256) {
            return Err("only RS256 and ES256 are accepted with a JWKS".into());
        }
        Ok(RemoteJwks {
            url,
            algorithm,
            refresh_every,
            keys: RwLock::default(),
            generation: AtomicU64::new(0),
            attempts: tokio::sync::Mutex::default(),
        })
    }

    /// Starts keeping the keys: the first fetch and then the schedule, on
    /// the current runtime. Requests arriving before the first fetch ends
    /// wait for it ([`Self::wait_for_keys`]).
    pub fn start(self: &Arc<Self>) {
        let this = Arc::clone(self);
        tokio::spawn(async move { this.keep().await });
    }

    async fn keep(&self) {
        loop {
            if self.current().is_none() {
                let pause = self.attempt_while_unknown().await;
                if self.current().is_none() {
                    tokio::time::sleep(pause).await;
                }
                continue;
            }
            tokio::time::sleep(self.refresh_every).await;
            let _attempts = self.attempts.lock().await;
            if let Err(e) = self.fetch().await {
                tracing::warn!(error = %e, "refreshing the signing keys failed; the keys known are kept");
            }
        }
    }

    /// One attempt while no keys are known, unless the last failure asks to
    /// wait longer; the pause before the next.
    async fn attempt_while_unknown(&self) -> Duration {
        let mut attempts = self.attempts.lock().await;
        if self.current().is_some() {
            return Duration::ZERO;
        }
        let now = Instant::now();
        if let Some(next) = attempts.next.filter(|next| *next > now) {
            return next - now;
        }
        match self.fetch().await {
            Ok(()) => {
                attempts.failures = 0;
                attempts.next = None;
                Duration::ZERO
            }
            Err(e) => {
                attempts.failures = attempts.failures.saturating_add(1);
                let pause = Duration::from_secs(1u64 << attempts.failures.min(6).saturating_sub(1))
                    .min(MAX_RETRY_PAUSE);
                attempts.next = Some(Instant::now() + pause);
                tracing::error!(
                    error = %e,
                    retry_in_seconds = pause.as_secs(),
                    "fetching the signing keys failed; tokens are answered 503 until keys are known"
                );
                pause
            }
        }
    }

    /// While no keys are known: waits for a fetch under way, or makes one if
    /// none failed too recently. Returns at once when keys are known.
    pub async fn wait_for_keys(&self) {
        if self.current().is_none() {
            self.attempt_while_unknown().await;
        }
    }

    /// A token named a `kid` not in the set: fetches again, unless unknown
    /// `kid`s did so less than a minute ago. Waits for a fetch under way.
    pub async fn refresh_for_unknown_kid(&self) {
        let mut attempts = self.attempts.lock().await;
        let now = Instant::now();
        if attempts
            .unknown_kid
            .is_some_and(|last| now.duration_since(last) < UNKNOWN_KID_INTERVAL)
        {
            return;
        }
        attempts.unknown_kid = Some(now);
        if let Err(e) = self.fetch().await {
            tracing::warn!(error = %e, "fetching the signing keys for an unknown kid failed");
        }
    }

    fn current(&self) -> Option<Arc<JwksKeys>> {
        self.keys.read().ok().and_then(|keys| keys.clone())
    }

    /// Fetches the key set (following a discovery document's `jwks_uri`)
    /// and puts it in place if it differs from the one known.
    async fn fetch(&self) -> Result<(), String> {
        let document = self.get(&self.url).await?;
        let value: serde_json::Value = serde_json::from_slice(&document)
            .map_err(|e| format!("{}: not JSON: {e}", self.url))?;
        let document = match value.get("jwks_uri").and_then(|v| v.as_str()) {
            Some(jwks_uri) if value.get("keys").is_none() => {
                let uri = outbound::checked_url(jwks_uri).map_err(|e| e.to_string())?;
                self.get(&uri).await?
            }
            _ => document,
        };
        let document = std::str::from_utf8(&document)
            .map_err(|_| format!("{}: the key set is not UTF-8", self.url))?;
        let keys = JwksKeys::from_document(document, self.algorithm)
            .map_err(|e| format!("{}: {e}", self.url))?;
        let mut slot = self
            .keys
            .write()
            .map_err(|_| "the key set lock is poisoned")?;
        let changed = slot.as_ref().is_none_or(|known| !known.same_keys(&keys));
        if changed {
            tracing::info!(url = %self.url, kids = ?keys.kids(), "signing keys in use");
            *slot = Some(Arc::new(keys));
            self.generation.fetch_add(1, Ordering::Release);
        }
        Ok(())
    }

    async fn get(&self, url: &Uri) -> Result<bytes::Bytes, String> {
        outbound::get(url, &[], MAX_DOCUMENT_BYTES, FETCH_TIMEOUT)
            .await
            .map_err(|e: FetchError| e.to_string())
    }
}

impl KeySource for RemoteJwks {
    fn key_for(&self, header: &Header) -> Result<(DecodingKey, Algorithm), AuthError> {
        match self.current() {
            Some(keys) => keys.key_for(header),
            None => Err(AuthError::KeysUnknown),
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}
