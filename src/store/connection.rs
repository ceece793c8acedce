//! Opening a connection: the journal mode and the store's settings, the
//! pragmas every connection gets, and the count of statements run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// `journal_mode`: WAL locally, DELETE on network filesystems (EFS), where WAL's
/// shared memory does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[clap(rename_all = "UPPER")]
pub enum JournalMode {
    Wal,
    Delete,
}

impl JournalMode {
    fn pragma(self) -> &'static str {
        match self {
            JournalMode::Wal => "WAL",
            JournalMode::Delete => "DELETE",
        }
    }
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
    pub journal_mode: JournalMode,
    pub readers: usize,
    pub busy_timeout: Duration,
    /// Count every SQL statement run (see [`statements_run`]): for tests that
    /// prove a list page costs the same number of statements at any size.
    pub count_statements: bool,
}

static STATEMENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn count_statement(_event: rusqlite::trace::TraceEvent<'_>) {
    STATEMENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Counts a statement run on the PostgreSQL store (always counted there).
pub(super) fn count_postgres_statement() {
    STATEMENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

static ROUND_TRIPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts a round trip to a PostgreSQL server (a wait for its answer).
pub(super) fn count_postgres_round_trip() {
    ROUND_TRIPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// How many times the PostgreSQL store's connections opened with
/// `count_statements` waited for the server's answer.
pub fn round_trips_run() -> u64 {
    ROUND_TRIPS.load(std::sync::atomic::Ordering::Relaxed)
}

/// How many statements connections opened with `count_statements` have run
/// (the background checkpointer's are never counted), and statements run on
/// the PostgreSQL store.
pub fn statements_run() -> u64 {
    STATEMENTS.load(std::sync::atomic::Ordering::Relaxed)
}

impl StoreConfig {
    pub fn new(path: impl Into<PathBuf>, journal_mode: JournalMode) -> Self {
        StoreConfig {
            path: path.into(),
            journal_mode,
            readers: 4,
            busy_timeout: Duration::from_secs(5),
            count_statements: false,
        }
    }
}

pub(super) fn create_parent_dir(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Internal(format!("creating {}: {e}", dir.display())))?;
    }
    Ok(())
}

pub(super) fn open_connection(config: &StoreConfig, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(&config.path, flags)?;
    conn.busy_timeout(config.busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", config.journal_mode.pragma())?;
    }
    // FULL: a transaction is on disk before it is acknowledged, even in WAL mode
    // and even if the machine (not only the process) goes down.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.set_prepared_statement_cache_capacity(128);
    if read_only {
        // 8 MB of pages per reader instead of SQLite's 2 MB: with the smaller
        // cache a point read missed it once per request (a `pread`; see
        // BENCHMARKS.md, decision log), and only readers in use grow theirs.
        conn.pragma_update(None, "cache_size", -8192)?;
    }
    if config.count_statements {
        conn.trace_v2(
            rusqlite::trace::TraceEventCodes::SQLITE_TRACE_STMT,
            Some(count_statement),
        );
    }
    Ok(conn)
}
