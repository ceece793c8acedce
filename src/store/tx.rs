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
/// wraps a transaction opened elsewhere (tests, the dataset writer).
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
/// for every read, as `Connection::transaction` does, was a measurable part of
/// a point read (BENCHMARKS.md, decision log).
pub(super) fn read_transaction<T>(
    conn: &Connection,
    f: impl FnOnce(&Tx<'_>) -> Result<T>,
) -> Result<T> {
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
