//! Configuration: parsed once at start-up from flags and environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::Role;
use crate::domain::time::Clock;
use crate::store::{JournalMode, StoreConfig};

mod jwt;

pub use jwt::{JwksUrl, JwtArgs, JwtConfig};

/// Development-only defaults, used in dev mode where `ACO_JWT_SECRET` is not set.
pub mod dev {
    pub const SECRET: &str = "aco-api-development-secret-never-use-in-production";
    pub const ISSUER: &str = "https://login.aco-api.local/dev/v2.0";
    pub const AUDIENCE: &str = "api://aco-api-dev";
    pub const PROGRAM_TENANT_ID: &str = "a0c0a0c0-0000-4000-8000-000000000001";
}

#[derive(Debug, Parser)]
#[command(
    name = "aco-api",
    version,
    about = "GraphQL API for the Azure Credit Offer (ACO) through CSP programme"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (locally, or on AWS Lambda when AWS_LAMBDA_RUNTIME_API is set).
    Serve(ServeArgs),
    /// Create the database if needed and bring its schema up to date.
    Migrate(MigrateArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Copy the database to a file, consistently, while the service keeps serving.
    Backup(BackupArgs),
    /// Check the database's integrity and the ledger and history invariants.
    Check(MaintenanceArgs),
    /// Copy the SQLite database into an empty PostgreSQL-compatible one (a
    /// consistent snapshot, taken while the service keeps serving), then
    /// check the copy.
    Copy(CopyArgs),
    /// Write the benchmark's dataset and request bodies (see benches/run.sh).
    #[command(hide = true)]
    BenchData(BenchDataArgs),
    /// Mint a development token (dev mode only).
    Token(TokenArgs),
    /// Print the PostgreSQL store's migration steps, each ended by a NUL byte
    /// (see scripts/postgres.sh).
    #[command(hide = true)]
    PostgresSteps,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// The SQLite file, created with its folder.
    #[arg(long, env = "ACO_DATABASE_PATH", default_value = "./data/aco.db")]
    pub database_path: PathBuf,
    /// WAL, or DELETE on network filesystems such as EFS.
    #[arg(
        long,
        env = "ACO_JOURNAL_MODE",
        value_enum,
        default_value = "WAL",
        ignore_case = true
    )]
    pub journal_mode: JournalMode,
    /// A PostgreSQL-compatible database (`postgres://user:password@host:port/database`,
    /// TLS verified unless `?sslmode=disable`; `&sslrootcert=<file>` to trust
    /// other certificates), used instead of the SQLite file.
    #[arg(long, env = "ACO_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Connections in the PostgreSQL pool.
    #[arg(long, env = "ACO_DATABASE_POOL_SIZE", default_value_t = 8)]
    pub database_pool_size: usize,
    /// `password` (the URL's) or `iam` (Aurora DSQL IAM authentication
    /// tokens); unset: `iam` for an Aurora DSQL endpoint without a password.
    #[arg(long, env = "ACO_DATABASE_AUTH", value_enum, ignore_case = true)]
    pub database_auth: Option<crate::store::postgres::DatabaseAuth>,
}

impl DatabaseArgs {
    /// Refuses a PostgreSQL database where only the SQLite store applies.
    pub fn sqlite_only(&self, what: &str) -> Result<(), String> {
        match self.database_url {
            Some(_) => Err(format!(
                "ACO_DATABASE_URL is set, but {what} applies to the SQLite store only \
                 (ACO_DATABASE_PATH); a PostgreSQL-compatible engine has its own"
            )),
            None => Ok(()),
        }
    }

    /// The PostgreSQL store's configuration, when `ACO_DATABASE_URL` is set.
    pub fn postgres(&self) -> crate::error::Result<Option<crate::store::postgres::PostgresConfig>> {
        self.database_url
            .as_deref()
            .map(|url| {
                let config =
                    crate::store::postgres::PostgresConfig::from_url(url, self.database_pool_size)?;
                match self.database_auth {
                    Some(auth) => config.authenticated_by(auth),
                    None => Ok(config),
                }
            })
            .transpose()
    }

    /// The database these arguments name.
    pub fn open(&self) -> crate::error::Result<crate::store::Db> {
        crate::store::Db::open_configured(
            &StoreConfig::new(&self.database_path, self.journal_mode),
            self.postgres()?.as_ref(),
        )
    }
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Where to write the copy (must not exist yet).
    pub file: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct CopyArgs {
    /// The SQLite file to copy.
    #[arg(long, env = "ACO_DATABASE_PATH", default_value = "./data/aco.db")]
    pub database_path: PathBuf,
    /// The PostgreSQL-compatible database to copy into
    /// (`postgres://user:password@host:port/database`, as ACO_DATABASE_URL);
    /// migrated first, and then empty.
    #[arg(long, env = "ACO_COPY_TO", hide_env_values = true)]
    pub to: String,
    /// The programme time zone, for which month it is now (the check).
    #[arg(long, env = "ACO_TIMEZONE", default_value = "UTC")]
    pub timezone: String,
}

#[derive(Debug, Clone, Args)]
pub struct BenchDataArgs {
    /// The new database file.
    #[arg(long)]
    pub database_path: PathBuf,
    /// How many ACO requests (customers: a tenth of that).
    #[arg(long, default_value_t = 10_000)]
    pub requests: usize,
    /// Fresh customers and submitted requests for the mutations.
    #[arg(long, default_value_t = 20_000)]
    pub fresh: usize,
    /// Where to write the request bodies.
    #[arg(long)]
    pub bodies: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub maintenance: MaintenanceArgs,
    /// PostgreSQL-compatible store: the role the service connects as, made
    /// if missing and granted the service's tables (and no more) after the
    /// migrations. Run `migrate` as an administrator for this.
    #[arg(long, env = "ACO_DATABASE_APP_ROLE")]
    pub app_role: Option<String>,
    /// Aurora DSQL: the IAM role (ARN) mapped to the app role with
    /// `AWS IAM GRANT`; the API function's role, which then needs only
    /// `dsql:DbConnect`.
    #[arg(long, env = "ACO_DATABASE_APP_ROLE_ARN", requires = "app_role")]
    pub app_role_arn: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct MaintenanceArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The programme time zone, for which month it is now.
    #[arg(long, env = "ACO_TIMEZONE", default_value = "UTC")]
    pub timezone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub jwt: JwtArgs,
    /// Address and port of the local server.
    #[arg(long, env = "ACO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Address and port of the Prometheus `/metrics` endpoint; unset: none.
    #[arg(long, env = "ACO_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// The programme time zone, an IANA name.
    #[arg(long, env = "ACO_TIMEZONE", default_value = "UTC")]
    pub timezone: String,
    /// Allowed browser origins for the local server, comma-separated.
    #[arg(long, env = "ACO_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Log format (default: json on Lambda, text elsewhere).
    #[arg(long, env = "ACO_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Serve the GraphiQL explorer at GET /graphql (default: on in dev mode only;
    /// a build without the cargo feature `explorer` has none, and refuses `true`).
    #[arg(long, env = "ACO_EXPLORER")]
    pub explorer: Option<bool>,
    /// Answer schema introspection (default: on in dev mode only).
    #[arg(long, env = "ACO_INTROSPECTION")]
    pub introspection: Option<bool>,
    /// The deepest a query may nest.
    #[arg(long, env = "ACO_MAX_QUERY_DEPTH", default_value_t = 12)]
    pub max_query_depth: usize,
    /// The most a query may cost: each field 1, a list its page size times its items.
    #[arg(long, env = "ACO_MAX_QUERY_COMPLEXITY", default_value_t = 5000)]
    pub max_query_complexity: usize,
    /// The longest query text, in bytes.
    #[arg(long, env = "ACO_MAX_QUERY_BYTES", default_value_t = 16384)]
    pub max_query_bytes: usize,
    /// The most aliases one query may use.
    #[arg(long, env = "ACO_MAX_ALIASES", default_value_t = 30)]
    pub max_aliases: usize,
    /// The most fields a query may ask for, each fragment counted where it is spread.
    #[arg(long, env = "ACO_MAX_SELECTIONS", default_value_t = 2000)]
    pub max_selections: usize,
    /// The largest request body, in bytes (larger: HTTP 413).
    #[arg(long, env = "ACO_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// The largest answer, in bytes (larger: refused, never truncated).
    #[arg(long, env = "ACO_MAX_RESPONSE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_response_bytes: usize,
    /// How long one request may run, in seconds.
    #[arg(long, env = "ACO_REQUEST_TIMEOUT_SECONDS", default_value_t = 15)]
    pub request_timeout_seconds: u64,
    /// The most requests answered at once (more: HTTP 503 with Retry-After).
    #[arg(long, env = "ACO_MAX_IN_FLIGHT", default_value_t = 512)]
    pub max_in_flight: usize,
    /// How long a client may take to send a request's headers, in seconds
    /// (local server; the connection is closed after it).
    #[arg(long, env = "ACO_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_timeout_seconds: u64,
    /// How long a client may take to send a request's body, in seconds (HTTP 408).
    #[arg(long, env = "ACO_BODY_TIMEOUT_SECONDS", default_value_t = 10)]
    pub body_timeout_seconds: u64,
    /// How long events are kept for the feed and for webhook redeliveries, in days.
    #[arg(long, env = "ACO_EVENT_RETENTION_DAYS", default_value_t = 90)]
    pub event_retention_days: u32,
    /// How long a webhook endpoint may take to answer one delivery, in seconds.
    #[arg(long, env = "ACO_WEBHOOK_TIMEOUT_SECONDS", default_value_t = 10)]
    pub webhook_timeout_seconds: u64,
    /// Load the demo data set into an empty database (dev mode only).
    #[arg(long, env = "ACO_DEMO", default_value_t = false)]
    pub demo: bool,
    /// A fixed clock, RFC 3339 (dev mode only).
    #[arg(long, env = "ACO_NOW")]
    pub now: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub jwt: JwtArgs,
    /// The role (repeat for several of the same kind).
    #[arg(long, required = true, value_parser = parse_role)]
    pub role: Vec<Role>,
    /// The tenant id of the partner, customer or programme the token acts for.
    #[arg(long)]
    pub tenant: String,
    /// The `sub` claim.
    #[arg(long, default_value = "dev-user")]
    pub sub: String,
    /// The `name` claim.
    #[arg(long)]
    pub name: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 12 * 3600)]
    pub ttl: i64,
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.to_ascii_uppercase().parse().map_err(|_| {
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("{text:?} is not a role; the roles are {}", roles.join(", "))
    })
}

/// Everything the application needs, resolved and checked.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The SQLite store, used unless `postgres` is set.
    pub store: StoreConfig,
    /// The PostgreSQL-compatible store (`ACO_DATABASE_URL`), if chosen.
    pub postgres: Option<crate::store::postgres::PostgresConfig>,
    pub jwt: JwtConfig,
    pub bind: SocketAddr,
    /// Where `/metrics` is served, if anywhere.
    pub metrics_bind: Option<SocketAddr>,
    pub timezone: chrono_tz::Tz,
    pub cors_origins: Vec<String>,
    pub dev: bool,
    pub demo: bool,
    pub explorer: bool,
    pub clock: Clock,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest answer sent, in bytes.
    pub max_response_bytes: usize,
    pub limits: crate::graphql::Limits,
    pub request_timeout: std::time::Duration,
    /// Requests answered at once; more are refused with 503.
    pub max_in_flight: usize,
    pub header_timeout: std::time::Duration,
    pub body_timeout: std::time::Duration,
    /// How long events are kept (the sweep removes older ones).
    pub event_retention: chrono::Duration,
    /// How long a webhook endpoint may take to answer.
    pub webhook_timeout: std::time::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required (dev mode supplies it only while ACO_JWT_SECRET is not set)")]
    Missing(&'static str),
    #[error("{0} is only allowed in dev mode (--dev)")]
    DevOnly(&'static str),
    #[error("{0}")]
    Invalid(String),
}

/// The browser origins of `ACO_CORS_ORIGINS`, each checked: `*`, or
/// `http(s)://host[:port]` exactly as a browser sends it in `Origin`.
fn cors_origins(listed: &[String]) -> Result<Vec<String>, ConfigError> {
    listed
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            let valid = origin == "*"
                || host.is_some_and(|h| {
                    !h.is_empty()
                        && h.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
                });
            if valid {
                Ok(origin.to_owned())
            } else {
                Err(ConfigError::Invalid(format!(
                    "ACO_CORS_ORIGINS: {origin:?} is not an origin; write each as \
                     scheme://host[:port] (e.g. https://app.example.com), without a path or a \
                     trailing slash, or * for any origin"
                )))
            }
        })
        .collect()
}

impl AppConfig {
    pub fn from_args(args: &ServeArgs) -> Result<Self, ConfigError> {
        let dev = args.jwt.dev;
        let mut postgres = args
            .database
            .postgres()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if let Some(postgres) = &mut postgres {
            postgres.statement_timeout =
                std::time::Duration::from_secs(args.request_timeout_seconds.max(1));
        }
        if !dev && args.now.is_some() {
            return Err(ConfigError::DevOnly("ACO_NOW / --now"));
        }
        if !dev && args.demo {
            return Err(ConfigError::DevOnly("ACO_DEMO / --demo"));
        }
        let clock = match &args.now {
            Some(text) => Clock::Fixed(
                DateTime::parse_from_rfc3339(text)
                    .map_err(|e| ConfigError::Invalid(format!("ACO_NOW: {e}")))?
                    .with_timezone(&Utc),
            ),
            None => Clock::System,
        };
        let timezone: chrono_tz::Tz = args.timezone.parse().map_err(|_| {
            ConfigError::Invalid(format!(
                "ACO_TIMEZONE: unknown time zone {:?}",
                args.timezone
            ))
        })?;
        let explorer = match args.explorer {
            Some(true) if !cfg!(feature = "explorer") => {
                return Err(ConfigError::Invalid(
                    "ACO_EXPLORER / --explorer: this build of aco-api has no explorer (it was \
                     built without the cargo feature `explorer`)"
                        .into(),
                ));
            }
            Some(explorer) => explorer,
            None => dev && cfg!(feature = "explorer"),
        };
        Ok(AppConfig {
            store: StoreConfig::new(&args.database.database_path, args.database.journal_mode),
            postgres,
            jwt: JwtConfig::resolve(&args.jwt)?,
            bind: args.bind,
            metrics_bind: args.metrics_bind,
            timezone,
            cors_origins: cors_origins(&args.cors_origins)?,
            dev,
            demo: args.demo,
            explorer,
            clock,
            max_body_bytes: args.max_body_bytes,
            max_response_bytes: args.max_response_bytes,
            limits: crate::graphql::Limits {
                max_depth: args.max_query_depth,
                max_complexity: args.max_query_complexity,
                max_query_bytes: args.max_query_bytes,
                max_aliases: args.max_aliases,
                max_selections: args.max_selections,
                introspection: args.introspection.unwrap_or(dev),
                suggestions: dev,
            },
            request_timeout: std::time::Duration::from_secs(args.request_timeout_seconds.max(1)),
            max_in_flight: args.max_in_flight.max(1),
            header_timeout: std::time::Duration::from_secs(args.header_timeout_seconds.max(1)),
            body_timeout: std::time::Duration::from_secs(args.body_timeout_seconds.max(1)),
            event_retention: chrono::Duration::days(i64::from(args.event_retention_days.max(1))),
            webhook_timeout: std::time::Duration::from_secs(
                args.webhook_timeout_seconds.clamp(1, 60),
            ),
        })
    }

    /// A dev-mode configuration on `database_path`: for tests and examples.
    pub fn for_dev(database_path: impl Into<PathBuf>) -> Self {
        let args = ServeArgs::parse_from_dev(database_path.into());
        AppConfig::from_args(&args).unwrap_or_else(|e| unreachable!("dev defaults are valid: {e}"))
    }
}

impl ServeArgs {
    fn parse_from_dev(path: PathBuf) -> Self {
        ServeArgs {
            database: DatabaseArgs {
                database_path: path,
                journal_mode: JournalMode::Wal,
                database_url: None,
                database_pool_size: 8,
                database_auth: None,
            },
            jwt: JwtArgs {
                jwt_secret: None,
                jwt_secret_id: None,
                jwt_jwks: None,
                jwt_jwks_url: None,
                jwt_jwks_refresh_seconds: 3600,
                jwt_algorithm: "RS256".into(),
                jwt_issuer: None,
                jwt_audience: None,
                jwt_leeway_seconds: 60,
                program_tenant_id: None,
                dev: true,
            },
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics_bind: None,
            timezone: "UTC".into(),
            cors_origins: Vec::new(),
            log_format: None,
            explorer: None,
            introspection: None,
            max_query_depth: 12,
            max_query_complexity: 5000,
            max_query_bytes: 16384,
            max_aliases: 30,
            max_selections: 2000,
            max_body_bytes: 1024 * 1024,
            max_response_bytes: 4 * 1024 * 1024,
            request_timeout_seconds: 15,
            max_in_flight: 512,
            header_timeout_seconds: 10,
            body_timeout_seconds: 10,
            event_retention_days: 90,
            webhook_timeout_seconds: 10,
            demo: false,
            now: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_role_is_answered_with_the_roles_there_are() {
        assert_eq!(parse_role("program_admin"), Ok(Role::ProgramAdmin));
        let refused = parse_role("ADMIN").unwrap_err();
        assert!(
            refused.contains("PARTNER_ADMIN") && refused.contains("PROGRAM_ADMIN"),
            "{refused}"
        );
    }

    #[test]
    fn only_a_build_with_the_explorer_serves_it() {
        let mut args = ServeArgs::parse_from_dev("unused.db".into());
        let dev_default = AppConfig::from_args(&args).map(|config| config.explorer);
        assert_eq!(dev_default.ok(), Some(cfg!(feature = "explorer")));
        args.explorer = Some(true);
        match AppConfig::from_args(&args) {
            Ok(config) => assert!(cfg!(feature = "explorer") && config.explorer),
            Err(refused) => assert!(
                !cfg!(feature = "explorer")
                    && refused.to_string().contains("cargo feature `explorer`"),
                "{refused}"
            ),
        }
    }
}
