//! CSP authorization (DOMAIN §8): where a partner stands against the
//! requirements of its type, its profile, reassessment and remediation.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::input::input_id;
use super::scalars::{Date, DateTime, Decimal, Month};
use super::types::Partner;
use super::{to_gql, write};
use crate::domain::ids::IdKind;
use crate::domain::{AuthorizationRequirementCode, PartnerType, SupportPlan, validate};
use crate::error::{Error, Result, UserError};
use crate::service::authorization::{self, ProfileChanges, Standing};
use crate::store::partners::AssessmentRow;

/// One requirement of the partner's type.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct AuthorizationRequirement {
    /// Which requirement.
    pub code: AuthorizationRequirementCode,
    /// Whether the partner meets the requirement today.
    pub passed: bool,
    /// The figure it was judged on.
    pub figure: String,
    /// One line on what meets the requirement (shown whether or not it passed).
    pub remedy: String,
}

/// Revenue in one authorized region (indirect providers).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct RegionalRevenue {
    /// The authorized region, as reported.
    pub region: String,
    /// Trailing-12-month CSP revenue in the region, a USD `Decimal`; each region needs
    /// at least `"30000000.00"` (§8).
    pub amount: Decimal,
}

/// What the requirements are judged on.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct AuthorizationProfile {
    /// Trailing-12-month CSP revenue.
    #[graphql(name = "revenueTrailing12m")]
    pub revenue_trailing_12m: Option<Decimal>,
    /// Trailing-12-month CSP revenue per authorized region (indirect providers).
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::LIST_INPUT, child_complexity)"
    )]
    pub regional_revenue: Vec<RegionalRevenue>,
    /// Whether the partner has signed the Microsoft Partner Agreement (AGR-1).
    pub mpa_signed: bool,
    /// Whether MFA is enabled for every administrative user in the CSP tenant.
    pub mfa_for_all_admins: bool,
    /// The named security contact; `null` if none is named.
    pub security_contact_email: Option<String>,
    /// The partner's support plan: `ASFP` or `PSFP` meets the requirement (direct bill,
    /// indirect providers).
    pub support_plan: SupportPlan,
    /// When the partner was first authorized as an indirect reseller; a direct bill
    /// partner needs 12 months as one (prior experience).
    pub indirect_reseller_since: Option<Date>,
    /// Whether Microsoft has assessed the prior experience of this indirect provider.
    pub prior_experience_assessed: bool,
    /// The Solutions Partner designations held; a direct bill partner needs at least one.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::LIST_INPUT, child_complexity)"
    )]
    pub solutions_partner_designations: Vec<String>,
    /// Whether the partner passed the capabilities assessment (direct bill, indirect providers).
    pub capabilities_assessment_passed: bool,
    /// Whether the partner passed Microsoft's credit check (direct bill).
    pub credit_check_passed: bool,
    /// The enrolling user's business email (indirect resellers): not personal,
    /// disposable or generic; `null` if none was given.
    pub business_email: Option<String>,
}

/// A reassessment (AUTH-1).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct PartnerAssessment {
    /// When the programme reassessed the partner.
    pub assessed_at: DateTime,
    /// Whether every requirement of the partner's type passed.
    pub passed: bool,
    /// The codes of the requirements that failed (as in `AuthorizationRequirement.code`).
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::RULES, child_complexity)"
    )]
    pub failed_requirements: Vec<String>,
    /// When the remediation window it opened has passed: 00:00 of the day
    /// after the 30th day from the assessment, programme time zone (AUTH-1).
    pub remediation_deadline: Option<DateTime>,
    /// `REMEDIATED`, `DEMOTED` or `NOT_REMEDIATED` once the window closed.
    pub outcome: Option<String>,
}

impl PartnerAssessment {
    fn of(a: AssessmentRow, standing: &Standing) -> Self {
        PartnerAssessment {
            remediation_deadline: standing.deadline_of(&a).map(DateTime),
            assessed_at: DateTime(a.assessed_at),
            passed: a.passed,
            failed_requirements: a.failed_requirements,
            outcome: a.outcome,
        }
    }
}

/// Where a partner stands (§8), all year round.
pub struct PartnerAuthorization(pub Standing);

/// Where a partner stands against the CSP authorization requirements of its type (§8),
/// all year round; seen only by the partner itself and programme roles.
#[Object(serial)]
impl PartnerAuthorization {
    /// The partner's type, whose requirements apply.
    async fn partner_type(&self) -> PartnerType {
        self.0.partner.partner_type
    }
    /// Every requirement of the partner's type.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::RULES, child_complexity)"
    )]
    async fn requirements(&self) -> Vec<AuthorizationRequirement> {
        self.0
            .requirements
            .iter()
            .map(|r| AuthorizationRequirement {
                code: r.code,
                passed: r.passed,
                figure: r.figure.clone(),
                remedy: r.remedy.into(),
            })
            .collect()
    }
    /// Every requirement passes today.
    async fn meets_requirements(&self) -> bool {
        self.0.meets_requirements()
    }
    /// It meets every requirement, or it is within its 30 days to remediate (AUTH-1).
    async fn authorized(&self) -> bool {
        self.0.authorized()
    }
    /// The day the partner first passed a reassessment (programme time zone); `null` until then.
    async fn authorized_since(&self) -> Option<Date> {
        self.0.authorized_since.map(Date)
    }
    /// The next annual reassessment: the anniversary month of the authorization.
    async fn next_reassessment(&self) -> Option<Month> {
        self.0.next_reassessment().map(Month)
    }
    /// While a remediation window is open (AUTH-1): when it has passed,
    /// 00:00 of the day after the 30th day from the assessment, programme
    /// time zone. Until then the partner is authorized.
    async fn remediation_deadline(&self) -> Option<DateTime> {
        self.0.remediation_deadline.map(DateTime)
    }
    /// A demoted direct bill partner may not reapply before this day (AUTH-1).
    async fn reapply_blocked_until(&self) -> Option<Date> {
        self.0.reapply_blocked_until.map(Date)
    }
    /// The most recent reassessment (AUTH-1); `null` if the partner was never reassessed.
    async fn last_assessment(&self) -> Option<PartnerAssessment> {
        self.0
            .last_assessment
            .clone()
            .map(|a| PartnerAssessment::of(a, &self.0))
    }
    /// What the requirements are judged on.
    async fn profile(&self) -> AuthorizationProfile {
        let p = &self.0.profile;
        AuthorizationProfile {
            revenue_trailing_12m: p.revenue_trailing_12m.map(Decimal),
            regional_revenue: p
                .regional_revenue
                .iter()
                .map(|(region, amount)| RegionalRevenue {
                    region: region.clone(),
                    amount: Decimal(*amount),
                })
                .collect(),
            mpa_signed: p.mpa_signed,
            mfa_for_all_admins: p.mfa_all_admins,
            security_contact_email: p.security_contact_email.clone(),
            support_plan: p.support_plan,
            indirect_reseller_since: p.indirect_reseller_since.map(Date),
            prior_experience_assessed: p.prior_experience_assessed,
            solutions_partner_designations: p.designations.clone(),
            capabilities_assessment_passed: p.capabilities_assessment_passed,
            credit_check_passed: p.credit_check_passed,
            business_email: p.business_email.clone(),
        }
    }
}

/// Trailing-12-month CSP revenue in one authorized region (indirect providers).
#[derive(InputObject)]
pub struct RegionalRevenueInput {
    /// The authorized region: non-empty text.
    pub region: String,
    /// Revenue in the region, a USD `Decimal` string such as `"45000000.00"`; not negative.
    pub amount: Decimal,
}

/// Fields left out are not changed. Partner admins may set `mfaForAllAdmins`,
/// `securityContactEmail`, `supportPlan` and `businessEmail`; the programme sets the rest.
#[derive(InputObject)]
pub struct UpdatePartnerProfileInput {
    /// The partner whose profile changes; a partner admin may name only its own partner.
    pub partner_id: ID,
    /// Whether MFA is enabled for every administrative user in the CSP tenant.
    pub mfa_for_all_admins: Option<bool>,
    /// The security contact named in Partner Center: an email address.
    pub security_contact_email: Option<String>,
    /// The partner's support plan (`ASFP` or `PSFP` meets the requirement).
    pub support_plan: Option<SupportPlan>,
    /// The enrolling user's business email: not personal, disposable or generic.
    pub business_email: Option<String>,
    /// Trailing-12-month CSP revenue (direct bill, indirect reseller).
    #[graphql(name = "revenueTrailing12m")]
    pub revenue_trailing_12m: Option<Decimal>,
    /// Replaces every region's figure (indirect providers).
    pub regional_revenue: Option<Vec<RegionalRevenueInput>>,
    /// Programme only: when the partner was first authorized as an indirect reseller
    /// (`YYYY-MM-DD`).
    pub indirect_reseller_since: Option<Date>,
    /// Programme only: whether Microsoft has assessed this indirect provider's prior experience.
    pub prior_experience_assessed: Option<bool>,
    /// Replaces the list.
    pub solutions_partner_designations: Option<Vec<String>>,
    /// Programme only: whether the partner passed the capabilities assessment.
    pub capabilities_assessment_passed: Option<bool>,
    /// Programme only: whether the partner passed Microsoft's credit check.
    pub credit_check_passed: Option<bool>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

fn amount(value: Decimal, field: &[&str]) -> Result<rust_decimal::Decimal> {
    if value.0.is_sign_negative() && !value.0.is_zero() {
        return Err(Error::bad_input(field, "revenue must not be negative"));
    }
    Ok(value.0)
}

fn email(value: String, field: &str) -> Result<String> {
    validate::email(&value).ok_or_else(|| {
        Error::bad_input(
            &["input", field],
            format!("`{field}` must be an email address"),
        )
    })
}

/// A list input of at most [`validate::MAX_LIST`] entries.
fn short_list(len: usize, field: &str) -> Result<()> {
    if len > validate::MAX_LIST {
        return Err(Error::bad_input(
            &["input", field],
            format!("at most {} entries", validate::MAX_LIST),
        ));
    }
    Ok(())
}

impl UpdatePartnerProfileInput {
    fn into_changes(self) -> Result<(crate::domain::ids::ObjectId, ProfileChanges)> {
        let texts = |list: Vec<String>, field: &str| -> Result<Vec<String>> {
            short_list(list.len(), field)?;
            list.iter()
                .map(|t| {
                    validate::text(t).ok_or_else(|| {
                        Error::bad_input(
                            &["input", field],
                            "each entry is text of at most 256 characters",
                        )
                    })
                })
                .collect()
        };
        Ok((
            input_id(&self.partner_id, "partnerId", IdKind::Partner)?,
            ProfileChanges {
                mfa_all_admins: self.mfa_for_all_admins,
                security_contact_email: self
                    .security_contact_email
                    .map(|e| email(e, "securityContactEmail"))
                    .transpose()?,
                support_plan: self.support_plan,
                business_email: self
                    .business_email
                    .map(|e| email(e, "businessEmail"))
                    .transpose()?,
                revenue_trailing_12m: self
                    .revenue_trailing_12m
                    .map(|v| amount(v, &["input", "revenueTrailing12m"]))
                    .transpose()?,
                regional_revenue: self
                    .regional_revenue
                    .map(|list| {
                        short_list(list.len(), "regionalRevenue")?;
                        list.into_iter()
                            .map(|r| {
                                let region = validate::text(&r.region).ok_or_else(|| {
                                    Error::bad_input(
                                        &["input", "regionalRevenue", "region"],
                                        "`region` must be non-empty text",
                                    )
                                })?;
                                Ok((
                                    region,
                                    amount(r.amount, &["input", "regionalRevenue", "amount"])?,
                                ))
                            })
                            .collect::<Result<Vec<_>>>()
                    })
                    .transpose()?,
                indirect_reseller_since: self.indirect_reseller_since.map(|d| d.0),
                prior_experience_assessed: self.prior_experience_assessed,
                designations: self
                    .solutions_partner_designations
                    .map(|d| texts(d, "solutionsPartnerDesignations"))
                    .transpose()?,
                capabilities_assessment_passed: self.capabilities_assessment_passed,
                credit_check_passed: self.credit_check_passed,
            },
        ))
    }
}

/// The partner to reassess (AUTH-1).
#[derive(InputObject)]
pub struct ReassessPartnerInput {
    /// The partner to reassess against its type's requirements.
    pub partner_id: ID,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// Options for closing the remediation windows that have ended (AUTH-1).
#[derive(InputObject, Default)]
pub struct ExpireRemediationInput {
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

crate::graphql::mutation::payloads! {
    {
        /// The partner; `null` when the change was refused.
        partner: Partner,
        /// Where the partner now stands; `null` when the change was refused.
        authorization: PartnerAuthorization,
    }
    /// The result of `updatePartnerProfile` (§8).
    UpdatePartnerProfilePayload,
    /// The result of `reassessPartner` (§8, AUTH-1).
    ReassessPartnerPayload,
}

/// What closing one remediation window did.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct RemediationOutcome {
    /// The partner whose window closed, as it is now (a demoted one is an indirect reseller).
    pub partner: Partner,
    /// `REMEDIATED`, `DEMOTED` (direct bill to indirect reseller) or `NOT_REMEDIATED`.
    pub outcome: String,
}

/// The result of closing the remediation windows that have ended (AUTH-1).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ExpireRemediationPayload {
    /// One entry per partner whose remediation window was closed; empty if none had ended.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::SWEEP, child_complexity)"
    )]
    pub outcomes: Vec<RemediationOutcome>,
    /// The `clientMutationId` of the input, echoed back.
    pub client_mutation_id: Option<String>,
    /// Business-rule refusals, all at once; empty on success.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

/// A partner's standing as a payload shows it.
fn shown(standing: Standing) -> (Partner, PartnerAuthorization) {
    (
        Partner::from(standing.partner.clone()),
        PartnerAuthorization(standing),
    )
}

#[derive(Default)]
pub struct AuthorizationMutation;

#[Object(serial)]
impl AuthorizationMutation {
    /// §8: updates what the partner's authorization requirements are judged on.
    async fn update_partner_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner and the profile fields to change.")]
        input: UpdatePartnerProfileInput,
    ) -> async_graphql::Result<UpdatePartnerProfilePayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let (id, changes) = input.into_changes().map_err(|e| to_gql(ctx, e))?;
        let outcome = write(ctx, move |tx, call| {
            authorization::update_profile(tx, call, &id, changes)
        })
        .await?;
        Ok(UpdatePartnerProfilePayload::of(
            outcome.map(shown),
            client_mutation_id,
        ))
    }

    /// AUTH-1, programme admin: reassesses a partner; a failing partner gets 30 days to remediate.
    async fn reassess_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner to reassess.")] input: ReassessPartnerInput,
    ) -> async_graphql::Result<ReassessPartnerPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let id = input_id(&input.partner_id, "partnerId", IdKind::Partner)
            .map_err(|e| to_gql(ctx, e))?;
        let outcome = write(ctx, move |tx, call| authorization::reassess(tx, call, &id)).await?;
        Ok(ReassessPartnerPayload::of(
            outcome.map(shown),
            client_mutation_id,
        ))
    }

    /// AUTH-1, programme admin (the service also runs it on its own): closes
    /// every remediation window that has ended; a direct bill partner that
    /// still fails becomes an indirect reseller, blocked from reapplying for a year.
    async fn expire_remediation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Optional; carries a `clientMutationId` to echo back.")] input: Option<
            ExpireRemediationInput,
        >,
    ) -> async_graphql::Result<ExpireRemediationPayload> {
        let input = input.unwrap_or_default();
        let outcome = write(ctx, move |tx, call| {
            authorization::expire_remediation(tx, call, true)
        })
        .await?;
        Ok(match outcome {
            Ok(list) => ExpireRemediationPayload {
                outcomes: list
                    .into_iter()
                    .map(|r| RemediationOutcome {
                        partner: Partner::from(r.partner),
                        outcome: r.outcome.into(),
                    })
                    .collect(),
                client_mutation_id: input.client_mutation_id,
                user_errors: Vec::new(),
            },
            Err(user_errors) => ExpireRemediationPayload {
                outcomes: Vec::new(),
                client_mutation_id: input.client_mutation_id,
                user_errors,
            },
        })
    }
}
