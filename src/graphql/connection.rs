//! Relay connections: argument checks, opaque cursors, and building a
//! connection from a store page.

use std::borrow::Cow;

use async_graphql::connection::{Connection, CursorType, Edge, EmptyFields};
use async_graphql::parser::types::Field;
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{
    ContextSelectionSet, OutputType, Positioned, ServerResult, SimpleObject, Value,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::ids::{IdKind, ObjectId};
use crate::error::{Error, Result};
use crate::store::pagination::{MAX_PAGE_SIZE, Order, Page, PageArgs};

/// Fields every connection has besides edges, nodes and pageInfo.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ConnectionFields {
    /// How many items the whole list has, across all pages.
    pub total_count: i64,
}

/// A Relay connection of `T`, served as `<T>Connection`: async-graphql's
/// [`Connection`], with a description in the schema.
pub struct Conn<T: OutputType>(Connection<Cursor, T, ConnectionFields, EmptyFields>);

impl<T: OutputType> OutputType for Conn<T> {
    fn type_name() -> Cow<'static, str> {
        Connection::<Cursor, T, ConnectionFields, EmptyFields>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let qualified =
            Connection::<Cursor, T, ConnectionFields, EmptyFields>::create_type_info(registry);
        if let Some(MetaType::Object { description, .. }) =
            registry.types.get_mut(&*Self::type_name())
        {
            description.get_or_insert_with(|| {
                format!(
                    "A page of a list of `{}` (a Relay connection): `edges` (each with its `cursor`) or `nodes`, `pageInfo` to page on, and `totalCount` across all pages.",
                    T::type_name()
                )
            });
        }
        qualified
    }

    fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> impl Future<Output = ServerResult<Value>> + Send {
        self.0.resolve(ctx, field)
    }
}

/// An edge's cursor: its row's key, encoded only if the selection asks for
/// a cursor (most pages are read by `nodes` alone).
pub struct Cursor(String);

impl CursorType for Cursor {
    type Error = std::convert::Infallible;

    /// Never called: cursors come in as `after`/`before` strings, checked by [`page_args`].
    fn decode_cursor(s: &str) -> std::result::Result<Self, Self::Error> {
        Ok(Cursor(s.to_owned()))
    }

    fn encode_cursor(&self) -> String {
        encode_cursor(&self.0)
    }
}

/// What a cursor stands for.
#[derive(Debug, Clone, Copy)]
pub enum CursorKey {
    /// An object id of this kind.
    Object(IdKind),
    /// A history sequence number.
    Sequence,
}

const CURSOR_PREFIX: &str = "c1:";

pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{key}"))
}

/// A list in an order of its own (not its key's): cursors then name the
/// order and carry the row's sort value, so that one order's cursor is
/// refused by another and a row whose value changes later does not move a
/// cursor already given out.
#[derive(Debug, Clone, Copy)]
pub struct Sorted {
    /// The order's name in cursors, e.g. `name`.
    pub field: &'static str,
    pub order: Order,
}

impl Sorted {
    fn prefix(&self) -> String {
        let direction = if self.order.descending { "d" } else { "a" };
        format!("{}~{direction}~", self.field)
    }

    /// The cursor key of the row with this key and sort value.
    pub fn key(&self, key: &str, value: &str) -> String {
        format!("{}{key}~{value}", self.prefix())
    }
}

/// The cursor key of the row with key `key` in a list in `sorted` order
/// (`None`: the key's own); `value` gives the row's value of the order's
/// sort expression, when the order has one.
pub fn cursor_key(
    sorted: Option<Sorted>,
    key: &str,
    value: impl FnOnce(&'static str) -> String,
) -> String {
    match sorted {
        Some(sorted) => sorted.key(key, &sorted.order.by.map(value).unwrap_or_default()),
        None => key.to_owned(),
    }
}

/// The longest sort value a cursor may carry.
const MAX_SORT_VALUE: usize = 1024;

/// The row a cursor names: its key, and its sort value in a [`Sorted`] list.
fn decode_cursor(
    cursor: &str,
    kind: CursorKey,
    sorted: Option<&Sorted>,
    field: &str,
) -> Result<(String, Option<String>)> {
    let invalid = || {
        Error::bad_input(
            &[field],
            format!("`{field}` is not a valid cursor for this list and order"),
        )
    };
    if cursor.len() > 4 * MAX_SORT_VALUE {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let payload = text.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
    let (key, value) = match sorted {
        None => (payload, None),
        Some(sorted) => {
            let rest = payload.strip_prefix(&sorted.prefix()).ok_or_else(invalid)?;
            let (key, value) = rest.split_once('~').ok_or_else(invalid)?;
            if value.len() > MAX_SORT_VALUE || value.chars().any(char::is_control) {
                return Err(invalid());
            }
            (key, Some(value.to_owned()))
        }
    };
    let valid = match kind {
        CursorKey::Object(k) => ObjectId::parse_kind(key, k).is_ok(),
        CursorKey::Sequence => key.len() == 20 && key.bytes().all(|b| b.is_ascii_digit()),
    };
    if !valid {
        return Err(invalid());
    }
    Ok((key.to_owned(), value))
}

/// Checks `first`/`last` (0 to 100, not both) and decodes the cursors.
pub fn page_args(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    kind: CursorKey,
) -> Result<PageArgs> {
    sorted_page_args(first, after, last, before, kind, None)
}

/// [`page_args`] of a list in `sorted` order (`None`: its key's).
pub fn sorted_page_args(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    kind: CursorKey,
    sorted: Option<Sorted>,
) -> Result<PageArgs> {
    let size = |value: Option<i32>, name: &str| -> Result<Option<usize>> {
        match value {
            None => Ok(None),
            Some(n) if n < 0 => Err(Error::bad_input(
                &[name],
                format!("`{name}` must not be negative"),
            )),
            Some(n) if n as usize > MAX_PAGE_SIZE => Err(Error::bad_input(
                &[name],
                format!("`{name}` may be at most {MAX_PAGE_SIZE}"),
            )),
            Some(n) => Ok(Some(n as usize)),
        }
    };
    if first.is_some() && last.is_some() {
        return Err(Error::bad_input(
            &["last"],
            "give `first` or `last`, not both",
        ));
    }
    let decode = |cursor: Option<String>, field| {
        cursor
            .map(|c| decode_cursor(&c, kind, sorted.as_ref(), field))
            .transpose()
            .map(Option::unzip)
    };
    let (after, after_value) = decode(after, "after")?;
    let (before, before_value) = decode(before, "before")?;
    Ok(PageArgs {
        first: size(first, "first")?,
        last: size(last, "last")?,
        after,
        before,
        skip_total: false,
        order: sorted.map(|s| s.order).unwrap_or_default(),
        after_value: after_value.flatten(),
        before_value: before_value.flatten(),
    })
}

/// Builds a connection from a page; `key` gives each row's cursor key.
pub fn connection<R, T: OutputType>(
    page: Page<R>,
    key: impl Fn(&R) -> String,
    node: impl Fn(R) -> T,
) -> Conn<T> {
    let mut conn = Connection::with_additional_fields(
        page.has_previous,
        page.has_next,
        ConnectionFields {
            total_count: page.total,
        },
    );
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|row| Edge::new(Cursor(key(&row)), node(row))),
    );
    Conn(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_tampering_is_refused() {
        let id = ObjectId::generate(IdKind::Customer);
        let cursor = encode_cursor(id.as_str());
        let args = page_args(
            Some(5),
            Some(cursor.clone()),
            None,
            None,
            CursorKey::Object(IdKind::Customer),
        )
        .unwrap();
        assert_eq!(args.after.as_deref(), Some(id.as_str()));
        assert!(
            page_args(
                None,
                Some(cursor),
                None,
                None,
                CursorKey::Object(IdKind::Partner)
            )
            .is_err()
        );
        assert!(page_args(None, Some("!!".into()), None, None, CursorKey::Sequence).is_err());
        assert!(
            page_args(
                None,
                Some(encode_cursor("x' OR 1=1")),
                None,
                None,
                CursorKey::Sequence
            )
            .is_err()
        );
        assert!(page_args(Some(101), None, None, None, CursorKey::Sequence).is_err());
        // A sorted list's cursor: its order's, with a value without control characters.
        let sorted = Sorted {
            field: "name",
            order: Order {
                by: Some("c.name_key"),
                descending: false,
            },
        };
        let args = |cursor: String| {
            sorted_page_args(
                Some(5),
                Some(cursor),
                None,
                None,
                CursorKey::Object(IdKind::Customer),
                Some(sorted),
            )
        };
        let good = args(encode_cursor(&sorted.key(id.as_str(), "coho ~ winery"))).unwrap();
        assert_eq!(good.after.as_deref(), Some(id.as_str()));
        assert_eq!(good.after_value.as_deref(), Some("coho ~ winery"));
        assert!(args(encode_cursor(&sorted.key(id.as_str(), "a\0b"))).is_err());
        assert!(args(encode_cursor(id.as_str())).is_err());
        let descending = Sorted {
            order: Order {
                descending: true,
                ..sorted.order
            },
            ..sorted
        };
        assert!(args(encode_cursor(&descending.key(id.as_str(), "x"))).is_err());
        assert!(page_args(Some(-1), None, None, None, CursorKey::Sequence).is_err());
        assert!(page_args(Some(1), None, Some(1), None, CursorKey::Sequence).is_err());
    }
}
