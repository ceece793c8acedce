//! The embedded SQLite store: connection setup, migrations, and the two ways
//! every query runs.
//!
//! Writes go through a single writer connection owned by one thread, which
//! commits the writes waiting for it together (see [`writer`]): each write is
//! all or nothing, and answered once it is on disk. Reads use a small pool of
//! reader connections behind an async semaphore, each inside one deferred
//! transaction (a consistent snapshot), run where the request runs and moved
//! to a blocking thread if they run long, interrupted at their deadline.

pub mod agreements;
pub mod audit;
pub mod benefits;
pub mod customers;
pub mod pagination;
pub mod partners;
pub mod relationships;
pub mod requests;
pub mod usage;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};
use tokio::sync::Semaphore;

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

/// How many statements connections opened with `count_statements` have run
/// (the background checkpointer's are never counted).
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

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/0001_initial.sql")),
        M::up(include_str!(
            "../../migrations/0002_open_requests_by_id.sql"
        )),
        M::up(include_str!(
            "../../migrations/0003_partial_indexes_without_in_lists.sql"
        )),
        M::up(include_str!(
            "../../migrations/0004_indexes_instead_of_scans.sql"
        )),
        M::up(include_str!("../../migrations/0005_last_history_entry.sql")),
        M::up(include_str!(
            "../../migrations/0006_deadlines_as_instants.sql"
        )),
        M::up(include_str!("../../migrations/0007_usage_per_partner.sql")),
    ])
}

/// Runs one statement, compiled once per connection and kept
/// (`Connection::execute` would compile it on every call).
pub(crate) fn execute_cached(
    tx: &Tx<'_>,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
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

fn create_parent_dir(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Internal(format!("creating {}: {e}", dir.display())))?;
    }
    Ok(())
}

fn open_connection(config: &StoreConfig, read_only: bool) -> Result<Connection> {
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
        // 8 MB of pages per reader instead of SQLite's 2 MB: a point read of
        // the 10k benchmark missed the cache once per request (a `pread`),
        // and only readers in use grow theirs.
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

/// A connection inside an open transaction: what every read and write runs
/// in. [`Db::read`] and the writer make one; [`Tx::of`] wraps a transaction
/// opened elsewhere (tests, the dataset writer).
pub struct Tx<'c>(&'c Connection);

impl<'c> Tx<'c> {
    pub fn of(transaction: &'c rusqlite::Transaction<'_>) -> Self {
        Tx(transaction)
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.0
    }
}

/// Runs `f` in one deferred transaction on `conn` (a read-only connection),
/// then ends it. Its `BEGIN` and `ROLLBACK` are kept compiled: preparing them
/// for every read, as `Connection::transaction` does, was 3% of a point read.
fn read_transaction<T>(conn: &Connection, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
    conn.prepare_cached("BEGIN DEFERRED")?.execute([])?;
    let out = f(&Tx(conn));
    // A read changes nothing: ending it either way releases its snapshot.
    // SQLite may have ended it already (an I/O error rolls back).
    let ended = if conn.is_autocommit() {
        Ok(0)
    } else {
        conn.prepare_cached("ROLLBACK")
            .and_then(|mut end| end.execute([]))
    };
    let value = out?;
    ended?;
    Ok(value)
}

/// How long a read may run on an async worker before it moves to a
/// blocking thread (see [`Db::read_until`]).
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

impl Db {
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
        Ok(Db {
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

    /// Runs `f` in one write transaction on the writer connection. The
    /// transaction commits when `f` returns `Ok` and rolls back otherwise, so a
    /// refusal changes nothing.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.write_until(None, f).await
    }

    /// [`write`](Self::write), but rolled back instead of committed once
    /// `deadline` has passed: a request its caller stopped waiting for (a
    /// timeout) changes nothing.
    pub async fn write_until<T, F>(&self, deadline: Option<std::time::Instant>, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.writer.write(deadline, f).await
    }

    /// Copies the write-ahead log into the database and empties it (WAL mode
    /// only), for a clean stop: the next start opens an empty log instead of
    /// reading every page of it back. Call it once nothing writes any more.
    pub fn empty_log(&self) -> Result<()> {
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

    /// Runs `f` in one read transaction on a reader connection.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        self.read_until(None, f).await
    }

    /// [`read`](Self::read), interrupted once `deadline` has passed
    /// ([`Error::Timeout`]).
    ///
    /// A read starts where its request runs: most reads are short indexed
    /// lookups answered from the page cache, and handing each one to another
    /// thread and back (`spawn_blocking`, or `block_in_place`) halved the
    /// point reads a second the service answers. A read still running after
    /// [`INLINE_BUDGET`] is interrupted and run again, from its start, on a
    /// blocking thread (`f` is cloned for that): no read holds an async
    /// worker, and the requests it serves, for longer than the budget.
    pub async fn read_until<T, F>(&self, deadline: Option<Instant>, f: F) -> Result<T>
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

    /// Copies the database to `target` with SQLite's online backup: a
    /// consistent snapshot, taken while the service keeps serving.
    pub async fn backup(&self, target: PathBuf) -> Result<()> {
        self.read(move |tx| {
            let mut destination = Connection::open(&target)?;
            let backup = rusqlite::backup::Backup::new(tx, &mut destination)?;
            backup.run_to_completion(256, Duration::from_millis(5), None)?;
            Ok(())
        })
        .await
    }

    /// `true` when the database answers (the health check).
    pub async fn ping(&self) -> bool {
        self.read(|tx| Ok(tx.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await
            .is_ok()
    }
}

/// An object's id and name: what a list page shows of the customer or the
/// partner of each of its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedRow {
    pub id: crate::domain::ids::ObjectId,
    pub name: String,
}

impl NamedRow {
    /// Reads a row of two columns: the id, then the name.
    pub(crate) fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<NamedRow> {
        Ok(NamedRow {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    }
}

/// Stored text columns that hold an enum, a decimal, an instant or an id.
pub mod columns {
    use crate::domain::ids::ObjectId;
    use crate::domain::money;
    use chrono::{DateTime, NaiveDate, Utc};
    use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn text_of(value: ValueRef<'_>) -> FromSqlResult<&str> {
        value.as_str()
    }

    fn other<E: std::error::Error + Send + Sync + 'static>(e: E) -> FromSqlError {
        FromSqlError::Other(Box::new(e))
    }

    fn not_a(what: &str, text: &str) -> FromSqlError {
        FromSqlError::Other(format!("not {what}: {text:?}").into())
    }

    macro_rules! enum_columns {
        ($($t:ty),+ $(,)?) => {$(
            impl ToSql for $t {
                fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                    Ok(ToSqlOutput::from(self.as_str()))
                }
            }
            impl FromSql for $t {
                fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                    <$t>::from_str(text_of(value)?).map_err(other)
                }
            }
        )+};
    }

    use crate::domain::*;
    enum_columns!(
        PartnerType,
        CustomerSegment,
        OrganizationKind,
        RelationshipStatus,
        AcceptanceMethod,
        AgreementStatus,
        AcoRequestStatus,
        AcoScenario,
        GrantStatus,
        BenefitCreditKind,
        BenefitPurpose,
        SupportPlan,
        Role,
    );

    impl ToSql for ObjectId {
        fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::from(self.as_str()))
        }
    }
    impl FromSql for ObjectId {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            Ok(ObjectId::from_trusted(text_of(value)?.to_owned()))
        }
    }

    /// A month as `YYYY-MM` text.
    impl FromSql for crate::domain::time::Month {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            text_of(value)?.parse().map_err(other)
        }
    }

    /// Money as canonical text.
    pub struct Money(pub Decimal);
    impl ToSql for Money {
        fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::from(money::to_text(self.0)))
        }
    }
    impl FromSql for Money {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            money::parse_money(text_of(value)?)
                .map(Money)
                .map_err(other)
        }
    }

    /// An instant as RFC 3339 UTC text.
    pub fn instant(at: DateTime<Utc>) -> String {
        crate::domain::time::instant_text(at)
    }

    /// Reads an RFC 3339 instant column.
    pub struct Instant(pub DateTime<Utc>);
    impl FromSql for Instant {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            let text = text_of(value)?;
            crate::domain::time::parse_instant(text)
                .map(Instant)
                .ok_or_else(|| not_a("an RFC 3339 instant", text))
        }
    }

    /// Reads a `YYYY-MM-DD` column.
    pub struct Date(pub NaiveDate);
    impl FromSql for Date {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            let text = text_of(value)?;
            crate::domain::time::parse_date(text)
                .map(Date)
                .ok_or_else(|| not_a("a YYYY-MM-DD date", text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }

    /// SQLite evaluates a partial index's condition for the old and the new row
    /// of every write; an `IN` list of more than two constants there is a
    /// temporary b-tree built each time. Migration 0003 writes them as
    /// comparisons: a status change of a request builds one temporary b-tree
    /// (for the CHECK of its status), not five.
    #[test]
    fn a_status_change_builds_no_temporary_tree_for_the_partial_indexes() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let temporary_trees = |sql: &str| -> usize {
            let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
            let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
            let ops = stmt
                .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(1))
                .unwrap();
            ops.filter(|op| op.as_deref() == Ok("OpenEphemeral"))
                .count()
        };
        let status_change = "UPDATE aco_requests SET status = ?1, due_at = ?2 WHERE id = ?3";
        assert_eq!(temporary_trees(status_change), 1);
        let due_change = "UPDATE aco_requests SET due_at = ?1 WHERE id = ?2";
        assert_eq!(temporary_trees(due_change), 0);
    }

    /// ELIG-13 held by the database too, with the partial index of migration
    /// 0003: a second unfinished request of a customer is refused, a finished
    /// one beside it is not.
    /// A request row of customer `cus_1` and partner `prt_1` (foreign keys off).
    fn insert_request(conn: &Connection, id: &str, status: &str) -> rusqlite::Result<usize> {
        conn.execute(
            "INSERT INTO aco_requests (id, customer_id, partner_id, status, scenario, workloads, \
                timeline_start, timeline_end, estimated_acr, aco_amount, stage_entered_at, \
                submitted_at, submitted_by, updated_at) \
             VALUES (?1, 'cus_1', 'prt_1', ?2, 'MIGRATION', '[]', '2027-01-01', '2027-06-01', \
                '1.00', '1.00', 't', 't', 's', 't')",
            [id, status],
        )
    }

    #[test]
    fn elig_13_the_database_keeps_one_unfinished_request_per_customer() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_latest(&mut conn).unwrap();
        // Only the index is under test, not the customer and partner rows.
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        let insert = |id: &str, status: &str| insert_request(&conn, id, status);
        insert("req_1", "FINANCE_REVIEW").unwrap();
        insert("req_2", "REJECTED").unwrap();
        insert("req_3", "ACTIVE").unwrap();
        for open in ["SUBMITTED", "NEEDS_INFO", "AWAITING_SIGNATURE"] {
            let refused = insert("req_4", open).unwrap_err().to_string();
            assert!(refused.contains("UNIQUE"), "{open}: {refused}");
        }
    }

    /// FLOW-19: which states run the service-level clock is the domain's
    /// (`sla::clock_runs`); the overdue list's condition and the partial index
    /// it searches say the same, word for word.
    #[test]
    fn the_clock_runs_in_the_same_states_for_the_domain_the_queries_and_the_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_latest(&mut conn).unwrap();
        for status in crate::domain::AcoRequestStatus::ALL {
            let runs: bool = conn
                .query_row(
                    &format!(
                        "SELECT {} FROM (SELECT ?1 AS status, 'due' AS due_at) q",
                        requests::CLOCK_RUNNING
                    ),
                    [status.as_str()],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(runs, crate::domain::sla::clock_runs(*status), "{status}");
        }
        let index: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'aco_requests_open_by_id'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let condition = words(&requests::CLOCK_RUNNING.replace("q.", ""));
        assert!(
            words(&index).ends_with(&format!("WHERE {condition}")),
            "{index}"
        );
    }

    /// AGR-4, FLOW-19: deadlines stored as their last whole second (23:59:59
    /// in the programme time zone) become the first instant at which they
    /// have passed; any other instant is left as it is.
    #[test]
    fn stored_deadlines_become_the_instant_they_have_passed() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_version(&mut conn, 5).unwrap();
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        insert_request(&conn, "req_1", "AWAITING_SIGNATURE").unwrap();
        insert_request(&conn, "req_2", "CANCELLED").unwrap();
        conn.execute_batch(
            "UPDATE aco_requests SET due_at = '2027-07-31T23:59:59.000000Z' WHERE id = 'req_1';
             UPDATE aco_requests SET due_at = '2027-07-31T12:00:00.000000Z' WHERE id = 'req_2';
             INSERT INTO aco_agreements (id, request_id, customer_id, status, signer_name, signer_email,
                credit_period_months, aco_amount, published_at, published_by, expires_at)
             VALUES ('agr_1', 'req_1', 'cus_1', 'PUBLISHED', 'J', 'j@x.com', 12, '1.00', 't', 's',
                '2027-08-01T06:59:59.000000Z');",
        )
        .unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let text = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, String>(0)).unwrap();
        assert_eq!(
            text("SELECT due_at FROM aco_requests WHERE id = 'req_1'"),
            "2027-08-01T00:00:00.000000Z"
        );
        assert_eq!(
            text("SELECT due_at FROM aco_requests WHERE id = 'req_2'"),
            "2027-07-31T12:00:00.000000Z"
        );
        assert_eq!(
            text("SELECT expires_at FROM aco_agreements"),
            "2027-08-01T07:00:00.000000Z"
        );
    }

    /// A database from before the request's last history entry was stored
    /// gets it filled in; from then on the database keeps it as entries are appended.
    #[test]
    fn each_request_points_to_its_newest_history_entry_before_and_after_the_migration() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_version(&mut conn, 4).unwrap();
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        let request = |conn: &Connection, id: &str| {
            insert_request(conn, id, "REJECTED").unwrap();
        };
        let entry = |conn: &Connection, id: &str| -> i64 {
            conn.execute(
                "INSERT INTO aco_request_history (request_id, at, actor_subject, actor_role, action, to_status) \
                 VALUES (?1, 't', 's', 'PLSR', 'SUBMIT', 'SUBMITTED')",
                [id],
            )
            .unwrap();
            conn.last_insert_rowid()
        };
        let last = |conn: &Connection, id: &str| -> Option<i64> {
            conn.query_row(
                "SELECT last_history_id FROM aco_requests WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
        };
        request(&conn, "req_1");
        request(&conn, "req_2");
        request(&conn, "req_3");
        entry(&conn, "req_1");
        let newest_of_2 = entry(&conn, "req_2");
        let newest_of_1 = entry(&conn, "req_1");
        migrations().to_latest(&mut conn).unwrap();
        assert_eq!(last(&conn, "req_1"), Some(newest_of_1));
        assert_eq!(last(&conn, "req_2"), Some(newest_of_2));
        assert_eq!(last(&conn, "req_3"), None);
        let appended = entry(&conn, "req_2");
        assert_eq!(last(&conn, "req_2"), Some(appended));
        assert_eq!(last(&conn, "req_1"), Some(newest_of_1));
    }

    #[tokio::test]
    async fn the_log_is_copied_into_the_database_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aco.db");
        let db = Db::open(&StoreConfig::new(&path, JournalMode::Wal)).unwrap();
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
        while size() <= before + 200 * 4000 && waited.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(size() > before + 200 * 4000, "{before} -> {}", size());
    }

    /// The sweep's queries (run at start and every five minutes) and a
    /// partner's customers each search an index; none reads a whole table.
    #[test]
    fn the_sweep_and_a_partner_s_customers_search_indexes_and_scan_no_table() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_latest(&mut conn).unwrap();
        for sql in [
            format!("SELECT a.id {}", agreements::OVERDUE_PUBLISHED),
            usage::CUSTOMERS_WITH_ENDED_GRANTS.to_owned(),
            format!("SELECT id {}", partners::REMEDIATION_OVERDUE),
            format!(
                "SELECT c.id FROM {} WHERE rr.partner_id = ?1 AND rr.status = 'ACTIVE' \
                 AND rr.customer_id > ?1 ORDER BY rr.customer_id LIMIT 21",
                customers::PARTNER_CUSTOMERS
            ),
        ] {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = stmt
                .query_map([rusqlite::types::Null], |r| r.get(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(
                plan.iter().any(|step| step.starts_with("SEARCH")),
                "{sql}: {plan:?}"
            );
            assert!(
                !plan.iter().any(|step| step.starts_with("SCAN")),
                "{sql}: {plan:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_clean_stop_leaves_an_empty_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aco.db");
        let db = Db::open(&StoreConfig::new(&path, JournalMode::Wal)).unwrap();
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
        let db = Db::open(&config).unwrap();
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

    #[tokio::test]
    async fn history_tables_refuse_updates_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&StoreConfig::new(dir.path().join("t.db"), JournalMode::Wal)).unwrap();
        db.write(|tx| {
            tx.execute(
                "INSERT INTO change_log (entity_id, at, actor_subject, actor_role, action) \
                 VALUES ('x', '2027-01-01T00:00:00Z', 's', 'PROGRAM_ADMIN', 'CREATED')",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
        let update = db
            .write(|tx| Ok(tx.execute("UPDATE change_log SET action = 'X'", [])?))
            .await;
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = db
            .write(|tx| Ok(tx.execute("DELETE FROM change_log", [])?))
            .await;
        assert!(delete.unwrap_err().to_string().contains("append-only"));
    }

    /// A read that would never end stops at its deadline, answers
    /// `Timeout`, and leaves its connection fit for the next read.
    #[tokio::test]
    async fn a_read_past_its_deadline_is_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&StoreConfig::new(dir.path().join("t.db"), JournalMode::Wal)).unwrap();
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
        let db = Db::open(&StoreConfig::new(dir.path().join("t.db"), JournalMode::Wal)).unwrap();
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
}
