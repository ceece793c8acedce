//! The ACO request object (§5), whole or in brief, with what its list page
//! loaded ahead for it.

use std::sync::Arc;

use async_graphql::resolver_utils::enum_value;
use async_graphql::{Context, Enum, ID, Object, ScalarType, SimpleObject, Value};

use super::agreement::{AcoAgreement, CreditGrant};
use super::event::AcoRequestEvent;
use super::prefetch::Prefetch;
use crate::authz;
use crate::domain::ids::ObjectId;
use crate::domain::{AcoRequestStatus, AcoScenario, sla};
use crate::graphql::connection::{Conn, CursorKey, connection, page_args};
use crate::graphql::loaded::LazyRow;
use crate::graphql::plain::{self, PlainContext, PlainFields, SelectedField};
use crate::graphql::scalars::{Date, DateTime, Decimal};
use crate::graphql::types::{Customer, Partner};
use crate::graphql::{read, request};
use crate::store::requests::{AcoRequestBrief, AcoRequestRow};
use crate::store::{agreements as agreement_store, requests as request_store};

/// FLOW-19: the service-level stage a request is in.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ServiceLevelStage {
    /// `SUBMITTED` and `CHANNEL_REVIEW`: up to 5 US business days from submission.
    ApplicationReview,
    /// `FINANCE_REVIEW` and `OPERATIONS_REVIEW`: up to 7 US business days from entering finance review.
    FinanceAndOperations,
    /// `AWAITING_SIGNATURE`: until the agreement's signing deadline.
    Signature,
}

/// ELIG-12: the project timeline.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Timeline {
    /// The first day of the project, `YYYY-MM-DD`.
    pub start: Date,
    /// The last day of the project, `YYYY-MM-DD`.
    pub end: Date,
}

/// An ACO request (§5): its brief, its whole row (loaded with it, or read on
/// the first field that needs it: a list page may load only the brief, see
/// [`loaded`](crate::graphql::loaded)), and what its list page loaded ahead for it.
pub struct AcoRequest {
    pub(super) brief: AcoRequestBrief,
    pub(super) whole: LazyRow<AcoRequestRow>,
    pub(super) prefetch: Option<Arc<Prefetch>>,
}

impl From<AcoRequestRow> for AcoRequest {
    fn from(row: AcoRequestRow) -> Self {
        AcoRequest::whole(row, None)
    }
}

impl AcoRequest {
    /// The fields a request loaded in brief answers without reading its row.
    pub const BRIEF_FIELDS: &[&str] = &[
        "__typename",
        "id",
        "status",
        "customer",
        "partner",
        "indirectProvider",
        "informationRequestedFrom",
        "version",
        "stage",
        "dueAt",
        "overdue",
        "agreements",
        "creditGrant",
        "history",
        "lastEvent",
    ];

    pub(super) fn whole(row: AcoRequestRow, prefetch: Option<Arc<Prefetch>>) -> AcoRequest {
        AcoRequest {
            brief: AcoRequestBrief::of(&row),
            whole: LazyRow::loaded(Arc::new(row)),
            prefetch,
        }
    }

    pub(super) fn brief(brief: AcoRequestBrief, prefetch: Option<Arc<Prefetch>>) -> AcoRequest {
        AcoRequest {
            brief,
            whole: LazyRow::later(),
            prefetch,
        }
    }

    /// FLOW-19: the service-level stage the request is in, if any.
    fn current_stage(&self) -> Option<ServiceLevelStage> {
        use AcoRequestStatus as S;
        match self.brief.status {
            S::Submitted | S::ChannelReview => Some(ServiceLevelStage::ApplicationReview),
            S::FinanceReview | S::OperationsReview => Some(ServiceLevelStage::FinanceAndOperations),
            S::AwaitingSignature => Some(ServiceLevelStage::Signature),
            // Only application review asks for information (FLOW-3, FLOW-4).
            S::NeedsInfo => self
                .brief
                .info_requested_from
                .map(|_| ServiceLevelStage::ApplicationReview),
            _ => None,
        }
    }

    /// FLOW-19: when the current stage is due, while its clock runs.
    fn due(&self) -> Option<DateTime> {
        sla::clock_runs(self.brief.status)
            .then_some(self.brief.due_at)
            .flatten()
            .map(DateTime)
    }

    fn overdue_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        sla::is_overdue(self.brief.status, self.brief.due_at, now)
    }

    /// The whole row, read by id as the caller may see it if it was loaded in brief.
    async fn row(&self, ctx: &Context<'_>) -> async_graphql::Result<&AcoRequestRow> {
        if let Some(row) = self.whole.get_now() {
            return Ok(row);
        }
        let id = self.brief.id.clone();
        self.whole
            .get(ctx, move |tx, actor| authz::request(tx, actor, &id))
            .await
    }
}

/// A request answers plainly the fields of its brief, and the customer,
/// partners and last event its page loaded ahead.
impl PlainFields for AcoRequest {
    fn plain(&self, on: &PlainContext<'_>, field: &str, below: &[SelectedField]) -> Option<Value> {
        let prefetch = self.prefetch.as_deref();
        let partner = |id: &ObjectId| {
            let partners = prefetch?.partners.as_ref()?;
            plain::nullable(on, partners.partner(id).as_ref(), below)
        };
        Some(match field {
            "id" => Value::String(self.brief.id.to_string()),
            "status" => enum_value(self.brief.status),
            "version" => Value::from(self.brief.version),
            "informationRequestedFrom" => self
                .brief
                .info_requested_from
                .map_or(Value::Null, enum_value),
            "stage" => self.current_stage().map_or(Value::Null, enum_value),
            "dueAt" => self
                .due()
                .as_ref()
                .map_or(Value::Null, ScalarType::to_value),
            "overdue" => Value::Boolean(self.overdue_at(on.request.now)),
            "customer" => {
                let customers = prefetch?.customers.as_ref()?;
                plain::nullable(
                    on,
                    customers.customer(&self.brief.customer_id).as_ref(),
                    below,
                )?
            }
            "partner" => partner(&self.brief.partner_id)?,
            "indirectProvider" => match &self.brief.indirect_provider_id {
                Some(id) => partner(id)?,
                None => Value::Null,
            },
            "lastEvent" => {
                let events = prefetch?.last_events.as_ref()?;
                plain::nullable(on, events.get(&self.brief.id).map(|e| &**e), below)?
            }
            _ => return None,
        })
    }

    fn selections(&self) -> Option<&plain::PageSelections> {
        self.prefetch.as_deref().map(|p| &p.selections)
    }
}

/// An ACO request (§5): a transacting partner's application for an Azure
/// Credit Offer for one customer's deal, as it moves through review, agreement
/// and credit.
#[Object(serial)]
impl AcoRequest {
    /// The request's global id.
    pub async fn id(&self) -> ID {
        ID(self.brief.id.to_string())
    }
    /// The request's workflow state (§5).
    async fn status(&self) -> AcoRequestStatus {
        self.brief.status
    }
    /// The customer, if the caller may see it.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        if let Some(loaded) = self.prefetch.as_ref().and_then(|p| p.customers.as_ref()) {
            return Ok(loaded.customer(&self.brief.customer_id));
        }
        let id = self.brief.customer_id.clone();
        read(ctx, move |tx, actor| {
            Ok(authz::find_customer(tx, actor, &id)?.map(Customer::from))
        })
        .await
    }
    /// The transacting partner that submitted the request.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        if let Some(loaded) = self.prefetch.as_ref().and_then(|p| p.partners.as_ref()) {
            return Ok(loaded.partner(&self.brief.partner_id));
        }
        let id = self.brief.partner_id.clone();
        read(ctx, move |tx, actor| {
            Ok(authz::find_partner(tx, actor, &id)?.map(Partner::from))
        })
        .await
    }
    /// For an indirect reseller's request: its indirect provider (ELIG-9).
    async fn indirect_provider(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(id) = self.brief.indirect_provider_id.clone() else {
            return Ok(None);
        };
        if let Some(loaded) = self.prefetch.as_ref().and_then(|p| p.partners.as_ref()) {
            return Ok(loaded.partner(&id));
        }
        read(ctx, move |tx, actor| {
            Ok(authz::find_partner(tx, actor, &id)?.map(Partner::from))
        })
        .await
    }
    /// ELIG-12: why the customer needs the credit.
    async fn scenario(&self, ctx: &Context<'_>) -> async_graphql::Result<AcoScenario> {
        Ok(self.row(ctx).await?.scenario)
    }
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::LIST_INPUT, child_complexity)"
    )]
    /// ELIG-12: the workloads in scope.
    async fn workloads(&self, ctx: &Context<'_>) -> async_graphql::Result<&[String]> {
        Ok(&self.row(ctx).await?.workloads)
    }
    /// ELIG-12: the project timeline.
    async fn timeline(&self, ctx: &Context<'_>) -> async_graphql::Result<Timeline> {
        let row = self.row(ctx).await?;
        Ok(Timeline {
            start: Date(row.timeline_start),
            end: Date(row.timeline_end),
        })
    }
    /// The estimated 12-month incremental Azure consumed revenue.
    async fn estimated_acr(&self, ctx: &Context<'_>) -> async_graphql::Result<Decimal> {
        Ok(Decimal(self.row(ctx).await?.estimated_acr))
    }
    /// ELIG-11: the estimated ACR divided by 10, rounded down to the cent.
    async fn aco_amount(&self, ctx: &Context<'_>) -> async_graphql::Result<Decimal> {
        Ok(Decimal(self.row(ctx).await?.aco_amount))
    }
    /// The channel sales manager PLSR assigned (FLOW-2).
    async fn channel_sales_manager(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<&str>> {
        Ok(self.row(ctx).await?.channel_sales_manager.as_deref())
    }
    /// While `NEEDS_INFO`: the state that asked, where the answer returns (FLOW-5).
    async fn information_requested_from(&self) -> Option<AcoRequestStatus> {
        self.brief.info_requested_from
    }
    /// The reason given for a rejection or cancellation.
    async fn decision_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.row(ctx).await?.decision_reason.as_deref())
    }
    /// FLOW-18: send this back with every workflow mutation.
    async fn version(&self) -> i64 {
        self.brief.version
    }
    /// When the partner submitted it (FLOW-1).
    async fn submitted_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.row(ctx).await?.submitted_at))
    }
    /// When it last changed.
    async fn updated_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.row(ctx).await?.updated_at))
    }
    /// FLOW-19: the service-level stage the request is in, if any.
    async fn stage(&self) -> Option<ServiceLevelStage> {
        self.current_stage()
    }
    /// FLOW-19: when the current stage is overdue: the first instant after its
    /// last business day (00:00 of the next day, programme time zone); `null`
    /// while the clock is stopped in `NEEDS_INFO` and once finished.
    async fn due_at(&self) -> Option<DateTime> {
        self.due()
    }
    /// Whether the current stage is overdue: `dueAt` has come.
    async fn overdue(&self, ctx: &Context<'_>) -> bool {
        self.overdue_at(request(ctx).now)
    }
    /// Every ACO agreement published for this request, oldest first (AGR-6).
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::RECORDS, child_complexity)"
    )]
    async fn agreements(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AcoAgreement>> {
        let id = self.brief.id.clone();
        read(ctx, move |tx, actor| {
            let filter = agreement_store::AgreementFilter {
                request: Some(id),
                ..Default::default()
            };
            let args = crate::store::pagination::PageArgs {
                first: Some(crate::store::pagination::MAX_PAGE_SIZE),
                ..Default::default()
            };
            Ok(
                agreement_store::page_of(tx, &authz::agreement_scope(actor), &filter, &args)?
                    .items
                    .into_iter()
                    .map(AcoAgreement)
                    .collect(),
            )
        })
        .await
    }
    /// The credit granted when the agreement was signed (LEDGER-1).
    async fn credit_grant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CreditGrant>> {
        let id = self.brief.id.clone();
        read(ctx, move |tx, actor| {
            let filter = agreement_store::AgreementFilter {
                request: Some(id),
                ..Default::default()
            };
            Ok(
                agreement_store::find_grant(tx, &authz::agreement_scope(actor), &filter)?
                    .map(CreditGrant),
            )
        })
        .await
    }
    /// Every transition, oldest first (FLOW-17).
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns at most this many items from the start (at most 100).")]
        first: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
        #[graphql(desc = "Returns at most this many items from the end (at most 100).")]
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<AcoRequestEvent>> {
        let id = self.brief.id.clone();
        read(ctx, move |tx, _| {
            let args = page_args(first, after, last, before, CursorKey::Sequence)?;
            let page = request_store::history(tx, &id, &args)?.try_map(|h| {
                let key = format!("{:020}", h.seq);
                AcoRequestEvent::try_from(h).map(|event| (key, event))
            })?;
            Ok(connection(page, |(key, _)| key.clone(), |(_, event)| event))
        })
        .await
    }
    /// The newest history entry.
    async fn last_event(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Arc<AcoRequestEvent>>> {
        if let Some(loaded) = self.prefetch.as_ref().and_then(|p| p.last_events.as_ref()) {
            return Ok(loaded.get(&self.brief.id).cloned());
        }
        let id = self.brief.id.clone();
        read(ctx, move |tx, _| {
            request_store::last_history(tx, &id)?
                .map(|h| AcoRequestEvent::try_from(h).map(Arc::new))
                .transpose()
        })
        .await
    }
}
