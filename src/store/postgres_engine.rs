//! The PostgreSQL-compatible store's [`Engine`]: each use case one
//! transaction on a pooled connection, run again whole when the engine
//! refuses it for a concurrent one.
//!
//! A use case is synchronous (`FnOnce(&Tx) -> Result<T>`), so it runs on a
//! thread of the engine's own (the most recently idle first:
//! [`Threads`]), over a connection whose socket that thread reads and
//! writes itself ([`Session`](super::postgres::Session)): a statement costs
//! one round trip and no other thread's wake-up, the transaction's beginning
//! travels with its first statement, and a read's end is not waited for.
//! Transactions are `REPEATABLE READ` — snapshot isolation, which is what
//! Aurora DSQL runs — with reads `READ ONLY`. A transaction
//! that loses to a concurrent one ([`RETRIED`](super::tx::RETRIED): `40001`
//! and kin, at any statement or at the commit) is rolled back and its use
//! case run again from its start on a fresh copy, after a jittered,
//! growing pause, at most [`ATTEMPTS`] times: a failed attempt leaves
//! nothing behind, since all it wrote was in the transaction rolled back.
//! So is one whose connection the server ended before its commit (a
//! restart, a failover), on another connection; a connection lost during
//! the commit is answered as an error, whether it was made being unknown.
//! Statements are cut off at the request timeout (each connection's
//! `statement_timeout`), or earlier for a request with clearly less time
//! left (its transaction's own); no attempt starts past the deadline.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::postgres::{MAX_CONNECTION_AGE, PostgresConfig, Session};
use super::postgres_threads::Threads;
use super::tx::postgres_error;
use super::{Engine, Tx};
use crate::error::{Error, Result};

/// How many times a use case runs before a conflict is answered.
pub const ATTEMPTS: u32 = 8;

/// Handle to a PostgreSQL-compatible database; cheap to clone.
#[derive(Clone)]
pub struct Postgres {
    inner: Arc<Inner>,
}

struct Inner {
    config: PostgresConfig,
    /// Idle connections, opened as they are first needed.
    idle: std::sync::Mutex<Vec<Session>>,
    /// One per connection the pool may hold: a use case waits for one
    /// before it takes a thread, so that no more threads wait on the
    /// database than there are connections to serve them.
    permits: Arc<Semaphore>,
    /// The threads use cases run on.
    threads: Arc<Threads>,
}

impl Inner {
    /// An idle connection young enough to use, or a new one.
    fn session(&self) -> Result<Session> {
        loop {
            let idle = self
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop();
            match idle {
                Some(session)
                    if session.opened.elapsed() < MAX_CONNECTION_AGE && !session.is_closed() =>
                {
                    return Ok(session);
                }
                // Too old (Aurora DSQL ends sessions at 60 minutes), or closed.
                Some(_) => continue,
                None => return self.config.session(),
            }
        }
    }

    fn give_back(&self, session: Session) {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(session);
    }
}

impl Drop for Inner {
    /// A connection closes by running its own runtime, which it may not do
    /// on an async worker (where the last handle is often dropped): the
    /// idle ones are closed on a thread of their own.
    fn drop(&mut self) {
        let idle = std::mem::take(
            self.idle
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if !idle.is_empty() {
            let _ = std::thread::Builder::new()
                .name("aco-postgres-close".into())
                .spawn(move || drop(idle));
        }
    }
}

impl Postgres {
    /// A pool of connections to the database; none is opened yet (see
    /// [`Postgres::check_schema`]).
    pub fn connect(config: &PostgresConfig) -> Result<Self> {
        Ok(Postgres {
            inner: Arc::new(Inner {
                config: config.clone(),
                idle: std::sync::Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(config.pool_size)),
                threads: Arc::default(),
            }),
        })
    }

    /// What it is connected to, without the password.
    pub fn describe(&self) -> String {
        self.inner.config.describe()
    }

    /// Refuses a database that cannot be reached or whose schema is behind
    /// this binary's migrations, saying which and what to do.
    /// The position below which every event that will ever commit has
    /// (see `store::events`).
    pub fn event_horizon(&self) -> i64 {
        let lag = EVENT_LAG;
        let micros = chrono::Utc::now().timestamp_micros() - lag.as_micros() as i64;
        micros * 1_024
    }

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
        let waiting = std::time::Instant::now();
        let permit = match deadline {
            Some(d) => {
                tokio::time::timeout_at(d.into(), self.inner.permits.clone().acquire_owned())
                    .await
                    .map_err(|_| Error::Timeout)?
            }
            None => self.inner.permits.clone().acquire_owned().await,
        }
        .map_err(|_| Error::Internal("the database pool is closed".into()))?;
        crate::observe::store_wait("postgres", waiting.elapsed());
        let inner = self.inner.clone();
        let span = tracing::Span::current();
        self.inner
            .threads
            .run(permit, move || {
                let _entered = span.enter();
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(Error::Timeout);
                    }
                    match attempt_once(&inner, deadline, read_only, f.clone()) {
                        Err(Error::Contended(said)) if attempt < ATTEMPTS => {
                            tracing::debug!(attempt, %said, "a concurrent transaction won; again");
                            std::thread::sleep(pause(attempt));
                        }
                        out => return out,
                    }
                }
            })
            .await?
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
/// answered `Ok` and rolled back otherwise. The connection goes back to the
/// pool only once its transaction has ended.
fn attempt_once<T>(
    inner: &Inner,
    deadline: Option<Instant>,
    read_only: bool,
    f: impl FnOnce(&Tx<'_>) -> Result<T>,
) -> Result<T> {
    let counted = inner.config.count_statements;
    let first_event = std::cell::Cell::new(None);
    let mut session = inner.session()?;
    // Its beginning and its end count as statements, as SQLite's do (a
    // statement timeout set with it does not).
    if counted {
        super::connection::count_postgres_statement();
        super::connection::count_postgres_statement();
    }
    let begin = if read_only {
        "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
    } else {
        "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ WRITE"
    };
    // The connection's statement timeout is the request timeout; a request
    // with much less time left sets its own for this transaction, in the
    // same round trip.
    let own = deadline
        .map(|d| d.saturating_duration_since(Instant::now()))
        .filter(|left| {
            let timeout = inner.config.statement_timeout;
            timeout.is_zero() || *left * 2 < timeout
        })
        .map(|left| {
            format!(
                "; SET LOCAL statement_timeout = {}",
                left.as_millis().max(1)
            )
        })
        .unwrap_or_default();
    // Sent with the transaction's first statement, in its round trip.
    session.begin_with_next(format!("{begin}{own}"));
    let session = std::cell::RefCell::new(session);
    let value = f(&Tx::postgres(&session, counted, &first_event));
    let mut session = session.into_inner();
    // The caller stopped waiting: what it asked changes nothing.
    let value = match value {
        Ok(_) if deadline.is_some_and(|d| Instant::now() >= d) => Err(Error::Timeout),
        // Events commit within their window of being written, or the
        // attempt is run again: the event feed's horizon rests on it.
        Ok(_)
            if first_event
                .get()
                .is_some_and(|at: Instant| at.elapsed() >= super::tx::EVENT_COMMIT_WINDOW) =>
        {
            Err(Error::Contended(
                "the transaction's events were not ready to commit within their window".into(),
            ))
        }
        value => value,
    };
    if session.unbegun() {
        // No statement ran: no transaction was begun.
        inner.give_back(session);
        return value;
    }
    if read_only && value.is_ok() {
        // A read's end has nothing to report: sent, and its answer left for
        // the connection to read with the next transaction's.
        session.end_unheard("COMMIT");
        inner.give_back(session);
        return value;
    }
    let end = if value.is_ok() { "COMMIT" } else { "ROLLBACK" };
    match session.batch_execute(end) {
        Ok(()) => inner.give_back(session),
        // The connection is not reused; the commit's refusal is the answer.
        // A connection lost at the commit leaves it unknown whether the
        // commit was made: that is not run again.
        Err(e) if value.is_ok() && (e.is_closed() || lost(&e)) => {
            return Err(Error::Internal(format!(
                "the connection was lost while committing; whether the change was made is \
                 unknown: {}",
                super::postgres::said(&e)
            )));
        }
        Err(e) if value.is_ok() => return Err(postgres_error(e)),
        Err(_) => {}
    }
    value
}

/// How far behind the clock the event feed reads: the window in which a
/// transaction's events commit, and three seconds for the commit to land
/// and for the clocks of the processes apart.
pub const EVENT_LAG: Duration = Duration::from_secs(5);

/// Whether the server ended the connection.
fn lost(error: &tokio_postgres::Error) -> bool {
    error
        .code()
        .is_some_and(|code| super::tx::LOST.contains(&code.code()))
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
        self.read(|tx| tx.row("SELECT 1", &[], |r| r.get::<i32>(0)))
            .await
            .is_ok()
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
