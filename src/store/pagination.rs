//! Keyset pagination over id-ordered tables (ids are UUID v7: creation order).

use super::{Param, Row, Tx};
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
    /// The list's order; by default the key's own, ascending.
    pub order: Order,
    /// The sort value of the row `after` names, when the order has one.
    pub after_value: Option<String>,
    /// The sort value of the row `before` names, when the order has one.
    pub before_value: Option<String>,
}

/// How a list is ordered: by a sort expression and then its key (which
/// breaks ties), or by the key alone; either way up or down. Keyset
/// pagination compares `(expression, key)` pairs, so a page costs the same
/// wherever it starts when an index on `(expression, key)` serves it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Order {
    /// A text expression over the list's rows, e.g. `c.name_key`.
    pub by: Option<&'static str>,
    pub descending: bool,
}

impl Order {
    /// `ORDER BY` of a page read in this order (`backwards`: from its end).
    fn sql(&self, key: &str, backwards: bool) -> String {
        let direction = if self.descending != backwards {
            "DESC"
        } else {
            "ASC"
        };
        match self.by {
            Some(by) => format!("{by} {direction}, {key} {direction}"),
            None => format!("{key} {direction}"),
        }
    }

    /// The rows past a cursor (`after`: those that come after it in this
    /// order; else those before it), `inclusive` of the cursor's row or not.
    fn beyond(
        &self,
        key: &str,
        cursor: &str,
        value: Option<&str>,
        after: bool,
        inclusive: bool,
    ) -> Filter {
        let greater = after != self.descending;
        let op = match (greater, inclusive) {
            (true, false) => ">",
            (true, true) => ">=",
            (false, false) => "<",
            (false, true) => "<=",
        };
        match (self.by, value) {
            (Some(by), Some(value)) => Filter::new().and(
                &format!("({by}, {key}) {op} (?, ?)"),
                [text(value), text(cursor)],
            ),
            _ => Filter::new().and(&format!("{key} {op} ?"), [text(cursor)]),
        }
    }
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

    /// The same page with each row turned into something else, or the first error.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            has_previous: self.has_previous,
            has_next: self.has_next,
            total: self.total,
        })
    }
}

/// A `WHERE` condition with its parameters, e.g. who may see which rows.
/// Its placeholders are `?`, numbered by position when the statement runs.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    conditions: Vec<String>,
    params: Vec<Value>,
}

/// A filter's parameter: text (ids, states, instants).
pub type Value = String;

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

    /// Adds a condition that any one of `alternatives` holds (none: nothing
    /// matches); each keeps its own parameters, in order.
    pub fn or(mut self, alternatives: &[Filter]) -> Self {
        if alternatives.is_empty() {
            return self.nothing();
        }
        let sql: Vec<String> = alternatives
            .iter()
            .map(|f| format!("({})", f.sql()))
            .collect();
        self.conditions.push(format!("({})", sql.join(" OR ")));
        for f in alternatives {
            self.params.extend(f.params.iter().cloned());
        }
        self
    }

    /// Matches nothing: the scope of a caller who may see none of these rows.
    pub fn nothing(self) -> Self {
        self.and("FALSE", [])
    }

    /// `true` when the filter lets every row through.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    pub fn sql(&self) -> String {
        if self.conditions.is_empty() {
            "TRUE".to_owned()
        } else {
            self.conditions.join(" AND ")
        }
    }

    pub fn params(&self) -> &[Value] {
        &self.params
    }

    /// The parameters as a statement takes them.
    pub(crate) fn bound(&self) -> Vec<&dyn Param> {
        self.params.iter().map(|p| p as &dyn Param).collect()
    }
}

pub fn text(value: impl Into<String>) -> Value {
    value.into()
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
    map: impl Fn(&Row<'_>) -> Result<T>,
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
    map: impl Fn(&Row<'_>) -> Result<T>,
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
        tx.row(
            &format!("SELECT COUNT(*) FROM {from} WHERE {}", filter.sql()),
            &filter.bound(),
            |r| r.get(0),
        )?
        .unwrap_or(0)
    };

    // The cursors' bounds.
    let order_by = args.order;
    let mut bounds = Filter::new();
    if let Some(after) = &args.after {
        bounds = bounds.and_filter(&order_by.beyond(
            id_column,
            after,
            args.after_value.as_deref(),
            true,
            false,
        ));
    }
    if let Some(before) = &args.before {
        bounds = bounds.and_filter(&order_by.beyond(
            id_column,
            before,
            args.before_value.as_deref(),
            false,
            false,
        ));
    }
    let window = filter.clone().and_filter(&bounds);
    let backwards = args.last.is_some() && args.first.is_none();
    let size = if backwards { args.last } else { args.first }.unwrap_or(DEFAULT_PAGE_SIZE);
    let order = order_by.sql(id_column, backwards);
    let limit = size + 1;
    // One alternative is a plain filter: its index serves the order as is.
    let (sql, params) = if any_of.len() <= 1 {
        let sql = format!(
            "SELECT {columns} FROM {from} WHERE {} ORDER BY {order} LIMIT {limit}",
            window.sql()
        );
        (sql, window.params().to_vec())
    } else {
        let mut parts = Vec::new();
        let mut params = Vec::new();
        for alternative in any_of {
            let part = base.clone().and_filter(&bounds).and_filter(alternative);
            parts.push(format!(
                "SELECT * FROM (SELECT {id_column} FROM {from} WHERE {} ORDER BY {order} LIMIT {limit}) AS part{}",
                part.sql(),
                parts.len()
            ));
            params.extend(part.params().iter().cloned());
        }
        let merged = Filter::new().and(
            &format!("{id_column} IN ({})", parts.join(" UNION ALL ")),
            params,
        );
        let sql = format!(
            "SELECT {columns} FROM {from} WHERE {} ORDER BY {order} LIMIT {limit}",
            merged.sql()
        );
        (sql, merged.params().to_vec())
    };
    let bound: Vec<&dyn Param> = params.iter().map(|p| p as &dyn Param).collect();
    let mut items = tx.rows(&sql, &bound, &map)?;
    let more = items.len() > size;
    items.truncate(size);
    if backwards {
        items.reverse();
    }

    // Whether any row lies at or past a cursor, away from the page.
    let exists_beyond = |cursor: &String, value: Option<&str>, after: bool| -> Result<bool> {
        let probe = filter
            .clone()
            .and_filter(&order_by.beyond(id_column, cursor, value, after, true));
        let found = tx.row(
            &format!("SELECT EXISTS (SELECT 1 FROM {from} WHERE {})", probe.sql()),
            &probe.bound(),
            |r| r.get(0),
        )?;
        Ok(found == Some(true))
    };
    let (has_previous, has_next) = if backwards {
        let next = match &args.before {
            Some(b) => exists_beyond(b, args.before_value.as_deref(), true)?,
            None => false,
        };
        (more, next)
    } else {
        let previous = match &args.after {
            Some(a) => exists_beyond(a, args.after_value.as_deref(), false)?,
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

/// A history's sequence number `column` as the text its cursors carry,
/// zero-padded so that text order is number order.
pub fn sequence_key(tx: &Tx<'_>, column: &str) -> String {
    if tx.is_postgres() {
        format!("lpad({column}::text, 20, '0')")
    } else {
        format!("printf('%020d', {column})")
    }
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
    map: impl FnOnce(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let sql = format!(
        "SELECT {columns} FROM {from} WHERE {} LIMIT 1",
        filter.sql()
    );
    tx.row(&sql, &filter.bound(), map)
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
        let id = |r: &Row<'_>| r.get::<String>(0);
        let ids: Vec<String> = (0..60).map(|n| format!("k{n:03}")).collect();
        // Two states (merged), one (a plain filter), none.
        let cases = [
            (&any_of[..], "t.status IN ('A', 'C')"),
            (&any_of[..1], "t.status = 'A'"),
            (&any_of[..0], "TRUE"),
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
                        ..Default::default()
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
