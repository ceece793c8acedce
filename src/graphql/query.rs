//! Queries.

use async_graphql::{Context, ID, Object};

use super::aco::{AcoAgreement, AcoRequest, CreditGrant};
use super::connection::{Conn, CursorKey, connection, cursor_key, sorted_page_args};
use super::order::NameOrder;
use super::types::{Customer, CustomerAgreement, Node, Partner, ResellerRelationship, Viewer};
use super::{actor, lookup, read, to_gql};
use crate::authz;
use crate::domain::actor::Actor;
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{CustomerSegment, PartnerType};
use crate::error::{Error, Result};
use crate::store::Tx;
use crate::store::pagination::PageArgs;
use crate::store::search::Search;
use crate::store::{customers, partners};

/// Partners, customers and the caller.
#[derive(Default)]
pub struct CoreQuery;

/// The query root: `Query` in the schema.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    CoreQuery,
    super::aco::AcoQuery,
    super::events::EventQuery,
    super::webhooks::WebhookQuery,
);

/// Resolves any id the caller may see; `None` for ids it may not.
fn find_node(tx: &Tx<'_>, actor: &Actor, kind: IdKind, id: &ObjectId) -> Result<Option<Node>> {
    Ok(match kind {
        IdKind::Partner => {
            authz::find_partner(tx, actor, id)?.map(|p| Node::Partner(Partner::from(p)))
        }
        IdKind::Customer => {
            authz::find_customer(tx, actor, id)?.map(|c| Node::Customer(Customer::from(c)))
        }
        IdKind::ResellerRelationship => authz::find_relationship(tx, actor, id)?
            .map(|r| Node::ResellerRelationship(ResellerRelationship(r))),
        IdKind::CustomerAgreement => match customers::agreement(tx, id)? {
            Some(a) if authz::find_customer(tx, actor, &a.customer_id)?.is_some() => {
                Some(Node::CustomerAgreement(CustomerAgreement(a)))
            }
            _ => None,
        },
        IdKind::AcoRequest => {
            authz::find_request(tx, actor, id)?.map(|q| Node::AcoRequest(AcoRequest::from(q)))
        }
        IdKind::AcoAgreement => {
            authz::find_agreement(tx, actor, id)?.map(|a| Node::AcoAgreement(AcoAgreement(a)))
        }
        IdKind::CreditGrant => {
            authz::find_grant(tx, actor, id)?.map(|g| Node::CreditGrant(CreditGrant(g)))
        }
        IdKind::BenefitCredit => authz::find_benefit_credit(tx, actor, id)?
            .map(|b| Node::BenefitCredit(super::benefits::BenefitCredit(b))),
        // Not a node: read through `webhookSubscription(id)`.
        IdKind::WebhookSubscription | IdKind::WebhookDelivery => None,
    })
}

fn parse_id(field: &str, id: &ID, kind: IdKind) -> Result<ObjectId> {
    ObjectId::parse_kind(id, kind).map_err(|e| Error::bad_id(&[field], e))
}

#[Object(serial)]
impl CoreQuery {
    /// The caller: subject, roles, and the partner or customer it acts for.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        Ok(Viewer(actor(ctx)?))
    }

    /// Any object by its global id. `NOT_FOUND` when it does not exist or the
    /// caller may not see it.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The object's global id.")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        let (kind, id) =
            ObjectId::parse(&id).map_err(|e| to_gql(ctx, Error::bad_id(&["id"], e)))?;
        lookup(ctx, move |tx, actor| {
            find_node(tx, actor, kind, &id)?.ok_or(Error::NotFound)
        })
        .await
    }

    /// Objects by their global ids, in the same order; `null` (with a
    /// `NOT_FOUND` error) for each one that does not exist or the caller may not see.
    #[graphql(complexity = "crate::graphql::cost::items(ids.len(), child_complexity)")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The objects' global ids, at most 100.")] ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > crate::store::pagination::MAX_PAGE_SIZE {
            return Err(to_gql(
                ctx,
                Error::bad_input(&["ids"], "at most 100 ids at once"),
            ));
        }
        let parsed = ids
            .iter()
            .map(|id| ObjectId::parse(id).map_err(|e| Error::bad_id(&["ids"], e)))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| to_gql(ctx, e))?;
        let found = read(ctx, move |tx, actor| {
            parsed
                .iter()
                .map(|(kind, id)| find_node(tx, actor, *kind, id))
                .collect::<Result<Vec<_>>>()
        })
        .await?;
        for (index, node) in found.iter().enumerate() {
            if node.is_none() {
                let mut error = to_gql(ctx, Error::NotFound).into_server_error(ctx.item.pos);
                error.path = vec![
                    async_graphql::PathSegment::Field("nodes".into()),
                    async_graphql::PathSegment::Index(index),
                ];
                ctx.add_error(error);
            }
        }
        Ok(found)
    }

    /// A partner the caller may see.
    async fn partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner's global id.")] id: ID,
    ) -> async_graphql::Result<Option<Partner>> {
        let id = parse_id("id", &id, IdKind::Partner).map_err(|e| to_gql(ctx, e))?;
        lookup(ctx, move |tx, actor| {
            authz::partner(tx, actor, &id).map(Partner::from)
        })
        .await
    }

    /// The partners the caller may see: programme roles all of them, a partner
    /// itself and the partners it is linked to, a customer its partners.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn partners(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only partners of this type; every type when omitted.")]
        partner_type: Option<PartnerType>,
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
        order_by: Option<NameOrder>,
    ) -> async_graphql::Result<Conn<Partner>> {
        let count_total = ctx.look_ahead().field("totalCount").exists();
        let sorted = NameOrder::sorted(order_by, partners::BY_NAME);
        read(ctx, move |tx, actor| {
            let args = PageArgs {
                skip_total: !count_total,
                ..sorted_page_args(
                    first,
                    after,
                    last,
                    before,
                    CursorKey::Object(IdKind::Partner),
                    sorted,
                )?
            };
            let filter = partners::PartnerFilter {
                partner_type,
                search: Search::optional(search)?,
                ..Default::default()
            };
            Ok(connection(
                partners::page_of(tx, &authz::partner_scope(actor), &filter, &args)?,
                |p| {
                    cursor_key(sorted, p.id.as_str(), |_| {
                        p.name_key.clone().unwrap_or_default()
                    })
                },
                Partner::from,
            ))
        })
        .await
    }

    /// A customer the caller may see.
    async fn customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's global id.")] id: ID,
    ) -> async_graphql::Result<Option<Customer>> {
        let id = parse_id("id", &id, IdKind::Customer).map_err(|e| to_gql(ctx, e))?;
        lookup(ctx, move |tx, actor| {
            authz::customer(tx, actor, &id).map(Customer::from)
        })
        .await
    }

    /// The customers the caller may see: programme roles all of them, a
    /// partner those it has an active relationship with, a customer signer its own.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only customers in this country, an ISO 3166-1 alpha-2 code (any letter case); every country when omitted."
        )]
        country: Option<String>,
        #[graphql(desc = "Only customers in this segment; every segment when omitted.")]
        segment: Option<CustomerSegment>,
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
        order_by: Option<NameOrder>,
    ) -> async_graphql::Result<Conn<Customer>> {
        let count_total = ctx.look_ahead().field("totalCount").exists();
        let sorted = NameOrder::sorted(order_by, customers::BY_NAME);
        read(ctx, move |tx, actor| {
            let args = PageArgs {
                skip_total: !count_total,
                ..sorted_page_args(
                    first,
                    after,
                    last,
                    before,
                    CursorKey::Object(IdKind::Customer),
                    sorted,
                )?
            };
            let filter = customers::CustomerFilter {
                country,
                segment,
                search: Search::optional(search)?,
            };
            Ok(connection(
                customers::page_of(tx, &authz::customer_scope(actor), &filter, &args)?,
                |c| {
                    cursor_key(sorted, c.id.as_str(), |_| {
                        c.name_key.clone().unwrap_or_default()
                    })
                },
                Customer::from,
            ))
        })
        .await
    }
}
