//! The object types of the API. Each wraps a store row; nested fields load
//! through [`authz`](crate::authz), so every path to an object is scoped the
//! same way.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ID, Interface, Object, SimpleObject, Value};

use super::connection::{Conn, CursorKey, connection, page_args};
use super::loaded::{Form, Named};
use super::plain::{Key, Plain, PlainObject, Plainly};
use super::read;
use super::scalars::{Date, DateTime};
use crate::authz;
use crate::domain::actor::{Actor, Organization};
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{
    self, AcceptanceMethod, CustomerSegment, OrganizationKind, PartnerType, RelationshipStatus,
    Role,
};
use crate::store::audit::{self, ChangeRow};
use crate::store::customers::{self, CustomerAgreementRow, CustomerRow, McaConfirmationRow};
use crate::store::partners::{self, PartnerAgreementRow, PartnerRow};
use crate::store::relationships::{self, RelationshipRow};
use crate::store::{NamedRow, Tx, agreements};

/// An object with a global id, resolvable through `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's global id."))]
pub enum Node {
    Partner(Partner),
    Customer(Customer),
    ResellerRelationship(ResellerRelationship),
    CustomerAgreement(CustomerAgreement),
    AcoRequest(super::aco::AcoRequest),
    AcoAgreement(super::aco::AcoAgreement),
    CreditGrant(super::aco::CreditGrant),
    BenefitCredit(super::benefits::BenefitCredit),
}

/// A postal address (Partner Center's `defaultAddress`).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Address {
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

impl From<domain::Address> for Address {
    fn from(a: domain::Address) -> Self {
        Address {
            address_line1: a.address_line1,
            address_line2: a.address_line2,
            city: a.city,
            state: a.state,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

/// A person to contact (Partner Center's `primaryContact`).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Contact {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
}

impl From<domain::Contact> for Contact {
    fn from(c: domain::Contact) -> Self {
        Contact {
            first_name: c.first_name,
            last_name: c.last_name,
            email: c.email,
            phone_number: c.phone_number,
        }
    }
}

/// One entry of an object's append-only history.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ChangeEvent {
    pub at: DateTime,
    /// The token subject of whoever made the change.
    pub actor_subject: String,
    pub actor_name: Option<String>,
    pub actor_role: String,
    pub action: String,
    /// What changed, as a JSON object.
    pub detail: async_graphql::Json<serde_json::Value>,
}

impl From<ChangeRow> for ChangeEvent {
    fn from(r: ChangeRow) -> Self {
        ChangeEvent {
            at: DateTime(r.at),
            actor_subject: r.actor_subject,
            actor_name: r.actor_name,
            actor_role: r.actor_role,
            action: r.action,
            detail: async_graphql::Json(serde_json::from_str(&r.detail).unwrap_or_default()),
        }
    }
}

/// History is for programme roles and for the organisation itself.
async fn history(
    ctx: &Context<'_>,
    entity: crate::domain::ids::ObjectId,
    own: impl Fn(&Actor) -> bool + Clone + Send + 'static,
    args: (Option<String>, Option<i32>, Option<String>, Option<i32>),
) -> async_graphql::Result<Option<Conn<ChangeEvent>>> {
    let (after, first, before, last) = args;
    read(ctx, move |tx, actor| {
        if !(actor.is_program() || own(actor)) {
            return Ok(None);
        }
        let args = page_args(first, after, last, before, CursorKey::Sequence)?;
        let page = audit::history(tx, &entity, &args)?;
        Ok(Some(connection(
            page,
            |r| format!("{:020}", r.seq),
            ChangeEvent::from,
        )))
    })
    .await
}

/// A CSP partner (§1), whole or as a list page loaded it (see [`loaded`](super::loaded)).
pub struct Partner(Form<PartnerRow>);

/// A partner answers its id and name plainly, whole or in brief.
impl Plain for Partner {
    fn plain(&self, _: &Plainly<'_>, field: &str, _: &[Key]) -> Option<Value> {
        self.0.plain(field)
    }
}

impl From<PartnerRow> for Partner {
    fn from(row: PartnerRow) -> Self {
        Partner(Form::Whole(Arc::new(row)))
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
        Partner(Form::Whole(row))
    }

    pub fn brief(named: Arc<NamedRow>) -> Partner {
        Partner(Form::brief(named))
    }

    pub fn object_id(&self) -> &ObjectId {
        self.0.id()
    }
}

impl Named for PartnerRow {
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

#[Object(serial)]
impl Partner {
    pub async fn id(&self) -> ID {
        ID(self.object_id().to_string())
    }
    /// The partner's Microsoft Entra tenant.
    async fn tenant_id(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.0.row(ctx).await?.tenant_id)
    }
    async fn company_name(&self) -> &str {
        self.0.name()
    }
    async fn domain(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.0.row(ctx).await?.domain)
    }
    async fn partner_type(&self, ctx: &Context<'_>) -> async_graphql::Result<PartnerType> {
        Ok(self.0.row(ctx).await?.partner_type)
    }
    /// The partner's PartnerID (MPN id).
    async fn mpn_id(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.0.row(ctx).await?.mpn_id.as_deref())
    }
    async fn default_address(&self, ctx: &Context<'_>) -> async_graphql::Result<Address> {
        Ok(self.0.row(ctx).await?.default_address.clone().into())
    }
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
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<Partner>> {
        let id = self.object_id().clone();
        read(ctx, move |tx, actor| {
            let args = page_args(
                first,
                after,
                last,
                before,
                CursorKey::Object(IdKind::Partner),
            )?;
            let filter = partners::PartnerFilter {
                providers_of: Some(id),
                ..Default::default()
            };
            Ok(connection(
                partners::page_of(tx, &authz::partner_scope(actor), &filter, &args)?,
                |p| p.id.to_string(),
                Partner::from,
            ))
        })
        .await
    }
    /// For an indirect provider: the indirect resellers linked to it.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn indirect_resellers(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<Partner>> {
        let id = self.object_id().clone();
        read(ctx, move |tx, actor| {
            let args = page_args(
                first,
                after,
                last,
                before,
                CursorKey::Object(IdKind::Partner),
            )?;
            let filter = partners::PartnerFilter {
                resellers_of: Some(id),
                ..Default::default()
            };
            Ok(connection(
                partners::page_of(tx, &authz::partner_scope(actor), &filter, &args)?,
                |p| p.id.to_string(),
                Partner::from,
            ))
        })
        .await
    }
    /// The customers this partner has an active reseller relationship with,
    /// among those the caller may see.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<Customer>> {
        let id = self.object_id().clone();
        read(ctx, move |tx, actor| {
            let args = page_args(
                first,
                after,
                last,
                before,
                CursorKey::Object(IdKind::Customer),
            )?;
            Ok(connection(
                customers::list_of_partner(tx, &id, &authz::customer_scope(actor), &args)?,
                |c| c.id.to_string(),
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
        status: Option<RelationshipStatus>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<ResellerRelationship>> {
        let id = self.object_id().clone();
        read(ctx, move |tx, actor| {
            let args = page_args(
                first,
                after,
                last,
                before,
                CursorKey::Object(IdKind::ResellerRelationship),
            )?;
            let filter = relationships::RelationshipFilter {
                partner: Some(id),
                status,
                ..Default::default()
            };
            Ok(connection(
                relationships::page_of(tx, &authz::relationship_scope(actor), &filter, &args)?,
                |r| r.id.to_string(),
                ResellerRelationship,
            ))
        })
        .await
    }
    /// The ACO requests this partner submitted, among those the caller may see.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn aco_requests(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<PlainObject<super::aco::AcoRequest>>> {
        let narrowing = crate::store::requests::RequestFilter {
            partner: Some(self.object_id().clone()),
            ..Default::default()
        };
        super::aco::request_page(ctx, narrowing, (after, first, before, last)).await
    }
    /// §7: the partner's own benefit credits (the partner and programme roles see them).
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn benefit_credits(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<super::benefits::BenefitCredit>> {
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
                super::benefits::BenefitCredit,
            ))
        })
        .await
    }
    /// §8: where the partner stands against the requirements of its type.
    /// Only the partner itself and programme roles see it; `null` for anyone else.
    async fn authorization(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::authorization::PartnerAuthorization>> {
        let row = self.0.row(ctx).await?.clone();
        super::read_as_call(ctx, move |tx, call| {
            if !crate::service::authorization::may_see(&call.actor, &row.id) {
                return Ok(None);
            }
            let standing = crate::service::authorization::standing(tx, row, call)?;
            Ok(Some(super::authorization::PartnerAuthorization(standing)))
        })
        .await
    }
    /// Every change to this partner, oldest first. Only programme roles and the
    /// partner itself see it; `null` for anyone else.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
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
    async fn version(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.0.row(ctx).await?.version)
    }
    async fn created_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.0.row(ctx).await?.created_at))
    }
    async fn updated_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.0.row(ctx).await?.updated_at))
    }
}

/// AGR-1: a signature of the Microsoft Partner Agreement.
pub struct PartnerAgreement(pub PartnerAgreementRow);

#[Object(serial)]
impl PartnerAgreement {
    async fn signer_name(&self) -> &str {
        &self.0.signer_name
    }
    async fn signer_email(&self) -> &str {
        &self.0.signer_email
    }
    async fn date_agreed(&self) -> Date {
        Date(self.0.date_agreed)
    }
    async fn recorded_at(&self) -> DateTime {
        DateTime(self.0.recorded_at)
    }
}

/// A customer's billing profile; ELIG-4 needs all of it.
#[derive(SimpleObject)]
#[graphql(complex, serial)]
pub struct BillingProfile {
    pub legal_name: Option<String>,
    pub tax_id: Option<String>,
    pub registration_number: Option<String>,
    pub email: Option<String>,
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
/// loaded it (see [`loaded`](super::loaded)).
pub struct Customer(Form<CustomerRow>);

/// A customer answers its id and name plainly, whole or in brief.
impl Plain for Customer {
    fn plain(&self, _: &Plainly<'_>, field: &str, _: &[Key]) -> Option<Value> {
        self.0.plain(field)
    }
}

impl From<CustomerRow> for Customer {
    fn from(row: CustomerRow) -> Self {
        Customer(Form::Whole(Arc::new(row)))
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
        Customer(Form::Whole(row))
    }

    pub fn brief(named: Arc<NamedRow>) -> Customer {
        Customer(Form::brief(named))
    }

    pub fn object_id(&self) -> &ObjectId {
        self.0.id()
    }
}

impl Named for CustomerRow {
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

#[Object(serial)]
impl Customer {
    pub async fn id(&self) -> ID {
        ID(self.object_id().to_string())
    }
    async fn tenant_id(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.0.row(ctx).await?.tenant_id)
    }
    /// The customer's primary domain.
    async fn domain(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.0.row(ctx).await?.domain)
    }
    async fn company_name(&self) -> &str {
        self.0.name()
    }
    /// ISO 3166-1 alpha-2.
    async fn country(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.0.row(ctx).await?.country)
    }
    async fn segment(&self, ctx: &Context<'_>) -> async_graphql::Result<CustomerSegment> {
        Ok(self.0.row(ctx).await?.segment)
    }
    async fn organization_kind(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<OrganizationKind> {
        Ok(self.0.row(ctx).await?.organization_kind)
    }
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
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn relationships(
        &self,
        ctx: &Context<'_>,
        status: Option<RelationshipStatus>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<ResellerRelationship>> {
        let id = self.object_id().clone();
        read(ctx, move |tx, actor| {
            let args = page_args(
                first,
                after,
                last,
                before,
                CursorKey::Object(IdKind::ResellerRelationship),
            )?;
            let filter = relationships::RelationshipFilter {
                customer: Some(id),
                status,
                ..Default::default()
            };
            Ok(connection(
                relationships::page_of(tx, &authz::relationship_scope(actor), &filter, &args)?,
                |r| r.id.to_string(),
                ResellerRelationship,
            ))
        })
        .await
    }
    /// The customer's ACO requests the caller may see, oldest first.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn aco_requests(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<PlainObject<super::aco::AcoRequest>>> {
        let narrowing = crate::store::requests::RequestFilter {
            customer: Some(self.object_id().clone()),
            ..Default::default()
        };
        super::aco::request_page(ctx, narrowing, (after, first, before, last)).await
    }
    /// The customer's ACO agreements the caller may see, oldest first (AGR-6 keeps them all).
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn aco_agreements(
        &self,
        ctx: &Context<'_>,
        status: Option<crate::domain::AgreementStatus>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<super::aco::AcoAgreement>> {
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
                super::aco::AcoAgreement,
            ))
        })
        .await
    }
    /// The customer's ACO credit grants the caller may see (LEDGER-1).
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn credit_grants(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
        last: Option<i32>,
    ) -> async_graphql::Result<Conn<super::aco::CreditGrant>> {
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
                super::aco::CreditGrant,
            ))
        })
        .await
    }
    /// LEDGER-1…7: the customer's ACO credit now, per grant (among the grants
    /// the caller may see: a partner its own, LEDGER-2).
    async fn credit_balance(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<super::credits::CreditBalance> {
        super::credits::credit_balance(ctx, self.object_id().clone()).await
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
        from: super::scalars::Month,
        to: super::scalars::Month,
        partner_id: Option<ID>,
    ) -> async_graphql::Result<super::plain::PlainList<super::credits::ReconciliationMonth>> {
        super::credits::reconciliation(ctx, self.object_id().clone(), from, to, partner_id).await
    }
    /// When the balance is expected to run out at the trailing three-month
    /// average, or which grants will lapse with an amount left.
    async fn credit_forecast(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<super::credits::CreditForecast> {
        super::credits::forecast(ctx, self.object_id().clone()).await
    }
    /// The usage recorded for the customer, per transacting partner (LEDGER-2),
    /// oldest month first, then by partner; with `month`, every revision of
    /// that month (corrections keep the earlier figures). A partner sees its
    /// own; programme roles and the customer every partner's.
    #[graphql(complexity = "crate::graphql::cost::usage(month.is_some(), child_complexity)")]
    async fn monthly_usage(
        &self,
        ctx: &Context<'_>,
        month: Option<super::scalars::Month>,
    ) -> async_graphql::Result<Vec<super::credits::MonthlyUsage>> {
        super::credits::usage_history(ctx, self.object_id().clone(), month).await
    }
    /// Every change to this customer, oldest first. Only programme roles and
    /// the customer itself see it; `null` for anyone else.
    #[graphql(complexity = "crate::graphql::cost::page(first, last, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        before: Option<String>,
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
    async fn version(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.0.row(ctx).await?.version)
    }
    async fn created_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.0.row(ctx).await?.created_at))
    }
    async fn updated_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.0.row(ctx).await?.updated_at))
    }
}

/// AGR-2: a record of a customer's acceptance of the Microsoft Customer Agreement.
pub struct CustomerAgreement(pub CustomerAgreementRow);

#[Object(serial)]
impl CustomerAgreement {
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn date_agreed(&self) -> Date {
        Date(self.0.date_agreed)
    }
    /// Who accepted for the customer.
    async fn primary_contact(&self) -> Contact {
        self.0.primary_contact.clone().into()
    }
    async fn acceptance_method(&self) -> AcceptanceMethod {
        self.0.acceptance_method
    }
    async fn recorded_at(&self) -> DateTime {
        DateTime(self.0.recorded_at)
    }
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

#[Object(serial)]
impl McaConfirmation {
    async fn partner(&self) -> Partner {
        Partner::from(self.partner.clone())
    }
    async fn confirmed_at(&self) -> DateTime {
        DateTime(self.row.confirmed_at)
    }
    /// `false` once a newer acceptance has been recorded that this partner has not confirmed.
    async fn is_current(&self) -> bool {
        self.current
    }
}

/// A reseller relationship between a partner and a customer (§1).
pub struct ResellerRelationship(pub RelationshipRow);

#[Object(serial)]
impl ResellerRelationship {
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
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
    async fn requested_at(&self) -> DateTime {
        DateTime(self.0.requested_at)
    }
    async fn accepted_at(&self) -> Option<DateTime> {
        self.0.accepted_at.map(DateTime)
    }
    async fn revoked_at(&self) -> Option<DateTime> {
        self.0.revoked_at.map(DateTime)
    }
    async fn revoke_reason(&self) -> Option<&str> {
        self.0.revoke_reason.as_deref()
    }
}

/// The caller.
pub struct Viewer(pub Actor);

#[Object(serial)]
impl Viewer {
    /// The token's `sub`.
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn tenant_id(&self) -> &str {
        &self.0.tenant_id
    }
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::domain::Role::ALL.len(), child_complexity)"
    )]
    async fn roles(&self) -> Vec<Role> {
        self.0.roles.clone()
    }
    /// The partner the caller acts for, if a partner role.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(id) = self.0.partner_id().cloned() else {
            return Ok(None);
        };
        read(ctx, move |tx, actor| {
            Ok(authz::find_partner(tx, actor, &id)?.map(Partner::from))
        })
        .await
    }
    /// The customer the caller acts for, if a customer signer.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let Some(id) = self.0.customer_id().cloned() else {
            return Ok(None);
        };
        read(ctx, move |tx, actor| {
            Ok(authz::find_customer(tx, actor, &id)?.map(Customer::from))
        })
        .await
    }
    /// `true` for programme roles (PLSR, channel sales, finance, operations, programme admin).
    async fn is_program(&self) -> bool {
        matches!(self.0.organization, Organization::Program)
    }
}
