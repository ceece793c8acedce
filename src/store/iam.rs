//! Aurora DSQL's IAM authentication: instead of a password, each new
//! connection presents a short-lived token, a SigV4-presigned
//! `https://<endpoint>/?Action=DbConnect[Admin]` URL without its scheme,
//! signed in-process with the credentials the process was given (on Lambda,
//! the function role's, from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
//! and `AWS_SESSION_TOKEN`).
//!
//! A token is only checked when a connection opens, so each connection gets
//! a new one, valid for [`TOKEN_LIFETIME`]: none is ever reused near its end.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{self, SignableBody, SignableRequest, SignatureLocation};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::error::{Error, Result};

/// How long a token may be used to open a connection.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(900);

/// The token maker for one cluster endpoint and database role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IamAuth {
    hostname: String,
    region: String,
    /// `DbConnectAdmin` for the `admin` role, `DbConnect` for any other.
    action: &'static str,
}

impl IamAuth {
    /// For `user` at `hostname`; the region is the endpoint's own
    /// (`<id>.dsql.<region>.on.aws`), else `AWS_REGION`.
    pub fn new(hostname: &str, user: &str, region: Option<String>) -> Result<Self> {
        let region = region_of(hostname)
            .or(region)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                Error::Internal(format!(
                    "IAM authentication to {hostname}: no region (the host is not \
                     <id>.dsql.<region>.on.aws and AWS_REGION is not set)"
                ))
            })?;
        Ok(IamAuth {
            hostname: hostname.to_owned(),
            region,
            action: if user == "admin" {
                "DbConnectAdmin"
            } else {
                "DbConnect"
            },
        })
    }

    /// The region tokens are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// A token made now with the process's credentials (from its environment).
    pub fn token(&self) -> Result<String> {
        self.token_with(&credentials_from_env()?, SystemTime::now(), TOKEN_LIFETIME)
    }

    /// A token signed with `credentials` at `now`, valid for `lifetime`.
    pub fn token_with(
        &self,
        credentials: &Credentials,
        now: SystemTime,
        lifetime: Duration,
    ) -> Result<String> {
        let failed = |e: &dyn std::fmt::Display| Error::Internal(format!("IAM token: {e}"));
        let identity: Identity = credentials.clone().into();
        let mut settings = http_request::SigningSettings::default();
        settings.expires_in = Some(lifetime);
        settings.signature_location = SignatureLocation::QueryParams;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("dsql")
            .time(now)
            .settings(settings)
            .build()
            .map_err(|e| failed(&e))?;
        let url = format!("https://{}/?Action={}", self.hostname, self.action);
        let request =
            SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::Bytes(&[]))
                .map_err(|e| failed(&e))?;
        let (instructions, _) = http_request::sign(request, &params.into())
            .map_err(|e| failed(&e))?
            .into_parts();
        let mut query = form_urlencoded::Serializer::new(format!("Action={}", self.action));
        for (name, value) in instructions.params() {
            query.append_pair(name, value);
        }
        Ok(format!("{}/?{}", self.hostname, query.finish()))
    }
}

/// `<region>` of an Aurora DSQL endpoint, `<id>.dsql.<region>.on.aws`.
fn region_of(hostname: &str) -> Option<String> {
    let rest = hostname.split_once(".dsql.")?.1;
    let region = rest.strip_suffix(".on.aws")?;
    (!region.is_empty() && !region.contains('.')).then(|| region.to_owned())
}

/// The credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
/// (for temporary ones, as on Lambda) `AWS_SESSION_TOKEN`, read each time:
/// a process given new credentials signs with them from then on.
fn credentials_from_env() -> Result<Credentials> {
    let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (read("AWS_ACCESS_KEY_ID"), read("AWS_SECRET_ACCESS_KEY")) {
        (Some(key), Some(secret)) => Ok(Credentials::new(
            key,
            secret,
            read("AWS_SESSION_TOKEN"),
            None,
            "environment",
        )),
        _ => Err(Error::Internal(
            "IAM authentication needs AWS credentials: AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones) are not set"
                .into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token's endpoint and its query's pairs, in order of name: the
    /// order of a URL's parameters carries no meaning (the AWS SDKs for
    /// Python and Rust put the session token on either side of the signature).
    fn parts(token: &str) -> (String, Vec<(String, String)>) {
        let (endpoint, query) = token.split_once("/?").unwrap();
        let mut pairs: Vec<_> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        (endpoint.to_owned(), pairs)
    }

    /// Tokens made by botocore with fixed credentials and clock
    /// (`tests/api/fixtures/dsql_tokens.py`): the same endpoint, parameters
    /// and signature here.
    #[test]
    fn tokens_are_those_the_aws_sdk_makes() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/api/fixtures/dsql_tokens.json"))
                .unwrap();
        let now: SystemTime =
            chrono::DateTime::parse_from_rfc3339(fixture["now"].as_str().unwrap())
                .unwrap()
                .into();
        let cases = fixture["tokens"].as_array().unwrap();
        assert_eq!(cases.len(), 3);
        for case in cases {
            let text = |name: &str| case[name].as_str().unwrap().to_owned();
            let credentials = Credentials::new(
                fixture["access_key_id"].as_str().unwrap(),
                fixture["secret_access_key"].as_str().unwrap(),
                case["session_token"].as_str().map(str::to_owned),
                None,
                "fixture",
            );
            let user = if text("action") == "DbConnectAdmin" {
                "admin"
            } else {
                "aco_api"
            };
            let auth = IamAuth::new(&text("host"), user, None).unwrap();
            assert_eq!(auth.region(), text("region"));
            let lifetime = Duration::from_secs(case["expires_in"].as_u64().unwrap());
            let token = auth.token_with(&credentials, now, lifetime).unwrap();
            assert_eq!(parts(&token), parts(&text("token")), "{case}");
            assert!(token.starts_with(&format!("{}/?Action=", text("host"))));
        }
    }

    #[test]
    fn the_region_is_the_endpoints_own_or_the_configured_one() {
        let auth = IamAuth::new("abc123.dsql.eu-west-1.on.aws", "aco_api", None).unwrap();
        assert_eq!(auth.region(), "eu-west-1");
        assert_eq!(auth.action, "DbConnect");
        let admin =
            IamAuth::new("abc123.dsql.us-east-1.on.aws", "admin", Some("x".into())).unwrap();
        assert_eq!(
            (admin.region(), admin.action),
            ("us-east-1", "DbConnectAdmin")
        );
        let proxied = IamAuth::new("db.internal", "admin", Some("eu-central-1".into())).unwrap();
        assert_eq!(proxied.region(), "eu-central-1");
        assert!(IamAuth::new("db.internal", "admin", None).is_err());
    }
}
