//! The embedded SQLite store's [`Engine`] ([`Sqlite`]): the writer, the
//! pool of reader connections, and the deadline that interrupts a read.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use super::connection::{create_parent_dir, open_connection};
use super::tx::read_transaction;
use super::{Engine, JournalMode, StoreConfig, Tx, migrations, writer};
use crate::error::{Error, Result};

/// Handle to the SQLite database; cheap to clone.
#[derive(Clone)]
pub struct Sqlite {
    inner: Arc<Inner>,
}

struct Inner {
    config: StoreConfig,
    writer: writer::Writer,
    readers: Mutex<Vec<Reader>>,
    reader_permits: Arc<Semaphore>,
}

/// A read-only connection and the deadline of the read it runs: SQLite calls
/// back every [`PROGRESS_STEPS`] virtual-machine steps, and a read past its
/// deadline is interrupted there (`SQLITE_INTERRUPT`), whoever still waits
/// for it.
struct Reader {
    conn: Connection,
    deadline: Arc<AtomicU64>,
}

/// How often (in SQLite virtual-machine steps) a read checks its deadline:
/// about every 0.1 ms of work.
const PROGRESS_STEPS: std::ffi::c_int = 4_096;

/// Deadlines are kept as nanoseconds after this instant; 0 is "none".
static EPOCH: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);

fn encode_deadline(deadline: Option<Instant>) -> u64 {
    deadline.map_or(0, |d| {
        u64::try_from(d.saturating_duration_since(*EPOCH).as_nanos())
            .unwrap_or(u64::MAX)
            .max(1)
    })
}

impl Reader {
    fn open(config: &StoreConfig) -> Result<Self> {
        let conn = open_connection(config, true)?;
        let deadline = Arc::new(AtomicU64::new(0));
        let watched = deadline.clone();
        conn.progress_handler(
            PROGRESS_STEPS,
            Some(move || {
                let at = watched.load(AtomicOrdering::Relaxed);
                at != 0 && encode_deadline(Some(Instant::now())) >= at
            }),
        );
        Ok(Reader { conn, deadline })
    }
}

/// How long a read may run on an async worker before it moves to a
/// blocking thread (see `Sqlite`'s [`Engine::read_until`](super::Engine::read_until)).
pub const INLINE_BUDGET: Duration = Duration::from_millis(10);

impl Inner {
    /// Runs `f` in one read transaction on a pooled reader, interrupted at
    /// `stop`.
    fn read_on_pool<T>(
        &self,
        stop: Option<Instant>,
        f: impl FnOnce(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let pooled = self
            .readers
            .lock()
            .map_err(|_| Error::Internal("reader pool poisoned".into()))?
            .pop();
        // A connection is lost only if a read panicked; replace it.
        let reader = match pooled {
            Some(reader) => reader,
            None => Reader::open(&self.config)?,
        };
        reader
            .deadline
            .store(encode_deadline(stop), AtomicOrdering::Relaxed);
        let out = read_transaction(&reader.conn, f);
        reader.deadline.store(0, AtomicOrdering::Relaxed);
        // A connection left inside a transaction (its end failed) is closed,
        // not reused.
        if reader.conn.is_autocommit()
            && let Ok(mut pool) = self.readers.lock()
        {
            pool.push(reader);
        }
        out
    }
}

impl Sqlite {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(config: &StoreConfig) -> Result<Self> {
        create_parent_dir(&config.path)?;
        let mut writer = open_connection(config, false)?;
        migrations()
            .to_latest(&mut writer)
            .map_err(|e| Error::Internal(format!("migrating the database: {e}")))?;
        let readers = (0..config.readers.max(1))
            .map(|_| Reader::open(config))
            .collect::<Result<Vec<_>>>()?;
        let checkpointer = match config.journal_mode {
            // Not counted: its timed checkpoints are no request's statements.
            JournalMode::Wal => Some(open_connection(
                &StoreConfig {
                    count_statements: false,
                    ..config.clone()
                },
                false,
            )?),
            JournalMode::Delete => None,
        };
        Ok(Sqlite {
            inner: Arc::new(Inner {
                config: config.clone(),
                writer: writer::Writer::start(writer, checkpointer)?,
                reader_permits: Arc::new(Semaphore::new(readers.len())),
                readers: Mutex::new(readers),
            }),
        })
    }

    /// Runs migrations only (the `migrate` command).
    pub fn migrate(path: &Path, journal_mode: JournalMode) -> Result<usize> {
        let config = StoreConfig::new(path, journal_mode);
        create_parent_dir(path)?;
        let mut conn = open_connection(&config, false)?;
        migrations()
            .to_latest(&mut conn)
            .map_err(|e| Error::Internal(format!("migrating the database: {e}")))?;
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(version)
    }
}

impl Engine for Sqlite {
    /// On the single writer thread, in a savepoint of the batch it commits
    /// with (group commit). SQLite's one writer never conflicts: `f` runs once.
    async fn write_until<T, F>(&self, deadline: Option<Instant>, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        self.inner.writer.write(deadline, f).await
    }

    /// Keeps the query planner's statistics in step with the tables as they
    /// grow: SQLite looks at every table and analyses, with a bounded effort,
    /// those that have no statistics yet or have grown or shrunk many times
    /// over since (`PRAGMA optimize`); usually it does nothing.
    async fn refresh_statistics(&self) -> Result<()> {
        self.write(|tx| Ok(tx.execute_batch("PRAGMA optimize = 0x10002")?))
            .await
    }

    /// Copies the write-ahead log into the database and empties it (WAL mode
    /// only), for a clean stop: the next start opens an empty log instead of
    /// reading every page of it back. Call it once nothing writes any more.
    fn empty_log(&self) -> Result<()> {
        if self.inner.config.journal_mode != JournalMode::Wal {
            return Ok(());
        }
        let conn = open_connection(&self.inner.config, false)?;
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy != 0 {
            return Err(Error::Internal(
                "the write-ahead log is in use; it is left for the next start".into(),
            ));
        }
        Ok(())
    }

    /// A read starts where its request runs: most reads are short indexed
    /// lookups answered from the page cache, and handing each one to another
    /// thread and back (`spawn_blocking`, or `block_in_place`) halved the
    /// point reads a second the service answers. A read still running after
    /// [`INLINE_BUDGET`] is interrupted and run again, from its start, on a
    /// blocking thread (a copy of `f` runs for that): no read holds an async
    /// worker, and the requests it serves, for longer than the budget.
    async fn read_until<T, F>(&self, deadline: Option<Instant>, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        let permit = self
            .inner
            .reader_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Internal("reader pool closed".into()))?;
        // On a runtime with one thread there is no other worker to keep free
        // (the command line, tests): the read runs where it is.
        let budget = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
            .then(|| Instant::now() + INLINE_BUDGET);
        let stop = match (budget, deadline) {
            (Some(budget), Some(deadline)) => Some(budget.min(deadline)),
            (budget, deadline) => budget.or(deadline),
        };
        let first = self.inner.read_on_pool(stop, f.clone());
        let over_budget = matches!(first, Err(Error::Timeout))
            && budget.is_some()
            && deadline.is_none_or(|d| Instant::now() < d);
        if !over_budget {
            return first;
        }
        let inner = self.inner.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let _permit = permit;
            inner.read_on_pool(deadline, f)
        })
        .await
        .map_err(|e| Error::Internal(format!("a read failed: {e}")))?
    }

    /// SQLite's online backup: a consistent snapshot, taken while the
    /// service keeps serving.
    async fn backup(&self, target: PathBuf) -> Result<()> {
        self.read(move |tx| {
            let mut destination = Connection::open(&target)?;
            let backup = rusqlite::backup::Backup::new(tx, &mut destination)?;
            backup.run_to_completion(256, Duration::from_millis(5), None)?;
            Ok(())
        })
        .await
    }

    async fn ping(&self) -> bool {
        self.read(|tx| Ok(tx.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_log_is_copied_into_the_database_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aco.db");
        let db = Sqlite::open(&StoreConfig::new(&path, JournalMode::Wal)).unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        db.write(|tx| {
            tx.execute_batch("CREATE TABLE scratch (x BLOB)")?;
            for _ in 0..200 {
                tx.execute("INSERT INTO scratch VALUES (zeroblob(4000))", [])?;
            }
            Ok(())
        })
        .await
        .unwrap();
        let before = size();
        let waited = std::time::Instant::now();
        // Within a few passes on an idle machine; the bound is for a loaded one.
        while size() <= before + 200 * 4000 && waited.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(size() > before + 200 * 4000, "{before} -> {}", size());
    }

    #[tokio::test]
    async fn a_clean_stop_leaves_an_empty_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aco.db");
        let db = Sqlite::open(&StoreConfig::new(&path, JournalMode::Wal)).unwrap();
        db.write(|tx| {
            tx.execute_batch("CREATE TABLE scratch (x BLOB)")?;
            tx.execute("INSERT INTO scratch VALUES (zeroblob(40000))", [])?;
            Ok(())
        })
        .await
        .unwrap();
        let log = dir.path().join("aco.db-wal");
        assert!(std::fs::metadata(&log).unwrap().len() > 40000);
        db.empty_log().unwrap();
        assert_eq!(std::fs::metadata(&log).unwrap().len(), 0);
        let n: i64 = db
            .read(|tx| Ok(tx.query_row("SELECT length(x) FROM scratch", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(n, 40000);
    }

    /// A read is one snapshot: a write committed between two of its statements
    /// is not seen until the next read. A read that fails ends its transaction
    /// all the same, and the pool's connections keep serving.
    #[tokio::test]
    async fn a_read_is_one_snapshot_and_a_failed_read_ends_its_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = StoreConfig::new(dir.path().join("r.db"), JournalMode::Wal);
        config.readers = 1;
        let db = Sqlite::open(&config).unwrap();
        db.write(|tx| Ok(tx.execute_batch("CREATE TABLE n (x INTEGER)")?))
            .await
            .unwrap();
        fn count(tx: &Tx<'_>) -> Result<i64> {
            Ok(tx.query_row("SELECT count(*) FROM n", [], |r| r.get(0))?)
        }
        let path = config.path.clone();
        let (before, after) = db
            .read(move |tx| {
                let before = count(tx)?;
                let other = Connection::open(&path)?;
                other.execute("INSERT INTO n VALUES (1)", [])?;
                Ok((before, count(tx)?))
            })
            .await
            .unwrap();
        assert_eq!((before, after), (0, 0));
        for _ in 0..3 {
            let failed = db
                .read(|tx| {
                    count(tx)?;
                    tx.query_row("SELECT no_such_column FROM n", [], |r| r.get::<_, i64>(0))?;
                    Ok(())
                })
                .await;
            assert!(failed.is_err());
            assert_eq!(db.read(count).await.unwrap(), 1);
            let in_transaction = db.read(|tx| Ok(!tx.is_autocommit())).await.unwrap();
            assert!(in_transaction);
        }
        assert_eq!(db.inner.readers.lock().unwrap().len(), 1);
    }

    /// A read that would never end stops at its deadline, answers
    /// `Timeout`, and leaves its connection fit for the next read.
    #[tokio::test]
    async fn a_read_past_its_deadline_is_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let db =
            Sqlite::open(&StoreConfig::new(dir.path().join("t.db"), JournalMode::Wal)).unwrap();
        let endless = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) \
                       SELECT count(*) FROM n";
        for _ in 0..2 * db.inner.config.readers {
            let started = Instant::now();
            let out = db
                .read_until(Some(started + Duration::from_millis(100)), move |tx| {
                    Ok(tx.query_row(endless, [], |r| r.get::<_, i64>(0))?)
                })
                .await;
            assert!(matches!(out, Err(Error::Timeout)), "{out:?}");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{:?}",
                started.elapsed()
            );
        }
        assert!(db.ping().await);
        // Without a deadline a read runs to its end.
        let counted = db
            .read(|tx| {
                Ok(tx.query_row(
                    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000) \
                     SELECT count(*) FROM n",
                    [],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(counted, 100_000);
    }

    /// A long read on an async worker moves to a blocking thread once past
    /// its budget, and gives the right answer there: the worker's other
    /// tasks keep running meanwhile (here, the only worker's).
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_long_read_leaves_the_async_worker_free() {
        let dir = tempfile::tempdir().unwrap();
        let db =
            Sqlite::open(&StoreConfig::new(dir.path().join("t.db"), JournalMode::Wal)).unwrap();
        let ticks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ticker = {
            let ticks = ticks.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    ticks.fetch_add(1, AtomicOrdering::Relaxed);
                }
            })
        };
        let started = Instant::now();
        let count = tokio::spawn(async move {
            db.read(|tx| {
                Ok(tx.query_row(
                    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000000) \
                     SELECT count(*) FROM n",
                    [],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .await
        })
        .await
        .unwrap()
        .unwrap();
        let took = started.elapsed();
        ticker.abort();
        assert_eq!(count, 2_000_000);
        assert!(
            took > INLINE_BUDGET * 4,
            "the read was meant to be long: {took:?}"
        );
        let ticked = ticks.load(AtomicOrdering::Relaxed);
        // A worker held by the read would not have ticked at all.
        assert!(
            ticked as u128 * 5 * 4 >= took.as_millis(),
            "{ticked} ticks of 5 ms in {took:?}"
        );
    }

    /// A table that grew without statistics gets them; the planner then
    /// knows its size.
    #[tokio::test]
    async fn a_grown_table_gets_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let db =
            Sqlite::open(&StoreConfig::new(dir.path().join("s.db"), JournalMode::Wal)).unwrap();
        db.write(|tx| {
            tx.execute_batch(
                "CREATE TABLE grown (k INTEGER, v TEXT);
                 CREATE INDEX grown_k ON grown (k);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
                 INSERT INTO grown SELECT i % 50, 'x' FROM n;",
            )?;
            Ok(())
        })
        .await
        .unwrap();
        async fn stats(db: &Sqlite) -> Result<Option<String>> {
            db.read(|tx| {
                let exists: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1')",
                    [],
                    |r| r.get(0),
                )?;
                if !exists {
                    return Ok(None);
                }
                Ok(tx
                    .query_row(
                        "SELECT stat FROM sqlite_stat1 WHERE idx = 'grown_k'",
                        [],
                        |r| r.get::<_, String>(0),
                    )
                    .ok())
            })
            .await
        }
        assert_eq!(stats(&db).await.unwrap(), None);
        db.refresh_statistics().await.unwrap();
        let stat = stats(&db).await.unwrap().expect("statistics for grown_k");
        assert!(stat.starts_with("5000 "), "{stat}");
    }
}
