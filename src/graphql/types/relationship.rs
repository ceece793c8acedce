//! The reseller relationship between a partner and a customer (§1), and the
//! page a partner's or a customer's list of them loads.

use async_graphql::{Context, ID, Object};

use super::{Customer, Partner};
use crate::authz;
use crate::domain::RelationshipStatus;
use crate::domain::ids::IdKind;
use crate::graphql::connection::{Conn, CursorKey, connection, page_args};
use crate::graphql::read;
use crate::graphql::scalars::DateTime;
use crate::store::relationships::{self, RelationshipFilter, RelationshipRow};

/// A reseller relationship between a partner and a customer (§1).
pub struct ResellerRelationship(pub RelationshipRow);

/// A reseller relationship between a partner and a customer (§1), with the
/// dates of each change; a partner sees and acts for a customer only while
/// it is `ACTIVE` (ELIG-8, ROLE-3).
#[Object(serial)]
impl ResellerRelationship {
    /// The relationship's global id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// `PENDING` until the customer accepts, then `ACTIVE`, and `REVOKED` once
    /// either side ends it; a partner acts for a customer only while `ACTIVE` (ELIG-8).
    async fn status(&self) -> RelationshipStatus {
        self.0.status
    }
    /// The partner, if the caller may see it.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let id = self.0.partner_id.clone();
        read(ctx, move |tx, actor| {
            Ok(authz::find_partner(tx, actor, &id)?.map(Partner::from))
        })
        .await
    }
    /// The customer, if the caller may see it (a partner sees it once the
    /// relationship is active).
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let id = self.0.customer_id.clone();
        read(ctx, move |tx, actor| {
            Ok(authz::find_customer(tx, actor, &id)?.map(Customer::from))
        })
        .await
    }
    /// When the relationship was requested or created (RFC 3339, UTC).
    async fn requested_at(&self) -> DateTime {
        DateTime(self.0.requested_at)
    }
    /// When it became `ACTIVE` (RFC 3339, UTC); `null` before that.
    async fn accepted_at(&self) -> Option<DateTime> {
        self.0.accepted_at.map(DateTime)
    }
    /// When it was revoked (RFC 3339, UTC); `null` unless `REVOKED`.
    async fn revoked_at(&self) -> Option<DateTime> {
        self.0.revoked_at.map(DateTime)
    }
    /// The reason given when it was revoked, if any.
    async fn revoke_reason(&self) -> Option<&str> {
        self.0.revoke_reason.as_deref()
    }
}

/// A page of the reseller relationships the caller may see, narrowed by
/// `filter` (a partner's, a customer's, in a status).
pub(super) async fn relationship_page(
    ctx: &Context<'_>,
    filter: RelationshipFilter,
    (after, first, before, last): (Option<String>, Option<i32>, Option<String>, Option<i32>),
) -> async_graphql::Result<Conn<ResellerRelationship>> {
    read(ctx, move |tx, actor| {
        let args = page_args(
            first,
            after,
            last,
            before,
            CursorKey::Object(IdKind::ResellerRelationship),
        )?;
        Ok(connection(
            relationships::page_of(tx, &authz::relationship_scope(actor), &filter, &args)?,
            |r| r.id.to_string(),
            ResellerRelationship,
        ))
    })
    .await
}
