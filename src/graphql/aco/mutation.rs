//! The ACO workflow mutations (§5): submitting a request, each review step,
//! and publishing, withdrawing, signing and expiring its agreement; with the
//! request steps' inputs and payloads.

use async_graphql::{Context, ID, InputObject, Object};

use super::agreement::{
    AcoAgreement, CreditGrant, ExpireAcoAgreementsInput, ExpireAcoAgreementsPayload,
    PublishAcoAgreementInput, PublishAcoAgreementPayload, SignAcoAgreementInput,
    SignAcoAgreementPayload, WithdrawAcoAgreementInput, WithdrawAcoAgreementPayload,
};
use super::checked;
use super::eligibility::{AcoEligibilityInput, TimelineInput, acr, workloads};
use super::request::AcoRequest;
use crate::domain::ids::IdKind;
use crate::domain::workflow::WorkflowAction;
use crate::domain::{AcoScenario, validate};
use crate::error::{Error, Result, UserError};
use crate::graphql::input::input_id;
use crate::graphql::scalars::Decimal;
use crate::graphql::write;
use crate::service::agreements::{self, Publication, Signature};
use crate::service::requests::{self, Corrections, Step};

/// The deal to submit as an ACO request (FLOW-1).
#[derive(InputObject)]
pub struct SubmitAcoRequestInput {
    /// The customer the credit is for.
    pub customer_id: ID,
    /// For an indirect reseller: the indirect provider it works through (ELIG-9).
    pub indirect_provider_id: Option<ID>,
    /// The estimated 12-month incremental Azure consumed revenue, e.g. `"15000.00"`.
    pub estimated_acr: Decimal,
    /// ELIG-12: why the customer needs the credit; required to pass `SCOPE_MISSING`.
    pub scenario: Option<AcoScenario>,
    /// ELIG-12: the workloads in scope (at most 50, each text of at most 256
    /// characters; blank entries are ignored); required to pass `SCOPE_MISSING`.
    pub workloads: Option<Vec<String>>,
    /// ELIG-12: the project timeline; required to pass `SCOPE_MISSING`.
    pub timeline: Option<TimelineInput>,
    /// A note for the reviewers.
    pub comment: Option<String>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
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

/// What every workflow step carries, as the inputs give it.
struct StepFields {
    id: ID,
    version: i32,
    comment: Option<String>,
}

impl StepFields {
    fn into_step(self) -> Result<Step> {
        Ok(Step {
            request_id: input_id(&self.id, "id", IdKind::AcoRequest)?,
            version: version(self.version)?,
            comment: comment(self.comment, "comment")?,
        })
    }
}

/// The input of `supportAcoRequest` (FLOW-7).
#[derive(InputObject)]
pub struct SupportAcoRequestInput {
    /// The ACO request to act on, in `CHANNEL_REVIEW`.
    pub id: ID,
    /// The request's `version` as the caller saw it (FLOW-18).
    pub version: i32,
    /// A note recorded in the request's history (at most 4000 characters).
    pub comment: Option<String>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

impl From<SupportAcoRequestInput> for StepFields {
    fn from(input: SupportAcoRequestInput) -> Self {
        StepFields {
            id: input.id,
            version: input.version,
            comment: input.comment,
        }
    }
}

/// The input of `approveAcoRequest` (FLOW-8).
#[derive(InputObject)]
pub struct ApproveAcoRequestInput {
    /// The ACO request to act on, in `FINANCE_REVIEW`.
    pub id: ID,
    /// The request's `version` as the caller saw it (FLOW-18).
    pub version: i32,
    /// A note recorded in the request's history (at most 4000 characters).
    pub comment: Option<String>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

impl From<ApproveAcoRequestInput> for StepFields {
    fn from(input: ApproveAcoRequestInput) -> Self {
        StepFields {
            id: input.id,
            version: input.version,
            comment: input.comment,
        }
    }
}

/// The input of `passAcoComplianceCheck` (FLOW-2).
#[derive(InputObject)]
pub struct PassAcoComplianceCheckInput {
    /// The request, in `SUBMITTED`.
    pub id: ID,
    /// The request's `version` as the caller saw it (FLOW-18).
    pub version: i32,
    /// The channel sales manager who reviews the deal next (an email address).
    pub channel_sales_manager: String,
    /// A note recorded in the request's history (at most 4000 characters).
    pub comment: Option<String>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// The input of `requestAcoInformation` (FLOW-3, FLOW-4).
#[derive(InputObject)]
pub struct RequestAcoInformationInput {
    /// The request, in `SUBMITTED` (PLSR) or `CHANNEL_REVIEW` (channel sales).
    pub id: ID,
    /// The request's `version` as the caller saw it (FLOW-18).
    pub version: i32,
    /// What the partner must answer.
    pub question: String,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// The input of `answerAcoInformationRequest` (FLOW-5).
#[derive(InputObject)]
pub struct AnswerAcoInformationRequestInput {
    /// The request, in `NEEDS_INFO`.
    pub id: ID,
    /// The request's `version` as the caller saw it (FLOW-18).
    pub version: i32,
    /// The answer to the question asked, recorded in the request's history
    /// (required, at most 4000 characters).
    pub answer: String,
    /// Corrections (FLOW-5): the ACO amount is recomputed.
    pub estimated_acr: Option<Decimal>,
    /// A corrected scenario (FLOW-5); left out keeps the current one.
    pub scenario: Option<AcoScenario>,
    /// Corrected workloads, replacing the current list (FLOW-5, ELIG-12: at
    /// most 50, each text of at most 256 characters); left out keeps them.
    pub workloads: Option<Vec<String>>,
    /// A corrected project timeline (FLOW-5); left out keeps the current one.
    pub timeline: Option<TimelineInput>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// The input of `rejectAcoRequest` (FLOW-6).
#[derive(InputObject)]
pub struct RejectAcoRequestInput {
    /// The request, in `SUBMITTED`, `CHANNEL_REVIEW` or `FINANCE_REVIEW`.
    pub id: ID,
    /// The request's `version` as the caller saw it (FLOW-18).
    pub version: i32,
    /// Why it is rejected (required, at most 4000 characters); becomes the
    /// request's `decisionReason`.
    pub reason: String,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// The input of `cancelAcoRequest` (FLOW-13).
#[derive(InputObject)]
pub struct CancelAcoRequestInput {
    /// The request, in any state before `ACTIVE`.
    pub id: ID,
    /// The request's `version` as the caller saw it (FLOW-18).
    pub version: i32,
    /// Why it is cancelled (at most 4000 characters); becomes the request's
    /// `decisionReason`.
    pub reason: Option<String>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

crate::graphql::mutation::payload! {
    /// The result of submitting an ACO request.
    SubmitAcoRequestPayload {
        /// The new request, in `SUBMITTED`; `null` when refused.
        aco_request: AcoRequest,
    }
}

crate::graphql::mutation::payloads! {
    {
        /// The request after the step; `null` when refused.
        aco_request: AcoRequest,
    }
    /// The result of `passAcoComplianceCheck` (FLOW-2).
    PassAcoComplianceCheckPayload,
    /// The result of `requestAcoInformation` (FLOW-3, FLOW-4).
    RequestAcoInformationPayload,
    /// The result of `answerAcoInformationRequest` (FLOW-5).
    AnswerAcoInformationRequestPayload,
    /// The result of `supportAcoRequest` (FLOW-7).
    SupportAcoRequestPayload,
    /// The result of `approveAcoRequest` (FLOW-8).
    ApproveAcoRequestPayload,
    /// The result of `rejectAcoRequest` (FLOW-6).
    RejectAcoRequestPayload,
    /// The result of `cancelAcoRequest` (FLOW-13).
    CancelAcoRequestPayload,
}

/// Runs one workflow step; the request after it, or the refusals.
async fn run_step(
    ctx: &Context<'_>,
    action: WorkflowAction,
    step: Result<Step>,
) -> async_graphql::Result<std::result::Result<AcoRequest, Vec<UserError>>> {
    let step = checked(ctx, step)?;
    let outcome = write(ctx, move |tx, call| requests::step(tx, call, action, step)).await?;
    Ok(outcome.map(AcoRequest::from))
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
        #[graphql(desc = "The deal to submit.")] input: SubmitAcoRequestInput,
    ) -> async_graphql::Result<SubmitAcoRequestPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
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
        Ok(SubmitAcoRequestPayload::of(
            outcome.map(AcoRequest::from),
            client_mutation_id,
        ))
    }

    /// FLOW-2, PLSR: passes the quality & compliance check and assigns a channel sales manager.
    async fn pass_aco_compliance_check(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request, its version and the channel sales manager to assign.")]
        input: PassAcoComplianceCheckInput,
    ) -> async_graphql::Result<PassAcoComplianceCheckPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
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
            StepFields {
                id: input.id,
                version: input.version,
                comment: input.comment,
            }
            .into_step(),
        )?;
        let outcome = write(ctx, move |tx, call| {
            requests::pass_compliance_check(tx, call, step, manager)
        })
        .await?;
        Ok(PassAcoComplianceCheckPayload::of(
            outcome.map(AcoRequest::from),
            client_mutation_id,
        ))
    }

    /// FLOW-3 (PLSR, in `SUBMITTED`) and FLOW-4 (channel sales, in `CHANNEL_REVIEW`): asks the partner for more.
    async fn request_aco_information(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request, its version and the question for the partner.")]
        input: RequestAcoInformationInput,
    ) -> async_graphql::Result<RequestAcoInformationPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let step = required_comment(input.question, "question").and_then(|q| {
            StepFields {
                id: input.id,
                version: input.version,
                comment: Some(q),
            }
            .into_step()
        });
        Ok(RequestAcoInformationPayload::of(
            run_step(ctx, WorkflowAction::RequestInformation, step).await?,
            client_mutation_id,
        ))
    }

    /// FLOW-5, the submitting partner: answers, optionally correcting scope or
    /// estimate; the request returns to the state that asked.
    async fn answer_aco_information_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request, its version, the answer and any corrections.")]
        input: AnswerAcoInformationRequestInput,
    ) -> async_graphql::Result<AnswerAcoInformationRequestPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let parsed = (|| -> Result<(Step, Corrections)> {
            let answer = required_comment(input.answer, "answer")?;
            let step = StepFields {
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
        let outcome = write(ctx, move |tx, call| {
            requests::answer_information_request(tx, call, step, corrections)
        })
        .await?;
        Ok(AnswerAcoInformationRequestPayload::of(
            outcome.map(AcoRequest::from),
            client_mutation_id,
        ))
    }

    /// FLOW-7, channel sales: supports the deal and submits it for finance.
    async fn support_aco_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request, in `CHANNEL_REVIEW`, its version and an optional comment.")]
        input: SupportAcoRequestInput,
    ) -> async_graphql::Result<SupportAcoRequestPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        Ok(SupportAcoRequestPayload::of(
            run_step(
                ctx,
                WorkflowAction::Support,
                StepFields::from(input).into_step(),
            )
            .await?,
            client_mutation_id,
        ))
    }

    /// FLOW-8, finance: approves.
    async fn approve_aco_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request, in `FINANCE_REVIEW`, its version and an optional comment.")]
        input: ApproveAcoRequestInput,
    ) -> async_graphql::Result<ApproveAcoRequestPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        Ok(ApproveAcoRequestPayload::of(
            run_step(
                ctx,
                WorkflowAction::Approve,
                StepFields::from(input).into_step(),
            )
            .await?,
            client_mutation_id,
        ))
    }

    /// FLOW-6: PLSR, channel sales or finance, each in its own state, rejects with a reason.
    async fn reject_aco_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request, its version and the reason.")] input: RejectAcoRequestInput,
    ) -> async_graphql::Result<RejectAcoRequestPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let step = required_comment(input.reason, "reason").and_then(|r| {
            StepFields {
                id: input.id,
                version: input.version,
                comment: Some(r),
            }
            .into_step()
        });
        Ok(RejectAcoRequestPayload::of(
            run_step(ctx, WorkflowAction::Reject, step).await?,
            client_mutation_id,
        ))
    }

    /// FLOW-13, the submitting partner: cancels a request that is not yet active.
    async fn cancel_aco_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request, its version and an optional reason.")]
        input: CancelAcoRequestInput,
    ) -> async_graphql::Result<CancelAcoRequestPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let step = checked(
            ctx,
            StepFields {
                id: input.id,
                version: input.version,
                comment: input.reason,
            }
            .into_step(),
        )?;
        let outcome = write(ctx, move |tx, call| requests::cancel(tx, call, step)).await?;
        Ok(CancelAcoRequestPayload::of(
            outcome.map(AcoRequest::from),
            client_mutation_id,
        ))
    }

    /// FLOW-9, AGR-3/4, operations: publishes the ACO agreement to the customer's signer.
    async fn publish_aco_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request, its version, the signer and the credit period.")]
        input: PublishAcoAgreementInput,
    ) -> async_graphql::Result<PublishAcoAgreementPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
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
            let step = StepFields {
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
        Ok(PublishAcoAgreementPayload::of(
            outcome
                .map(|(request, agreement)| (AcoRequest::from(request), AcoAgreement(agreement))),
            client_mutation_id,
        ))
    }

    /// FLOW-12, AGR-6, operations: withdraws the published agreement to change it; back to finance.
    async fn withdraw_aco_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request, its version and what is to change.")]
        input: WithdrawAcoAgreementInput,
    ) -> async_graphql::Result<WithdrawAcoAgreementPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let step = checked(
            ctx,
            required_comment(input.reason, "reason").and_then(|r| {
                StepFields {
                    id: input.id,
                    version: input.version,
                    comment: Some(r),
                }
                .into_step()
            }),
        )?;
        let outcome = write(ctx, move |tx, call| agreements::withdraw(tx, call, step)).await?;
        Ok(match outcome {
            Ok((request, agreement)) => WithdrawAcoAgreementPayload {
                client_mutation_id: client_mutation_id.clone(),
                aco_request: Some(AcoRequest::from(request)),
                aco_agreement: agreement.map(AcoAgreement),
                user_errors: Vec::new(),
            },
            Err(user_errors) => WithdrawAcoAgreementPayload {
                client_mutation_id: client_mutation_id.clone(),
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
        #[graphql(desc = "The agreement to sign.")] input: SignAcoAgreementInput,
    ) -> async_graphql::Result<SignAcoAgreementPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let id = checked(
            ctx,
            input_id(&input.agreement_id, "agreementId", IdKind::AcoAgreement),
        )?;
        let outcome = write(ctx, move |tx, call| agreements::sign(tx, call, &id)).await?;
        Ok(match outcome {
            Ok(Signature::Signed {
                agreement, grant, ..
            }) => SignAcoAgreementPayload {
                client_mutation_id: client_mutation_id.clone(),
                aco_agreement: Some(AcoAgreement(agreement)),
                credit_grant: Some(CreditGrant(grant)),
                user_errors: Vec::new(),
            },
            Ok(Signature::Expired { agreement }) => SignAcoAgreementPayload {
                client_mutation_id: client_mutation_id.clone(),
                user_errors: vec![agreements::too_late(&agreement)],
                aco_agreement: Some(AcoAgreement(agreement)),
                credit_grant: None,
            },
            Err(user_errors) => SignAcoAgreementPayload {
                client_mutation_id: client_mutation_id.clone(),
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
        #[graphql(desc = "Optional; only carries a `clientMutationId` to echo back.")]
        input: Option<ExpireAcoAgreementsInput>,
    ) -> async_graphql::Result<ExpireAcoAgreementsPayload> {
        let input = input.unwrap_or_default();
        // In batches, each its own transaction (Aurora DSQL's limits).
        let mut outcome = Ok(Vec::new());
        loop {
            let batch = write(ctx, move |tx, call| {
                agreements::expire_overdue(tx, call, true)
            })
            .await?;
            match (&mut outcome, batch) {
                (Ok(all), Ok(batch)) => {
                    let done = batch.len() < agreements::EXPIRY_BATCH;
                    all.extend(batch);
                    if done {
                        break;
                    }
                }
                (_, Err(user_errors)) => {
                    outcome = Err(user_errors);
                    break;
                }
                (Err(_), Ok(_)) => break,
            }
        }
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
