//! Keyset pagination over id-ordered tables (ids are UUID v7: creation order).

use rusqlite::types::Value;
use rusqlite::{Row, params_from_iter};

use super::Tx;
use crate::error::Result;

/// A validated page request: cursors are already decoded into the sort keys
/// they stand for (an object id, or a history sequence number).
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<usize>,
    pub after: Option<String>,
    pub last: Option<usize>,
    pub before: Option<String>,
    /// Leave `total` at 0 (the caller did not ask for `totalCount`): counting
    /// a large list costs more than the page itself.
    pub skip_total: bool,
}

/// Rows of one page and where it stands in the whole list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_previous: bool,
    pub has_next: bool,
    pub total: i64,
}

impl<T> Page<T> {
    /// The same page with each row turned into something else.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_previous: self.has_previous,
            has_next: self.has_next,
            total: self.total,
        }
    }
}

/// A `WHERE` condition with its parameters, e.g. who may see which rows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    conditions: Vec<String>,
    params: Vec<Value>,
}

impl Filter {
    pub fn new() -> Self {
        Filter::default()
    }

    /// Adds a condition; its `?` placeholders take `params` in order.
    pub fn and(mut self, condition: &str, params: impl IntoIterator<Item = Value>) -> Self {
        self.conditions.push(format!("({condition})"));
        self.params.extend(params);
        self
    }

    /// Adds a condition built around another filter: `template` holds `{}`
    /// where `inner`'s condition goes, e.g. `a.request_id IN (SELECT q.id FROM aco_requests q WHERE {})`.
    pub fn and_within(mut self, template: &str, inner: &Filter) -> Self {
        self.conditions
            .push(format!("({})", template.replace("{}", &inner.sql())));
        self.params.extend(inner.params.iter().cloned());
        self
    }

    /// Matches nothing: the scope of a caller who may see none of these rows.
    pub fn nothing(self) -> Self {
        self.and("0", [])
    }

    /// `true` when the filter lets every row through.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    pub fn sql(&self) -> String {
        if self.conditions.is_empty() {
            "1".to_owned()
        } else {
            self.conditions.join(" AND ")
        }
    }

    pub fn params(&self) -> &[Value] {
        &self.params
    }
}

pub fn text(value: impl Into<String>) -> Value {
    Value::Text(value.into())
}

/// Reads one page of `SELECT {columns} FROM {from} WHERE {filter}` ordered by
/// `{id_column}`, plus the total count, in the caller's transaction.
pub fn page<T>(
    tx: &Tx<'_>,
    columns: &str,
    from: &str,
    id_column: &str,
    filter: &Filter,
    args: &PageArgs,
    map: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Page<T>> {
    page_any(tx, columns, from, id_column, filter, &[], args, map)
}

/// [`page`] of the rows that match `filter` and any one of `any_of` (when
/// not empty). Each alternative is read on its own, in key order from the
/// cursor, and the page is the first rows of them merged: with an index per
/// alternative (`status, id`), a page of several states reads a page of each
/// instead of sorting every row of all of them.
#[allow(clippy::too_many_arguments)]
pub fn page_any<T>(
    tx: &Tx<'_>,
    columns: &str,
    from: &str,
    id_column: &str,
    filter: &Filter,
    any_of: &[Filter],
    args: &PageArgs,
    map: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Page<T>> {
    let whole = if any_of.is_empty() {
        filter.clone()
    } else {
        let either: Vec<String> = any_of.iter().map(|f| format!("({})", f.sql())).collect();
        filter.clone().and(
            &format!("({})", either.join(" OR ")),
            any_of.iter().flat_map(|f| f.params().iter().cloned()),
        )
    };
    let base = filter;
    let filter = &whole;
    let total: i64 = if args.skip_total {
        0
    } else {
        tx.prepare_cached(&format!(
            "SELECT COUNT(*) FROM {from} WHERE {}",
            filter.sql()
        ))?
        .query_row(params_from_iter(filter.params()), |r| r.get(0))?
    };

    // The cursors' bounds.
    let mut bounds = Filter::new();
    if let Some(after) = &args.after {
        bounds = bounds.and(&format!("{id_column} > ?"), [text(after.as_str())]);
    }
    if let Some(before) = &args.before {
        bounds = bounds.and(&format!("{id_column} < ?"), [text(before.as_str())]);
    }
    let window = filter.clone().and_filter(&bounds);
    let backwards = args.last.is_some() && args.first.is_none();
    let size = if backwards { args.last } else { args.first }.unwrap_or(DEFAULT_PAGE_SIZE);
    let order = if backwards { "DESC" } else { "ASC" };
    let limit = size + 1;
    // One alternative is a plain filter: its index serves the order as is.
    let (sql, params) = if any_of.len() <= 1 {
        let sql = format!(
            "SELECT {columns} FROM {from} WHERE {} ORDER BY {id_column} {order} LIMIT {limit}",
            window.sql()
        );
        (sql, window.params().to_vec())
    } else {
        let mut parts = Vec::new();
        let mut params = Vec::new();
        for alternative in any_of {
            let part = base.clone().and_filter(&bounds).and_filter(alternative);
            parts.push(format!(
                "SELECT * FROM (SELECT {id_column} FROM {from} WHERE {} ORDER BY {id_column} {order} LIMIT {limit})",
                part.sql()
            ));
            params.extend(part.params().iter().cloned());
        }
        let merged = Filter::new().and(
            &format!("{id_column} IN ({})", parts.join(" UNION ALL ")),
            params,
        );
        let sql = format!(
            "SELECT {columns} FROM {from} WHERE {} ORDER BY {id_column} {order} LIMIT {limit}",
            merged.sql()
        );
        (sql, merged.params().to_vec())
    };
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut items = stmt
        .query_map(params_from_iter(params.iter()), &map)?
        .collect::<rusqlite::Result<Vec<T>>>()?;
    let more = items.len() > size;
    items.truncate(size);
    if backwards {
        items.reverse();
    }

    let exists_beyond = |op: &str, cursor: &String| -> Result<bool> {
        let probe = filter
            .clone()
            .and(&format!("{id_column} {op} ?"), [text(cursor.as_str())]);
        Ok(tx
            .prepare_cached(&format!(
                "SELECT EXISTS (SELECT 1 FROM {from} WHERE {})",
                probe.sql()
            ))?
            .query_row(params_from_iter(probe.params()), |r| r.get(0))?)
    };
    let (has_previous, has_next) = if backwards {
        let next = match &args.before {
            Some(b) => exists_beyond(">=", b)?,
            None => false,
        };
        (more, next)
    } else {
        let previous = match &args.after {
            Some(a) => exists_beyond("<=", a)?,
            None => false,
        };
        (previous, more)
    };
    Ok(Page {
        items,
        has_previous,
        has_next,
        total,
    })
}

/// Page size when the caller gives neither `first` nor `last`.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// The most `first` or `last` may ask for.
pub const MAX_PAGE_SIZE: usize = 100;

/// The first row `filter` lets through, if any.
pub fn find_one<T>(
    tx: &Tx<'_>,
    columns: &str,
    from: &str,
    filter: &Filter,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>> {
    use rusqlite::OptionalExtension;
    let sql = format!(
        "SELECT {columns} FROM {from} WHERE {} LIMIT 1",
        filter.sql()
    );
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params_from_iter(filter.params()), map)
        .optional()?)
}

/// Every row `filter` lets through (for a bounded filter, such as ids IN a page).
pub fn find_all<T>(
    tx: &Tx<'_>,
    columns: &str,
    from: &str,
    filter: &Filter,
    map: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let sql = format!("SELECT {columns} FROM {from} WHERE {}", filter.sql());
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(filter.params()), map)?
        .collect::<rusqlite::Result<Vec<T>>>()?;
    Ok(rows)
}

/// The placeholders of an `IN (…)` list of `n` values, rounded up to a power
/// of two: lists of any length then share a handful of prepared statements
/// instead of compiling one for each length. Bind [`padded`] values to it.
pub fn in_marks(n: usize) -> String {
    vec!["?"; n.max(1).next_power_of_two()].join(", ")
}

/// `values`, then its last value repeated up to the length [`in_marks`] gave
/// (a repeated value changes nothing in an `IN` list).
pub fn padded<T: Copy + Default>(values: &[T]) -> impl Iterator<Item = T> + '_ {
    let length = values.len().max(1).next_power_of_two();
    let last = values.last().copied().unwrap_or_default();
    values
        .iter()
        .copied()
        .chain(std::iter::repeat(last))
        .take(length)
}

/// A filter `column IN (ids)`.
pub fn id_in(column: &str, ids: &[&str]) -> Filter {
    if ids.is_empty() {
        return Filter::new().nothing();
    }
    Filter::new().and(
        &format!("{column} IN ({})", in_marks(ids.len())),
        padded(ids).map(text),
    )
}

impl Filter {
    /// Both conditions.
    pub fn and_filter(mut self, other: &Filter) -> Self {
        self.conditions.extend(other.conditions.iter().cloned());
        self.params.extend(other.params.iter().cloned());
        self
    }
}

#[cfg(test)]
mod in_list_tests {
    use super::*;

    #[test]
    fn in_lists_of_any_length_share_a_few_statements_and_keep_their_values() {
        let ids = ["a", "b", "c"];
        assert_eq!(in_marks(3), "?, ?, ?, ?");
        assert_eq!(padded(&ids).collect::<Vec<_>>(), ["a", "b", "c", "c"]);
        assert_eq!(in_marks(1), "?");
        assert_eq!(padded(&ids[..1]).collect::<Vec<_>>(), ["a"]);
        let lengths: std::collections::HashSet<_> = (1..=100).map(in_marks).collect();
        assert_eq!(lengths.len(), 8);
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let found: i64 = conn
            .query_row(
                &format!(
                    "SELECT COUNT(*) FROM (SELECT 'a' AS v UNION SELECT 'c' UNION SELECT 'd') WHERE v IN ({})",
                    in_marks(3)
                ),
                params_from_iter(padded(&ids)),
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, 2);
    }
}

#[cfg(test)]
mod any_of_tests {
    use super::*;

    /// Pages of "any of these states" match a plain filter's, forwards and
    /// backwards, from every cursor.
    #[test]
    fn pages_of_several_states_are_the_pages_of_the_plain_filter() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id TEXT PRIMARY KEY, status TEXT NOT NULL, owner TEXT NOT NULL);
             CREATE INDEX t_status ON t (status, id);",
        )
        .unwrap();
        for n in 0..60 {
            let status = ["A", "B", "C", "D"][n * 7 % 4];
            let owner = if n % 3 == 0 { "x" } else { "y" };
            conn.execute(
                "INSERT INTO t VALUES (?1, ?2, ?3)",
                rusqlite::params![format!("k{n:03}"), status, owner],
            )
            .unwrap();
        }
        let transaction = conn.transaction().unwrap();
        let tx = super::super::Tx::of(&transaction);
        let base = Filter::new().and("t.owner = ?", [text("y")]);
        let any_of = [
            Filter::new().and("t.status = ?", [text("A")]),
            Filter::new().and("t.status = ?", [text("C")]),
        ];
        let id = |r: &Row<'_>| r.get::<_, String>(0);
        let ids: Vec<String> = (0..60).map(|n| format!("k{n:03}")).collect();
        // Two states (merged), one (a plain filter), none.
        let cases = [
            (&any_of[..], "t.status IN ('A', 'C')"),
            (&any_of[..1], "t.status = 'A'"),
            (&any_of[..0], "1"),
        ];
        for ((any_of, plain), size) in cases
            .iter()
            .flat_map(|case| [1, 3, 7, 50].map(|size| (case, size)))
        {
            let plain = base.clone().and(plain, []);
            for cursor in std::iter::once(None).chain(ids.iter().map(Some)) {
                for backwards in [false, true] {
                    let args = PageArgs {
                        first: (!backwards).then_some(size),
                        last: backwards.then_some(size),
                        after: if backwards { None } else { cursor.cloned() },
                        before: if backwards { cursor.cloned() } else { None },
                        skip_total: false,
                    };
                    let merged =
                        page_any(&tx, "t.id", "t", "t.id", &base, any_of, &args, id).unwrap();
                    let expected = page(&tx, "t.id", "t", "t.id", &plain, &args, id).unwrap();
                    assert_eq!(
                        merged.items, expected.items,
                        "{size} {cursor:?} {backwards}"
                    );
                    assert_eq!(merged.has_next, expected.has_next);
                    assert_eq!(merged.has_previous, expected.has_previous);
                    assert_eq!(merged.total, expected.total);
                }
            }
        }
    }
}
