//! Eligibility (DOMAIN §3): the pre-flight check's answer and its input, and
//! the shape checks of a deal's fields that submitting shares.

use async_graphql::{ID, InputObject, SimpleObject};

use crate::domain::eligibility::{RuleResult, Scope};
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{AcoScenario, UserErrorCode, validate};
use crate::error::{Error, Result};
use crate::graphql::input::input_id;
use crate::graphql::scalars::{Date, Decimal};
use crate::graphql::types::{Customer, Partner};
use crate::service::eligibility::{Deal, EligibilityReport};

/// One rule of DOMAIN §3 applied to a deal.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct EligibilityRuleResult {
    /// The rule's id in the rule book, e.g. `ELIG-10`.
    pub rule: String,
    /// The rule's stable code, e.g. `DEAL_BELOW_MINIMUM`: the same code a refused
    /// `submitAcoRequest` gives in `userErrors`.
    pub code: UserErrorCode,
    /// Whether the deal meets the rule.
    pub passed: bool,
    /// One line saying that the rule holds or how it fails.
    pub message: String,
    /// How to fix it; `null` when the rule passed.
    pub remedy: Option<String>,
}

impl From<RuleResult> for EligibilityRuleResult {
    fn from(r: RuleResult) -> Self {
        EligibilityRuleResult {
            rule: r.rule.into(),
            code: r.code,
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
    /// Whether every rule passed, so the request may be submitted.
    pub eligible: bool,
    /// ELIG-11: the ACO amount the deal would get.
    pub aco_amount: Decimal,
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::RULES, child_complexity)"
    )]
    /// Every rule of DOMAIN §3 with its outcome, passed or not.
    pub rules: Vec<EligibilityRuleResult>,
    /// The customer checked.
    pub customer: Customer,
    /// The partner checked for: the caller's own, or the one a programme role named.
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
    /// The first day of the project, `YYYY-MM-DD`.
    pub start: Date,
    /// The last day of the project, `YYYY-MM-DD`; not before `start` (ELIG-12).
    pub end: Date,
}

/// The deal to check before submitting (DOMAIN §3).
#[derive(InputObject)]
pub struct AcoEligibilityInput {
    /// The customer the credit would be for.
    pub customer_id: ID,
    /// Programme roles name the partner to check for; partners leave it out.
    pub partner_id: Option<ID>,
    /// For an indirect reseller: the indirect provider it works through (ELIG-9).
    pub indirect_provider_id: Option<ID>,
    /// The estimated 12-month incremental Azure consumed revenue, e.g. `"15000.00"`.
    pub estimated_acr: Decimal,
    /// ELIG-12: why the customer needs the credit; missing fails `SCOPE_MISSING`.
    pub scenario: Option<AcoScenario>,
    /// ELIG-12: the workloads in scope (at most 50, each text of at most 256
    /// characters; blank entries are ignored); none fails `SCOPE_MISSING`.
    pub workloads: Option<Vec<String>>,
    /// ELIG-12: the project timeline; missing fails `SCOPE_MISSING`.
    pub timeline: Option<TimelineInput>,
}

pub(super) fn workloads(list: Option<Vec<String>>, field: &str) -> Result<Vec<String>> {
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

pub(super) fn acr(value: Decimal) -> Result<rust_decimal::Decimal> {
    if value.0.is_sign_negative() {
        return Err(Error::bad_input(
            &["input", "estimatedAcr"],
            "the estimated ACR must not be negative",
        ));
    }
    Ok(value.0)
}

pub(super) fn optional_id(
    value: &Option<ID>,
    field: &str,
    kind: IdKind,
) -> Result<Option<ObjectId>> {
    value.as_ref().map(|v| input_id(v, field, kind)).transpose()
}

impl AcoEligibilityInput {
    pub(super) fn into_deal(self) -> Result<Deal> {
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
