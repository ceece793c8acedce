//! [`Db`]: the store the service runs on, one of the two engines, chosen
//! at start (`ACO_DATABASE_URL` for PostgreSQL, else SQLite at
//! `ACO_DATABASE_PATH`). Each call goes to that engine's [`Engine`]
//! implementation; nothing above the store knows which it is.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::postgres::PostgresConfig;
use super::{Engine, JournalMode, Postgres, Sqlite, StoreConfig, Tx};
use crate::error::Result;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub enum Db {
    /// The embedded default.
    Sqlite(Sqlite),
    /// A PostgreSQL-compatible engine (PostgreSQL, Aurora PostgreSQL,
    /// Aurora DSQL, CockroachDB).
    Postgres(Postgres),
}

impl Db {
    /// Opens (creating if needed) the SQLite database and brings its schema
    /// up to date.
    pub fn open(config: &StoreConfig) -> Result<Self> {
        Ok(Db::Sqlite(Sqlite::open(config)?))
    }

    /// The PostgreSQL database when one is configured, else the SQLite one.
    /// A PostgreSQL database is not migrated here: `aco-api migrate` does
    /// that, and [`Db::ready`] refuses one behind it.
    pub fn open_configured(store: &StoreConfig, postgres: Option<&PostgresConfig>) -> Result<Self> {
        match postgres {
            Some(config) => Ok(Db::Postgres(Postgres::connect(config)?)),
            None => Self::open(store),
        }
    }

    /// Refuses a database that cannot serve this version: on PostgreSQL,
    /// one that cannot be reached or lacks migration steps.
    pub async fn ready(&self) -> Result<()> {
        match self {
            Db::Sqlite(_) => Ok(()),
            Db::Postgres(db) => db.check_schema().await,
        }
    }

    /// Where the event feed stops reading: `None` on SQLite, whose single
    /// writer commits events in position order; on PostgreSQL, a position
    /// behind the clock that every transaction that may still commit is past.
    pub fn event_horizon(&self) -> Option<i64> {
        match self {
            Db::Sqlite(_) => None,
            Db::Postgres(db) => Some(db.event_horizon()),
        }
    }

    /// Runs SQLite's migrations only (the `migrate` command).
    pub fn migrate(path: &Path, journal_mode: JournalMode) -> Result<usize> {
        Sqlite::migrate(path, journal_mode)
    }
}

impl Engine for Db {
    async fn read_until<T, F>(&self, deadline: Option<Instant>, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        match self {
            Db::Sqlite(db) => db.read_until(deadline, f).await,
            Db::Postgres(db) => db.read_until(deadline, f).await,
        }
    }

    async fn write_until<T, F>(&self, deadline: Option<Instant>, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        let written = match self {
            Db::Sqlite(db) => db.write_until(deadline, f).await,
            Db::Postgres(db) => db.write_until(deadline, f).await,
        };
        if written.is_ok() {
            super::events::committed();
        }
        written
    }

    async fn ping(&self) -> bool {
        match self {
            Db::Sqlite(db) => db.ping().await,
            Db::Postgres(db) => db.ping().await,
        }
    }

    async fn backup(&self, target: PathBuf) -> Result<()> {
        match self {
            Db::Sqlite(db) => db.backup(target).await,
            Db::Postgres(db) => db.backup(target).await,
        }
    }

    async fn refresh_statistics(&self) -> Result<()> {
        match self {
            Db::Sqlite(db) => db.refresh_statistics().await,
            Db::Postgres(db) => db.refresh_statistics().await,
        }
    }

    fn empty_log(&self) -> Result<()> {
        match self {
            Db::Sqlite(db) => db.empty_log(),
            Db::Postgres(db) => db.empty_log(),
        }
    }
}
