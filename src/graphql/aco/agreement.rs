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
