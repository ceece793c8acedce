//! Eligibility (DOMAIN §3): every rule, checked at once, each with a remedy.
//!
//! The rules are one list, [`RULES`], evaluated over plain facts gathered by
//! the store; submission and the pre-flight check run the same list.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use super::{AcoScenario, CustomerSegment, OrganizationKind, PartnerType, UserErrorCode};

/// ELIG-10: the smallest estimated 12-month ACR, in USD.
pub const MINIMUM_ACR: Decimal = Decimal::from_parts(500_000, 0, 0, false, 2);

/// ELIG-11: the ACO amount is the estimated ACR divided by 10, rounded down
/// to the cent (never above 10:1).
pub fn aco_amount(estimated_acr: Decimal) -> Decimal {
    let mut amount =
        (estimated_acr / Decimal::TEN).round_dp_with_strategy(2, RoundingStrategy::ToZero);
    amount.rescale(2);
    amount
}

/// ELIG-12: what the request says it is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub scenario: Option<AcoScenario>,
    pub workloads: Vec<String>,
    pub timeline: Option<(NaiveDate, NaiveDate)>,
}

/// A part of the scope that ELIG-12 requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopePart {
    Scenario,
    Workloads,
    /// Missing, or starting after it ends.
    Timeline,
}

impl ScopePart {
    /// What is wrong with this part, for the one who fills the form in.
    pub fn problem(self) -> &'static str {
        match self {
            ScopePart::Scenario => "state the scenario",
            ScopePart::Workloads => "state at least one workload",
            ScopePart::Timeline => "state the project timeline, its start no later than its end",
        }
    }
}

impl Scope {
    pub fn is_complete(&self) -> bool {
        self.missing().is_empty()
    }

    /// The parts not stated (ELIG-12), in the order of the form.
    pub fn missing(&self) -> Vec<ScopePart> {
        let mut missing = Vec::new();
        if self.scenario.is_none() {
            missing.push(ScopePart::Scenario);
        }
        if !self.workloads.iter().any(|w| !w.trim().is_empty()) {
            missing.push(ScopePart::Workloads);
        }
        if self.timeline.is_none_or(|(start, end)| start > end) {
            missing.push(ScopePart::Timeline);
        }
        missing
    }
}

/// For an indirect reseller's request: the named indirect provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFacts {
    /// The named partner is an indirect provider linked to the reseller.
    pub linked: bool,
    /// It has its own active reseller relationship with the customer.
    pub relationship_active: bool,
}

/// Everything the rules look at, gathered for one customer, partner and deal.
#[derive(Debug, Clone)]
pub struct Facts {
    pub customer_country: String,
    pub customer_segment: CustomerSegment,
    pub customer_kind: OrganizationKind,
    pub billing_profile_complete: bool,
    pub mca_accepted: bool,
    pub partner_type: PartnerType,
    pub mpa_signed: bool,
    /// The submitting partner confirmed the customer's current MCA acceptance.
    pub mca_confirmed: bool,
    pub relationship_active: bool,
    /// `None` when no provider was named.
    pub provider: Option<ProviderFacts>,
    pub estimated_acr: Decimal,
    pub scope: Scope,
    /// Another request of this customer is not finished (ELIG-13).
    pub open_request_exists: bool,
    /// The partner meets its type's CSP requirements, or is within an open
    /// remediation window (§8, ELIG-15).
    pub partner_authorized: bool,
}

/// One rule of §3.
pub struct Rule {
    pub id: &'static str,
    pub code: UserErrorCode,
    pub passes: fn(&Facts) -> bool,
    /// What the rule checks, said as a fact when it holds.
    pub holds: &'static str,
    /// What is wrong when it fails.
    pub fails: &'static str,
    pub remedy: &'static str,
}

/// The rules of §3, in the order the rule book lists them.
pub const RULES: &[Rule] = &[
    Rule {
        id: "ELIG-1",
        code: UserErrorCode::CustomerNotUs,
        passes: |f| f.customer_country == "US",
        holds: "The customer is in the United States.",
        fails: "The customer is not in the United States; this offer is for US customers.",
        remedy: "Correct the customer's country if it is wrong; customers outside the US are not eligible.",
    },
    Rule {
        id: "ELIG-2",
        code: UserErrorCode::CustomerNotSmb,
        passes: |f| f.customer_segment == CustomerSegment::Smb,
        holds: "The customer is in the SMB segment.",
        fails: "The customer is not in the SMB segment; this offer is for US SMB customers.",
        remedy: "Correct the customer's segment if it is wrong; enterprise customers are not eligible.",
    },
    Rule {
        id: "ELIG-3",
        code: UserErrorCode::CustomerNotCommercial,
        passes: |f| f.customer_kind == OrganizationKind::Commercial,
        holds: "The customer is a commercial organisation.",
        fails: "The customer is a non-profit, education or government organisation.",
        remedy: "Correct the organisation kind if it is wrong; only commercial customers are eligible.",
    },
    Rule {
        id: "ELIG-4",
        code: UserErrorCode::BillingProfileIncomplete,
        passes: |f| f.billing_profile_complete,
        holds: "The billing profile is complete.",
        fails: "The billing profile lacks its legal name, tax id, registration number or a complete address.",
        remedy: "Complete the billing profile with updateCustomer: legal name, tax id, registration number, and address line 1, city, state, postal code and country.",
    },
    Rule {
        id: "ELIG-5",
        code: UserErrorCode::McaNotAccepted,
        passes: |f| f.mca_accepted,
        holds: "The customer has accepted the Microsoft Customer Agreement.",
        fails: "The customer has not accepted the Microsoft Customer Agreement (legacy CSP customers are not eligible).",
        remedy: "Have the customer accept the MCA and record it with recordCustomerAgreement.",
    },
    Rule {
        id: "ELIG-6",
        code: UserErrorCode::MpaNotSigned,
        passes: |f| f.mpa_signed,
        holds: "The partner has signed the Microsoft Partner Agreement.",
        fails: "The partner has not signed the Microsoft Partner Agreement.",
        remedy: "A partner admin signs the MPA with signPartnerAgreement.",
    },
    Rule {
        id: "ELIG-7",
        code: UserErrorCode::McaNotConfirmed,
        passes: |f| f.mca_confirmed,
        holds: "The partner has confirmed the customer's MCA acceptance.",
        fails: "The partner has not confirmed the customer's current MCA acceptance in its own records.",
        remedy: "A partner admin confirms the acceptance with confirmCustomerAgreement.",
    },
    Rule {
        id: "ELIG-8",
        code: UserErrorCode::NoResellerRelationship,
        passes: |f| f.relationship_active,
        holds: "The partner has an active reseller relationship with the customer.",
        fails: "The partner has no active reseller relationship with the customer.",
        remedy: "Request a reseller relationship with requestResellerRelationship and have the customer accept it.",
    },
    Rule {
        id: "ELIG-9",
        code: UserErrorCode::ProviderRelationshipMissing,
        passes: |f| {
            f.partner_type != PartnerType::IndirectReseller
                || f.provider
                    .as_ref()
                    .is_some_and(|p| p.linked && p.relationship_active)
        },
        holds: "The indirect provider requirement is met (or does not apply).",
        fails: "The request must name an indirect provider that is linked to the reseller and has its own active reseller relationship with the customer.",
        remedy: "Name your indirect provider; it must be linked to you and have an accepted reseller relationship with the customer.",
    },
    Rule {
        id: "ELIG-10",
        code: UserErrorCode::DealBelowMinimum,
        passes: |f| f.estimated_acr >= MINIMUM_ACR,
        holds: "The estimated 12-month ACR is at least USD 5,000.00.",
        fails: "The estimated 12-month incremental ACR is below USD 5,000.00.",
        remedy: "Only deals with an estimated 12-month incremental ACR of at least USD 5,000.00 qualify.",
    },
    Rule {
        id: "ELIG-12",
        code: UserErrorCode::ScopeMissing,
        passes: |f| f.scope.is_complete(),
        holds: "The scenario, workloads and project timeline are stated.",
        fails: "The request does not state the scenario, the workloads and a project timeline (start no later than end).",
        remedy: "State the scenario, at least one workload, and the project's start and end dates.",
    },
    Rule {
        id: "ELIG-13",
        code: UserErrorCode::OpenRequestExists,
        passes: |f| !f.open_request_exists,
        holds: "The customer has no other unfinished ACO request.",
        fails: "The customer already has an ACO request that is not finished.",
        remedy: "Follow or cancel the customer's open request before submitting another.",
    },
    Rule {
        id: "ELIG-14",
        code: UserErrorCode::NotTransactingPartner,
        passes: |f| f.partner_type != PartnerType::IndirectProvider,
        holds: "The partner is a transacting partner (direct bill or indirect reseller).",
        fails: "The partner is an indirect provider, which never submits an ACO request (ROLE-1).",
        remedy: "Check the deal for the transacting partner: the direct bill partner, or the indirect reseller naming this provider.",
    },
    Rule {
        id: "ELIG-15",
        code: UserErrorCode::PartnerNotAuthorized,
        passes: |f| f.partner_authorized,
        holds: "The partner is in good CSP standing (§8).",
        fails: "The partner fails its type's CSP authorization requirements (§8) and has no open remediation window.",
        remedy: "Meet the requirements listed in the partner's authorization (updatePartnerProfile), then ask the programme to reassess it.",
    },
];

/// One rule's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    pub rule: &'static str,
    pub code: UserErrorCode,
    pub passed: bool,
    pub message: &'static str,
    /// How to fix a failure; `None` when the rule passed.
    pub remedy: Option<&'static str>,
}

/// Every rule's verdict, in rule-book order.
pub fn evaluate(facts: &Facts) -> Vec<RuleResult> {
    RULES
        .iter()
        .map(|rule| {
            let passed = (rule.passes)(facts);
            RuleResult {
                rule: rule.id,
                code: rule.code,
                passed,
                message: if passed { rule.holds } else { rule.fails },
                remedy: (!passed).then_some(rule.remedy),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn eligible() -> Facts {
        Facts {
            customer_country: "US".into(),
            customer_segment: CustomerSegment::Smb,
            customer_kind: OrganizationKind::Commercial,
            billing_profile_complete: true,
            mca_accepted: true,
            partner_type: PartnerType::DirectBill,
            mpa_signed: true,
            mca_confirmed: true,
            relationship_active: true,
            provider: None,
            estimated_acr: Decimal::new(1_500_000, 2),
            scope: Scope {
                scenario: Some(AcoScenario::Migration),
                workloads: vec!["AKS".into()],
                timeline: Some(("2027-02-01".parse().unwrap(), "2027-08-01".parse().unwrap())),
            },
            open_request_exists: false,
            partner_authorized: true,
        }
    }

    fn failing(facts: &Facts) -> Vec<UserErrorCode> {
        evaluate(facts)
            .into_iter()
            .filter(|r| !r.passed)
            .map(|r| r.code)
            .collect()
    }

    #[test]
    fn elig_11_aco_amount_is_a_tenth_rounded_down_to_the_cent() {
        for (acr, aco) in [
            ("15000.00", "1500.00"),
            ("12345.67", "1234.56"),
            ("5000.00", "500.00"),
            ("5000.09", "500.00"),
            ("99999.99", "9999.99"),
        ] {
            assert_eq!(aco_amount(acr.parse().unwrap()).to_string(), aco, "{acr}");
        }
    }

    #[test]
    fn every_rule_fails_alone_and_all_fail_together() {
        assert!(failing(&eligible()).is_empty());
        type Change = fn(&mut Facts);
        let cases: Vec<(UserErrorCode, Change)> = vec![
            (UserErrorCode::CustomerNotUs, |f| {
                f.customer_country = "CA".into()
            }),
            (UserErrorCode::CustomerNotSmb, |f| {
                f.customer_segment = CustomerSegment::Enterprise
            }),
            (UserErrorCode::CustomerNotCommercial, |f| {
                f.customer_kind = OrganizationKind::Government
            }),
            (UserErrorCode::BillingProfileIncomplete, |f| {
                f.billing_profile_complete = false
            }),
            (UserErrorCode::McaNotAccepted, |f| f.mca_accepted = false),
            (UserErrorCode::MpaNotSigned, |f| f.mpa_signed = false),
            (UserErrorCode::McaNotConfirmed, |f| f.mca_confirmed = false),
            (UserErrorCode::NoResellerRelationship, |f| {
                f.relationship_active = false
            }),
            (UserErrorCode::ProviderRelationshipMissing, |f| {
                f.partner_type = PartnerType::IndirectReseller
            }),
            (UserErrorCode::DealBelowMinimum, |f| {
                f.estimated_acr = "4999.99".parse().unwrap()
            }),
            (UserErrorCode::ScopeMissing, |f| f.scope.workloads.clear()),
            (UserErrorCode::OpenRequestExists, |f| {
                f.open_request_exists = true
            }),
            (UserErrorCode::PartnerNotAuthorized, |f| {
                f.partner_authorized = false
            }),
        ];
        let mut all = eligible();
        for (code, change) in &cases {
            let mut facts = eligible();
            change(&mut facts);
            assert_eq!(failing(&facts), [*code]);
            change(&mut all);
        }
        assert_eq!(failing(&all).len(), cases.len());
    }

    #[test]
    fn elig_9_needs_a_linked_provider_with_its_own_relationship() {
        let mut f = eligible();
        f.partner_type = PartnerType::IndirectReseller;
        for (linked, active, ok) in [
            (true, true, true),
            (false, true, false),
            (true, false, false),
        ] {
            f.provider = Some(ProviderFacts {
                linked,
                relationship_active: active,
            });
            assert_eq!(failing(&f).is_empty(), ok, "{linked} {active}");
        }
    }

    #[test]
    fn elig_14_an_indirect_provider_is_never_a_transacting_partner() {
        let mut f = eligible();
        for (partner_type, ok) in [
            (PartnerType::DirectBill, true),
            (PartnerType::IndirectProvider, false),
        ] {
            f.partner_type = partner_type;
            assert_eq!(failing(&f).is_empty(), ok, "{partner_type:?}");
        }
        assert_eq!(failing(&f), [UserErrorCode::NotTransactingPartner]);
    }

    #[test]
    fn elig_10_exactly_the_minimum_passes() {
        let mut f = eligible();
        f.estimated_acr = "5000.00".parse().unwrap();
        assert!(failing(&f).is_empty());
    }

    #[test]
    fn elig_12_timeline_must_not_end_before_it_starts() {
        let mut f = eligible();
        f.scope.timeline = Some(("2027-08-01".parse().unwrap(), "2027-02-01".parse().unwrap()));
        assert_eq!(failing(&f), [UserErrorCode::ScopeMissing]);
    }
}
