//! ACO eligibility (§3): who may check, the deal checked, the facts the
//! rules look at, and the report of every rule for the deal.

use rust_decimal::Decimal;

use super::Call;
use super::requests::ensure_may_submit;
use crate::authz::{self, Permission};
use crate::domain::UserErrorCode;
use crate::domain::actor::{Actor, Organization};
use crate::domain::eligibility::{self, Facts, ProviderFacts, RuleResult, Scope, ScopePart};
use crate::domain::ids::ObjectId;
use crate::domain::{PartnerType, Role};
use crate::error::{Error, Result, UserError};
use crate::fields;
use crate::store::Tx;
use crate::store::customers::{self, CustomerRow};
use crate::store::partners::{self, PartnerRow};
use crate::store::relationships;
use crate::store::requests;

pub const CHECK_ELIGIBILITY: Permission = Permission {
    roles: &[
        Role::PartnerAdmin,
        Role::PartnerUser,
        Role::Plsr,
        Role::ChannelSales,
        Role::Finance,
        Role::Operations,
        Role::ProgramAdmin,
    ],
    action: "check ACO eligibility",
};

/// A deal to check or submit, already shape-checked.
#[derive(Debug, Clone)]
pub struct Deal {
    pub customer_id: ObjectId,
    /// The partner to check for, when a programme role asks; partners check for themselves.
    pub partner_id: Option<ObjectId>,
    pub indirect_provider_id: Option<ObjectId>,
    pub estimated_acr: Decimal,
    pub scope: Scope,
}

/// The outcome of every rule of §3 for one deal.
#[derive(Debug, Clone)]
pub struct EligibilityReport {
    pub customer: CustomerRow,
    pub partner: PartnerRow,
    pub results: Vec<RuleResult>,
    pub aco_amount: Decimal,
}

impl EligibilityReport {
    pub fn eligible(&self) -> bool {
        self.results.iter().all(|r| r.passed)
    }

    /// A user error for each failed rule, at the input field to correct;
    /// an incomplete scope (`scope` is the deal's) gives one per part missing.
    pub(super) fn failures(&self, scope: &Scope) -> Vec<UserError> {
        self.results
            .iter()
            .filter(|r| !r.passed)
            .flat_map(|r| {
                let error = UserError::new(r.code, r.message);
                match r.code {
                    UserErrorCode::DealBelowMinimum => vec![error.at(fields::ESTIMATED_ACR)],
                    UserErrorCode::ScopeMissing => scope_errors(scope),
                    UserErrorCode::ProviderRelationshipMissing => {
                        vec![error.at(fields::INDIRECT_PROVIDER_ID)]
                    }
                    _ => vec![error],
                }
            })
            .collect()
    }
}

/// ELIG-12: one `SCOPE_MISSING` for each part of the scope not stated, at its
/// own input field.
pub(super) fn scope_errors(scope: &Scope) -> Vec<UserError> {
    scope
        .missing()
        .into_iter()
        .map(|part| {
            let field = match part {
                ScopePart::Scenario => fields::SCENARIO,
                ScopePart::Workloads => fields::WORKLOADS,
                ScopePart::Timeline => fields::TIMELINE,
            };
            UserError::new(
                UserErrorCode::ScopeMissing,
                format!("{} (ELIG-12)", part.problem()),
            )
            .at(field)
        })
        .collect()
}

/// The partner a deal is checked for: the caller's own, or (for programme
/// roles) the one named.
fn deal_partner(tx: &Tx<'_>, actor: &Actor, deal: &Deal) -> Result<PartnerRow> {
    match &actor.organization {
        Organization::Partner { id, .. } => {
            if deal.partner_id.as_ref().is_some_and(|p| p != id) {
                return Err(Error::bad_input(
                    &["input", "partnerId"],
                    "partners check eligibility for themselves; leave partnerId out",
                ));
            }
            authz::partner(tx, actor, id)
        }
        Organization::Program => {
            let id = deal.partner_id.as_ref().ok_or_else(|| {
                Error::bad_input(
                    &["input", "partnerId"],
                    "programme roles name the partner to check for",
                )
            })?;
            authz::partner(tx, actor, id)
        }
        Organization::Customer { .. } => Err(Error::NotFound),
    }
}

/// Gathers the facts the rules look at.
fn facts(
    tx: &Tx<'_>,
    call: &Call,
    customer: &CustomerRow,
    partner: &PartnerRow,
    deal: &Deal,
) -> Result<Facts> {
    let current = customers::current_agreement(tx, &customer.id)?;
    let confirmed = match &current {
        Some(agreement) => customers::confirmations(tx, &customer.id)?
            .iter()
            .any(|c| c.partner_id == partner.id && c.agreement_id == agreement.id),
        None => false,
    };
    let provider = match &deal.indirect_provider_id {
        Some(provider_id) => {
            let is_provider = partners::get(tx, provider_id)?
                .is_some_and(|p| p.partner_type == PartnerType::IndirectProvider);
            let linked = is_provider && partners::linked(tx, partner)?.contains(provider_id);
            Some(ProviderFacts {
                linked,
                relationship_active: linked
                    && relationships::is_active(tx, provider_id, &customer.id)?,
            })
        }
        None => None,
    };
    Ok(Facts {
        customer_country: customer.country.clone(),
        customer_segment: customer.segment,
        customer_kind: customer.organization_kind,
        billing_profile_complete: customer.billing_profile.is_complete(),
        mca_accepted: current.is_some(),
        partner_type: partner.partner_type,
        mpa_signed: partners::partner_agreement(tx, &partner.id)?.is_some(),
        mca_confirmed: confirmed,
        relationship_active: relationships::is_active(tx, &partner.id, &customer.id)?,
        provider,
        estimated_acr: deal.estimated_acr,
        scope: deal.scope.clone(),
        open_request_exists: requests::open_request_exists(tx, &customer.id)?,
        partner_authorized: super::authorization::standing(tx, partner.clone(), call)?.authorized(),
    })
}

/// §3: every rule for the deal, and the ACO amount it would get (ELIG-11).
pub fn check_eligibility(tx: &Tx<'_>, call: &Call, deal: &Deal) -> Result<EligibilityReport> {
    authz::require(&call.actor, &CHECK_ELIGIBILITY)?;
    if let Organization::Partner {
        partner_type: PartnerType::IndirectProvider,
        ..
    } = call.actor.organization
    {
        ensure_may_submit(&call.actor)?;
    }
    let partner = deal_partner(tx, &call.actor, deal)?;
    let customer = authz::customer(tx, &call.actor, &deal.customer_id)?;
    if deal.indirect_provider_id.is_some() && partner.partner_type != PartnerType::IndirectReseller
    {
        return Err(Error::bad_input(
            &["input", "indirectProviderId"],
            "only an indirect reseller's request names an indirect provider",
        ));
    }
    let facts = facts(tx, call, &customer, &partner, deal)?;
    Ok(EligibilityReport {
        results: eligibility::evaluate(&facts),
        aco_amount: eligibility::aco_amount(deal.estimated_acr),
        customer,
        partner,
    })
}
