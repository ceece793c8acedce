//! Partner benefit credits (DOMAIN §7): the partner's own Azure credits.

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;

use super::{BenefitCreditKind, BenefitCreditStatus, BenefitPurpose, UserErrorCode};

/// BEN-3: personal free-mail domains; a benefit credit goes to company addresses only.
/// The one list, also used wherever a business email is required.
pub const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "live.com",
    "outlook.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.net",
    "mail.com",
    "zoho.com",
    "yandex.com",
];

/// Whether `email` is on a free-mail domain (BEN-3).
pub fn is_free_mail(email: &str) -> bool {
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    FREE_MAIL_DOMAINS.contains(&domain.as_str())
}

/// BEN-4: how many times a monthly credit may be reassigned after its first assignment.
pub const MAX_REASSIGNMENTS: u32 = 5;

/// BEN-7: monthly credits are valid for 13 months from activation.
pub const MONTHLY_VALIDITY_MONTHS: u32 = 13;

/// The last day a monthly credit activated on `activated` may be used.
pub fn monthly_end(activated: NaiveDate) -> NaiveDate {
    activated
        .checked_add_months(Months::new(MONTHLY_VALIDITY_MONTHS))
        .and_then(|d| d.pred_opt())
        .unwrap_or(activated)
}

/// A credit as the rules see it.
#[derive(Debug, Clone)]
pub struct Credit {
    pub kind: BenefitCreditKind,
    pub purpose: BenefitPurpose,
    pub amount: Decimal,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub activated_on: Option<NaiveDate>,
    pub assignee_email: Option<String>,
    pub reassignments: u32,
}

/// What an assignment does when the rules allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    /// BEN-2: the first assignment activates the credit.
    Activate,
    /// BEN-4: a monthly credit moves to another user.
    Reassign,
    /// The same user again: nothing changes.
    Unchanged,
}

/// BEN-2…6: may `credit` go to `email` on `today`? `holds_same_kind` says
/// whether that user already holds another live credit of the same kind.
/// Every failing rule is returned at once.
pub fn assign(
    credit: &Credit,
    email: &str,
    holds_same_kind: bool,
    today: NaiveDate,
) -> Result<Assignment, Vec<UserErrorCode>> {
    if credit
        .assignee_email
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case(email))
    {
        return Ok(Assignment::Unchanged);
    }
    let mut refused = Vec::new();
    if today > credit.ends_on {
        refused.push(UserErrorCode::CreditEnded);
    }
    if is_free_mail(email) {
        refused.push(UserErrorCode::FreeMailDomain);
    }
    let reassigning = credit.assignee_email.is_some();
    match credit.kind {
        BenefitCreditKind::Bulk if reassigning => refused.push(UserErrorCode::BulkNotReassignable),
        BenefitCreditKind::Monthly if reassigning && credit.reassignments >= MAX_REASSIGNMENTS => {
            refused.push(UserErrorCode::ReassignmentLimit)
        }
        _ => {}
    }
    if holds_same_kind {
        refused.push(match credit.kind {
            BenefitCreditKind::Bulk => UserErrorCode::BulkAlreadyAssigned,
            BenefitCreditKind::Monthly => UserErrorCode::MonthlyAlreadyAssigned,
        });
    }
    if !refused.is_empty() {
        return Err(refused);
    }
    Ok(if reassigning {
        Assignment::Reassign
    } else {
        Assignment::Activate
    })
}

/// The first and last day `credit` may be used.
pub fn usable_between(credit: &Credit) -> Option<(NaiveDate, NaiveDate)> {
    let activated = credit.activated_on?;
    Some((activated.max(credit.starts_on), credit.ends_on))
}

/// BEN-2, BEN-7: where `credit` stands on `day`. Only an `Active` credit has
/// anything available.
pub fn status(credit: &Credit, day: NaiveDate) -> BenefitCreditStatus {
    match credit.activated_on {
        None => BenefitCreditStatus::NotActivated,
        Some(_) if day > credit.ends_on => BenefitCreditStatus::Ended,
        Some(_) if day < credit.starts_on => BenefitCreditStatus::Scheduled,
        Some(_) => BenefitCreditStatus::Active,
    }
}

/// BEN-1/7/8: may `amount` for `purpose` be used on `day`, given what was
/// already used in that calendar month (MONTHLY) or in total (BULK)?
pub fn use_credit(
    credit: &Credit,
    day: NaiveDate,
    purpose: BenefitPurpose,
    amount: Decimal,
    already_used: Decimal,
) -> Result<(), Vec<UserErrorCode>> {
    let mut refused = Vec::new();
    match usable_between(credit) {
        None => refused.push(UserErrorCode::CreditNotActive),
        Some(_) if day < credit.starts_on => refused.push(UserErrorCode::CreditNotStarted),
        Some((from, _)) if day < from => refused.push(UserErrorCode::CreditNotActive),
        Some((_, to)) if day > to => refused.push(UserErrorCode::CreditEnded),
        _ => {}
    }
    if credit.purpose != BenefitPurpose::General && purpose != credit.purpose {
        refused.push(UserErrorCode::PurposeRestricted);
    }
    if amount > credit.amount - already_used {
        refused.push(UserErrorCode::InsufficientCredit);
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn monthly() -> Credit {
        Credit {
            kind: BenefitCreditKind::Monthly,
            purpose: BenefitPurpose::General,
            amount: Decimal::new(10000, 2),
            starts_on: d("2027-01-01"),
            ends_on: d("2028-01-31"),
            activated_on: None,
            assignee_email: None,
            reassignments: 0,
        }
    }

    #[test]
    fn ben_3_free_mail_is_refused() {
        assert!(is_free_mail("someone@Gmail.com"));
        assert!(!is_free_mail("someone@contoso.com"));
        assert_eq!(
            assign(&monthly(), "x@outlook.com", false, d("2027-01-05")),
            Err(vec![UserErrorCode::FreeMailDomain])
        );
    }

    #[test]
    fn ben_4_the_fifth_reassignment_is_allowed_and_the_sixth_refused() {
        let mut c = monthly();
        c.assignee_email = Some("a@contoso.com".into());
        c.reassignments = 4;
        assert_eq!(
            assign(&c, "b@contoso.com", false, d("2027-01-05")),
            Ok(Assignment::Reassign)
        );
        c.reassignments = 5;
        assert_eq!(
            assign(&c, "c@contoso.com", false, d("2027-01-05")),
            Err(vec![UserErrorCode::ReassignmentLimit])
        );
    }

    #[test]
    fn ben_7_monthly_credits_run_13_months_from_activation() {
        assert_eq!(monthly_end(d("2027-01-15")), d("2028-02-14"));
        assert_eq!(monthly_end(d("2027-01-31")), d("2028-02-28"));
    }
}
