//! Partner benefit credits (DOMAIN §7).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::input::input_id;
use super::scalars::{Date, DateTime, Decimal};
use super::types::Partner;
use super::{read_as_call, to_gql, write};
use crate::authz;
use crate::domain::benefits::MAX_REASSIGNMENTS;
use crate::domain::ids::IdKind;
use crate::domain::{BenefitCreditKind, BenefitCreditStatus, BenefitPurpose, money, validate};
use crate::error::{Error, Result};
use crate::service::benefits::{self, NewBenefitCredit};
use crate::store::benefits::{BenefitCreditRow, used_between};

/// The user a credit is assigned to.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct BenefitAssignee {
    /// The user's company email address (BEN-3).
    pub email: String,
    /// The user's name, if one was given when assigning.
    pub name: Option<String>,
}

/// A partner's own Azure credit (§7).
pub struct BenefitCredit(pub BenefitCreditRow);

/// A partner's own Azure benefit credit, received with its programme membership and
/// separate from ACO (§7).
#[Object(serial)]
impl BenefitCredit {
    /// The credit's global id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// `MONTHLY` (an allowance per calendar month) or `BULK` (one amount for the period) (BEN-1).
    async fn kind(&self) -> BenefitCreditKind {
        self.0.kind
    }
    /// What it may be used for: `GENERAL` for anything, otherwise only that purpose (BEN-8).
    async fn purpose(&self) -> BenefitPurpose {
        self.0.purpose
    }
    /// Per calendar month (MONTHLY) or for the whole period (BULK).
    async fn amount(&self) -> Decimal {
        Decimal(self.0.amount)
    }
    /// The first day it may be used; assigned earlier, it is `SCHEDULED` until then (BEN-2).
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }
    /// The last day it may be used (a monthly credit: 13 months from activation).
    async fn ends_on(&self) -> Date {
        Date(self.0.ends_on)
    }
    /// When it was first assigned to a user, which activated it (BEN-2); `null` until then.
    async fn activated_at(&self) -> Option<DateTime> {
        self.0.activated_at.map(DateTime)
    }
    /// Where the credit stands today.
    async fn status(&self, ctx: &Context<'_>) -> async_graphql::Result<BenefitCreditStatus> {
        Ok(benefits::status(&self.0, &super::call(ctx)?))
    }
    /// The user it is assigned to; `null` while unassigned.
    async fn assignee(&self) -> Option<BenefitAssignee> {
        self.0.assignee_email.clone().map(|email| BenefitAssignee {
            email,
            name: self.0.assignee_name.clone(),
        })
    }
    /// BEN-4: reassignments made (the first assignment does not count).
    async fn reassignments_used(&self) -> u32 {
        self.0.reassignments
    }
    /// BEN-4/5: reassignments left: up to 5 for a monthly credit, none for a bulk one.
    async fn reassignments_left(&self) -> u32 {
        match self.0.kind {
            BenefitCreditKind::Monthly => MAX_REASSIGNMENTS.saturating_sub(self.0.reassignments),
            BenefitCreditKind::Bulk => 0,
        }
    }
    /// What is left this calendar month (MONTHLY) or in total (BULK); zero when
    /// the credit is not active today (not assigned, `SCHEDULED` or `ENDED`).
    /// Nothing carries over between months (BEN-7).
    async fn remaining(&self, ctx: &Context<'_>) -> async_graphql::Result<Decimal> {
        let row = self.0.clone();
        read_as_call(ctx, move |tx, call| {
            Ok(Decimal(money::normalize(benefits::remaining(
                tx, &row, call,
            )?)))
        })
        .await
    }
    /// What was used in total.
    async fn used(&self, ctx: &Context<'_>) -> async_graphql::Result<Decimal> {
        let row = self.0.clone();
        read_as_call(ctx, move |tx, _| {
            let used = used_between(tx, &row.id, row.starts_on, row.ends_on)?;
            Ok(Decimal(money::normalize(used)))
        })
        .await
    }
    /// The owning partner.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let id = self.0.partner_id.clone();
        super::read(ctx, move |tx, actor| {
            Ok(authz::find_partner(tx, actor, &id)?.map(Partner::from))
        })
        .await
    }
}

/// A new benefit credit for a partner (BEN-1).
#[derive(InputObject)]
pub struct CreateBenefitCreditInput {
    /// The partner that receives the credit.
    pub partner_id: ID,
    /// `MONTHLY` or `BULK` (BEN-1).
    pub kind: BenefitCreditKind,
    /// What it may be used for (BEN-8); default `GENERAL`, usable for anything.
    #[graphql(default_with = "BenefitPurpose::General")]
    pub purpose: BenefitPurpose,
    /// Per month (MONTHLY) or in total (BULK).
    pub amount: Decimal,
    /// Default: today.
    pub starts_on: Option<Date>,
    /// BULK only; default: a year after `startsOn`. A MONTHLY credit ends 13 months after activation.
    pub ends_on: Option<Date>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// Who a benefit credit goes to (BEN-2…6).
#[derive(InputObject)]
pub struct AssignBenefitCreditInput {
    /// The benefit credit to assign or reassign.
    pub credit_id: ID,
    /// A company address of one of the partner's users (BEN-3).
    pub assignee_email: String,
    /// The user's name: text of at most 256 characters; blank counts as none.
    pub assignee_name: Option<String>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// One use of a benefit credit (BEN-1, 7, 8).
#[derive(InputObject)]
pub struct RecordBenefitUsageInput {
    /// The benefit credit used.
    pub credit_id: ID,
    /// Default: today.
    pub used_on: Option<Date>,
    /// The amount used, a USD `Decimal` above zero; at most what is left for that
    /// month (MONTHLY) or in total (BULK).
    pub amount: Decimal,
    /// What it was used for; a restricted credit refuses any other purpose
    /// (`PURPOSE_RESTRICTED`, BEN-8). Default `GENERAL`.
    #[graphql(default_with = "BenefitPurpose::General")]
    pub purpose: BenefitPurpose,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

crate::graphql::mutation::payloads! {
    {
        /// The benefit credit as it is now; `null` when the change was refused.
        benefit_credit: BenefitCredit,
    }
    /// The result of `createBenefitCredit` (BEN-1).
    CreateBenefitCreditPayload,
    /// The result of `assignBenefitCredit` (BEN-2 to BEN-6).
    AssignBenefitCreditPayload,
    /// The result of `recordBenefitUsage` (BEN-7, BEN-8).
    RecordBenefitUsagePayload,
}

fn positive(value: Decimal, field: &str) -> Result<rust_decimal::Decimal> {
    if value.0 <= rust_decimal::Decimal::ZERO {
        return Err(Error::bad_input(
            &["input", field],
            format!("`{field}` must be more than zero"),
        ));
    }
    Ok(value.0)
}

#[derive(Default)]
pub struct BenefitsMutation;

#[Object(serial)]
impl BenefitsMutation {
    /// BEN-1, programme admin: gives a partner a monthly or bulk benefit credit.
    async fn create_benefit_credit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner and the credit to give it.")] input: CreateBenefitCreditInput,
    ) -> async_graphql::Result<CreateBenefitCreditPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let parsed = (|| -> Result<NewBenefitCredit> {
            if input.kind == BenefitCreditKind::Monthly && input.ends_on.is_some() {
                return Err(Error::bad_input(
                    &["input", "endsOn"],
                    "a monthly credit ends 13 months after activation; leave `endsOn` out",
                ));
            }
            Ok(NewBenefitCredit {
                partner_id: input_id(&input.partner_id, "partnerId", IdKind::Partner)?,
                kind: input.kind,
                purpose: input.purpose,
                amount: positive(input.amount, "amount")?,
                starts_on: input.starts_on.map(|d| d.0),
                ends_on: input.ends_on.map(|d| d.0),
            })
        })();
        let new = parsed.map_err(|e| to_gql(ctx, e))?;
        let outcome = write(ctx, move |tx, call| benefits::create(tx, call, new)).await?;
        Ok(CreateBenefitCreditPayload::of(
            outcome.map(BenefitCredit),
            client_mutation_id,
        ))
    }

    /// BEN-2…6, partner admin: assigns the credit to one of the partner's users
    /// (activating it), or reassigns a monthly credit.
    async fn assign_benefit_credit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The credit and the user to assign it to.")]
        input: AssignBenefitCreditInput,
    ) -> async_graphql::Result<AssignBenefitCreditPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let parsed = (|| -> Result<_> {
            let id = input_id(&input.credit_id, "creditId", IdKind::BenefitCredit)?;
            let email = validate::email(&input.assignee_email).ok_or_else(|| {
                Error::bad_input(
                    &["input", "assigneeEmail"],
                    "`assigneeEmail` must be an email address",
                )
            })?;
            let name = match input.assignee_name {
                Some(n) if !n.trim().is_empty() => Some(validate::text(&n).ok_or_else(|| {
                    Error::bad_input(
                        &["input", "assigneeName"],
                        "`assigneeName` is text of at most 256 characters",
                    )
                })?),
                _ => None,
            };
            Ok((id, email, name))
        })();
        let (id, email, name) = parsed.map_err(|e| to_gql(ctx, e))?;
        let outcome = write(ctx, move |tx, call| {
            benefits::assign(tx, call, &id, email, name)
        })
        .await?;
        Ok(AssignBenefitCreditPayload::of(
            outcome.map(BenefitCredit),
            client_mutation_id,
        ))
    }

    /// BEN-1, 7, 8: records usage of an active credit within what is left this
    /// month (MONTHLY) or in total (BULK), for its purpose.
    async fn record_benefit_usage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The credit, the day, the amount and the purpose of the use.")]
        input: RecordBenefitUsageInput,
    ) -> async_graphql::Result<RecordBenefitUsagePayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let parsed = (|| -> Result<_> {
            Ok((
                input_id(&input.credit_id, "creditId", IdKind::BenefitCredit)?,
                positive(input.amount, "amount")?,
            ))
        })();
        let (id, amount) = parsed.map_err(|e| to_gql(ctx, e))?;
        let (used_on, purpose) = (input.used_on.map(|d| d.0), input.purpose);
        let outcome = write(ctx, move |tx, call| {
            let day = used_on.unwrap_or_else(|| call.today());
            benefits::record_usage(tx, call, &id, day, amount, purpose)
        })
        .await?;
        Ok(RecordBenefitUsagePayload::of(
            outcome.map(BenefitCredit),
            client_mutation_id,
        ))
    }
}
