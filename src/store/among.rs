//! Rows looked up by a list of ids ([`Among`]): a page's nested objects,
//! one statement per kind, run together by [`Tx::together`].

use std::borrow::Cow;

use super::pagination::Filter;
use super::{Param, Row, Tx};
use crate::error::Result;

/// The rows of `from` whose `id_column` is one of `ids` and that `filter`
/// lets through: a page's nested objects, in one query, run by
/// [`Tx::together`] — several of them together (on PostgreSQL in one round
/// trip).
///
/// On SQLite the ids are the outer loop of a join (`VALUES` rows, each
/// looked up by the index on `id_column`) rather than an `IN (…)` list,
/// which SQLite first copies into a temporary b-tree; PostgreSQL takes the
/// list. Repeated ids are read once; the list is padded with NULLs, which
/// match nothing, to a power of two, so lists of any length share a handful
/// of prepared statements.
pub struct Among<'a, K, T, M> {
    sql: String,
    /// The distinct ids (padded with NULLs when run).
    ids: Vec<&'a K>,
    none: Option<&'a K>,
    filter: Cow<'a, Filter>,
    map: M,
    found: std::cell::RefCell<Vec<T>>,
}

impl<'a, K, T, M> Among<'a, K, T, M>
where
    K: Param + Ord,
    M: Fn(&Row<'_>) -> Result<T>,
{
    pub fn new(
        tx: &Tx<'_>,
        columns: &str,
        from: &str,
        id_column: &str,
        ids: &'a [K],
        filter: Cow<'a, Filter>,
        map: M,
    ) -> Self {
        let mut unique: Vec<&K> = ids.iter().collect();
        unique.sort_unstable();
        unique.dedup();
        let length = padded(unique.len());
        let sql = if unique.is_empty() {
            String::new()
        } else if tx.is_postgres() {
            format!(
                "SELECT {columns} FROM {from} WHERE {id_column} IN ({}) AND {}",
                vec!["?"; length].join(", "),
                filter.sql()
            )
        } else {
            among_sql(columns, from, id_column, length, &filter)
        };
        Among {
            sql,
            ids: unique,
            none: None,
            filter,
            map,
            found: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The rows found.
    pub fn rows(self) -> Vec<T> {
        self.found.into_inner()
    }
}

/// A lookup whose rows are each read by a function.
pub type Mapped<'a, K, T> = Among<'a, K, T, fn(&Row<'_>) -> Result<T>>;

/// A lookup of rows by their text ids.
pub type AmongIds<'a, T> = Mapped<'a, &'a str, T>;

/// A statement and its parameters.
pub type Statement<'a> = (&'a str, Vec<&'a dyn Param>);

/// A lookup [`Tx::together`] runs: its statement, and what takes its rows.
pub trait Lookup {
    /// `None` when there is nothing to look up.
    fn statement(&self) -> Option<Statement<'_>>;
    fn take(&self, row: &Row<'_>) -> Result<()>;
}

impl<K, T, M> Lookup for Among<'_, K, T, M>
where
    K: Param + Ord,
    M: Fn(&Row<'_>) -> Result<T>,
{
    fn statement(&self) -> Option<Statement<'_>> {
        if self.ids.is_empty() {
            return None;
        }
        let params = self
            .ids
            .iter()
            .map(|id| *id as &dyn Param)
            .chain(std::iter::repeat(&self.none as &dyn Param))
            .take(padded(self.ids.len()))
            .chain(self.filter.params().iter().map(|v| v as &dyn Param))
            .collect();
        Some((&self.sql, params))
    }

    fn take(&self, row: &Row<'_>) -> Result<()> {
        let value = (self.map)(row)?;
        self.found.borrow_mut().push(value);
        Ok(())
    }
}

/// How many ids a list of `n` is padded to.
fn padded(n: usize) -> usize {
    n.next_power_of_two()
}

/// The statement of an [`Among`] for `length` ids on SQLite.
fn among_sql(columns: &str, from: &str, id_column: &str, length: usize, filter: &Filter) -> String {
    format!(
        "WITH wanted(id) AS (VALUES {}) SELECT {columns} FROM wanted CROSS JOIN {from} \
         ON {id_column} = wanted.id WHERE {}",
        vec!["(?)"; length].join(", "),
        filter.sql()
    )
}

#[cfg(test)]
mod among_tests {
    use super::*;
    use crate::store::pagination::text;

    #[test]
    fn ids_of_any_length_are_each_read_once_and_scoped_by_the_filter() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL); \
             INSERT INTO t VALUES ('a', 1), ('b', 2), ('c', 3), ('d', 4);",
        )
        .unwrap();
        let transaction = conn.transaction().unwrap();
        let tx = super::super::Tx::of(&transaction);
        let read = |ids: &[&str], filter: &Filter| {
            let among = Among::new(&tx, "t.id", "t", "t.id", ids, Cow::Borrowed(filter), |r| {
                r.get::<String>(0)
            });
            tx.together(&[&among]).unwrap();
            let mut found = among.rows();
            found.sort();
            found
        };
        let all = Filter::new();
        assert_eq!(read(&["c", "a", "c", "x", "a"], &all), ["a", "c"]);
        assert_eq!(read(&["d"], &all), ["d"]);
        assert!(read(&[], &all).is_empty());
        let small = Filter::new().and("t.n < 3", []);
        assert_eq!(read(&["a", "b", "c"], &small), ["a", "b"]);
        // Every length, padded or not, finds what it names.
        let mut ids: Vec<String> = (0..100).map(|i| format!("id{i}")).collect();
        ids[40] = "b".to_owned();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        for n in 1..=ids.len() {
            let expected: &[&str] = if n > 40 { &["b"] } else { &[] };
            assert_eq!(read(&ids[..n], &all), expected, "{n} ids");
        }
        let numbers = Among::new(
            &tx,
            "t.n",
            "t",
            "t.n",
            &[4_i64, 2, 4],
            Cow::Borrowed(&all),
            |r| r.get::<i64>(0),
        );
        tx.together(&[&numbers]).unwrap();
        assert_eq!(numbers.rows().len(), 2);
    }

    /// The point of the join: a page's customers are read by index seeks,
    /// with no temporary b-tree of the ids, also within a partner's scope.
    #[test]
    fn a_page_of_customers_is_read_without_a_temporary_tree() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::super::migrations().to_latest(&mut conn).unwrap();
        let scope = Filter::new().and(
            "EXISTS (SELECT 1 FROM reseller_relationships rr \
             WHERE rr.customer_id = c.id AND rr.partner_id = ? AND rr.status = 'ACTIVE')",
            [text("prt_1")],
        );
        let sql = among_sql("c.id", "customers c", "c.id", 32, &scope);
        let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
        let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
        let ops: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(nulls), |r| r.get(1))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            ops.iter()
                .any(|op| op == "SeekGE" || op == "SeekRowid" || op == "IdxGE"),
            "{ops:?}"
        );
        assert!(!ops.iter().any(|op| op == "OpenEphemeral"), "{ops:?}");
    }
}
