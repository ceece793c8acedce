//! ACO requests, agreements and grants: types, queries and workflow mutations.
//!
//! One file per object: the request (`request.rs`), its list page
//! (`request_list.rs`) and what the page loads ahead (`prefetch.rs`), its
//! history event (`event.rs`), the agreement and grant (`agreement.rs`),
//! eligibility (`eligibility.rs`) and the mutations (`mutation.rs`). The root
//! query fields are here.

mod agreement;
mod eligibility;
mod event;
mod mutation;
mod prefetch;
mod request;
mod request_list;

pub use agreement::{AcoAgreement, CreditGrant};
pub use event::{AcoRequestAction, AcoRequestEvent};
pub use mutation::AcoMutation;
pub use request::AcoRequest;
pub(crate) use request_list::request_page;

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use super::connection::Conn;
use super::plain::PlainObject;
use super::{lookup, read_as_call, request, to_gql};
use crate::authz;
use crate::domain::ids::{IdKind, ObjectId};
use crate::error::{Error, Result};
use crate::service::eligibility::check_eligibility;
use crate::store::requests::RequestFilter;
use eligibility::{AcoEligibility, AcoEligibilityInput, optional_id};
use prefetch::{NestedNeeds, Prefetch};
use request_list::AcoRequestFilter;

/// An input that failed its shape check, as the client's error.
fn checked<T>(ctx: &Context<'_>, value: Result<T>) -> async_graphql::Result<T> {
    value.map_err(|e| to_gql(ctx, e))
}

#[derive(Default)]
pub struct AcoQuery;

#[Object(serial)]
impl AcoQuery {
    /// An ACO request the caller may see.
    async fn aco_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request's global id.")] id: ID,
    ) -> async_graphql::Result<Option<AcoRequest>> {
        let id = checked(
            ctx,
            ObjectId::parse_kind(&id, IdKind::AcoRequest).map_err(|e| Error::bad_id(&["id"], e)),
        )?;
        let wanted = NestedNeeds::of_object(ctx);
        lookup(ctx, move |tx, actor| {
            let row = authz::request(tx, actor, &id)?;
            let request = AcoRequest::whole(row, None);
            let prefetch = Prefetch::load(tx, actor, &[&request.brief], wanted)?;
            Ok(AcoRequest {
                prefetch: Some(Arc::new(prefetch)),
                ..request
            })
        })
        .await
    }

    /// The ACO requests the caller may see, oldest first: a partner its own
    /// (an indirect provider also its resellers'), programme roles all.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn aco_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Narrows the list; left out, every request the caller may see.")]
        filter: Option<AcoRequestFilter>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns at most this many items from the start (at most 100).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
        #[graphql(desc = "Returns at most this many items from the end (at most 100).")]
        last: Option<i32>,
        #[graphql(
            desc = "The order of the list: by submission (the default), due date or last change, either way."
        )]
        order_by: Option<crate::graphql::order::AcoRequestOrder>,
    ) -> async_graphql::Result<Conn<PlainObject<AcoRequest>>> {
        let filter = filter.unwrap_or_default();
        let now = request(ctx).now;
        let narrowing = RequestFilter {
            customer: checked(
                ctx,
                optional_id(&filter.customer_id, "customerId", IdKind::Customer),
            )?,
            partner: checked(
                ctx,
                optional_id(&filter.partner_id, "partnerId", IdKind::Partner),
            )?,
            statuses: filter.status.unwrap_or_default(),
            overdue: filter.overdue.map(|overdue| (overdue, now)),
        };
        request_page(ctx, narrowing, (after, first, before, last), order_by).await
    }

    /// The pre-flight check of DOMAIN §3: every rule with its remedy, whether
    /// the deal is eligible, and the ACO amount it would get.
    async fn aco_eligibility(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The deal to check.")] input: AcoEligibilityInput,
    ) -> async_graphql::Result<AcoEligibility> {
        let deal = checked(ctx, input.into_deal())?;
        let report = read_as_call(ctx, move |tx, call| check_eligibility(tx, call, &deal)).await?;
        Ok(report.into())
    }
}
