//! The object types of the API. Each wraps a store row; nested fields load
//! through [`authz`](crate::authz), so every path to an object is scoped the
//! same way.
//!
//! One file per object: the partner (`partner.rs`), the customer
//! (`customer.rs`), the reseller relationship (`relationship.rs`) and the
//! caller (`viewer.rs`); what they share (the `Node` interface, addresses,
//! contacts and change history) is in `common.rs`. The ACO objects are in
//! [`aco`](super::aco).

mod common;
mod customer;
mod partner;
mod relationship;
mod viewer;

pub use common::{ActorRole, Node};
pub use customer::{Customer, CustomerAgreement};
pub use partner::Partner;
pub use relationship::ResellerRelationship;
pub use viewer::Viewer;
