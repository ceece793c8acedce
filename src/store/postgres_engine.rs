//! The PostgreSQL-compatible store's [`Engine`]: each use case one
//! transaction on a pooled connection, run again whole when the engine
//! refuses it for a concurrent one.
//!
//! A use case is synchronous (`FnOnce(&Tx) -> Result<T>`), so it runs on a
//! blocking thread, each statement awaited there on the runtime that owns
//! the connection. Transactions are `REPEATABLE READ` — snapshot isolation,
//! which is what Aurora DSQL runs — with reads `READ ONLY`. A transaction
//! that loses to a concurrent one ([`RETRIED`](super::tx::RETRIED): `40001`
//! and kin, at any statement or at the commit) is rolled back and its use
//! case run again from its start on a fresh copy, after a jittered,
//! growing pause, at most [`ATTEMPTS`] times: a failed attempt leaves
//! nothing behind, since all it wrote was in the transaction rolled back.
//! A request's deadline becomes the transaction's `statement_timeout`, and
//! no attempt starts past it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use deadpool_postgres::Pool;
use tokio_postgres::IsolationLevel;

use super::postgres::PostgresConfig;
use super::tx::postgres_error;
use super::{Engine, Tx};
use crate::error::{Error, Result};

/// How many times a use case runs before a conflict is answered.
pub const ATTEMPTS: u32 = 8;

/// The longest a statement may run when its request gave no deadline (the
/// sweep, the command line).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// Handle to a PostgreSQL-compatible database; cheap to clone.
#[derive(Clone)]
pub struct Postgres {
    inner: Arc<Inner>,
}

struct Inner {
    config: PostgresConfig,
    pool: Pool,
    /// One per pooled connection: a use case waits for one before it takes
    /// a blocking thread, so that no more threads wait on the database
    /// than there are connections to serve them.
    permits: Arc<Semaphore>,
}

impl Postgres {
    /// A pool of connections to the database; none is opened yet (see
    /// [`Postgres::check_schema`]).
    pub fn connect(config: &PostgresConfig) -> Result<Self> {
        Ok(Postgres {
            inner: Arc::new(Inner {
                config: config.clone(),
                pool: config.pool()?,
                permits: Arc::new(Semaphore::new(config.pool_size)),
            }),
        })
    }

    /// What it is connected to, without the password.
    pub fn describe(&self) -> String {
        self.inner.config.describe()
    }

    /// Refuses a database that cannot be reached or whose schema is behind
    /// this binary's migrations, saying which and what to do.
    pub async fn check_schema(&self) -> Result<()> {
        let (applied, steps) = super::postgres::schema_steps(&self.inner.config).await?;
        if applied < steps {
            return Err(Error::Internal(format!(
                "the database at {} has {applied} of this version's {steps} migration steps: \
                 run `aco-api migrate` with the same ACO_DATABASE_URL first",
                self.describe()
            )));
        }
        Ok(())
    }

    async fn run<T, F>(&self, deadline: Option<Instant>, read_only: bool, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        let permit = match deadline {
            Some(d) => {
                tokio::time::timeout_at(d.into(), self.inner.permits.clone().acquire_owned())
                    .await
                    .map_err(|_| Error::Timeout)?
            }
            None => self.inner.permits.clone().acquire_owned().await,
        }
        .map_err(|_| Error::Internal("the database pool is closed".into()))?;
        let runtime = tokio::runtime::Handle::current();
        let pool = self.inner.pool.clone();
        let describe = self.inner.config.describe();
        let counted = self.inner.config.count_statements;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let _permit = permit;
            let mut attempt = 0;
            loop {
                attempt += 1;
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Err(Error::Timeout);
                }
                let out = attempt_once(
                    &pool,
                    &runtime,
                    (&describe, counted),
                    deadline,
                    read_only,
                    f.clone(),
                );
                match out {
                    Err(Error::Contended(said)) if attempt < ATTEMPTS => {
                        tracing::debug!(attempt, %said, "a concurrent transaction won; again");
                        std::thread::sleep(pause(attempt));
                    }
                    out => return out,
                }
            }
        })
        .await
        .map_err(|e| Error::Internal(format!("a database task failed: {e}")))?
    }
}

/// The pause before attempt `attempt + 1`: a random part of a span that
/// doubles from 2 ms up to 256 ms ("full jitter"), so that the losers of
/// one conflict do not meet again.
fn pause(attempt: u32) -> Duration {
    let span = 2_u64 << attempt.min(7);
    let random = u64::from(uuid::Uuid::new_v4().as_bytes()[0]);
    Duration::from_micros(span * 1_000 * (random + 1) / 256)
}

/// One attempt: a transaction begun, `f` run in it, committed if `f`
/// answered `Ok` (and rolled back otherwise, or when it is dropped).
fn attempt_once<T>(
    pool: &Pool,
    runtime: &tokio::runtime::Handle,
    (describe, counted): (&str, bool),
    deadline: Option<Instant>,
    read_only: bool,
    f: impl FnOnce(&Tx<'_>) -> Result<T>,
) -> Result<T> {
    let mut client = runtime.block_on(pool.get()).map_err(|e| {
        Error::Internal(format!("the database at {describe} cannot be reached: {e}"))
    })?;
    // Its beginning and its end count as statements, as SQLite's do (its
    // statement timeout, set with it, does not).
    for _ in 0..2 {
        if counted {
            super::connection::count_postgres_statement();
        }
    }
    let transaction = runtime
        .block_on(
            client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(read_only)
                .start(),
        )
        .map_err(postgres_error)?;
    let timeout = deadline
        .map_or(STATEMENT_TIMEOUT, |d| {
            d.saturating_duration_since(Instant::now())
        })
        .as_millis()
        .max(1);
    runtime
        .block_on(transaction.batch_execute(&format!("SET LOCAL statement_timeout = {timeout}")))
        .map_err(postgres_error)?;
    let value = f(&Tx::postgres(&transaction, runtime.clone()).counted(counted))?;
    if deadline.is_some_and(|d| Instant::now() >= d) {
        // The caller stopped waiting: what it asked changes nothing.
        return Err(Error::Timeout);
    }
    runtime
        .block_on(transaction.commit())
        .map_err(postgres_error)?;
    Ok(value)
}

impl Engine for Postgres {
    async fn read_until<T, F>(&self, deadline: Option<Instant>, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        self.run(deadline, true, f).await
    }

    async fn write_until<T, F>(&self, deadline: Option<Instant>, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        self.run(deadline, false, f).await
    }

    async fn ping(&self) -> bool {
        match self.inner.pool.get().await {
            Ok(client) => client.simple_query("SELECT 1").await.is_ok(),
            Err(_) => false,
        }
    }

    /// Backups and point-in-time recovery are the engine's own (Aurora,
    /// Aurora DSQL, RDS snapshots; `pg_dump` for PostgreSQL).
    async fn backup(&self, _target: PathBuf) -> Result<()> {
        Err(Error::Internal(
            "`aco-api backup` copies the SQLite store; a PostgreSQL-compatible database is \
             backed up by the engine (snapshots, point-in-time recovery, pg_dump)"
                .into(),
        ))
    }

    /// The engine keeps its statistics itself (autovacuum's `ANALYZE`).
    async fn refresh_statistics(&self) -> Result<()> {
        Ok(())
    }

    /// Nothing to ready: every commit is the engine's to make durable.
    fn empty_log(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_and_stay_bounded() {
        for attempt in 1..=ATTEMPTS {
            let span = Duration::from_millis(2 << attempt.min(7));
            for _ in 0..50 {
                let p = pause(attempt);
                assert!(p > Duration::ZERO && p <= span, "{attempt}: {p:?}");
            }
        }
        assert!(Duration::from_millis(2 << 7) <= Duration::from_millis(256));
    }
}
