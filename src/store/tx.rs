//! The transaction every query runs in ([`Tx`]): how a read's transaction
//! begins and ends, and running a statement compiled once per connection.

use rusqlite::Connection;

use crate::error::Result;

/// Runs one statement, compiled once per connection and kept
/// (`Connection::execute` would compile it on every call).
pub(crate) fn execute_cached(
    tx: &Tx<'_>,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

/// A connection inside an open transaction: what every read and write runs
/// in. A read on [`Db`](super::Db) and the writer make one; [`Tx::of`]
/// wraps a transaction opened elsewhere (tests, the dataset writer), and
/// [`Tx::postgres`] one of the PostgreSQL store.
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
        transaction: &'c deadpool_postgres::Transaction<'c>,
        runtime: tokio::runtime::Handle,
    },
}

impl<'c> Tx<'c> {
    pub fn of(transaction: &'c rusqlite::Transaction<'_>) -> Self {
        Tx(Conn::Sqlite(transaction))
    }

    pub(super) fn sqlite(conn: &'c Connection) -> Self {
        Tx(Conn::Sqlite(conn))
    }

    /// A PostgreSQL transaction, its statements awaited on `runtime` from a
    /// thread that may block (the blocking pool).
    pub fn postgres(
        transaction: &'c deadpool_postgres::Transaction<'c>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Tx(Conn::Postgres {
            transaction,
            runtime,
        })
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

/// `read` as a reader of SQLite's rows, for code that still runs on
/// SQLite's own API (the list pages).
pub(crate) fn on_sqlite_rows<T>(
    read: impl Fn(&Row<'_>) -> Result<T>,
) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T> {
    move |row| {
        read(&Row::Sqlite(row)).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })
    }
}

fn postgres_error(error: tokio_postgres::Error) -> crate::error::Error {
    crate::error::Error::Internal(format!("the database: {}", super::postgres::said(&error)))
}

/// `sql` with SQLite's numbered placeholders (`?1`) as PostgreSQL's (`$1`).
fn postgres_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '?' && !quoted && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

impl Tx<'_> {
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
                transaction,
                runtime,
            } => {
                let row = runtime.block_on(async {
                    let statement = transaction.prepare_cached(&postgres_sql(sql)).await?;
                    transaction
                        .query_opt(&statement, &postgres_params(params))
                        .await
                });
                match row.map_err(postgres_error)? {
                    Some(row) => map(&Row::Postgres(&row)).map(Some),
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
                transaction,
                runtime,
            } => {
                let rows = runtime
                    .block_on(async {
                        let statement = transaction.prepare_cached(&postgres_sql(sql)).await?;
                        transaction
                            .query(&statement, &postgres_params(params))
                            .await
                    })
                    .map_err(postgres_error)?;
                rows.iter().map(|row| map(&Row::Postgres(row))).collect()
            }
        }
    }

    /// Runs a statement that answers no rows; how many rows it changed.
    pub fn exec(&self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        match &self.0 {
            Conn::Sqlite(conn) => Ok(conn.prepare_cached(sql)?.execute(sqlite_params(params))?),
            Conn::Postgres {
                transaction,
                runtime,
            } => {
                let changed = runtime
                    .block_on(async {
                        let statement = transaction.prepare_cached(&postgres_sql(sql)).await?;
                        transaction
                            .execute(&statement, &postgres_params(params))
                            .await
                    })
                    .map_err(postgres_error)?;
                Ok(usize::try_from(changed).unwrap_or(usize::MAX))
            }
        }
    }
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
