//! Partner benefit credits (§7): created by the programme, assigned by the
//! partner to one of its users (BEN-2…6), used within their rules (BEN-1, 7, 8).

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde_json::json;

use super::Call;
use crate::authz::{self, Permission};
use crate::domain::UserErrorCode;
use crate::domain::benefits::{self, Assignment, Credit};
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{BenefitCreditKind, BenefitCreditStatus, BenefitPurpose, Role};
use crate::error::{Error, Result, UserError};
use crate::fields::{self, InputField};
use crate::store::Tx;
use crate::store::audit;
use crate::store::benefits::{self as store, BenefitCreditRow};

pub const CREATE: Permission = Permission {
    roles: &[Role::ProgramAdmin],
    action: "create benefit credits",
};
pub const ASSIGN: Permission = Permission {
    roles: &[Role::PartnerAdmin],
    action: "assign benefit credits",
};
pub const USE: Permission = Permission {
    roles: &[Role::PartnerAdmin, Role::PartnerUser, Role::ProgramAdmin],
    action: "record benefit credit usage",
};

fn rules_view(row: &BenefitCreditRow, call: &Call) -> Credit {
    Credit {
        kind: row.kind,
        purpose: row.purpose,
        amount: row.amount,
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        activated_on: row
            .activated_at
            .map(|a| a.with_timezone(&call.timezone).date_naive()),
        assignee_email: row.assignee_email.clone(),
        reassignments: row.reassignments,
    }
}

/// The user errors for rule codes about credit `row`, each at the field
/// `field` names for it.
fn refusals(
    codes: Vec<UserErrorCode>,
    row: &BenefitCreditRow,
    field: impl Fn(UserErrorCode) -> InputField,
) -> Error {
    Error::Rejected(
        codes
            .into_iter()
            .map(|code| {
                let message = match code {
                    UserErrorCode::FreeMailDomain => {
                        "benefit credits go to company email addresses, not \
                                           free-mail ones (BEN-3)"
                            .to_owned()
                    }
                    UserErrorCode::ReassignmentLimit => {
                        "a monthly credit can be reassigned at most 5 times (BEN-4)".to_owned()
                    }
                    UserErrorCode::BulkNotReassignable => {
                        "a bulk credit cannot be reassigned once assigned (BEN-5)".to_owned()
                    }
                    UserErrorCode::BulkAlreadyAssigned => {
                        "the user already holds a bulk credit (BEN-6)".to_owned()
                    }
                    UserErrorCode::MonthlyAlreadyAssigned => {
                        "the user already holds a monthly credit (BEN-6)".to_owned()
                    }
                    UserErrorCode::CreditEnded => {
                        "the credit's period has ended (BEN-7)".to_owned()
                    }
                    UserErrorCode::CreditNotStarted => format!(
                        "the credit starts on {}: nothing can be used before then (BEN-2)",
                        row.starts_on
                    ),
                    UserErrorCode::CreditNotActive => {
                        "the credit is not active on that day: it is used \
                                            from the day it is assigned (BEN-2)"
                            .to_owned()
                    }
                    UserErrorCode::PurposeRestricted => {
                        "this credit may only be used for its purpose (BEN-8)".to_owned()
                    }
                    UserErrorCode::InsufficientCredit => {
                        "the amount is more than is left of the credit for that period".to_owned()
                    }
                    _ => "refused".to_owned(),
                };
                UserError::new(code, message).at(field(code))
            })
            .collect(),
    )
}

/// BEN-2, BEN-7: where the credit stands today.
pub fn status(row: &BenefitCreditRow, call: &Call) -> BenefitCreditStatus {
    benefits::status(&rules_view(row, call), call.today())
}

/// What is left today: this calendar month's allowance (MONTHLY) or the
/// whole amount (BULK), less what was used in it; nothing unless the credit
/// is active today (BEN-2, BEN-7).
pub fn remaining(tx: &Tx<'_>, row: &BenefitCreditRow, call: &Call) -> Result<Decimal> {
    if status(row, call) != BenefitCreditStatus::Active {
        return Ok(Decimal::ZERO);
    }
    let (from, to) = allowance_window(row, call.today());
    let used = store::used_between(tx, &row.id, from, to)?;
    Ok((row.amount - used).max(Decimal::ZERO))
}

/// A credit to create.
#[derive(Debug, Clone)]
pub struct NewBenefitCredit {
    pub partner_id: ObjectId,
    pub kind: BenefitCreditKind,
    pub purpose: BenefitPurpose,
    pub amount: Decimal,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

/// BEN-1: a monthly allowance (valid 13 months from activation) or one bulk
/// amount usable between its start and end dates (a year by default).
pub fn create(tx: &Tx<'_>, call: &Call, new: NewBenefitCredit) -> Result<BenefitCreditRow> {
    authz::require(&call.actor, &CREATE)?;
    let partner = authz::partner(tx, &call.actor, &new.partner_id)?;
    let starts_on = new.starts_on.unwrap_or_else(|| call.today());
    let ends_on = match new.kind {
        // Set again at activation: 13 months from then.
        BenefitCreditKind::Monthly => benefits::monthly_end(starts_on),
        BenefitCreditKind::Bulk => new.ends_on.unwrap_or_else(|| {
            starts_on
                .with_year(starts_on.year() + 1)
                .and_then(|d| d.pred_opt())
                .unwrap_or(starts_on)
        }),
    };
    if ends_on < starts_on {
        return Err(Error::bad_input(
            &["input", "endsOn"],
            "`endsOn` must not be before `startsOn`",
        ));
    }
    let row = BenefitCreditRow {
        id: ObjectId::generate(IdKind::BenefitCredit),
        partner_id: partner.id,
        kind: new.kind,
        purpose: new.purpose,
        amount: new.amount,
        starts_on,
        ends_on,
        activated_at: None,
        assignee_email: None,
        assignee_name: None,
        reassignments: 0,
        version: 1,
        created_at: call.now,
    };
    store::insert(tx, &row, &call.actor.subject)?;
    audit::record(
        tx,
        &call.actor,
        &row.id,
        "BENEFIT_CREDIT_CREATED",
        json!({ "kind": row.kind.as_str(), "amount": crate::domain::money::to_text(row.amount) }),
        call.now,
    )?;
    Ok(row)
}

/// BEN-2…6: a partner admin assigns (activates) or reassigns a credit.
pub fn assign(
    tx: &Tx<'_>,
    call: &Call,
    id: &ObjectId,
    email: String,
    name: Option<String>,
) -> Result<BenefitCreditRow> {
    authz::require(&call.actor, &ASSIGN)?;
    let mut row = authz::find_benefit_credit(tx, &call.actor, id)?.ok_or(Error::NotFound)?;
    // BEN-2: one of the partner's own users, by the partner's email domain.
    let partner = crate::store::partners::get(tx, &row.partner_id)?.ok_or(Error::NotFound)?;
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    let own = domain == partner.domain || domain.ends_with(&format!(".{}", partner.domain));
    if !own && !benefits::is_free_mail(&email) {
        return Err(Error::rejected(
            UserError::new(
                UserErrorCode::NotPartnerUser,
                format!(
                    "assign the credit to a user of the partner (an address at {})",
                    partner.domain
                ),
            )
            .at(fields::ASSIGNEE_EMAIL),
        ));
    }
    let today = call.today();
    // BEN-6 reads the partner's other credits: two assignments at once
    // must not both pass it.
    crate::store::partners::claim(tx, &row.partner_id)?;
    let holds = store::holds_other(tx, &row.partner_id, &email, row.kind, &row.id, today)?;
    let outcome = benefits::assign(&rules_view(&row, call), &email, holds, today)
        .map_err(|codes| refusals(codes, &row, |_| fields::ASSIGNEE_EMAIL))?;
    let seen = row.version;
    match outcome {
        Assignment::Unchanged => return Ok(row),
        Assignment::Activate => {
            row.activated_at = Some(call.now);
            if row.kind == BenefitCreditKind::Monthly {
                row.ends_on = benefits::monthly_end(today.max(row.starts_on));
            }
        }
        Assignment::Reassign => row.reassignments += 1,
    }
    let previous = row.assignee_email.replace(email);
    row.assignee_name = name;
    if !store::assign(tx, &row, seen)? {
        return Err(Error::rejected(UserError::new(
            UserErrorCode::Conflict,
            "the credit changed meanwhile; read it again",
        )));
    }
    row.version = seen + 1;
    audit::record(
        tx,
        &call.actor,
        &row.id,
        if previous.is_some() {
            "BENEFIT_CREDIT_REASSIGNED"
        } else {
            "BENEFIT_CREDIT_ACTIVATED"
        },
        json!({ "from": previous, "to": row.assignee_email, "reassignments": row.reassignments }),
        call.now,
    )?;
    Ok(row)
}

/// The window the amount is counted against: the calendar month (MONTHLY,
/// nothing carries over, BEN-7) or the whole period (BULK).
fn allowance_window(row: &BenefitCreditRow, day: NaiveDate) -> (NaiveDate, NaiveDate) {
    match row.kind {
        BenefitCreditKind::Monthly => {
            let first = day.with_day(1).unwrap_or(day);
            let last = first
                .checked_add_months(chrono::Months::new(1))
                .and_then(|d| d.pred_opt())
                .unwrap_or(day);
            (first, last)
        }
        BenefitCreditKind::Bulk => (row.starts_on, row.ends_on),
    }
}

/// BEN-1, 7, 8: records usage of an active credit within what is left.
pub fn record_usage(
    tx: &Tx<'_>,
    call: &Call,
    id: &ObjectId,
    day: NaiveDate,
    amount: Decimal,
    purpose: BenefitPurpose,
) -> Result<BenefitCreditRow> {
    authz::require(&call.actor, &USE)?;
    let row = authz::find_benefit_credit(tx, &call.actor, id)?.ok_or(Error::NotFound)?;
    // BEN-2: the assigned user redeems it; a partner user may record only its own use.
    let is_admin = call
        .actor
        .has_any(&[Role::PartnerAdmin, Role::ProgramAdmin]);
    let me = [
        call.actor.email.as_deref(),
        Some(call.actor.subject.as_str()),
    ];
    let assignee = row.assignee_email.as_deref().unwrap_or_default();
    if !is_admin
        && !me
            .iter()
            .flatten()
            .any(|m| m.eq_ignore_ascii_case(assignee))
    {
        return Err(Error::forbidden(
            "NOT_ASSIGNEE",
            "only the user the credit is assigned to (or a partner admin) records its use",
        ));
    }
    if day > call.today() {
        return Err(Error::rejected(
            UserError::new(
                UserErrorCode::DateInFuture,
                "usage cannot be recorded for a day to come",
            )
            .at(fields::USED_ON),
        ));
    }
    let (from, to) = allowance_window(&row, day);
    let used = store::used_between(tx, &row.id, from, to)?;
    benefits::use_credit(&rules_view(&row, call), day, purpose, amount, used).map_err(|codes| {
        refusals(codes, &row, |code| match code {
            UserErrorCode::PurposeRestricted => fields::BENEFIT_PURPOSE,
            UserErrorCode::InsufficientCredit => fields::BENEFIT_AMOUNT,
            _ => fields::USED_ON,
        })
    })?;
    store::insert_usage(
        tx,
        &row.id,
        day,
        amount,
        purpose,
        call.now,
        &call.actor.subject,
    )?;
    audit::record(
        tx,
        &call.actor,
        &row.id,
        "BENEFIT_CREDIT_USED",
        json!({ "usedOn": day.to_string(), "amount": crate::domain::money::to_text(amount), "purpose": purpose.as_str() }),
        call.now,
    )?;
    Ok(row)
}
