//! The PostgreSQL-compatible store's connections and its migration runner
//! (PostgreSQL, Aurora PostgreSQL, Aurora DSQL, CockroachDB).
//!
//! The engine's connections are [`Session`]s (tokio-postgres, driven by
//! the thread that runs the use case; pooled by the engine), the migration runner's and `copy`'s an
//! async pool (`deadpool-postgres`); either kind is ended and replaced
//! before it is 55 minutes old (Aurora DSQL ends sessions at 60). TLS is rustls with the certificate and
//! the host name verified (`sslmode=verify-full`'s meaning), against
//! Mozilla's roots or the certificates of `sslrootcert`; only
//! `sslmode=disable` turns it off. A database URL's password is never
//! written out: errors name the user, host, port and database only.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{
    ConfigConnectImpl, Connect, Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod,
};
use tokio_postgres::config::{Host, SslMode};

use super::iam::IamAuth;
use super::postgres_migrations::{Step, steps};
use crate::error::{Error, Result};

/// The oldest a pooled connection gets before it is replaced.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(55 * 60);

/// How connections prove who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DatabaseAuth {
    /// The URL's password.
    Password,
    /// Aurora DSQL's IAM authentication tokens, made for each connection.
    Iam,
}

/// What to connect to, read from a `postgres://` URL.
#[derive(Clone)]
pub struct PostgresConfig {
    config: tokio_postgres::Config,
    /// IAM tokens instead of a password, when set.
    iam: Option<IamAuth>,
    /// PEM certificates to trust instead of Mozilla's roots (`sslrootcert`).
    root_certificates: Option<std::path::PathBuf>,
    tls: bool,
    /// Connections in the pool.
    pub pool_size: usize,
    /// Count every statement run (see [`statements_run`](super::statements_run)),
    /// as SQLite's `StoreConfig::count_statements`: for tests.
    pub count_statements: bool,
    /// The longest a statement runs: each connection's `statement_timeout`,
    /// set once when it opens (the server sets the request timeout; zero,
    /// for the commands, is no limit). A transaction whose request has much
    /// less time left sets its own.
    pub statement_timeout: Duration,
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl PostgresConfig {
    /// Reads a `postgres://user:password@host:port/database?…` URL. Besides
    /// what `tokio-postgres` takes, `sslrootcert=<file>` names the
    /// certificates to trust. A URL that does not parse is refused without
    /// being repeated (it may hold a password).
    pub fn from_url(url: &str, pool_size: usize) -> Result<Self> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut root_certificates = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("sslrootcert", file)) => root_certificates = Some(file.into()),
                _ => kept.push(pair),
            }
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config = tokio_postgres::Config::from_str(&url).map_err(|e| {
            Error::Internal(format!(
                "ACO_DATABASE_URL is not a postgres:// URL the service can use ({})",
                redact(&e.to_string(), &url)
            ))
        })?;
        if config.get_dbname().is_none() {
            return Err(Error::Internal(
                "ACO_DATABASE_URL names no database: add /<database> after the host".into(),
            ));
        }
        let tls = config.get_ssl_mode() != SslMode::Disable;
        config.ssl_mode(if tls {
            SslMode::Require
        } else {
            SslMode::Disable
        });
        config.connect_timeout(Duration::from_secs(10));
        config.application_name("aco-api");
        let mut postgres = PostgresConfig {
            config,
            iam: None,
            root_certificates,
            tls,
            pool_size: pool_size.max(1),
            count_statements: false,
            statement_timeout: Duration::ZERO,
        };
        // An Aurora DSQL endpoint without a password: IAM tokens.
        if postgres.is_aurora_dsql() && postgres.config.get_password().is_none() {
            postgres = postgres.authenticated_by(DatabaseAuth::Iam)?;
        }
        Ok(postgres)
    }

    /// Connections authenticated by `auth`: the URL's password, or IAM
    /// tokens for the URL's user and host, signed for the endpoint's region
    /// (else `AWS_REGION`) with the process's AWS credentials.
    pub fn authenticated_by(mut self, auth: DatabaseAuth) -> Result<Self> {
        self.iam = match auth {
            DatabaseAuth::Password => None,
            DatabaseAuth::Iam => {
                let host = match self.config.get_hosts().first() {
                    Some(Host::Tcp(host)) => host.clone(),
                    _ => {
                        return Err(Error::Internal(
                            "IAM authentication needs a host name in ACO_DATABASE_URL".into(),
                        ));
                    }
                };
                let user = self.config.get_user().unwrap_or("admin").to_owned();
                self.config.user(&user);
                let region = std::env::var("AWS_REGION")
                    .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                    .ok();
                Some(IamAuth::new(&host, &user, region)?)
            }
        };
        Ok(self)
    }

    /// The IAM token maker, when connections use one.
    pub fn iam(&self) -> Option<&IamAuth> {
        self.iam.as_ref()
    }

    /// User, host, port and database: what errors and logs may say.
    pub fn describe(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            #[cfg(unix)]
            Some(Host::Unix(path)) => path.display().to_string(),
            None => "localhost".into(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        format!(
            "postgres://{}@{host}:{port}/{}{}{}",
            self.config.get_user().unwrap_or(""),
            self.config.get_dbname().unwrap_or(""),
            if self.tls { "" } else { " (without TLS)" },
            if self.iam.is_some() {
                " (IAM authentication)"
            } else {
                ""
            }
        )
    }

    /// Whether the host is an Aurora DSQL cluster endpoint
    /// (`<id>.dsql.<region>.on.aws`).
    pub fn is_aurora_dsql(&self) -> bool {
        self.config.get_hosts().iter().any(|host| match host {
            Host::Tcp(name) => name.contains(".dsql.") && name.ends_with(".on.aws"),
            #[cfg(unix)]
            Host::Unix(_) => false,
        })
    }

    fn tls_connector(&self) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.root_certificates {
            Some(file) => {
                use rustls::pki_types::CertificateDer;
                use rustls::pki_types::pem::PemObject;
                let certificates = CertificateDer::pem_file_iter(file)
                    .map_err(|e| Error::Internal(format!("sslrootcert {}: {e}", file.display())))?;
                for certificate in certificates {
                    let certificate = certificate.map_err(|e| {
                        Error::Internal(format!("sslrootcert {}: {e}", file.display()))
                    })?;
                    roots.add(certificate).map_err(|e| {
                        Error::Internal(format!("sslrootcert {}: {e}", file.display()))
                    })?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let tls =
            crate::outbound::tls_config(roots).map_err(|e| Error::Internal(format!("TLS: {e}")))?;
        Ok(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
    }

    /// A connection for the engine: synchronous (its socket read and
    /// written by the thread that runs the use case, with no other thread
    /// to wake for each statement), its `statement_timeout` set.
    pub(super) fn session(&self) -> Result<Session> {
        let mut config = self.with_fresh_token()?;
        config.connect_timeout(Duration::from_secs(10));
        let refused = |said: String| {
            Error::Internal(format!(
                "the database at {} cannot be reached: {said}",
                self.describe()
            ))
        };
        let mut session = if self.tls {
            let tls = self.tls_connector()?;
            Session::open(self.count_statements, || config.connect(tls), refused)?
        } else {
            Session::open(
                self.count_statements,
                || config.connect(tokio_postgres::NoTls),
                refused,
            )?
        };
        if !self.statement_timeout.is_zero() {
            session
                .batch_execute(&format!(
                    "SET statement_timeout = {}",
                    self.statement_timeout.as_millis().max(1)
                ))
                .map_err(|e| Error::Internal(format!("{}: {}", self.describe(), said(&e))))?;
        }
        Ok(session)
    }

    /// A pool of async connections, opened as they are first needed: for
    /// the migration runner and `copy`, whose statements (an index built on
    /// a large table) may run as long as they need.
    pub fn pool(&self) -> Result<Pool> {
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        // Each new connection with a token of its own, checked once here.
        self.with_fresh_token()?;
        let connect: Box<dyn Connect> = if self.tls {
            Box::new(ConfigConnectImpl {
                tls: self.tls_connector()?,
            })
        } else {
            Box::new(ConfigConnectImpl {
                tls: tokio_postgres::NoTls,
            })
        };
        let connect = FreshToken {
            connect,
            iam: self.iam.clone(),
        };
        let manager = Manager::from_connect(self.config.clone(), connect, manager_config);
        Pool::builder(manager)
            .max_size(self.pool_size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .pre_recycle(Hook::sync_fn(|_, metrics| {
                if metrics.age() > MAX_CONNECTION_AGE {
                    Err(HookError::Message("older than its maximum age".into()))
                } else {
                    Ok(())
                }
            }))
            .build()
            .map_err(|e| Error::Internal(format!("the database pool: {e}")))
    }
}

impl PostgresConfig {
    /// The connection settings, with a new IAM token as the password when
    /// connections use them.
    fn with_fresh_token(&self) -> Result<tokio_postgres::Config> {
        let mut config = self.config.clone();
        if let Some(iam) = &self.iam {
            config.password(iam.token()?);
        }
        Ok(config)
    }
}

/// A connection being opened, as the pool's connector gives it.
type Connecting<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = std::result::Result<
                    (tokio_postgres::Client, tokio::task::JoinHandle<()>),
                    tokio_postgres::Error,
                >,
            > + Send
            + 'a,
    >,
>;

/// The pool's connector, giving each new connection a token of its own.
struct FreshToken {
    connect: Box<dyn Connect>,
    iam: Option<IamAuth>,
}

impl Connect for FreshToken {
    fn connect(&self, config: &tokio_postgres::Config) -> Connecting<'_> {
        let mut config = config.clone();
        if let Some(iam) = &self.iam {
            match iam.token() {
                Ok(token) => {
                    config.password(token);
                }
                // Checked when the pool was made; without a token the server refuses and says so.
                Err(e) => tracing::error!(error = %e, "no IAM token for a new connection"),
            }
        }
        Box::pin(async move { self.connect.connect(&config).await })
    }
}

pub use super::postgres_session::Session;

/// `message` without `url`'s password, should it be quoted.
fn redact(message: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password)
        .filter(|p| !p.is_empty());
    match password {
        Some(password) => message.replace(password, "***"),
        None => message.to_owned(),
    }
}

/// The table that records the steps applied.
const STEPS_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS aco_schema_steps (step TEXT PRIMARY KEY, applied_at TEXT NOT NULL)";

/// Brings the database's schema up to date: every step not yet recorded,
/// each in a transaction of its own, then recorded in another (Aurora DSQL
/// takes no data change beside a DDL statement). A step cut off between the
/// two runs again harmlessly. On Aurora DSQL an index is built `ASYNC`.
/// Returns how many steps ran.
pub async fn migrate(config: &PostgresConfig) -> Result<usize> {
    let pool = config.pool()?;
    let client = pool
        .get()
        .await
        .map_err(|e| unreachable_database(config, &e))?;
    let database =
        |e: tokio_postgres::Error| Error::Internal(format!("{}: {e}", config.describe()));
    client.batch_execute(STEPS_TABLE).await.map_err(database)?;
    let applied: std::collections::HashSet<String> = client
        .query("SELECT step FROM aco_schema_steps", &[])
        .await
        .map_err(database)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut ran = 0;
    for Step { name, sql } in steps() {
        if applied.contains(&name) {
            continue;
        }
        let sql = if config.is_aurora_dsql() {
            as_aurora_dsql(&sql)
        } else {
            sql
        };
        client
            .batch_execute(&format!("BEGIN; {sql}; COMMIT"))
            .await
            .map_err(|e| Error::Internal(format!("migration step {name}: {}", said(&e))))?;
        client
            .execute(
                "INSERT INTO aco_schema_steps (step, applied_at) VALUES ($1, $2) ON CONFLICT (step) DO NOTHING",
                &[&name, &crate::domain::time::instant_text(chrono::Utc::now())],
            )
            .await
            .map_err(database)?;
        ran += 1;
    }
    Ok(ran)
}

/// The number of steps recorded as applied, and the number there are.
pub async fn schema_steps(config: &PostgresConfig) -> Result<(usize, usize)> {
    let pool = config.pool()?;
    let client = pool
        .get()
        .await
        .map_err(|e| unreachable_database(config, &e))?;
    let applied: i64 = client
        .query_opt("SELECT count(*) FROM aco_schema_steps", &[])
        .await
        .ok()
        .flatten()
        .map_or(0, |row| row.get(0));
    Ok((usize::try_from(applied).unwrap_or(0), steps().len()))
}

/// What the database said: its SQLSTATE and message, or the client's error.
pub fn said(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

/// A step as Aurora DSQL takes it: its indexes built asynchronously.
fn as_aurora_dsql(sql: &str) -> String {
    for (plain, asynchronous) in [
        (
            "CREATE INDEX IF NOT EXISTS",
            "CREATE INDEX ASYNC IF NOT EXISTS",
        ),
        (
            "CREATE UNIQUE INDEX IF NOT EXISTS",
            "CREATE UNIQUE INDEX ASYNC IF NOT EXISTS",
        ),
    ] {
        if let Some(rest) = sql.strip_prefix(plain) {
            return format!("{asynchronous}{rest}");
        }
    }
    sql.to_owned()
}

pub(super) fn unreachable_database(
    config: &PostgresConfig,
    error: &deadpool_postgres::PoolError,
) -> Error {
    Error::Internal(format!(
        "the database at {} cannot be reached: {error}",
        config.describe()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_is_read_with_tls_on_unless_disabled() {
        let config =
            PostgresConfig::from_url("postgres://aco:s3cret@db.example.com:6543/aco", 8).unwrap();
        assert_eq!(config.describe(), "postgres://aco@db.example.com:6543/aco");
        assert!(config.tls && !config.is_aurora_dsql());
        assert!(!format!("{config:?}").contains("s3cret"));
        let plain = PostgresConfig::from_url(
            "postgres://aco@127.0.0.1/aco?sslmode=disable&sslrootcert=/etc/ca.pem",
            8,
        )
        .unwrap();
        assert!(!plain.tls);
        assert_eq!(plain.root_certificates, Some("/etc/ca.pem".into()));
        let dsql = PostgresConfig::from_url(
            "postgres://admin@abcdefgh.dsql.us-east-1.on.aws/postgres",
            8,
        )
        .unwrap();
        assert!(dsql.is_aurora_dsql() && dsql.tls);
    }

    #[test]
    fn a_bad_database_url_is_refused_without_its_password() {
        for url in [
            "postgres://aco:s3cret@db.example.com:notaport/aco",
            "postgres://aco:s3cret@db.example.com/aco?nosuchoption=1",
        ] {
            let error = PostgresConfig::from_url(url, 8).unwrap_err().to_string();
            assert!(!error.contains("s3cret"), "{error}");
            assert!(error.contains("ACO_DATABASE_URL"), "{error}");
        }
        let error = PostgresConfig::from_url("postgres://aco@db.example.com", 8)
            .unwrap_err()
            .to_string();
        assert!(error.contains("names no database"), "{error}");
    }

    #[test]
    fn aurora_dsql_builds_indexes_asynchronously() {
        assert_eq!(
            as_aurora_dsql("CREATE INDEX IF NOT EXISTS a ON b (c)"),
            "CREATE INDEX ASYNC IF NOT EXISTS a ON b (c)"
        );
        assert_eq!(
            as_aurora_dsql("CREATE TABLE IF NOT EXISTS a (b TEXT)"),
            "CREATE TABLE IF NOT EXISTS a (b TEXT)"
        );
    }
}
