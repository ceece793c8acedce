//! The partner object (§1) and its signature of the Microsoft Partner
//! Agreement.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Value};

use super::common::{Address, ChangeEvent, Contact, history};
use super::customer::Customer;
use super::relationship::{ResellerRelationship, relationship_page};
use crate::authz;
use crate::domain::actor::Actor;
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{PartnerType, RelationshipStatus};
use crate::graphql::aco::{AcoRequest, request_page};
use crate::graphql::authorization::PartnerAuthorization;
use crate::graphql::benefits::BenefitCredit;
use crate::graphql::connection::{Conn, CursorKey, connection, page_args};
use crate::graphql::loaded::{BriefRow, Loaded};
use crate::graphql::plain::{PlainContext, PlainFields, PlainObject, SelectedField};
use crate::graphql::scalars::{Date, DateTime};
use crate::graphql::{read, read_as_call};
use crate::store::customers;
use crate::store::partners::{self, PartnerAgreementRow, PartnerRow};
use crate::store::relationships::RelationshipFilter;
use crate::store::{NamedRow, Tx};

/// A CSP partner (§1), whole or as a list page loaded it (see [`loaded`](crate::graphql::loaded)).
pub struct Partner(Loaded<PartnerRow>);

/// A partner answers its id and name plainly, whole or in brief.
impl PlainFields for Partner {
    fn plain(&self, _: &PlainContext<'_>, field: &str, _: &[SelectedField]) -> Option<Value> {
        self.0.plain(field)
    }
}

impl From<PartnerRow> for Partner {
    fn from(row: PartnerRow) -> Self {
        Partner(Loaded::Whole(Arc::new(row)))
    }
}

impl Partner {
    /// The fields a partner loaded in brief answers without reading its row:
    /// its id, its name, and the lists that start from its id.
    pub const BRIEF_FIELDS: &[&str] = &[
        "__typename",
        "id",
        "companyName",
        "partnerAgreement",
        "indirectProviders",
        "indirectResellers",
        "customers",
        "relationships",
        "acoRequests",
        "benefitCredits",
        "history",
    ];

    pub fn whole(row: Arc<PartnerRow>) -> Partner {
        Partner(Loaded::Whole(row))
    }

    pub fn brief(named: Arc<NamedRow>) -> Partner {
        Partner(Loaded::brief(named))
    }

    pub fn object_id(&self) -> &ObjectId {
        self.0.id()
    }
}

impl BriefRow for PartnerRow {
    fn id(&self) -> &ObjectId {
        &self.id
    }
    fn name(&self) -> &str {
        &self.company_name
    }
    fn read(tx: &Tx<'_>, actor: &Actor, id: &ObjectId) -> crate::error::Result<Self> {
        authz::partner(tx, actor, id)
    }
}

/// A company in the Microsoft Cloud Solution Provider (CSP) programme (§1),
/// of exactly one partner type.
#[Object(serial)]
impl Partner {
    /// The partner's global id.
    pub async fn id(&self) -> ID {
        ID(self.object_id().to_string())
    }
    /// The partner's Microsoft Entra tenant.
    async fn tenant_id(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.0.row(ctx).await?.tenant_id)
    }
    /// The partner's company name.
    async fn company_name(&self) -> &str {
        self.0.name()
    }
    /// The partner's primary domain.
    async fn domain(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.0.row(ctx).await?.domain)
    }
    /// The partner's CSP partner type (§1); direct bill partners and indirect
    /// resellers are transacting partners, indirect providers never are (ROLE-1).
    async fn partner_type(&self, ctx: &Context<'_>) -> async_graphql::Result<PartnerType> {
        Ok(self.0.row(ctx).await?.partner_type)
    }
    /// The partner's PartnerID (MPN id).
    async fn mpn_id(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.0.row(ctx).await?.mpn_id.as_deref())
    }
    /// The partner's postal address.
    async fn default_address(&self, ctx: &Context<'_>) -> async_graphql::Result<Address> {
        Ok(self.0.row(ctx).await?.default_address.clone().into())
    }
    /// The partner's primary contact person.
    async fn primary_contact(&self, ctx: &Context<'_>) -> async_graphql::Result<Contact> {
        Ok(self.0.row(ctx).await?.primary_contact.clone().into())
    }
    /// AGR-1: the partner's latest signature of the Microsoft Partner Agreement.
    async fn partner_agreement(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PartnerAgreement>> {
        let id = self.object_id().clone();
        read(ctx, move |tx, _| {
            Ok(partners::partner_agreement(tx, &id)?.map(PartnerAgreement))
        })
        .await
    }
    /// For an indirect reseller: the indirect providers it works through.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn indirect_providers(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Returns the items after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this list)."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the start (0 to 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Returns the items before this cursor (an edge's `cursor` or `pageInfo.startCursor` of this list)."
        )]
        before: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the end (0 to 100); not together with `first`."
        )]
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<Partner>> {
        let filter = partners::PartnerFilter {
            providers_of: Some(self.object_id().clone()),
            ..Default::default()
        };
        partner_page(ctx, filter, (after, first, before, last)).await
    }
    /// For an indirect provider: the indirect resellers linked to it.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn indirect_resellers(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Returns the items after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this list)."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the start (0 to 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Returns the items before this cursor (an edge's `cursor` or `pageInfo.startCursor` of this list)."
        )]
        before: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the end (0 to 100); not together with `first`."
        )]
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<Partner>> {
        let filter = partners::PartnerFilter {
            resellers_of: Some(self.object_id().clone()),
            ..Default::default()
        };
        partner_page(ctx, filter, (after, first, before, last)).await
    }
    /// The customers this partner has an active reseller relationship with,
    /// among those the caller may see.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Returns the items after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this list)."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the start (0 to 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Returns the items before this cursor (an edge's `cursor` or `pageInfo.startCursor` of this list)."
        )]
        before: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the end (0 to 100); not together with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Only those a word of whose company name starts with each word of this text (any letter case; one to eight words), or whose domain or tenant id this is."
        )]
        search: Option<String>,
        #[graphql(
            desc = "The order of the list: by name or by when each was added (the default), either way."
        )]
        order_by: Option<crate::graphql::order::NameOrder>,
    ) -> async_graphql::Result<Conn<Customer>> {
        let id = self.object_id().clone();
        let sorted = crate::graphql::order::NameOrder::sorted(order_by, customers::BY_NAME);
        read(ctx, move |tx, actor| {
            let args = crate::graphql::connection::sorted_page_args(
                first,
                after,
                last,
                before,
                CursorKey::Object(IdKind::Customer),
                sorted,
            )?;
            let search = crate::store::search::Search::optional(search)?;
            Ok(connection(
                customers::list_of_partner(
                    tx,
                    &id,
                    &authz::customer_scope(actor),
                    search.as_ref(),
                    &args,
                )?,
                |c| {
                    crate::graphql::connection::cursor_key(sorted, c.id.as_str(), |_| {
                        c.name_key.clone().unwrap_or_default()
                    })
                },
                Customer::from,
            ))
        })
        .await
    }
    /// The partner's reseller relationships, among those the caller may see.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn relationships(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the relationships in this status; every status when omitted.")]
        status: Option<RelationshipStatus>,
        #[graphql(
            desc = "Returns the items after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this list)."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the start (0 to 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Returns the items before this cursor (an edge's `cursor` or `pageInfo.startCursor` of this list)."
        )]
        before: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the end (0 to 100); not together with `first`."
        )]
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<ResellerRelationship>> {
        let filter = RelationshipFilter {
            partner: Some(self.object_id().clone()),
            status,
            ..Default::default()
        };
        relationship_page(ctx, filter, (after, first, before, last)).await
    }
    /// The ACO requests this partner submitted, among those the caller may see.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn aco_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Returns the items after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this list)."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the start (0 to 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Returns the items before this cursor (an edge's `cursor` or `pageInfo.startCursor` of this list)."
        )]
        before: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the end (0 to 100); not together with `first`."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "The order of the list: by submission (the default), due date or last change, either way."
        )]
        order_by: Option<crate::graphql::order::AcoRequestOrder>,
    ) -> async_graphql::Result<Conn<PlainObject<AcoRequest>>> {
        let narrowing = crate::store::requests::RequestFilter {
            partner: Some(self.object_id().clone()),
            ..Default::default()
        };
        request_page(ctx, narrowing, (after, first, before, last), order_by).await
    }
    /// §7: the partner's own benefit credits (the partner and programme roles see them).
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn benefit_credits(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Returns the items after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this list)."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the start (0 to 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Returns the items before this cursor (an edge's `cursor` or `pageInfo.startCursor` of this list)."
        )]
        before: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the end (0 to 100); not together with `first`."
        )]
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<BenefitCredit>> {
        let id = self.object_id().clone();
        read(ctx, move |tx, actor| {
            let args = page_args(
                first,
                after,
                last,
                before,
                CursorKey::Object(IdKind::BenefitCredit),
            )?;

            Ok(connection(
                crate::store::benefits::page_of_partner(
                    tx,
                    &authz::benefit_scope(actor),
                    &id,
                    &args,
                )?,
                |b| b.id.to_string(),
                BenefitCredit,
            ))
        })
        .await
    }
    /// §8: where the partner stands against the requirements of its type.
    /// Only the partner itself and programme roles see it; `null` for anyone else.
    async fn authorization(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PartnerAuthorization>> {
        let row = self.0.row(ctx).await?.clone();
        read_as_call(ctx, move |tx, call| {
            if !crate::service::authorization::may_see(&call.actor, &row.id) {
                return Ok(None);
            }
            let standing = crate::service::authorization::standing(tx, row, call)?;
            Ok(Some(PartnerAuthorization(standing)))
        })
        .await
    }
    /// Every change to this partner, oldest first. Only programme roles and the
    /// partner itself see it; `null` for anyone else.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Returns the items after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this list)."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the start (0 to 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Returns the items before this cursor (an edge's `cursor` or `pageInfo.startCursor` of this list)."
        )]
        before: Option<String>,
        #[graphql(
            desc = "Returns at most this many items from the end (0 to 100); not together with `first`."
        )]
        last: Option<i32>,
    ) -> async_graphql::Result<Option<Conn<ChangeEvent>>> {
        let id = self.object_id().clone();
        let own = id.clone();
        history(
            ctx,
            id,
            move |a| a.partner_id() == Some(&own),
            (after, first, before, last),
        )
        .await
    }
    /// Starts at 1 and goes up by one with every change to the partner.
    async fn version(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.0.row(ctx).await?.version)
    }
    /// When the partner was created (RFC 3339, UTC).
    async fn created_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.0.row(ctx).await?.created_at))
    }
    /// When the partner was last changed (RFC 3339, UTC).
    async fn updated_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.0.row(ctx).await?.updated_at))
    }
}

/// A page of the partners the caller may see, narrowed by `filter` (the
/// providers of a reseller, the resellers of a provider).
async fn partner_page(
    ctx: &Context<'_>,
    filter: partners::PartnerFilter,
    (after, first, before, last): (Option<String>, Option<i32>, Option<String>, Option<i32>),
) -> async_graphql::Result<Conn<Partner>> {
    read(ctx, move |tx, actor| {
        let args = page_args(
            first,
            after,
            last,
            before,
            CursorKey::Object(IdKind::Partner),
        )?;
        Ok(connection(
            partners::page_of(tx, &authz::partner_scope(actor), &filter, &args)?,
            |p| p.id.to_string(),
            Partner::from,
        ))
    })
    .await
}

/// AGR-1: a signature of the Microsoft Partner Agreement.
pub struct PartnerAgreement(pub PartnerAgreementRow);

/// AGR-1: a partner's signature of the Microsoft Partner Agreement (MPA):
/// who signed and when.
#[Object(serial)]
impl PartnerAgreement {
    /// The name of the person who signed for the partner.
    async fn signer_name(&self) -> &str {
        &self.0.signer_name
    }
    /// The email address of the person who signed for the partner.
    async fn signer_email(&self) -> &str {
        &self.0.signer_email
    }
    /// The day the agreement was signed, `YYYY-MM-DD` (programme time zone).
    async fn date_agreed(&self) -> Date {
        Date(self.0.date_agreed)
    }
    /// When the signature was recorded in this service (RFC 3339, UTC).
    async fn recorded_at(&self) -> DateTime {
        DateTime(self.0.recorded_at)
    }
}
