//! The request list: its filter and the page every list of requests (the
//! root's, a partner's, a customer's) loads.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject};

use super::prefetch::{NestedNeeds, Prefetch};
use super::request::AcoRequest;
use crate::authz;
use crate::domain::AcoRequestStatus;
use crate::domain::ids::IdKind;
use crate::graphql::connection::{Conn, CursorKey, connection, cursor_key, sorted_page_args};
use crate::graphql::loaded;
use crate::graphql::order::AcoRequestOrder;
use crate::graphql::plain::PlainObject;
use crate::graphql::read;
use crate::store::pagination::PageArgs;
use crate::store::requests::{
    self as request_store, AcoRequestBrief, AcoRequestRow, RequestFilter,
};

/// Narrows a list of ACO requests; every field given must match.
#[derive(InputObject, Default)]
pub struct AcoRequestFilter {
    /// Any of these states.
    pub status: Option<Vec<AcoRequestStatus>>,
    /// The customer the request is for.
    pub customer_id: Option<ID>,
    /// The submitting partner.
    pub partner_id: Option<ID>,
    /// `true`: only requests past their due date (FLOW-19); `false`: only those that are not.
    pub overdue: Option<bool>,
}

/// A page of the ACO requests the caller may see, narrowed by `filter`: each
/// list of requests (the root's, a partner's, a customer's) loads its page
/// and what its nodes ask for of their customers, partners, agreements and
/// events ahead, in one read (the page's `Prefetch`).
pub(crate) async fn request_page(
    ctx: &Context<'_>,
    filter: RequestFilter,
    (after, first, before, last): (Option<String>, Option<i32>, Option<String>, Option<i32>),
    order: Option<AcoRequestOrder>,
) -> async_graphql::Result<Conn<PlainObject<AcoRequest>>> {
    let sorted = AcoRequestOrder::sorted(order);
    let wanted = NestedNeeds::of(ctx);
    // A page in the order of submission or change reads whole rows: its
    // cursors carry those instants, which the brief does not hold.
    let brief = loaded::only(
        &NestedNeeds::nodes(&ctx.look_ahead()),
        AcoRequest::BRIEF_FIELDS,
    ) && !request_store::order_needs_whole_rows(sorted.and_then(|s| s.order.by));
    let count_total = ctx.look_ahead().field("totalCount").exists();
    read(ctx, move |tx, actor| {
        let args = sorted_page_args(
            first,
            after,
            last,
            before,
            CursorKey::Object(IdKind::AcoRequest),
            sorted,
        )?;
        let args = PageArgs {
            skip_total: !count_total,
            ..args
        };
        let scope = authz::request_scope(actor);
        let page = if brief {
            request_store::page_of::<AcoRequestBrief>(tx, &scope, &filter, &args)?
                .map(|q| AcoRequest::brief(q, None))
        } else {
            request_store::page_of::<AcoRequestRow>(tx, &scope, &filter, &args)?
                .map(|q| AcoRequest::whole(q, None))
        };
        let briefs: Vec<&AcoRequestBrief> = page.items.iter().map(|q| &q.brief).collect();
        let prefetch = Arc::new(Prefetch::load(tx, actor, &briefs, wanted)?);
        Ok(connection(
            page,
            |q| {
                cursor_key(sorted, q.brief.id.as_str(), |by| {
                    q.brief.sort_value(by, q.whole.get_now())
                })
            },
            |q| {
                PlainObject(AcoRequest {
                    prefetch: Some(prefetch.clone()),
                    ..q
                })
            },
        ))
    })
    .await
}
