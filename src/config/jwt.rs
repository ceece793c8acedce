//! JWT settings: where the keys come from (exactly one of a shared secret, a
//! JWKS document, a JWKS URL), the issuer, the audience, the programme tenant.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::{ConfigError, dev};
use crate::auth::{Authenticator, JwksKeys, RemoteJwks, Secret, SharedSecret};

/// The settings naming a key source; exactly one may be set.
const KEY_SOURCES: &str = "ACO_JWT_SECRET, ACO_JWT_SECRET_ID, ACO_JWT_JWKS or ACO_JWT_JWKS_URL";

#[derive(Debug, Clone, Args)]
pub struct JwtArgs {
    /// HS256 shared secret.
    #[arg(long, env = "ACO_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// On Lambda: the Secrets Manager secret (name or ARN) holding the HS256
    /// secret, read at start through the AWS Parameters and Secrets Lambda
    /// Extension, so that the secret is never in the environment.
    #[arg(long, env = "ACO_JWT_SECRET_ID")]
    pub jwt_secret_id: Option<String>,
    /// A JWKS document, inline JSON or a file path (RS256/ES256).
    #[arg(long, env = "ACO_JWT_JWKS")]
    pub jwt_jwks: Option<String>,
    /// Where to fetch the JWKS (or an OpenID discovery document naming it):
    /// `https`, or `http` to a loopback address. Refreshed on a schedule and
    /// when a token names an unknown key.
    #[arg(long, env = "ACO_JWT_JWKS_URL")]
    pub jwt_jwks_url: Option<String>,
    /// How often keys from `ACO_JWT_JWKS_URL` are fetched again, in seconds.
    #[arg(long, env = "ACO_JWT_JWKS_REFRESH_SECONDS", default_value_t = 3600)]
    pub jwt_jwks_refresh_seconds: u64,
    /// The algorithm tokens must use with a JWKS: RS256 or ES256.
    #[arg(long, env = "ACO_JWT_ALGORITHM", default_value = "RS256")]
    pub jwt_algorithm: String,
    /// Required value of the `iss` claim.
    #[arg(long, env = "ACO_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Required value of the `aud` claim.
    #[arg(long, env = "ACO_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    #[arg(long, env = "ACO_JWT_LEEWAY_SECONDS", default_value_t = 60)]
    pub jwt_leeway_seconds: u64,
    /// The programme's own tenant: tokens with programme roles must carry it.
    #[arg(long, env = "ACO_PROGRAM_TENANT_ID")]
    pub program_tenant_id: Option<String>,
    /// Dev mode: explorer, demo data, fixed clock, built-in development JWT settings.
    #[arg(long, env = "ACO_DEV", default_value_t = false)]
    pub dev: bool,
}

/// The fewest distinct bytes a production HS256 secret may have: 32 spaces,
/// or a word repeated, is not a secret.
const MIN_DISTINCT_SECRET_BYTES: usize = 16;

fn distinct_bytes(secret: &str) -> usize {
    let mut seen = [false; 256];
    secret.bytes().for_each(|b| seen[usize::from(b)] = true);
    seen.iter().filter(|&&s| s).count()
}

/// JWT settings, resolved.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub secret: Option<Secret>,
    /// The JWKS key source, when configured instead of a secret.
    pub jwks: Option<Arc<JwksKeys>>,
    /// Keys fetched from the issuer, when configured instead.
    pub jwks_url: Option<JwksUrl>,
    pub issuer: String,
    pub audience: String,
    pub leeway_seconds: u64,
    pub program_tenant_id: String,
}

/// Keys fetched from the issuer: where, for which algorithm, how often.
#[derive(Debug, Clone)]
pub struct JwksUrl {
    pub url: String,
    pub algorithm: jsonwebtoken::Algorithm,
    pub refresh_every: Duration,
}

impl JwtConfig {
    /// Applies dev defaults, or refuses incomplete production settings.
    pub fn resolve(args: &JwtArgs) -> Result<Self, ConfigError> {
        let pick =
            |value: &Option<String>, default: &str, name: &'static str| match (value, args.dev) {
                (Some(v), _) => Ok(v.clone()),
                (None, true) => Ok(default.to_owned()),
                (None, false) => Err(ConfigError::Missing(name)),
            };
        let sources = [
            (
                "ACO_JWT_SECRET",
                args.jwt_secret.is_some() && args.jwt_secret_id.is_none(),
            ),
            ("ACO_JWT_SECRET_ID", args.jwt_secret_id.is_some()),
            ("ACO_JWT_JWKS", args.jwt_jwks.is_some()),
            ("ACO_JWT_JWKS_URL", args.jwt_jwks_url.is_some()),
        ];
        let named: Vec<&str> = sources
            .iter()
            .filter(|(_, set)| *set)
            .map(|(n, _)| *n)
            .collect();
        if named.len() > 1 {
            return Err(ConfigError::Invalid(format!(
                "{} are set: set exactly one key source ({KEY_SOURCES})",
                named.join(" and ")
            )));
        }
        if named.is_empty() && !args.dev {
            return Err(ConfigError::Invalid(format!(
                "no key source to check tokens with: set one of {KEY_SOURCES}"
            )));
        }
        let jwks = match &args.jwt_jwks {
            None => None,
            Some(value) => {
                let document = if value.trim_start().starts_with('{') {
                    value.clone()
                } else {
                    std::fs::read_to_string(value).map_err(|e| {
                        ConfigError::Invalid(format!("ACO_JWT_JWKS: reading {value}: {e}"))
                    })?
                };
                Some(Arc::new(
                    JwksKeys::from_document(&document, algorithm(args)?)
                        .map_err(|e| ConfigError::Invalid(format!("ACO_JWT_JWKS: {e}")))?,
                ))
            }
        };
        let jwks_url = match &args.jwt_jwks_url {
            None => None,
            Some(url) => {
                crate::outbound::checked_url(url)
                    .map_err(|e| ConfigError::Invalid(format!("ACO_JWT_JWKS_URL: {e}")))?;
                if args.jwt_jwks_refresh_seconds < 60 {
                    return Err(ConfigError::Invalid(
                        "ACO_JWT_JWKS_REFRESH_SECONDS must be at least 60".into(),
                    ));
                }
                Some(JwksUrl {
                    url: url.clone(),
                    algorithm: algorithm(args)?,
                    refresh_every: Duration::from_secs(args.jwt_jwks_refresh_seconds),
                })
            }
        };
        if args.jwt_secret_id.is_some() && args.jwt_secret.is_none() {
            return Err(ConfigError::Invalid(
                "ACO_JWT_SECRET_ID: the secret was not read (it is read on Lambda, through the \
                 Parameters and Secrets extension)"
                    .into(),
            ));
        }
        let secret = match &args.jwt_secret {
            Some(s) if s.len() < 32 => {
                return Err(ConfigError::Invalid(
                    "ACO_JWT_SECRET must be at least 32 characters".into(),
                ));
            }
            Some(s) if !args.dev && s == dev::SECRET => {
                return Err(ConfigError::Invalid(
                    "ACO_JWT_SECRET is the built-in development secret, which is public: \
                     generate a secret of your own (e.g. `openssl rand -base64 48`)"
                        .into(),
                ));
            }
            Some(s) if !args.dev && distinct_bytes(s) < MIN_DISTINCT_SECRET_BYTES => {
                return Err(ConfigError::Invalid(format!(
                    "ACO_JWT_SECRET has {} distinct bytes; at least {MIN_DISTINCT_SECRET_BYTES} \
                     are required (generate one, e.g. `openssl rand -base64 48`)",
                    distinct_bytes(s)
                )));
            }
            Some(s) => Some(Secret::new(s.clone())),
            // Dev mode with no key source of its own: the development secret.
            None if named.is_empty() => Some(Secret::new(dev::SECRET)),
            None => None,
        };
        let program_tenant_id = pick(
            &args.program_tenant_id,
            dev::PROGRAM_TENANT_ID,
            "ACO_PROGRAM_TENANT_ID",
        )?;
        let program_tenant_id = crate::domain::validate::tenant_id(&program_tenant_id)
            .ok_or_else(|| ConfigError::Invalid("ACO_PROGRAM_TENANT_ID must be a GUID".into()))?;
        let issuer = pick(&args.jwt_issuer, dev::ISSUER, "ACO_JWT_ISSUER")?;
        let audience = pick(&args.jwt_audience, dev::AUDIENCE, "ACO_JWT_AUDIENCE")?;
        for (value, name) in [(&issuer, "ACO_JWT_ISSUER"), (&audience, "ACO_JWT_AUDIENCE")] {
            if value.trim().is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "{name} is empty: every token would be checked against nothing"
                )));
            }
        }
        Ok(JwtConfig {
            secret,
            jwks,
            jwks_url,
            issuer,
            audience,
            leeway_seconds: args.jwt_leeway_seconds,
            program_tenant_id,
        })
    }

    /// The token checker for these settings. Keys from a URL start being
    /// fetched here, on the current runtime (or, outside one, when the first
    /// token needs them).
    pub fn authenticator(&self) -> Authenticator {
        if let Some(source) = &self.jwks_url {
            let remote = Arc::new(
                RemoteJwks::new(&source.url, source.algorithm, source.refresh_every)
                    .expect("the URL and the algorithm are checked by `JwtConfig::resolve`"),
            );
            if tokio::runtime::Handle::try_current().is_ok() {
                remote.start();
            }
            return Authenticator::with_remote_keys(
                remote,
                self.issuer.clone(),
                self.audience.clone(),
                self.leeway_seconds,
                self.program_tenant_id.clone(),
            );
        }
        let keys: Arc<dyn crate::auth::KeySource> = match (&self.jwks, &self.secret) {
            (Some(jwks), _) => jwks.clone(),
            (None, Some(secret)) => Arc::new(SharedSecret::new(secret.clone())),
            // Unreachable after `resolve`: one source is always set.
            (None, None) => Arc::new(SharedSecret::new(Secret::new(""))),
        };
        Authenticator::new(
            keys,
            self.issuer.clone(),
            self.audience.clone(),
            self.leeway_seconds,
            self.program_tenant_id.clone(),
        )
    }
}

impl JwtArgs {
    /// With `ACO_JWT_SECRET_ID`: reads the secret through the AWS Parameters
    /// and Secrets Lambda Extension (`localhost`, its port
    /// `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, default 2773, asked with the
    /// function's session token) and takes it as the HS256 secret. The
    /// extension starts beside the function: it is asked again for up to 5 s.
    pub async fn read_secret(&mut self) -> Result<(), ConfigError> {
        let Some(id) = self.jwt_secret_id.clone() else {
            return Ok(());
        };
        if self.jwt_secret.is_some() {
            return Err(ConfigError::Invalid(format!(
                "ACO_JWT_SECRET and ACO_JWT_SECRET_ID are set: set exactly one key source ({KEY_SOURCES})"
            )));
        }
        let invalid =
            |why: String| ConfigError::Invalid(format!("ACO_JWT_SECRET_ID {id:?}: {why}"));
        let port = std::env::var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
            .unwrap_or_else(|_| "2773".into());
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("secretId", &id)
            .finish();
        let uri = crate::outbound::checked_url(&format!(
            "http://localhost:{port}/secretsmanager/get?{query}"
        ))
        .map_err(|e| invalid(e.to_string()))?;
        let session = std::env::var("AWS_SESSION_TOKEN").map_err(|_| {
            invalid(
                "AWS_SESSION_TOKEN is not set: the extension answers Lambda functions only".into(),
            )
        })?;
        let headers = [("x-aws-parameters-secrets-token", session.as_str())];
        let mut attempt = 0;
        let body = loop {
            attempt += 1;
            match crate::outbound::get(&uri, &headers, 64 * 1024, Duration::from_secs(5)).await {
                Ok(body) => break body,
                Err(crate::outbound::FetchError::Failed { .. }) if attempt < 50 => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(invalid(e.to_string())),
            }
        };
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| invalid(format!("the extension's answer is not JSON: {e}")))?;
        let secret = value
            .get("SecretString")
            .and_then(|s| s.as_str())
            .ok_or_else(|| invalid("the secret has no SecretString".into()))?;
        self.jwt_secret = Some(secret.to_owned());
        Ok(())
    }
}

/// `ACO_JWT_ALGORITHM`, for a JWKS: RS256 or ES256.
fn algorithm(args: &JwtArgs) -> Result<jsonwebtoken::Algorithm, ConfigError> {
    match args.jwt_algorithm.to_ascii_uppercase().as_str() {
        "RS256" => Ok(jsonwebtoken::Algorithm::RS256),
        "ES256" => Ok(jsonwebtoken::Algorithm::ES256),
        other => Err(ConfigError::Invalid(format!(
            "ACO_JWT_ALGORITHM: {other} is not accepted with a JWKS; use RS256 or ES256"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> JwtArgs {
        JwtArgs {
            jwt_secret: None,
            jwt_secret_id: None,
            jwt_jwks: None,
            jwt_jwks_url: None,
            jwt_jwks_refresh_seconds: 3600,
            jwt_algorithm: "RS256".into(),
            jwt_issuer: Some("https://login.microsoftonline.com/{tenantid}/v2.0".into()),
            jwt_audience: Some("api://aco".into()),
            jwt_leeway_seconds: 60,
            program_tenant_id: Some(dev::PROGRAM_TENANT_ID.into()),
            dev: false,
        }
    }

    fn refusal(args: &JwtArgs) -> String {
        JwtConfig::resolve(args).unwrap_err().to_string()
    }

    #[test]
    fn start_up_refuses_no_key_source_or_more_than_one_naming_the_settings() {
        let none = refusal(&production());
        assert!(none.contains(KEY_SOURCES), "{none}");
        // A secret named for the extension but not read (outside Lambda) is no source.
        let mut unread = production();
        unread.jwt_secret_id = Some("aco-api/jwt-secret".into());
        assert!(refusal(&unread).contains("was not read"));
        let mut two = production();
        two.jwt_secret = Some("a".repeat(48));
        two.jwt_jwks_url =
            Some("https://login.microsoftonline.com/common/discovery/v2.0/keys".into());
        let both = refusal(&two);
        assert!(
            both.starts_with("ACO_JWT_SECRET and ACO_JWT_JWKS_URL are set"),
            "{both}"
        );
        // Dev mode supplies its secret only where no source is set: two are refused there too.
        two.dev = true;
        assert!(refusal(&two).contains("exactly one key source"));
    }

    #[test]
    fn a_jwks_url_must_be_https_unless_it_is_on_loopback() {
        let mut args = production();
        args.jwt_jwks_url =
            Some("http://login.microsoftonline.com/common/discovery/v2.0/keys".into());
        assert!(refusal(&args).contains("only https"));
        args.jwt_jwks_url = Some("http://127.0.0.1:9000/keys".into());
        let config = JwtConfig::resolve(&args).unwrap();
        let source = config.jwks_url.unwrap();
        assert_eq!(source.refresh_every, Duration::from_secs(3600));
        assert_eq!(source.algorithm, jsonwebtoken::Algorithm::RS256);
        assert!(config.secret.is_none());
        args.jwt_jwks_refresh_seconds = 5;
        assert!(refusal(&args).contains("at least 60"));
        args.jwt_jwks_refresh_seconds = 60;
        args.jwt_algorithm = "HS256".into();
        assert!(refusal(&args).contains("RS256 or ES256"));
    }
}
