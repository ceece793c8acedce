//! The store seam ([`Engine`]): what a database engine gives the service.
//!
//! A use case is a synchronous function over one transaction, `FnOnce(&Tx)
//! -> Result<T> + Clone`: it reads, decides, writes and appends history, and the engine
//! commits all of it or none. The engine decides where the function runs
//! (never on an async worker for long) and how its transaction is made
//! durable. SQLite ([`Db`](super::Db)) is the engine today; the reasons, and
//! how a PostgreSQL-compatible engine joins, are in `ARCHITECTURE.md` ("The
//! store seam").
//!
//! The functions are `Clone`: an engine may run one again from its start, on
//! a fresh copy — a read moved off an async worker, a commit a distributed
//! engine refused for a conflict (SQLSTATE `40001`) — so a use case keeps its
//! effects inside its transaction and takes its instant and its new ids from
//! what it was given or makes inside it.

use std::future::Future;
use std::path::PathBuf;
use std::time::Instant;

use super::Tx;
use crate::error::Result;

/// A database engine: transactions for use cases, and what operations need
/// around them (health, backup, statistics, a clean stop).
pub trait Engine: Clone + Send + Sync + 'static {
    /// Runs `f` in one read transaction, interrupted once `deadline` has
    /// passed ([`Error::Timeout`](crate::error::Error::Timeout)). `f` may run
    /// more than once; what it returns last is the answer.
    fn read_until<T, F>(
        &self,
        deadline: Option<Instant>,
        f: F,
    ) -> impl Future<Output = Result<T>> + Send
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static;

    /// Runs `f` in one write transaction, committed when `f` returns `Ok`
    /// and rolled back otherwise (a refusal changes nothing), and rolled
    /// back instead of committed once `deadline` has passed (a caller that
    /// stopped waiting changes nothing). Answered only once the commit is
    /// durable. `f` may run more than once; only its last run's changes
    /// commit.
    fn write_until<T, F>(
        &self,
        deadline: Option<Instant>,
        f: F,
    ) -> impl Future<Output = Result<T>> + Send
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static;

    /// [`read_until`](Self::read_until) without a deadline.
    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        self.read_until(None, f)
    }

    /// [`write_until`](Self::write_until) without a deadline.
    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        self.write_until(None, f)
    }

    /// `true` when the database answers (the readiness check).
    fn ping(&self) -> impl Future<Output = bool> + Send;

    /// Copies the database to `target`: a consistent snapshot, taken while
    /// the service keeps serving.
    fn backup(&self, target: PathBuf) -> impl Future<Output = Result<()>> + Send;

    /// Keeps the query planner's statistics in step with the tables as they
    /// grow; usually it does nothing.
    fn refresh_statistics(&self) -> impl Future<Output = Result<()>> + Send;

    /// Readies the database for a clean stop, once nothing writes any more.
    fn empty_log(&self) -> Result<()>;
}
