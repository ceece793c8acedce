//! CSP authorization requirements per partner type (DOMAIN §8, AUTH-1).

use chrono::{Datelike, Duration, Months, NaiveDate};
use rust_decimal::Decimal;

use super::benefits::is_free_mail;
use super::time::Month;
use super::{AuthorizationRequirementCode, PartnerType, SupportPlan};

/// AUTH-1: days a partner failing a requirement has to remediate.
pub const REMEDIATION_DAYS: i64 = 30;
/// AUTH-1: how long a demoted direct bill partner may not reapply.
pub const REAPPLY_BLOCK_MONTHS: u32 = 12;

/// What the requirements are judged on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// Trailing-12-month CSP revenue (direct bill, indirect reseller).
    pub revenue_trailing_12m: Option<Decimal>,
    /// Trailing-12-month revenue per authorized region (indirect provider).
    pub regional_revenue: Vec<(String, Decimal)>,
    pub mpa_signed: bool,
    pub mfa_all_admins: bool,
    pub security_contact_email: Option<String>,
    pub support_plan: SupportPlan,
    /// When the partner was first authorized as an indirect reseller.
    pub indirect_reseller_since: Option<NaiveDate>,
    /// Indirect provider: Microsoft's individual assessment of prior experience.
    pub prior_experience_assessed: bool,
    pub designations: Vec<String>,
    pub capabilities_assessment_passed: bool,
    pub credit_check_passed: bool,
    pub business_email: Option<String>,
}

impl Profile {
    /// A profile that meets every requirement of `partner_type` but the MPA
    /// (which the partner signs itself), for a partner at `domain`: the demo's
    /// partners and the benchmark's.
    pub fn meeting_requirements(partner_type: PartnerType, domain: &str) -> Profile {
        let million = |m: i64| Decimal::new(m * 1_000_000, 0);
        let provider = partner_type == PartnerType::IndirectProvider;
        Profile {
            revenue_trailing_12m: (!provider).then(|| million(2)),
            regional_revenue: if provider {
                vec![("US".into(), million(45))]
            } else {
                Vec::new()
            },
            mpa_signed: false,
            mfa_all_admins: true,
            security_contact_email: Some(format!("security@{domain}")),
            support_plan: SupportPlan::Asfp,
            indirect_reseller_since: NaiveDate::from_ymd_opt(2022, 7, 1),
            prior_experience_assessed: true,
            designations: vec!["Infrastructure (Azure)".into()],
            capabilities_assessment_passed: true,
            credit_check_passed: true,
            business_email: Some(format!("avery.admin@{domain}")),
        }
    }
}

/// One requirement's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub code: AuthorizationRequirementCode,
    pub passed: bool,
    /// The figure it was judged on, e.g. "USD 999.99" or "ASFP".
    pub figure: String,
    pub remedy: &'static str,
}

/// The minimum trailing-12-month revenue of each type, in USD.
pub fn revenue_threshold(partner_type: PartnerType) -> Decimal {
    match partner_type {
        PartnerType::IndirectReseller => Decimal::new(1_000, 0),
        PartnerType::DirectBill => Decimal::new(1_000_000, 0),
        PartnerType::IndirectProvider => Decimal::new(30_000_000, 0),
    }
}

/// Local parts that name a role, not a person (§8: "generic (info@, admin@)").
const GENERIC_LOCAL_PARTS: &[&str] = &[
    "info",
    "admin",
    "administrator",
    "contact",
    "hello",
    "office",
    "sales",
    "support",
    "billing",
    "accounts",
    "team",
    "mail",
    "noreply",
    "no-reply",
    "webmaster",
    "postmaster",
    "hr",
    "help",
];

/// Disposable-address domains.
const DISPOSABLE_DOMAINS: &[&str] = &[
    "mailinator.com",
    "guerrillamail.com",
    "10minutemail.com",
    "temp-mail.org",
    "yopmail.com",
    "trashmail.com",
];

/// Why an address is not a business email, if it is not: personal (free-mail,
/// the same list as BEN-3), disposable, or generic.
pub fn business_email_problem(email: &str) -> Option<&'static str> {
    let (local, domain) = email.rsplit_once('@')?;
    if is_free_mail(email) {
        return Some("a personal free-mail address");
    }
    if DISPOSABLE_DOMAINS.contains(&domain.to_ascii_lowercase().as_str()) {
        return Some("a disposable address");
    }
    if GENERIC_LOCAL_PARTS.contains(&local.to_ascii_lowercase().as_str()) {
        return Some("a generic role address");
    }
    None
}

fn money(value: Option<Decimal>) -> String {
    value.map_or_else(
        || "not reported".to_owned(),
        |v| format!("USD {}", super::money::to_text(v)),
    )
}

fn yes(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

/// Every requirement of the partner's type (DOMAIN §8 table), judged on `today`.
pub fn evaluate(partner_type: PartnerType, p: &Profile, today: NaiveDate) -> Vec<Requirement> {
    use PartnerType::*;
    let threshold = revenue_threshold(partner_type);
    let mut out = Vec::new();
    let mut push = |code, passed, figure: String, remedy| {
        out.push(Requirement {
            code,
            passed,
            figure,
            remedy,
        })
    };

    match partner_type {
        IndirectProvider => {
            let passed = !p.regional_revenue.is_empty()
                && p.regional_revenue.iter().all(|(_, v)| *v >= threshold);
            let figure = if p.regional_revenue.is_empty() {
                "no region reported".to_owned()
            } else {
                p.regional_revenue
                    .iter()
                    .map(|(r, v)| format!("{r}: USD {}", super::money::to_text(*v)))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            push(
                AuthorizationRequirementCode::Revenue,
                passed,
                figure,
                "At least USD 30,000,000 of trailing-12-month billed CSP revenue in every authorized region.",
            );
        }
        _ => push(
            AuthorizationRequirementCode::Revenue,
            p.revenue_trailing_12m.is_some_and(|v| v >= threshold),
            money(p.revenue_trailing_12m),
            if partner_type == DirectBill {
                "At least USD 1,000,000 of trailing-12-month CSP transactional revenue."
            } else {
                "At least USD 1,000 of CSP transactional revenue in the preceding 12 months."
            },
        ),
    }
    push(
        AuthorizationRequirementCode::MpaAccepted,
        p.mpa_signed,
        yes(p.mpa_signed),
        "A partner admin signs the Microsoft Partner Agreement (signPartnerAgreement).",
    );
    push(
        AuthorizationRequirementCode::MfaAllAdmins,
        p.mfa_all_admins,
        yes(p.mfa_all_admins),
        "Enable MFA for every administrative user in the CSP tenant.",
    );
    push(
        AuthorizationRequirementCode::SecurityContact,
        p.security_contact_email.is_some(),
        p.security_contact_email
            .clone()
            .unwrap_or_else(|| "none".into()),
        "Name a security contact in Partner Center.",
    );
    if matches!(partner_type, DirectBill | IndirectProvider) {
        push(
            AuthorizationRequirementCode::SupportPlan,
            p.support_plan != SupportPlan::None,
            p.support_plan.as_str().to_owned(),
            "Hold an Advanced (ASfP) or Premier (PSfP) Support for Partners plan.",
        );
    }
    match partner_type {
        DirectBill => {
            let since = p.indirect_reseller_since;
            let passed = since
                .and_then(|d| d.checked_add_months(Months::new(12)))
                .is_some_and(|d| d <= today);
            push(
                AuthorizationRequirementCode::PriorExperience,
                passed,
                since.map_or_else(
                    || "never an indirect reseller".into(),
                    |d| format!("indirect reseller since {d}"),
                ),
                "Twelve months as an indirect reseller before applying for direct bill.",
            );
            push(
                AuthorizationRequirementCode::SolutionsPartnerDesignation,
                !p.designations.is_empty(),
                if p.designations.is_empty() {
                    "none".into()
                } else {
                    p.designations.join(", ")
                },
                "Hold at least one Solutions Partner designation.",
            );
        }
        IndirectProvider => push(
            AuthorizationRequirementCode::PriorExperience,
            p.prior_experience_assessed,
            yes(p.prior_experience_assessed),
            "Microsoft assesses distributors' prior experience individually; contact your account manager.",
        ),
        IndirectReseller => {}
    }
    if matches!(partner_type, DirectBill | IndirectProvider) {
        push(
            AuthorizationRequirementCode::CapabilitiesAssessment,
            p.capabilities_assessment_passed,
            yes(p.capabilities_assessment_passed),
            "Pass the capabilities assessment (operations, security, support).",
        );
    }
    if partner_type == DirectBill {
        push(
            AuthorizationRequirementCode::CreditCheck,
            p.credit_check_passed,
            yes(p.credit_check_passed),
            "Pass Microsoft's credit check.",
        );
    }
    if partner_type == IndirectReseller {
        let problem = p.business_email.as_deref().map(business_email_problem);
        push(
            AuthorizationRequirementCode::BusinessEmail,
            matches!(problem, Some(None)),
            match (&p.business_email, problem) {
                (None, _) => "none".into(),
                (Some(e), Some(Some(why))) => format!("{e} ({why})"),
                (Some(e), _) => e.clone(),
            },
            "Give a monitored business work email: not personal, disposable or generic (info@, admin@).",
        );
    }
    out
}

/// AUTH-2: the next reassessment is due in the anniversary month of the
/// authorization, the year after the last assessment (the authorization
/// itself, when none came later).
pub fn next_reassessment(authorized_since: NaiveDate, last_assessed: Option<NaiveDate>) -> Month {
    let last = last_assessed.map_or(authorized_since, |d| d.max(authorized_since));
    Month {
        year: last.year() + 1,
        month: authorized_since.month(),
    }
}

/// AUTH-1: the last day to remediate after a failed reassessment on `assessed`.
pub fn remediation_deadline(assessed: NaiveDate) -> NaiveDate {
    assessed + Duration::days(REMEDIATION_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn failing(t: PartnerType, p: &Profile) -> Vec<AuthorizationRequirementCode> {
        evaluate(t, p, d("2027-01-20"))
            .into_iter()
            .filter(|r| !r.passed)
            .map(|r| r.code)
            .collect()
    }

    fn reseller() -> Profile {
        Profile {
            revenue_trailing_12m: Some(Decimal::new(100_000, 2)),
            mpa_signed: true,
            mfa_all_admins: true,
            security_contact_email: Some("sec@fabrikam.com".into()),
            business_email: Some("jane.doe@fabrikam.com".into()),
            ..Profile::default()
        }
    }

    #[test]
    fn auth_revenue_thresholds_are_inclusive() {
        let mut p = reseller();
        assert!(failing(PartnerType::IndirectReseller, &p).is_empty());
        p.revenue_trailing_12m = Some(Decimal::new(99_999, 2));
        assert_eq!(
            failing(PartnerType::IndirectReseller, &p),
            [AuthorizationRequirementCode::Revenue]
        );
    }

    #[test]
    fn generic_and_personal_business_emails_are_refused() {
        for bad in [
            "info@fabrikam.com",
            "Admin@fabrikam.com",
            "jane@gmail.com",
            "x@mailinator.com",
        ] {
            assert!(business_email_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(business_email_problem("jane.doe@fabrikam.com"), None);
    }

    #[test]
    fn auth_2_reassessment_falls_in_the_anniversary_month_the_year_after() {
        let due = |since, last: Option<&str>| next_reassessment(d(since), last.map(d)).to_string();
        assert_eq!(due("2026-01-20", Some("2026-01-20")), "2027-01");
        assert_eq!(due("2026-01-20", None), "2027-01");
        assert_eq!(due("2026-01-20", Some("2027-01-11")), "2028-01");
        assert_eq!(due("2024-03-15", Some("2026-03-02")), "2027-03");
        assert_eq!(due("2024-03-15", Some("2026-11-30")), "2027-03");
        assert_eq!(remediation_deadline(d("2027-01-20")), d("2027-02-19"));
    }
}
