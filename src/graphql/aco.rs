//! ACO requests, agreements and grants: types, queries and workflow mutations.

use async_graphql::resolver_utils::enum_value;
use async_graphql::{
    Context, Enum, ID, InputObject, Lookahead, Object, ScalarType, SimpleObject, Value,
};

use super::connection::{Conn, CursorKey, connection, page_args};
use super::input::input_id;
use super::loaded::{self, Whole};
use super::plain::{self, Key, Plain, PlainObject, Plainly};
use super::scalars::{Date, DateTime, Decimal, Month};
use super::types::{Customer, Partner};
use super::{read, read_as_call, request, to_gql, write};
use crate::authz;
use crate::domain::actor::Actor;
use crate::domain::eligibility::{RuleResult, Scope};
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::workflow::WorkflowAction;
use crate::domain::{AcoRequestStatus, AcoScenario, AgreementStatus, GrantStatus, sla, validate};
use crate::error::{Error, Result, UserError};
use crate::service::agreements::{self, Publication, Signature};
use crate::service::requests::{self, Corrections, Deal, EligibilityReport, Step};
use crate::store::NamedRow;
use crate::store::Tx;
use crate::store::agreements::{AcoAgreementRow, CreditGrantRow};
use crate::store::customers::CustomerRow;
use crate::store::pagination::PageArgs;
use crate::store::partners::PartnerRow;
use crate::store::requests::{AcoRequestBrief, AcoRequestRow, HistoryRow, RequestFilter};
use crate::store::{agreements as agreement_store, customers, partners, requests as request_store};
use std::collections::HashMap;
use std::sync::Arc;

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
    pub start: Date,
    pub end: Date,
}

/// One transition in a request's append-only history (FLOW-17).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct AcoRequestEvent {
    pub at: DateTime,
    /// The token subject of whoever acted; `system` for the expiry sweep.
    pub actor_subject: String,
    pub actor_name: Option<String>,
    /// The actor's role, or `SYSTEM`.
    pub actor_role: String,
    pub action: String,
    pub from_status: Option<AcoRequestStatus>,
    pub to_status: AcoRequestStatus,
    pub comment: Option<String>,
    /// When the entry was written, if later than `at`: an expiry found after
    /// its deadline is recorded at the deadline (FLOW-11). `null` when it was
    /// written at `at`.
    pub recorded_at: Option<DateTime>,
}

impl From<HistoryRow> for AcoRequestEvent {
    fn from(h: HistoryRow) -> Self {
        AcoRequestEvent {
            at: DateTime(h.at),
            actor_subject: h.actor_subject,
            actor_name: h.actor_name,
            actor_role: h.actor_role,
            action: h.action,
            from_status: h.from_status,
            to_status: h.to_status,
            comment: h.comment,
            recorded_at: h.recorded_at.map(DateTime),
        }
    }
}

/// An ACO request (§5): its brief, its whole row (loaded with it, or read on
/// the first field that needs it: a list page may load only the brief, see
/// [`loaded`](super::loaded)), and what its list page loaded ahead for it.
pub struct AcoRequest {
    brief: AcoRequestBrief,
    whole: Whole<AcoRequestRow>,
    prefetch: Option<Arc<Prefetch>>,
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

    fn whole(row: AcoRequestRow, prefetch: Option<Arc<Prefetch>>) -> AcoRequest {
        AcoRequest {
            brief: AcoRequestBrief::of(&row),
            whole: Whole::loaded(Arc::new(row)),
            prefetch,
        }
    }

    fn brief(brief: AcoRequestBrief, prefetch: Option<Arc<Prefetch>>) -> AcoRequest {
        AcoRequest {
            brief,
            whole: Whole::later(),
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

/// What a list page of requests loads for all of its rows at once — one
/// query per kind of nested object, through the same scopes as every other
/// path — instead of one query per row (no N+1).
#[derive(Default)]
pub struct Prefetch {
    customers: Option<Nested<CustomerRow>>,
    partners: Option<Nested<PartnerRow>>,
    last_events: Option<ById<AcoRequestEvent>>,
    /// The page's plain selections, shared by its requests.
    selections: plain::Selections,
}

/// A page's nested objects by their id. The ids are the service's own, not
/// a client's choice, so a fast hash serves (no flooding to resist).
type ById<R> = HashMap<ObjectId, Arc<R>, foldhash::fast::RandomState>;

/// The nested objects of one kind a page loaded, whole or in brief.
enum Nested<R> {
    Whole(ById<R>),
    Brief(ById<NamedRow>),
}

impl Nested<CustomerRow> {
    fn customer(&self, id: &ObjectId) -> Option<Customer> {
        match self {
            Nested::Whole(rows) => rows.get(id).cloned().map(Customer::whole),
            Nested::Brief(rows) => rows.get(id).cloned().map(Customer::brief),
        }
    }
}

impl Nested<PartnerRow> {
    fn partner(&self, id: &ObjectId) -> Option<Partner> {
        match self {
            Nested::Whole(rows) => rows.get(id).cloned().map(Partner::whole),
            Nested::Brief(rows) => rows.get(id).cloned().map(Partner::brief),
        }
    }
}

/// How much of a nested object a selection needs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Depth {
    /// Its id and name (and what starts from its id).
    Brief,
    Whole,
}

/// Which nested objects a list's nodes ask for, and how much of each.
#[derive(Clone, Copy, Default, Debug)]
pub struct Wanted {
    customer: Option<Depth>,
    partner: Option<Depth>,
    last_event: bool,
}

impl Wanted {
    /// Reads the selection of a field that returns one request.
    pub fn of_object(ctx: &Context<'_>) -> Wanted {
        Wanted::below(&[ctx.look_ahead()])
    }

    /// Reads the selection below `nodes` and `edges { node }` of a connection field.
    pub fn of(ctx: &Context<'_>) -> Wanted {
        let look = ctx.look_ahead();
        Wanted::below(&Wanted::nodes(&look))
    }

    /// The selections of a connection's nodes.
    fn nodes<'a>(look: &Lookahead<'a>) -> [Lookahead<'a>; 2] {
        [look.field("nodes"), look.field("edges").field("node")]
    }

    fn below(requests: &[Lookahead<'_>]) -> Wanted {
        let depth = |fields: &[&str], brief: &[&str]| -> Option<Depth> {
            let looks: Vec<Lookahead<'_>> = requests
                .iter()
                .flat_map(|r| fields.iter().map(move |f| r.field(f)))
                .filter(|l| l.exists())
                .collect();
            if looks.is_empty() {
                None
            } else if loaded::only(&looks, brief) {
                Some(Depth::Brief)
            } else {
                Some(Depth::Whole)
            }
        };
        Wanted {
            customer: depth(&["customer"], Customer::BRIEF_FIELDS),
            partner: depth(&["partner", "indirectProvider"], Partner::BRIEF_FIELDS),
            last_event: requests.iter().any(|r| r.field("lastEvent").exists()),
        }
    }
}

impl Prefetch {
    /// Loads what `wanted` names for `rows`, as `actor` may see it.
    pub fn load(
        tx: &Tx<'_>,
        actor: &Actor,
        rows: &[&AcoRequestBrief],
        wanted: Wanted,
    ) -> Result<Prefetch> {
        let mut prefetch = Prefetch::default();
        if let Some(depth) = wanted.customer {
            let ids: Vec<&str> = rows.iter().map(|r| r.customer_id.as_str()).collect();
            let scope = authz::customer_scope(actor);
            prefetch.customers = Some(match depth {
                Depth::Whole => {
                    Nested::Whole(by_id(customers::find_every(tx, &ids, &scope)?, |c| &c.id))
                }
                Depth::Brief => {
                    Nested::Brief(by_id(customers::find_named(tx, &ids, &scope)?, |c| &c.id))
                }
            });
        }
        if let Some(depth) = wanted.partner {
            let mut ids: Vec<&str> = rows.iter().map(|r| r.partner_id.as_str()).collect();
            ids.extend(
                rows.iter()
                    .filter_map(|r| r.indirect_provider_id.as_ref().map(|p| p.as_str())),
            );
            let scope = authz::partner_scope(actor);
            prefetch.partners = Some(match depth {
                Depth::Whole => {
                    Nested::Whole(by_id(partners::find_every(tx, &ids, &scope)?, |p| &p.id))
                }
                Depth::Brief => {
                    Nested::Brief(by_id(partners::find_named(tx, &ids, &scope)?, |p| &p.id))
                }
            });
        }
        if wanted.last_event {
            let seqs: Vec<i64> = rows.iter().filter_map(|r| r.last_history_id).collect();
            prefetch.last_events = Some(
                request_store::history_entries(tx, &seqs)?
                    .into_iter()
                    .map(|h| (h.request_id.clone(), Arc::new(AcoRequestEvent::from(h))))
                    .collect(),
            );
        }
        Ok(prefetch)
    }
}

/// Rows by their id, each shared by the requests that nest it.
fn by_id<R>(rows: Vec<R>, id: impl Fn(&R) -> &ObjectId) -> ById<R> {
    rows.into_iter()
        .map(|row| (id(&row).clone(), Arc::new(row)))
        .collect()
}

impl Plain for AcoRequestEvent {
    fn plain(&self, _: &Plainly<'_>, field: &str, _: &[Key]) -> Option<Value> {
        let text =
            |t: &Option<String>| t.as_ref().map_or(Value::Null, |t| Value::String(t.clone()));
        Some(match field {
            "at" => self.at.to_value(),
            "actorSubject" => Value::String(self.actor_subject.clone()),
            "actorName" => text(&self.actor_name),
            "actorRole" => Value::String(self.actor_role.clone()),
            "action" => Value::String(self.action.clone()),
            "fromStatus" => self.from_status.map_or(Value::Null, enum_value),
            "toStatus" => enum_value(self.to_status),
            "comment" => text(&self.comment),
            "recordedAt" => self
                .recorded_at
                .as_ref()
                .map_or(Value::Null, |at| at.to_value()),
            _ => return None,
        })
    }
}

/// A request answers plainly the fields of its brief, and the customer,
/// partners and last event its page loaded ahead.
impl Plain for AcoRequest {
    fn plain(&self, on: &Plainly<'_>, field: &str, below: &[Key]) -> Option<Value> {
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

    fn selections(&self) -> Option<&plain::Selections> {
        self.prefetch.as_deref().map(|p| &p.selections)
    }
}

#[Object(serial)]
impl AcoRequest {
    pub async fn id(&self) -> ID {
        ID(self.brief.id.to_string())
    }
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
    async fn scenario(&self, ctx: &Context<'_>) -> async_graphql::Result<AcoScenario> {
        Ok(self.row(ctx).await?.scenario)
    }
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::LIST_INPUT, child_complexity)"
    )]
    async fn workloads(&self, ctx: &Context<'_>) -> async_graphql::Result<&[String]> {
        Ok(&self.row(ctx).await?.workloads)
    }
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
    async fn submitted_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.row(ctx).await?.submitted_at))
    }
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
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<AcoRequestEvent>> {
        let id = self.brief.id.clone();
        read(ctx, move |tx, _| {
            let args = page_args(first, after, last, before, CursorKey::Sequence)?;
            let page = request_store::history(tx, &id, &args)?;
            Ok(connection(
                page,
                |h| format!("{:020}", h.seq),
                AcoRequestEvent::from,
            ))
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
            Ok(request_store::last_history(tx, &id)?.map(|h| Arc::new(AcoRequestEvent::from(h))))
        })
        .await
    }
}

/// An ACO agreement (a PL-MCA amendment) published to the customer's signer (AGR-3…6).
pub struct AcoAgreement(pub AcoAgreementRow);

#[Object(serial)]
impl AcoAgreement {
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn status(&self) -> AgreementStatus {
        self.0.status
    }
    async fn signer_name(&self) -> &str {
        &self.0.signer_name
    }
    async fn signer_email(&self) -> &str {
        &self.0.signer_email
    }
    /// LEDGER-1: how many months the credit may be used, from the month of signing.
    async fn credit_period_months(&self) -> u32 {
        self.0.credit_period_months
    }
    async fn aco_amount(&self) -> Decimal {
        Decimal(self.0.aco_amount)
    }
    async fn published_at(&self) -> DateTime {
        DateTime(self.0.published_at)
    }
    /// AGR-4: when the agreement has expired: the midnight that ends the
    /// publishing month, programme time zone. Signing at any instant before
    /// it is accepted; at or after it, refused.
    async fn expires_at(&self) -> DateTime {
        DateTime(self.0.expires_at)
    }
    async fn signed_at(&self) -> Option<DateTime> {
        self.0.signed_at.map(DateTime)
    }
    /// When it was signed, withdrawn or expired.
    async fn closed_at(&self) -> Option<DateTime> {
        self.0.closed_at.map(DateTime)
    }
    async fn closed_reason(&self) -> Option<&str> {
        self.0.closed_reason.as_deref()
    }
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let id = self.0.customer_id.clone();
        read(ctx, move |tx, actor| {
            Ok(authz::find_customer(tx, actor, &id)?.map(Customer::from))
        })
        .await
    }
    /// The request, if the caller may see it (customer signers see agreements, not requests).
    async fn aco_request(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<AcoRequest>> {
        let id = self.0.request_id.clone();
        read(ctx, move |tx, actor| {
            Ok(authz::find_request(tx, actor, &id)?.map(AcoRequest::from))
        })
        .await
    }
}

/// LEDGER-1: an ACO credit granted to a customer by a signed agreement.
pub struct CreditGrant(pub CreditGrantRow);

#[Object(serial)]
impl CreditGrant {
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn amount(&self) -> Decimal {
        Decimal(self.0.amount)
    }
    /// The first month the credit applies to (the month of signing).
    async fn first_month(&self) -> Month {
        Month(self.0.first_month)
    }
    /// The last month of the credit period.
    async fn last_month(&self) -> Month {
        Month(self.0.last_month)
    }
    async fn status(&self) -> GrantStatus {
        self.0.status
    }
    async fn granted_at(&self) -> DateTime {
        DateTime(self.0.granted_at)
    }
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let id = self.0.customer_id.clone();
        read(ctx, move |tx, actor| {
            Ok(authz::find_customer(tx, actor, &id)?.map(Customer::from))
        })
        .await
    }
    async fn agreement(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<AcoAgreement>> {
        let id = self.0.agreement_id.clone();
        read(ctx, move |tx, actor| {
            Ok(authz::find_agreement(tx, actor, &id)?.map(AcoAgreement))
        })
        .await
    }
}

/// One rule of DOMAIN §3 applied to a deal.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct EligibilityRuleResult {
    /// The rule's id in the rule book, e.g. `ELIG-10`.
    pub rule: String,
    /// The stable code, e.g. `DEAL_BELOW_MINIMUM`.
    pub code: String,
    pub passed: bool,
    pub message: String,
    /// How to fix it; `null` when the rule passed.
    pub remedy: Option<String>,
}

impl From<RuleResult> for EligibilityRuleResult {
    fn from(r: RuleResult) -> Self {
        EligibilityRuleResult {
            rule: r.rule.into(),
            code: r.code.into(),
            passed: r.passed,
            message: r.message.into(),
            remedy: r.remedy.map(Into::into),
        }
    }
}

/// The pre-flight check of DOMAIN §3: every rule, at once.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct AcoEligibility {
    pub eligible: bool,
    /// ELIG-11: the ACO amount the deal would get.
    pub aco_amount: Decimal,
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::RULES, child_complexity)"
    )]
    pub rules: Vec<EligibilityRuleResult>,
    pub customer: Customer,
    pub partner: Partner,
}

impl From<EligibilityReport> for AcoEligibility {
    fn from(r: EligibilityReport) -> Self {
        AcoEligibility {
            eligible: r.eligible(),
            aco_amount: Decimal(r.aco_amount),
            rules: r.results.into_iter().map(Into::into).collect(),
            customer: Customer::from(r.customer),
            partner: Partner::from(r.partner),
        }
    }
}

/// ELIG-12: the project timeline.
#[derive(InputObject)]
pub struct TimelineInput {
    pub start: Date,
    pub end: Date,
}

#[derive(InputObject)]
pub struct AcoEligibilityInput {
    pub customer_id: ID,
    /// Programme roles name the partner to check for; partners leave it out.
    pub partner_id: Option<ID>,
    /// For an indirect reseller: the indirect provider it works through (ELIG-9).
    pub indirect_provider_id: Option<ID>,
    /// The estimated 12-month incremental Azure consumed revenue, e.g. `"15000.00"`.
    pub estimated_acr: Decimal,
    pub scenario: Option<AcoScenario>,
    pub workloads: Option<Vec<String>>,
    pub timeline: Option<TimelineInput>,
}

fn workloads(list: Option<Vec<String>>, field: &str) -> Result<Vec<String>> {
    let list = list.unwrap_or_default();
    if list.len() > validate::MAX_LIST {
        return Err(Error::bad_input(
            &["input", field],
            format!("at most {} workloads", validate::MAX_LIST),
        ));
    }
    list.iter()
        .filter(|w| !w.trim().is_empty())
        .map(|w| {
            validate::text(w).ok_or_else(|| {
                Error::bad_input(
                    &["input", field],
                    "each workload is text of at most 256 characters",
                )
            })
        })
        .collect()
}

fn acr(value: Decimal) -> Result<rust_decimal::Decimal> {
    if value.0.is_sign_negative() {
        return Err(Error::bad_input(
            &["input", "estimatedAcr"],
            "the estimated ACR must not be negative",
        ));
    }
    Ok(value.0)
}

fn optional_id(value: &Option<ID>, field: &str, kind: IdKind) -> Result<Option<ObjectId>> {
    value.as_ref().map(|v| input_id(v, field, kind)).transpose()
}

impl AcoEligibilityInput {
    fn into_deal(self) -> Result<Deal> {
        Ok(Deal {
            customer_id: input_id(&self.customer_id, "customerId", IdKind::Customer)?,
            partner_id: optional_id(&self.partner_id, "partnerId", IdKind::Partner)?,
            indirect_provider_id: optional_id(
                &self.indirect_provider_id,
                "indirectProviderId",
                IdKind::Partner,
            )?,
            estimated_acr: acr(self.estimated_acr)?,
            scope: Scope {
                scenario: self.scenario,
                workloads: workloads(self.workloads, "workloads")?,
                timeline: self.timeline.map(|t| (t.start.0, t.end.0)),
            },
        })
    }
}

#[derive(InputObject)]
pub struct SubmitAcoRequestInput {
    pub customer_id: ID,
    /// For an indirect reseller: the indirect provider it works through (ELIG-9).
    pub indirect_provider_id: Option<ID>,
    /// The estimated 12-month incremental Azure consumed revenue, e.g. `"15000.00"`.
    pub estimated_acr: Decimal,
    pub scenario: Option<AcoScenario>,
    pub workloads: Option<Vec<String>>,
    pub timeline: Option<TimelineInput>,
    /// A note for the reviewers.
    pub comment: Option<String>,
}

fn comment(value: Option<String>, field: &str) -> Result<Option<String>> {
    match value {
        Some(v) if !v.trim().is_empty() => {
            let v = v.trim().to_owned();
            if v.chars().count() > 4000 {
                return Err(Error::bad_input(
                    &["input", field],
                    "at most 4000 characters",
                ));
            }
            Ok(Some(v))
        }
        _ => Ok(None),
    }
}

fn required_comment(value: String, field: &str) -> Result<String> {
    comment(Some(value), field)?
        .ok_or_else(|| Error::bad_input(&["input", field], format!("`{field}` is required")))
}

/// The `version` the caller saw (FLOW-18).
fn version(value: i32) -> Result<i64> {
    if value < 1 {
        return Err(Error::bad_input(
            &["input", "version"],
            "`version` is the request's version, 1 or more",
        ));
    }
    Ok(value.into())
}

/// What every workflow step carries.
#[derive(InputObject)]
pub struct AcoRequestStepInput {
    pub id: ID,
    /// The request's `version` as the caller saw it (FLOW-18).
    pub version: i32,
    pub comment: Option<String>,
}

impl AcoRequestStepInput {
    fn into_step(self) -> Result<Step> {
        Ok(Step {
            request_id: input_id(&self.id, "id", IdKind::AcoRequest)?,
            version: version(self.version)?,
            comment: comment(self.comment, "comment")?,
        })
    }
}

#[derive(InputObject)]
pub struct PassAcoComplianceCheckInput {
    pub id: ID,
    pub version: i32,
    /// The channel sales manager who reviews the deal next (an email address).
    pub channel_sales_manager: String,
    pub comment: Option<String>,
}

#[derive(InputObject)]
pub struct RequestAcoInformationInput {
    pub id: ID,
    pub version: i32,
    /// What the partner must answer.
    pub question: String,
}

#[derive(InputObject)]
pub struct AnswerAcoInformationRequestInput {
    pub id: ID,
    pub version: i32,
    pub answer: String,
    /// Corrections (FLOW-5): the ACO amount is recomputed.
    pub estimated_acr: Option<Decimal>,
    pub scenario: Option<AcoScenario>,
    pub workloads: Option<Vec<String>>,
    pub timeline: Option<TimelineInput>,
}

#[derive(InputObject)]
pub struct RejectAcoRequestInput {
    pub id: ID,
    pub version: i32,
    pub reason: String,
}

#[derive(InputObject)]
pub struct CancelAcoRequestInput {
    pub id: ID,
    pub version: i32,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct PublishAcoAgreementInput {
    /// The request, in `OPERATIONS_REVIEW`.
    pub id: ID,
    pub version: i32,
    /// The customer's signer the agreement is published to.
    pub signer_name: String,
    pub signer_email: String,
    /// LEDGER-1: months the credit may be used, from the month of signing (1–60, default 12).
    #[graphql(default = 12)]
    pub credit_period_months: i32,
    pub comment: Option<String>,
}

#[derive(InputObject)]
pub struct WithdrawAcoAgreementInput {
    /// The request, in `AWAITING_SIGNATURE`.
    pub id: ID,
    pub version: i32,
    /// What is to change (AGR-6).
    pub reason: String,
}

#[derive(InputObject)]
pub struct SignAcoAgreementInput {
    pub agreement_id: ID,
}

#[derive(InputObject, Default)]
pub struct ExpireAcoAgreementsInput {
    /// Echoed back, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

#[derive(InputObject, Default)]
pub struct AcoRequestFilter {
    /// Any of these states.
    pub status: Option<Vec<AcoRequestStatus>>,
    pub customer_id: Option<ID>,
    /// The submitting partner.
    pub partner_id: Option<ID>,
    /// `true`: only requests past their due date (FLOW-19); `false`: only those that are not.
    pub overdue: Option<bool>,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct SubmitAcoRequestPayload {
    pub aco_request: Option<AcoRequest>,
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct AcoRequestPayload {
    pub aco_request: Option<AcoRequest>,
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct AcoAgreementPayload {
    pub aco_request: Option<AcoRequest>,
    pub aco_agreement: Option<AcoAgreement>,
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct SignAcoAgreementPayload {
    /// The agreement: `SIGNED`, or `EXPIRED` when the signature came too late.
    pub aco_agreement: Option<AcoAgreement>,
    pub credit_grant: Option<CreditGrant>,
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ExpireAcoAgreementsPayload {
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::SWEEP, child_complexity)"
    )]
    pub expired_agreements: Vec<AcoAgreement>,
    pub client_mutation_id: Option<String>,
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

fn checked<T>(ctx: &Context<'_>, value: Result<T>) -> async_graphql::Result<T> {
    value.map_err(|e| to_gql(ctx, e))
}

fn request_payload(
    outcome: std::result::Result<AcoRequestRow, Vec<UserError>>,
) -> AcoRequestPayload {
    match outcome {
        Ok(row) => AcoRequestPayload {
            aco_request: Some(AcoRequest::from(row)),
            user_errors: Vec::new(),
        },
        Err(user_errors) => AcoRequestPayload {
            aco_request: None,
            user_errors,
        },
    }
}

async fn run_step(
    ctx: &Context<'_>,
    action: WorkflowAction,
    step: Result<Step>,
) -> async_graphql::Result<AcoRequestPayload> {
    let step = checked(ctx, step)?;
    Ok(request_payload(
        write(ctx, move |tx, call| requests::step(tx, call, action, step)).await?,
    ))
}

#[derive(Default)]
pub struct AcoQuery;

#[Object(serial)]
impl AcoQuery {
    /// An ACO request the caller may see.
    async fn aco_request(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<AcoRequest> {
        let id = checked(
            ctx,
            ObjectId::parse_kind(&id, IdKind::AcoRequest).map_err(|e| Error::bad_id(&["id"], e)),
        )?;
        let wanted = Wanted::of_object(ctx);
        read(ctx, move |tx, actor| {
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
        filter: Option<AcoRequestFilter>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
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
        request_page(ctx, narrowing, (after, first, before, last)).await
    }

    /// The pre-flight check of DOMAIN §3: every rule with its remedy, whether
    /// the deal is eligible, and the ACO amount it would get.
    async fn aco_eligibility(
        &self,
        ctx: &Context<'_>,
        input: AcoEligibilityInput,
    ) -> async_graphql::Result<AcoEligibility> {
        let deal = checked(ctx, input.into_deal())?;
        let report = read_as_call(ctx, move |tx, call| {
            requests::check_eligibility(tx, call, &deal)
        })
        .await?;
        Ok(report.into())
    }
}

#[derive(Default)]
pub struct AcoMutation;

#[Object(serial)]
impl AcoMutation {
    /// FLOW-1: the transacting partner submits a request; refused with every
    /// failing rule of §3 at once. Indirect providers, programme roles and
    /// customer signers never submit (ROLE-1, ROLE-2).
    async fn submit_aco_request(
        &self,
        ctx: &Context<'_>,
        input: SubmitAcoRequestInput,
    ) -> async_graphql::Result<SubmitAcoRequestPayload> {
        let note = checked(ctx, comment(input.comment.clone(), "comment"))?;
        let deal = checked(
            ctx,
            AcoEligibilityInput {
                customer_id: input.customer_id,
                partner_id: None,
                indirect_provider_id: input.indirect_provider_id,
                estimated_acr: input.estimated_acr,
                scenario: input.scenario,
                workloads: input.workloads,
                timeline: input.timeline,
            }
            .into_deal(),
        )?;
        let outcome = write(ctx, move |tx, call| requests::submit(tx, call, deal, note)).await?;
        Ok(match outcome {
            Ok(row) => SubmitAcoRequestPayload {
                aco_request: Some(AcoRequest::from(row)),
                user_errors: Vec::new(),
            },
            Err(user_errors) => SubmitAcoRequestPayload {
                aco_request: None,
                user_errors,
            },
        })
    }

    /// FLOW-2, PLSR: passes the quality & compliance check and assigns a channel sales manager.
    async fn pass_aco_compliance_check(
        &self,
        ctx: &Context<'_>,
        input: PassAcoComplianceCheckInput,
    ) -> async_graphql::Result<AcoRequestPayload> {
        let manager = checked(
            ctx,
            validate::email(&input.channel_sales_manager).ok_or_else(|| {
                Error::bad_input(
                    &["input", "channelSalesManager"],
                    "`channelSalesManager` must be an email address",
                )
            }),
        )?;
        let step = checked(
            ctx,
            AcoRequestStepInput {
                id: input.id,
                version: input.version,
                comment: input.comment,
            }
            .into_step(),
        )?;
        Ok(request_payload(
            write(ctx, move |tx, call| {
                requests::pass_compliance_check(tx, call, step, manager)
            })
            .await?,
        ))
    }

    /// FLOW-3 (PLSR, in `SUBMITTED`) and FLOW-4 (channel sales, in `CHANNEL_REVIEW`): asks the partner for more.
    async fn request_aco_information(
        &self,
        ctx: &Context<'_>,
        input: RequestAcoInformationInput,
    ) -> async_graphql::Result<AcoRequestPayload> {
        let step = required_comment(input.question, "question").and_then(|q| {
            AcoRequestStepInput {
                id: input.id,
                version: input.version,
                comment: Some(q),
            }
            .into_step()
        });
        run_step(ctx, WorkflowAction::RequestInformation, step).await
    }

    /// FLOW-5, the submitting partner: answers, optionally correcting scope or
    /// estimate; the request returns to the state that asked.
    async fn answer_aco_information_request(
        &self,
        ctx: &Context<'_>,
        input: AnswerAcoInformationRequestInput,
    ) -> async_graphql::Result<AcoRequestPayload> {
        let parsed = (|| -> Result<(Step, Corrections)> {
            let answer = required_comment(input.answer, "answer")?;
            let step = AcoRequestStepInput {
                id: input.id,
                version: input.version,
                comment: Some(answer),
            }
            .into_step()?;
            let corrections = Corrections {
                estimated_acr: input.estimated_acr.map(acr).transpose()?,
                scenario: input.scenario,
                workloads: input
                    .workloads
                    .map(|w| workloads(Some(w), "workloads"))
                    .transpose()?,
                timeline: input.timeline.map(|t| (t.start.0, t.end.0)),
            };
            Ok((step, corrections))
        })();
        let (step, corrections) = checked(ctx, parsed)?;
        Ok(request_payload(
            write(ctx, move |tx, call| {
                requests::answer_information_request(tx, call, step, corrections)
            })
            .await?,
        ))
    }

    /// FLOW-7, channel sales: supports the deal and submits it for finance.
    async fn support_aco_request(
        &self,
        ctx: &Context<'_>,
        input: AcoRequestStepInput,
    ) -> async_graphql::Result<AcoRequestPayload> {
        run_step(ctx, WorkflowAction::Support, input.into_step()).await
    }

    /// FLOW-8, finance: approves.
    async fn approve_aco_request(
        &self,
        ctx: &Context<'_>,
        input: AcoRequestStepInput,
    ) -> async_graphql::Result<AcoRequestPayload> {
        run_step(ctx, WorkflowAction::Approve, input.into_step()).await
    }

    /// FLOW-6: PLSR, channel sales or finance, each in its own state, rejects with a reason.
    async fn reject_aco_request(
        &self,
        ctx: &Context<'_>,
        input: RejectAcoRequestInput,
    ) -> async_graphql::Result<AcoRequestPayload> {
        let step = required_comment(input.reason, "reason").and_then(|r| {
            AcoRequestStepInput {
                id: input.id,
                version: input.version,
                comment: Some(r),
            }
            .into_step()
        });
        run_step(ctx, WorkflowAction::Reject, step).await
    }

    /// FLOW-13, the submitting partner: cancels a request that is not yet active.
    async fn cancel_aco_request(
        &self,
        ctx: &Context<'_>,
        input: CancelAcoRequestInput,
    ) -> async_graphql::Result<AcoRequestPayload> {
        let step = checked(
            ctx,
            AcoRequestStepInput {
                id: input.id,
                version: input.version,
                comment: input.reason,
            }
            .into_step(),
        )?;
        Ok(request_payload(
            write(ctx, move |tx, call| requests::cancel(tx, call, step)).await?,
        ))
    }

    /// FLOW-9, AGR-3/4, operations: publishes the ACO agreement to the customer's signer.
    async fn publish_aco_agreement(
        &self,
        ctx: &Context<'_>,
        input: PublishAcoAgreementInput,
    ) -> async_graphql::Result<AcoAgreementPayload> {
        let parsed = (|| -> Result<(Step, Publication)> {
            let signer_name = validate::text(&input.signer_name).ok_or_else(|| {
                Error::bad_input(
                    &["input", "signerName"],
                    "`signerName` must be non-empty text",
                )
            })?;
            let signer_email = validate::email(&input.signer_email).ok_or_else(|| {
                Error::bad_input(
                    &["input", "signerEmail"],
                    "`signerEmail` must be an email address",
                )
            })?;
            if !(1..=60).contains(&input.credit_period_months) {
                return Err(Error::bad_input(
                    &["input", "creditPeriodMonths"],
                    "`creditPeriodMonths` must be between 1 and 60",
                ));
            }
            let step = AcoRequestStepInput {
                id: input.id,
                version: input.version,
                comment: input.comment,
            }
            .into_step()?;
            Ok((
                step,
                Publication {
                    signer_name,
                    signer_email,
                    credit_period_months: input.credit_period_months as u32,
                },
            ))
        })();
        let (step, publication) = checked(ctx, parsed)?;
        let outcome = write(ctx, move |tx, call| {
            agreements::publish(tx, call, step, publication)
        })
        .await?;
        Ok(match outcome {
            Ok((request, agreement)) => AcoAgreementPayload {
                aco_request: Some(AcoRequest::from(request)),
                aco_agreement: Some(AcoAgreement(agreement)),
                user_errors: Vec::new(),
            },
            Err(user_errors) => AcoAgreementPayload {
                aco_request: None,
                aco_agreement: None,
                user_errors,
            },
        })
    }

    /// FLOW-12, AGR-6, operations: withdraws the published agreement to change it; back to finance.
    async fn withdraw_aco_agreement(
        &self,
        ctx: &Context<'_>,
        input: WithdrawAcoAgreementInput,
    ) -> async_graphql::Result<AcoAgreementPayload> {
        let step = checked(
            ctx,
            required_comment(input.reason, "reason").and_then(|r| {
                AcoRequestStepInput {
                    id: input.id,
                    version: input.version,
                    comment: Some(r),
                }
                .into_step()
            }),
        )?;
        let outcome = write(ctx, move |tx, call| agreements::withdraw(tx, call, step)).await?;
        Ok(match outcome {
            Ok((request, agreement)) => AcoAgreementPayload {
                aco_request: Some(AcoRequest::from(request)),
                aco_agreement: agreement.map(AcoAgreement),
                user_errors: Vec::new(),
            },
            Err(user_errors) => AcoAgreementPayload {
                aco_request: None,
                aco_agreement: None,
                user_errors,
            },
        })
    }

    /// FLOW-10, LEDGER-1, the customer's own signer: signs before the deadline;
    /// the credit is granted at once. After the deadline the signature is
    /// refused with `AGREEMENT_EXPIRED`, and the agreement expires (FLOW-11).
    async fn sign_aco_agreement(
        &self,
        ctx: &Context<'_>,
        input: SignAcoAgreementInput,
    ) -> async_graphql::Result<SignAcoAgreementPayload> {
        let id = checked(
            ctx,
            input_id(&input.agreement_id, "agreementId", IdKind::AcoAgreement),
        )?;
        let outcome = write(ctx, move |tx, call| agreements::sign(tx, call, &id)).await?;
        Ok(match outcome {
            Ok(Signature::Signed {
                agreement, grant, ..
            }) => SignAcoAgreementPayload {
                aco_agreement: Some(AcoAgreement(agreement)),
                credit_grant: Some(CreditGrant(grant)),
                user_errors: Vec::new(),
            },
            Ok(Signature::Expired { agreement }) => SignAcoAgreementPayload {
                user_errors: vec![agreements::too_late(&agreement)],
                aco_agreement: Some(AcoAgreement(agreement)),
                credit_grant: None,
            },
            Err(user_errors) => SignAcoAgreementPayload {
                aco_agreement: None,
                credit_grant: None,
                user_errors,
            },
        })
    }

    /// AGR-4, FLOW-11, operations: expires every published agreement past its
    /// deadline (the service also does this on its own every few minutes).
    async fn expire_aco_agreements(
        &self,
        ctx: &Context<'_>,
        input: Option<ExpireAcoAgreementsInput>,
    ) -> async_graphql::Result<ExpireAcoAgreementsPayload> {
        let input = input.unwrap_or_default();
        let outcome = write(ctx, move |tx, call| {
            agreements::expire_overdue(tx, call, true)
        })
        .await?;
        Ok(match outcome {
            Ok(expired) => ExpireAcoAgreementsPayload {
                expired_agreements: expired.into_iter().map(AcoAgreement).collect(),
                client_mutation_id: input.client_mutation_id,
                user_errors: Vec::new(),
            },
            Err(user_errors) => ExpireAcoAgreementsPayload {
                expired_agreements: Vec::new(),
                client_mutation_id: input.client_mutation_id,
                user_errors,
            },
        })
    }
}

/// A page of the ACO requests the caller may see, narrowed by `filter`: each
/// list of requests (the root's, a partner's, a customer's) loads its page
/// and what its nodes ask for of their customers, partners, agreements and
/// events ahead, in one read (the page's `Prefetch`).
pub(crate) async fn request_page(
    ctx: &Context<'_>,
    filter: RequestFilter,
    (after, first, before, last): (Option<String>, Option<i32>, Option<String>, Option<i32>),
) -> async_graphql::Result<Conn<PlainObject<AcoRequest>>> {
    let wanted = Wanted::of(ctx);
    let brief = loaded::only(&Wanted::nodes(&ctx.look_ahead()), AcoRequest::BRIEF_FIELDS);
    let count_total = ctx.look_ahead().field("totalCount").exists();
    read(ctx, move |tx, actor| {
        let args = page_args(
            first,
            after,
            last,
            before,
            CursorKey::Object(IdKind::AcoRequest),
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
            |q| q.brief.id.to_string(),
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
