//! The transaction every query runs in ([`Tx`]): how a read's transaction
//! begins and ends, and running a statement compiled once per connection.

use rusqlite::Connection;

use crate::error::{Error, Result};

/// A connection inside an open transaction: what every read and write runs
/// in. The engines make one for each use case; [`Tx::of`] wraps a SQLite
/// transaction opened elsewhere (tests, the dataset writer).
///
/// Statements go through [`Tx::row`], [`Tx::rows`] and [`Tx::exec`], which
/// run on either engine: SQL written with `?1`, `?2`… placeholders (sent to
/// PostgreSQL as `$1`, `$2`…), parameters that both engines take
/// ([`Param`]) and columns both read ([`Column`]). Code not yet moved to
/// them reaches SQLite's connection through `Deref`, which a PostgreSQL
/// transaction refuses.
pub struct Tx<'c>(Conn<'c>);

enum Conn<'c> {
    Sqlite(&'c Connection),
    Postgres {
        /// The connection, inside the transaction the engine began.
        session: &'c std::cell::RefCell<super::postgres::Session>,
        /// Whether its statements count in [`statements_run`](super::statements_run).
        counted: bool,
        /// When this attempt wrote its first event (see `store::events`).
        first_event: &'c std::cell::Cell<Option<std::time::Instant>>,
    },
}

impl<'c> Tx<'c> {
    /// `true` on the PostgreSQL store, where a statement's SQL differs.
    pub fn is_postgres(&self) -> bool {
        matches!(self.0, Conn::Postgres { .. })
    }

    pub fn of(transaction: &'c rusqlite::Transaction<'_>) -> Self {
        Tx(Conn::Sqlite(transaction))
    }

    pub(super) fn sqlite(conn: &'c Connection) -> Self {
        Tx(Conn::Sqlite(conn))
    }

    /// A PostgreSQL connection inside the transaction the engine began;
    /// its statements counted in [`statements_run`](super::statements_run)
    /// when `counted`.
    pub(super) fn postgres(
        session: &'c std::cell::RefCell<super::postgres::Session>,
        counted: bool,
        first_event: &'c std::cell::Cell<Option<std::time::Instant>>,
    ) -> Self {
        Tx(Conn::Postgres {
            session,
            counted,
            first_event,
        })
    }

    /// Notes that the transaction wrote an event now (PostgreSQL): the engine
    /// commits it within [`EVENT_COMMIT_WINDOW`] of the first, or not at all.
    pub(super) fn wrote_event(&self) {
        if let Conn::Postgres { first_event, .. } = &self.0
            && first_event.get().is_none()
        {
            first_event.set(Some(std::time::Instant::now()));
        }
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match &self.0 {
            Conn::Sqlite(conn) => conn,
            Conn::Postgres { .. } => {
                panic!("a statement written for SQLite alone ran on the PostgreSQL store")
            }
        }
    }
}

/// A statement parameter both engines take.
pub trait Param: rusqlite::ToSql + tokio_postgres::types::ToSql + Sync {}
impl<T: rusqlite::ToSql + tokio_postgres::types::ToSql + Sync> Param for T {}

/// A column type both engines read.
pub trait Column: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a> {}
impl<T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a>> Column for T {}

/// A row of either engine.
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `index` (from 0).
    pub fn get<T: Column>(&self, index: usize) -> Result<T> {
        match self {
            Row::Sqlite(row) => Ok(row.get(index)?),
            Row::Postgres(row) => row.try_get(index).map_err(postgres_error),
        }
    }
}

/// What a PostgreSQL error means to the service: a conflict with a
/// concurrent transaction, to run again ([`Error::Contended`]); a statement
/// stopped at its deadline ([`Error::Timeout`]); anything else, internal.
pub(crate) fn postgres_error(error: tokio_postgres::Error) -> Error {
    let said = super::postgres::said(&error);
    match error.code().map(tokio_postgres::error::SqlState::code) {
        Some(code) if RETRIED.contains(&code) || LOST.contains(&code) => Error::Contended(said),
        Some("57014") => Error::Timeout,
        _ if error.is_closed() => Error::Contended(format!("the connection was lost: {said}")),
        _ => Error::Internal(format!("the database: {said}")),
    }
}

/// The SQLSTATEs of a connection the server ended (an administrator, a
/// restart, a failover): before a commit is sent nothing of the
/// transaction remains, and it runs again on another connection.
pub(crate) const LOST: [&str; 3] = ["57P01", "57P02", "57P03"];

/// The SQLSTATEs of a transaction that lost to a concurrent one: a
/// serialization failure (`40001`: PostgreSQL, CockroachDB, Aurora DSQL),
/// a deadlock (`40P01`), Aurora DSQL's optimistic concurrency conflicts on
/// data (`OC000`) and on the schema (`OC001`), and a primary key taken by a
/// concurrent insert (`23505`: a history id two processes made at once,
/// or a row of `open_requests` a concurrent submission wrote first; run
/// again, the use case sees the other's row and answers as the rules say).
pub(crate) const RETRIED: [&str; 5] = ["40001", "40P01", "OC000", "OC001", "23505"];

/// `sql` as PostgreSQL takes it: SQLite's placeholders, numbered (`?1`) or
/// not (`?`, one more than the highest before it, as SQLite counts them), as
/// PostgreSQL's (`$1`), and SQLite's index hints (`INDEXED BY name`) left
/// out, PostgreSQL's planner choosing for itself.
pub(super) fn postgres_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quoted = false;
    let mut highest = 0_usize;
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c == '\'' {
            quoted = !quoted;
        }
        if quoted {
            out.push(c);
        } else if c == '?' {
            let digits = rest.len() - rest.trim_start_matches(|d: char| d.is_ascii_digit()).len();
            let number = match rest[..digits].parse::<usize>() {
                Ok(n) => n,
                Err(_) => highest + 1,
            };
            highest = highest.max(number);
            rest = &rest[digits..];
            out.push('$');
            out.push_str(&number.to_string());
        } else if c == ' ' && rest.starts_with("INDEXED BY ") {
            let hint = &rest["INDEXED BY ".len()..];
            rest = hint.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
            out.push(' ');
            rest = rest.trim_start_matches(' ');
        } else {
            out.push(c);
        }
    }
    out
}

impl Tx<'_> {
    /// Runs `run` on the PostgreSQL connection, counting `statements`.
    fn on_postgres<T>(
        session: &std::cell::RefCell<super::postgres::Session>,
        counted: bool,
        statements: usize,
        run: impl FnOnce(&mut super::postgres::Session) -> std::result::Result<T, tokio_postgres::Error>,
    ) -> Result<T> {
        if counted {
            for _ in 0..statements {
                super::connection::count_postgres_statement();
            }
        }
        run(&mut session.borrow_mut()).map_err(postgres_error)
    }

    /// The first row `sql` answers, read by `map`; `None` if there is none.
    pub fn row<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        match &self.0 {
            Conn::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                let mut rows = statement.query(sqlite_params(params))?;
                match rows.next()? {
                    Some(row) => map(&Row::Sqlite(row)).map(Some),
                    None => Ok(None),
                }
            }
            Conn::Postgres {
                session, counted, ..
            } => {
                let rows = Self::on_postgres(session, *counted, 1, |session| {
                    session.rows(sql, &postgres_params(params))
                })?;
                match rows.first() {
                    Some(row) => map(&Row::Postgres(row)).map(Some),
                    None => Ok(None),
                }
            }
        }
    }

    /// Every row `sql` answers, each read by `map`.
    pub fn rows<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        match &self.0 {
            Conn::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                let mut rows = statement.query(sqlite_params(params))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(map(&Row::Sqlite(row))?);
                }
                Ok(out)
            }
            Conn::Postgres {
                session, counted, ..
            } => {
                let rows = Self::on_postgres(session, *counted, 1, |session| {
                    session.rows(sql, &postgres_params(params))
                })?;
                rows.iter().map(|row| map(&Row::Postgres(row))).collect()
            }
        }
    }

    /// Runs `lookups`, statements that do not depend on each other, each
    /// row to its lookup: on PostgreSQL in one round trip.
    pub fn together(&self, lookups: &[&dyn super::among::Lookup]) -> Result<()> {
        let wanted: Vec<(&dyn super::among::Lookup, super::among::Statement<'_>)> = lookups
            .iter()
            .filter_map(|l| l.statement().map(|s| (*l, s)))
            .collect();
        match &self.0 {
            Conn::Sqlite(conn) => {
                for (lookup, (sql, params)) in &wanted {
                    let mut statement = conn.prepare_cached(sql)?;
                    let mut rows = statement.query(sqlite_params(params))?;
                    while let Some(row) = rows.next()? {
                        lookup.take(&Row::Sqlite(row))?;
                    }
                }
                Ok(())
            }
            Conn::Postgres {
                session, counted, ..
            } => {
                if wanted.is_empty() {
                    return Ok(());
                }
                let params: Vec<_> = wanted
                    .iter()
                    .map(|(_, (_, p))| postgres_params(p))
                    .collect();
                let statements: Vec<(&str, &[&(dyn tokio_postgres::types::ToSql + Sync)])> = wanted
                    .iter()
                    .zip(&params)
                    .map(|((_, (sql, _)), params)| (*sql, params.as_slice()))
                    .collect();
                let answers = Self::on_postgres(session, *counted, statements.len(), |session| {
                    session.rows_together(&statements)
                })?;
                for ((lookup, _), rows) in wanted.iter().zip(answers) {
                    for row in &rows {
                        lookup.take(&Row::Postgres(row))?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Runs a statement that answers no rows; how many rows it changed.
    pub fn exec(&self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        match &self.0 {
            Conn::Sqlite(conn) => Ok(conn.prepare_cached(sql)?.execute(sqlite_params(params))?),
            Conn::Postgres {
                session, counted, ..
            } => {
                let changed = Self::on_postgres(session, *counted, 1, |session| {
                    session.execute(sql, &postgres_params(params))
                })?;
                Ok(usize::try_from(changed).unwrap_or(usize::MAX))
            }
        }
    }
}

impl Tx<'_> {
    /// The id of a new entry of an append-only history `table`, whose
    /// entries of one object are those with `key_column = key`.
    ///
    /// On SQLite `None`: the table's `INTEGER PRIMARY KEY` takes the next
    /// number when given NULL. PostgreSQL's schema has no sequences (Aurora
    /// DSQL has none), so the id is made here: the microsecond now, times
    /// 1,024, plus a random number below 1,024 — unique across processes
    /// that write at once but for a chance the primary key refuses, and
    /// increasing with time — or, if the object's newest entry is already
    /// past it (another process's clock ahead), one more than that entry, so
    /// that an object's history stays in the order it was written. Writes of
    /// one object conflict on the object's own row, so two of them never
    /// read the same newest entry and both commit.
    pub fn history_id(
        &self,
        table: &str,
        key_column: &str,
        key: &dyn Param,
    ) -> Result<Option<i64>> {
        if !self.is_postgres() {
            return Ok(None);
        }
        let newest: Option<i64> = self
            .row(
                &format!("SELECT MAX(id) FROM {table} WHERE {key_column} = ?1"),
                &[key],
                |r| r.get(0),
            )?
            .flatten();
        let now = clock_key();
        Ok(Some(newest.map_or(now, |n| now.max(n + 1))))
    }
}

/// How long after its first event a PostgreSQL transaction may commit: a
/// later attempt is rolled back and run again, so that the event feed's
/// horizon need only be this far behind the clock (and a margin).
pub const EVENT_COMMIT_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

/// A key made from the clock, for rows a PostgreSQL engine orders without a
/// sequence: the microseconds since 1970 times 1,024, plus a random part
/// that keeps two processes writing in the same microsecond apart.
pub fn clock_key() -> i64 {
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    let random = i64::from(u16::from_le_bytes([bytes[0], bytes[1]]) % 1_024);
    chrono::Utc::now().timestamp_micros() * 1_024 + random
}

fn sqlite_params<'p>(params: &'p [&'p dyn Param]) -> impl rusqlite::Params + 'p {
    rusqlite::params_from_iter(params.iter().map(|p| *p as &dyn rusqlite::ToSql))
}

fn postgres_params<'p>(
    params: &'p [&'p dyn Param],
) -> Vec<&'p (dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| *p as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

/// Runs `f` in one deferred transaction on `conn` (a read-only connection),
/// then ends it. Its `BEGIN` and `ROLLBACK` are kept compiled: preparing them
/// for every read, as `Connection::transaction` does, was a measurable part of
/// a point read (BENCHMARKS.md, decision log).
pub(super) fn read_transaction<T>(
    conn: &Connection,
    f: impl FnOnce(&Tx<'_>) -> Result<T>,
) -> Result<T> {
    conn.prepare_cached("BEGIN DEFERRED")?.execute([])?;
    let out = f(&Tx::sqlite(conn));
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

#[cfg(test)]
mod tests {
    use super::postgres_sql;

    #[test]
    fn placeholders_are_numbered_as_sqlite_numbers_them_and_hints_left_out() {
        assert_eq!(
            postgres_sql("SELECT a FROM t INDEXED BY t_by_b WHERE b = ?1 AND c = '?2' AND d = ?2"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d = $2"
        );
        assert_eq!(
            postgres_sql("x = ? OR y IN (?, ?) AND z = ?10 AND w = ?"),
            "x = $1 OR y IN ($2, $3) AND z = $10 AND w = $11"
        );
    }
}
