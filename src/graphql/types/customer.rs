//! The customer object (§1): its billing profile, its acceptance of the
//! Microsoft Customer Agreement and partners' confirmations of it.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject, Value};

use super::common::{Address, ChangeEvent, Contact, history};
use super::partner::Partner;
use super::relationship::{ResellerRelationship, relationship_page};
use crate::authz;
use crate::domain::actor::Actor;
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{
    self, AcceptanceMethod, CustomerSegment, OrganizationKind, RelationshipStatus,
};
use crate::graphql::aco::{AcoAgreement, AcoRequest, CreditGrant, request_page};
use crate::graphql::connection::{Conn, CursorKey, connection, page_args};
use crate::graphql::credits;
use crate::graphql::loaded::{BriefRow, Loaded};
use crate::graphql::plain::{PlainContext, PlainFields, PlainList, PlainObject, SelectedField};
use crate::graphql::read;
use crate::graphql::scalars::{Date, DateTime, Month};
use crate::store::customers::{self, CustomerAgreementRow, CustomerRow, McaConfirmationRow};
use crate::store::partners::PartnerRow;
use crate::store::relationships::RelationshipFilter;
use crate::store::{NamedRow, Tx, agreements};

/// A customer's billing profile; ELIG-4 needs all of it.
#[derive(SimpleObject)]
#[graphql(complex, serial)]
pub struct BillingProfile {
    /// The customer's registered legal name (ELIG-4).
    pub legal_name: Option<String>,
    /// The customer's tax identification number (ELIG-4).
    pub tax_id: Option<String>,
    /// The customer's company registration number (ELIG-4).
    pub registration_number: Option<String>,
    /// The email address for billing.
    pub email: Option<String>,
    /// The billing address; ELIG-4 needs line 1, city, state, postal code and country.
    pub default_address: Address,
    #[graphql(skip)]
    complete: bool,
}

#[ComplexObject]
impl BillingProfile {
    /// ELIG-4: legal name, tax id, registration number and a complete address are present.
    async fn is_complete(&self) -> bool {
        self.complete
    }
}

impl From<domain::BillingProfile> for BillingProfile {
    fn from(b: domain::BillingProfile) -> Self {
        BillingProfile {
            complete: b.is_complete(),
            legal_name: b.legal_name,
            tax_id: b.tax_id,
            registration_number: b.registration_number,
            email: b.email,
            default_address: b.address.into(),
        }
    }
}

/// An end customer with an Azure tenant (§1), whole or as a list page
/// loaded it (see [`loaded`](crate::graphql::loaded)).
pub struct Customer(Loaded<CustomerRow>);

/// A customer answers its id and name plainly, whole or in brief.
impl PlainFields for Customer {
    fn plain(&self, _: &PlainContext<'_>, field: &str, _: &[SelectedField]) -> Option<Value> {
        self.0.plain(field)
    }
}

impl From<CustomerRow> for Customer {
    fn from(row: CustomerRow) -> Self {
        Customer(Loaded::Whole(Arc::new(row)))
    }
}

impl Customer {
    /// The fields a customer loaded in brief answers without reading its
    /// row: its id, its name, and what starts from its id.
    pub const BRIEF_FIELDS: &[&str] = &[
        "__typename",
        "id",
        "companyName",
        "customerAgreement",
        "mcaConfirmations",
        "relationships",
        "acoRequests",
        "acoAgreements",
        "creditGrants",
        "creditBalance",
        "reconciliation",
        "creditForecast",
        "monthlyUsage",
        "history",
    ];

    pub fn whole(row: Arc<CustomerRow>) -> Customer {
        Customer(Loaded::Whole(row))
    }

    pub fn brief(named: Arc<NamedRow>) -> Customer {
        Customer(Loaded::brief(named))
    }

    pub fn object_id(&self) -> &ObjectId {
        self.0.id()
    }
}

impl BriefRow for CustomerRow {
    fn id(&self) -> &ObjectId {
        &self.id
    }
    fn name(&self) -> &str {
        &self.company_name
    }
    fn read(tx: &Tx<'_>, actor: &Actor, id: &ObjectId) -> crate::error::Result<Self> {
        authz::customer(tx, actor, id)
    }
}

/// An end-customer organisation with an Azure tenant (§1): its segment,
/// organisation kind, billing profile, agreements, ACO requests and credits.
#[Object(serial)]
impl Customer {
    /// The customer's global id.
    pub async fn id(&self) -> ID {
        ID(self.object_id().to_string())
    }
    /// The customer's Azure tenant id (its Microsoft Entra tenant).
    async fn tenant_id(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.0.row(ctx).await?.tenant_id)
    }
    /// The customer's primary domain.
    async fn domain(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.0.row(ctx).await?.domain)
    }
    /// The customer's company name.
    async fn company_name(&self) -> &str {
        self.0.name()
    }
    /// ISO 3166-1 alpha-2.
    async fn country(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.0.row(ctx).await?.country)
    }
    /// The customer's segment; ELIG-2 needs `SMB`.
    async fn segment(&self, ctx: &Context<'_>) -> async_graphql::Result<CustomerSegment> {
        Ok(self.0.row(ctx).await?.segment)
    }
    /// The kind of organisation; ELIG-3 needs `COMMERCIAL`.
    async fn organization_kind(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<OrganizationKind> {
        Ok(self.0.row(ctx).await?.organization_kind)
    }
    /// The customer's billing profile (legal name, tax id, registration number, address; ELIG-4).
    async fn billing_profile(&self, ctx: &Context<'_>) -> async_graphql::Result<BillingProfile> {
        Ok(self.0.row(ctx).await?.billing_profile.clone().into())
    }
    /// AGR-2: the customer's current acceptance of the Microsoft Customer
    /// Agreement; `null` for a customer still on legacy CSP.
    async fn customer_agreement(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<CustomerAgreement>> {
        let id = self.object_id().clone();
        read(ctx, move |tx, _| {
            Ok(customers::current_agreement(tx, &id)?.map(CustomerAgreement))
        })
        .await
    }
    /// ELIG-7: partners' confirmations of the customer's MCA acceptance, among
    /// the partners the caller may see.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::RECORDS, child_complexity)"
    )]
    async fn mca_confirmations(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<McaConfirmation>> {
        let id = self.object_id().clone();
        read(ctx, move |tx, actor| {
            let current = customers::current_agreement(tx, &id)?.map(|a| a.id);
            let mut out = Vec::new();
            for row in customers::confirmations(tx, &id)? {
                if let Some(partner) = authz::find_partner(tx, actor, &row.partner_id)? {
                    let current = current.as_ref() == Some(&row.agreement_id);
                    out.push(McaConfirmation {
                        row,
                        partner,
                        current,
                    });
                }
            }
            Ok(out)
        })
        .await
    }
    /// The customer's reseller relationships, among those the caller may see.
    #[graphql(
        complexity = "crate::graphql::cost::few(first, last, crate::graphql::cost::CUSTOMER_RELATIONSHIPS, child_complexity)"
    )]
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
            customer: Some(self.object_id().clone()),
            status,
            ..Default::default()
        };
        relationship_page(ctx, filter, (after, first, before, last)).await
    }
    /// The customer's ACO requests the caller may see, oldest first.
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
            customer: Some(self.object_id().clone()),
            ..Default::default()
        };
        request_page(ctx, narrowing, (after, first, before, last), order_by).await
    }
    /// The customer's ACO agreements the caller may see, oldest first (AGR-6 keeps them all).
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn aco_agreements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the agreements in this status; every status when omitted.")]
        status: Option<crate::domain::AgreementStatus>,
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
    ) -> async_graphql::Result<Conn<AcoAgreement>> {
        let id = self.object_id().clone();
        read(ctx, move |tx, actor| {
            let args = page_args(
                first,
                after,
                last,
                before,
                CursorKey::Object(IdKind::AcoAgreement),
            )?;
            let filter = agreements::AgreementFilter {
                customer: Some(id),
                status,
                ..Default::default()
            };
            Ok(connection(
                agreements::page_of(tx, &authz::agreement_scope(actor), &filter, &args)?,
                |a| a.id.to_string(),
                AcoAgreement,
            ))
        })
        .await
    }
    /// The customer's ACO credit grants the caller may see (LEDGER-1).
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn credit_grants(
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
    ) -> async_graphql::Result<Conn<CreditGrant>> {
        let id = self.object_id().clone();
        read(ctx, move |tx, actor| {
            let args = page_args(
                first,
                after,
                last,
                before,
                CursorKey::Object(IdKind::CreditGrant),
            )?;
            let filter = agreements::AgreementFilter {
                customer: Some(id),
                ..Default::default()
            };
            Ok(connection(
                agreements::grant_page(tx, &authz::agreement_scope(actor), &filter, &args)?,
                |g| g.id.to_string(),
                CreditGrant,
            ))
        })
        .await
    }
    /// LEDGER-1…7: the customer's ACO credit now, per grant (among the grants
    /// the caller may see: a partner its own, LEDGER-2).
    async fn credit_balance(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<credits::CreditBalance> {
        credits::credit_balance(ctx, self.object_id().clone()).await
    }
    /// LEDGER-8: month by month from `from` to `to` (at most 60 months), for
    /// each transacting partner's ledger (LEDGER-2): ACR, opening balance,
    /// applied, above ACO, PEC, invoice amount, closing balance. A partner
    /// sees its own; programme roles and the customer every partner's, by
    /// month then partner, or one partner's with `partnerId`.
    #[graphql(
        complexity = "crate::graphql::cost::reconciliation(&from, &to, partner_id.is_some(), child_complexity)"
    )]
    async fn reconciliation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first month shown, `YYYY-MM`.")] from: Month,
        #[graphql(
            desc = "The last month shown, `YYYY-MM`, included; not before `from` and at most 59 months after it."
        )]
        to: Month,
        #[graphql(
            desc = "Only this transacting partner's ledger; every partner's the caller may see when omitted."
        )]
        partner_id: Option<ID>,
    ) -> async_graphql::Result<PlainList<credits::ReconciliationMonth>> {
        credits::reconciliation(ctx, self.object_id().clone(), from, to, partner_id).await
    }
    /// When the balance is expected to run out at the trailing three-month
    /// average, or which grants will lapse with an amount left.
    async fn credit_forecast(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<credits::CreditForecast> {
        credits::forecast(ctx, self.object_id().clone()).await
    }
    /// The usage recorded for the customer, per transacting partner (LEDGER-2),
    /// oldest month first, then by partner; with `month`, every revision of
    /// that month (corrections keep the earlier figures). A partner sees its
    /// own; programme roles and the customer every partner's.
    #[graphql(complexity = "crate::graphql::cost::usage(month.is_some(), child_complexity)")]
    async fn monthly_usage(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only this month, `YYYY-MM`, with every revision recorded for it; the current figures of every month when omitted."
        )]
        month: Option<Month>,
    ) -> async_graphql::Result<Vec<credits::MonthlyUsage>> {
        credits::usage_history(ctx, self.object_id().clone(), month).await
    }
    /// Every change to this customer, oldest first. Only programme roles and
    /// the customer itself see it; `null` for anyone else.
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
            move |a| a.customer_id() == Some(&own),
            (after, first, before, last),
        )
        .await
    }
    /// Starts at 1 and goes up by one with every change to the customer.
    async fn version(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.0.row(ctx).await?.version)
    }
    /// When the customer was created (RFC 3339, UTC).
    async fn created_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.0.row(ctx).await?.created_at))
    }
    /// When the customer was last changed (RFC 3339, UTC).
    async fn updated_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.0.row(ctx).await?.updated_at))
    }
}

/// AGR-2: a record of a customer's acceptance of the Microsoft Customer Agreement.
pub struct CustomerAgreement(pub CustomerAgreementRow);

/// AGR-2: a record of a customer's acceptance of the Microsoft Customer
/// Agreement (MCA): when, who accepted, and how it was recorded.
#[Object(serial)]
impl CustomerAgreement {
    /// The agreement record's global id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The day the customer accepted the agreement, `YYYY-MM-DD`.
    async fn date_agreed(&self) -> Date {
        Date(self.0.date_agreed)
    }
    /// Who accepted for the customer.
    async fn primary_contact(&self) -> Contact {
        self.0.primary_contact.clone().into()
    }
    /// How the acceptance was recorded: by the customer itself or attested by its partner (AGR-2).
    async fn acceptance_method(&self) -> AcceptanceMethod {
        self.0.acceptance_method
    }
    /// When the acceptance was recorded in this service (RFC 3339, UTC).
    async fn recorded_at(&self) -> DateTime {
        DateTime(self.0.recorded_at)
    }
    /// The customer that accepted, if the caller may see it.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let id = self.0.customer_id.clone();
        read(ctx, move |tx, actor| {
            Ok(authz::find_customer(tx, actor, &id)?.map(Customer::from))
        })
        .await
    }
}

/// ELIG-7: a partner's confirmation, in its own records, of the customer's MCA acceptance.
pub struct McaConfirmation {
    row: McaConfirmationRow,
    partner: PartnerRow,
    current: bool,
}

/// ELIG-7: a partner's confirmation, in its own records, of the customer's
/// acceptance of the Microsoft Customer Agreement.
#[Object(serial)]
impl McaConfirmation {
    /// The partner that confirmed the acceptance.
    async fn partner(&self) -> Partner {
        Partner::from(self.partner.clone())
    }
    /// When the partner confirmed it (RFC 3339, UTC).
    async fn confirmed_at(&self) -> DateTime {
        DateTime(self.row.confirmed_at)
    }
    /// `false` once a newer acceptance has been recorded that this partner has not confirmed.
    async fn is_current(&self) -> bool {
        self.current
    }
}
