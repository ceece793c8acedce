//! The ACO agreement (AGR-3…6) and the credit grant its signature makes
//! (LEDGER-1), with the inputs and payloads of the agreement mutations.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::request::AcoRequest;
use crate::authz;
use crate::domain::{AgreementStatus, GrantStatus};
use crate::error::UserError;
use crate::graphql::read;
use crate::graphql::scalars::{DateTime, Decimal, Month};
use crate::graphql::types::Customer;
use crate::store::agreements::{AcoAgreementRow, CreditGrantRow};

/// An ACO agreement (a PL-MCA amendment) published to the customer's signer (AGR-3…6).
pub struct AcoAgreement(pub AcoAgreementRow);

/// An ACO agreement (a PL-MCA amendment) that Operations publishes to the
/// customer's signer from an approved request (AGR-3…6); signing it grants the
/// credit (LEDGER-1). Older agreements of a request are kept with their status.
#[Object(serial)]
impl AcoAgreement {
    /// The agreement's global id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// `PUBLISHED` until it is signed (`SIGNED`), withdrawn (`WITHDRAWN`, AGR-6)
    /// or expired (`EXPIRED`, AGR-4).
    async fn status(&self) -> AgreementStatus {
        self.0.status
    }
    /// The name of the customer's signer it was published to (AGR-3).
    async fn signer_name(&self) -> &str {
        &self.0.signer_name
    }
    /// The email address of the customer's signer it was published to (AGR-3).
    async fn signer_email(&self) -> &str {
        &self.0.signer_email
    }
    /// LEDGER-1: how many months the credit may be used, from the month of signing.
    async fn credit_period_months(&self) -> u32 {
        self.0.credit_period_months
    }
    /// ELIG-11: the credit granted when it is signed, a `Decimal` in USD (the
    /// request's ACO amount when published).
    async fn aco_amount(&self) -> Decimal {
        Decimal(self.0.aco_amount)
    }
    /// When Operations published it (FLOW-9).
    async fn published_at(&self) -> DateTime {
        DateTime(self.0.published_at)
    }
    /// AGR-4: when the agreement has expired: the midnight that ends the
    /// publishing month, programme time zone. Signing at any instant before
    /// it is accepted; at or after it, refused.
    async fn expires_at(&self) -> DateTime {
        DateTime(self.0.expires_at)
    }
    /// When the customer's signer signed it (FLOW-10); `null` unless `SIGNED`.
    async fn signed_at(&self) -> Option<DateTime> {
        self.0.signed_at.map(DateTime)
    }
    /// When it was signed, withdrawn or expired.
    async fn closed_at(&self) -> Option<DateTime> {
        self.0.closed_at.map(DateTime)
    }
    /// Why it was closed: the withdrawal reason (AGR-6), the missed deadline
    /// (AGR-4) or the request's cancellation; `null` while published and once signed.
    async fn closed_reason(&self) -> Option<&str> {
        self.0.closed_reason.as_deref()
    }
    /// The customer the credit is for, if the caller may see it.
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

/// LEDGER-1: the ACO credit a signed agreement grants to the customer, usable
/// from the month of signing for the agreement's credit period.
#[Object(serial)]
impl CreditGrant {
    /// The grant's global id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The amount granted: the agreement's ACO amount, a `Decimal` in USD.
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
    /// `ACTIVE` while it may be used, `EXHAUSTED` once its balance reached zero
    /// (FLOW-14), `LAPSED` once its credit period ended with balance left (FLOW-15).
    async fn status(&self) -> GrantStatus {
        self.0.status
    }
    /// When it was granted: the instant the agreement was signed.
    async fn granted_at(&self) -> DateTime {
        DateTime(self.0.granted_at)
    }
    /// The customer credited, if the caller may see it.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let id = self.0.customer_id.clone();
        read(ctx, move |tx, actor| {
            Ok(authz::find_customer(tx, actor, &id)?.map(Customer::from))
        })
        .await
    }
    /// The signed agreement that granted it, if the caller may see it.
    async fn agreement(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<AcoAgreement>> {
        let id = self.0.agreement_id.clone();
        read(ctx, move |tx, actor| {
            Ok(authz::find_agreement(tx, actor, &id)?.map(AcoAgreement))
        })
        .await
    }
}

/// The input of `publishAcoAgreement` (FLOW-9, AGR-3).
#[derive(InputObject)]
pub struct PublishAcoAgreementInput {
    /// The request, in `OPERATIONS_REVIEW`.
    pub id: ID,
    /// The request's `version` as the caller saw it (FLOW-18).
    pub version: i32,
    /// The customer's signer the agreement is published to.
    pub signer_name: String,
    /// The signer's email address.
    pub signer_email: String,
    /// LEDGER-1: months the credit may be used, from the month of signing (1–60, default 12).
    #[graphql(default = 12)]
    pub credit_period_months: i32,
    /// A note recorded in the request's history (at most 4000 characters).
    pub comment: Option<String>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// The input of `withdrawAcoAgreement` (FLOW-12, AGR-6).
#[derive(InputObject)]
pub struct WithdrawAcoAgreementInput {
    /// The request, in `AWAITING_SIGNATURE`.
    pub id: ID,
    /// The request's `version` as the caller saw it (FLOW-18).
    pub version: i32,
    /// What is to change (AGR-6).
    pub reason: String,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// The input of `signAcoAgreement` (FLOW-10).
#[derive(InputObject)]
pub struct SignAcoAgreementInput {
    /// The `PUBLISHED` agreement to sign.
    pub agreement_id: ID,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// The input of `expireAcoAgreements` (AGR-4, FLOW-11).
#[derive(InputObject, Default)]
pub struct ExpireAcoAgreementsInput {
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

crate::graphql::mutation::payload! {
    /// The result of `publishAcoAgreement` (FLOW-9).
    PublishAcoAgreementPayload {
        /// The request after the step, in `AWAITING_SIGNATURE`; `null` when refused.
        aco_request: AcoRequest,
        /// The agreement published; `null` when refused.
        aco_agreement: AcoAgreement,
    }
}

/// The result of `withdrawAcoAgreement` (FLOW-12).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct WithdrawAcoAgreementPayload {
    /// The request after the step, back in `FINANCE_REVIEW`; `null` when refused.
    pub aco_request: Option<AcoRequest>,
    /// The agreement withdrawn (or expired, when its deadline had already
    /// passed, FLOW-11); `null` when refused.
    pub aco_agreement: Option<AcoAgreement>,
    /// Business-rule refusals, all at once; when there are any, nothing was changed.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
    /// The input's `clientMutationId`, echoed back.
    pub client_mutation_id: Option<String>,
}

/// The result of signing an ACO agreement.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct SignAcoAgreementPayload {
    /// The agreement: `SIGNED`, or `EXPIRED` when the signature came too late.
    pub aco_agreement: Option<AcoAgreement>,
    /// The credit the signature granted (LEDGER-1); `null` unless signed.
    pub credit_grant: Option<CreditGrant>,
    /// The input's `clientMutationId`, echoed back.
    pub client_mutation_id: Option<String>,
    /// Why the signature was refused, e.g. `AGREEMENT_EXPIRED` (AGR-4: the
    /// agreement's expiry is kept) or `INVALID_TRANSITION`; empty on success.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

/// The result of the expiry sweep.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ExpireAcoAgreementsPayload {
    /// The agreements this call expired; each request is back in
    /// `FINANCE_REVIEW` (AGR-5, FLOW-11).
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::SWEEP, child_complexity)"
    )]
    pub expired_agreements: Vec<AcoAgreement>,
    /// The input's `clientMutationId`, echoed back.
    pub client_mutation_id: Option<String>,
    /// Why the sweep stopped; empty on success.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}
