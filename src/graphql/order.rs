//! How lists are ordered (`orderBy`), as GitHub's API takes it: a field and
//! a direction. Each order is a sort expression of the store and the list's
//! key after it; its cursors name it (see [`Sorted`]).

use async_graphql::{Enum, InputObject};

use super::connection::Sorted;
use crate::store::pagination::Order;
use crate::store::requests::{BY_DUE, BY_UPDATE};

/// Which way a list runs.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum OrderDirection {
    /// Smallest first: A to Z, oldest first.
    #[default]
    Asc,
    /// Largest first: Z to A, newest first.
    Desc,
}

impl OrderDirection {
    fn order(self, by: Option<&'static str>) -> Order {
        Order {
            by,
            descending: self == OrderDirection::Desc,
        }
    }
}

/// What customers and partners can be listed by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum NameOrderField {
    /// The company name, without regard to case (ties in creation order).
    Name,
    /// When it was added (the default order).
    CreatedAt,
}

/// The order of a list of customers or partners.
#[derive(InputObject, Clone, Copy, Debug)]
pub struct NameOrder {
    /// What to order by.
    pub field: NameOrderField,
    /// Which way; `ASC` when omitted.
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl NameOrder {
    /// The order over rows whose name's sort key is `name_key`.
    pub fn sorted(order: Option<NameOrder>, name_key: &'static str) -> Option<Sorted> {
        order.map(|o| match o.field {
            NameOrderField::Name => Sorted {
                field: "name",
                order: o.direction.order(Some(name_key)),
            },
            NameOrderField::CreatedAt => Sorted {
                field: "created",
                order: o.direction.order(None),
            },
        })
    }
}

/// What ACO requests can be listed by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum AcoRequestOrderField {
    /// When it was submitted: the default order (ids are made, in time
    /// order, at submission).
    SubmittedAt,
    /// When its current stage is due (FLOW-19); requests whose clock does not
    /// run (waiting on the partner, or finished) come after every due date.
    DueAt,
    /// When it last changed.
    UpdatedAt,
}

/// The order of a list of ACO requests.
#[derive(InputObject, Clone, Copy, Debug)]
pub struct AcoRequestOrder {
    /// What to order by.
    pub field: AcoRequestOrderField,
    /// Which way; `ASC` when omitted.
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl AcoRequestOrder {
    pub fn sorted(order: Option<AcoRequestOrder>) -> Option<Sorted> {
        order.map(|o| {
            let (field, by) = match o.field {
                AcoRequestOrderField::SubmittedAt => ("submitted", None),
                AcoRequestOrderField::DueAt => ("due", Some(BY_DUE)),
                AcoRequestOrderField::UpdatedAt => ("updated", Some(BY_UPDATE)),
            };
            Sorted {
                field,
                order: o.direction.order(by),
            }
        })
    }
}
