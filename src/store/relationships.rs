//! Reseller relationships between partners and customers (§1).

use chrono::{DateTime, Utc};

use super::columns::{Instant, instant};
use super::pagination::{Filter, Page, PageArgs, find_one, page, text};
use super::{Row, Tx};
use crate::domain::RelationshipStatus;
use crate::domain::ids::ObjectId;
use crate::error::Result;

/// A stored reseller relationship.
#[derive(Debug, Clone)]
pub struct RelationshipRow {
    pub id: ObjectId,
    pub partner_id: ObjectId,
    pub customer_id: ObjectId,
    pub status: RelationshipStatus,
    pub requested_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
}

const COLUMNS: &str = "r.id, r.partner_id, r.customer_id, r.status, r.requested_at, r.accepted_at, \
    r.revoked_at, r.revoke_reason";

/// Reads a row of [`COLUMNS`], on either engine.
fn read(r: &Row<'_>) -> Result<RelationshipRow> {
    Ok(RelationshipRow {
        id: r.get(0)?,
        partner_id: r.get(1)?,
        customer_id: r.get(2)?,
        status: r.get(3)?,
        requested_at: r.get::<Instant>(4)?.0,
        accepted_at: r.get::<Option<Instant>>(5)?.map(|i| i.0),
        revoked_at: r.get::<Option<Instant>>(6)?.map(|i| i.0),
        revoke_reason: r.get(7)?,
    })
}

pub fn get(tx: &Tx<'_>, id: &ObjectId) -> Result<Option<RelationshipRow>> {
    tx.row(
        &format!("SELECT {COLUMNS} FROM reseller_relationships r WHERE r.id = ?1"),
        &[id],
        read,
    )
}

/// The live (pending or active) relationship between a partner and a customer.
pub fn live(
    tx: &Tx<'_>,
    partner: &ObjectId,
    customer: &ObjectId,
) -> Result<Option<RelationshipRow>> {
    tx.row(
        &format!(
            "SELECT {COLUMNS} FROM reseller_relationships r \
             WHERE r.partner_id = ?1 AND r.customer_id = ?2 AND r.status IN ('PENDING', 'ACTIVE')"
        ),
        &[partner, customer],
        read,
    )
}

/// Whether the partner has an active relationship with the customer.
pub fn is_active(tx: &Tx<'_>, partner: &ObjectId, customer: &ObjectId) -> Result<bool> {
    let active = tx.row(
        "SELECT EXISTS (SELECT 1 FROM reseller_relationships \
         WHERE partner_id = ?1 AND customer_id = ?2 AND status = 'ACTIVE')",
        &[partner, customer],
        |r| r.get(0),
    )?;
    Ok(active == Some(true))
}

/// Which relationships a caller may see: what `authz::relationship_scope`
/// decides, turned into SQL here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelationshipScope {
    All,
    /// A partner's, whatever their status.
    OfPartner(ObjectId),
    /// A customer's (its signer's view).
    OfCustomer(ObjectId),
}

impl RelationshipScope {
    /// The condition on relationships (alias `r`).
    pub(crate) fn filter(&self) -> Filter {
        match self {
            RelationshipScope::All => Filter::new(),
            RelationshipScope::OfPartner(id) => {
                Filter::new().and("r.partner_id = ?", [text(id.as_str())])
            }
            RelationshipScope::OfCustomer(id) => {
                Filter::new().and("r.customer_id = ?", [text(id.as_str())])
            }
        }
    }
}

/// What narrows a list of relationships besides its scope.
#[derive(Debug, Clone, Default)]
pub struct RelationshipFilter {
    pub partner: Option<ObjectId>,
    pub customer: Option<ObjectId>,
    pub status: Option<RelationshipStatus>,
}

/// The relationship with this id, if it is in `scope`.
pub fn find_in(
    tx: &Tx<'_>,
    scope: &RelationshipScope,
    id: &ObjectId,
) -> Result<Option<RelationshipRow>> {
    let filter = scope.filter().and("r.id = ?", [text(id.as_str())]);
    find_one(tx, COLUMNS, "reseller_relationships r", &filter, read)
}

/// A page of the relationships in `scope` that `filter` lets through, by id.
pub fn page_of(
    tx: &Tx<'_>,
    scope: &RelationshipScope,
    filter: &RelationshipFilter,
    args: &PageArgs,
) -> Result<Page<RelationshipRow>> {
    let mut sql = scope.filter();
    if let Some(p) = &filter.partner {
        sql = sql.and("r.partner_id = ?", [text(p.as_str())]);
    }
    if let Some(c) = &filter.customer {
        sql = sql.and("r.customer_id = ?", [text(c.as_str())]);
    }
    if let Some(status) = filter.status {
        sql = sql.and("r.status = ?", [text(status.as_str())]);
    }
    page(
        tx,
        COLUMNS,
        "reseller_relationships r",
        "r.id",
        &sql,
        args,
        read,
    )
}

pub fn insert(tx: &Tx<'_>, r: &RelationshipRow, requested_by: &str) -> Result<()> {
    tx.exec(
        "INSERT INTO reseller_relationships (id, partner_id, customer_id, status, requested_at, \
            requested_by, accepted_at, revoked_at, revoke_reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &[
            &r.id,
            &r.partner_id,
            &r.customer_id,
            &r.status,
            &instant(r.requested_at),
            &requested_by,
            &r.accepted_at.map(instant),
            &r.revoked_at.map(instant),
            &r.revoke_reason,
        ],
    )?;
    keep_live(tx, r)
}

/// At most one live relationship per partner and customer, on PostgreSQL
/// (SQLite's partial unique index holds it there): a row in
/// `live_relationships` while one is live, removed when it ends.
const LIVE: super::guard::Guard = super::guard::Guard {
    table: "live_relationships",
    columns: &["partner_id", "customer_id", "relationship_id"],
    rule: "one live relationship per partner and customer",
};

fn keep_live(tx: &Tx<'_>, r: &RelationshipRow) -> Result<()> {
    LIVE.keep(
        tx,
        &[&r.partner_id, &r.customer_id],
        &r.id,
        r.status != RelationshipStatus::Revoked,
    )
}

/// Moves a relationship from `from` to its new status; `false` if it was no longer in `from`.
pub fn set_status(tx: &Tx<'_>, r: &RelationshipRow, from: RelationshipStatus) -> Result<bool> {
    let n = tx.exec(
        "UPDATE reseller_relationships SET status = ?2, accepted_at = ?3, revoked_at = ?4, \
            revoke_reason = ?5 WHERE id = ?1 AND status = ?6",
        &[
            &r.id,
            &r.status,
            &r.accepted_at.map(instant),
            &r.revoked_at.map(instant),
            &r.revoke_reason,
            &from,
        ],
    )?;
    if n == 1 {
        keep_live(tx, r)?;
    }
    Ok(n == 1)
}
