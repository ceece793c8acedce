//! ACO agreements (AGR-3…6, FLOW-9…12): publish, withdraw, sign — which
//! grants the credit (LEDGER-1) — and the expiry sweep.

use super::Call;
use super::events::{self, By};
use super::requests::{Step, load, transition, transition_at};
use crate::authz::{self, Permission};
use crate::domain::UserErrorCode;
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::time::Month;
use crate::domain::workflow::WorkflowAction;
use crate::domain::{AgreementStatus, EventType, GrantStatus, Role, sla};
use crate::error::{Error, Result, UserError};
use crate::store::Tx;
use crate::store::agreements::{self, AcoAgreementRow, CreditGrantRow};
use crate::store::requests::{self, AcoRequestRow};

pub const SIGN: Permission = Permission {
    roles: &[Role::CustomerSigner],
    action: "sign ACO agreements",
};

pub const EXPIRE: Permission = Permission {
    roles: &[Role::Operations],
    action: "run the ACO agreement expiry sweep",
};

/// LEDGER-1: the credit period when Operations does not set one.
pub const DEFAULT_CREDIT_PERIOD_MONTHS: u32 = 12;

/// What Operations publishes to the customer's signer.
#[derive(Debug, Clone)]
pub struct Publication {
    pub signer_name: String,
    pub signer_email: String,
    pub credit_period_months: u32,
}

/// FLOW-9, AGR-3/4: Operations publishes the ACO agreement; it may be signed
/// until the end of the month of publishing, in the programme time zone.
pub fn publish(
    tx: &Tx<'_>,
    call: &Call,
    step: Step,
    publication: Publication,
) -> Result<(AcoRequestRow, AcoAgreementRow)> {
    let row = load(tx, &call.actor, &step)?;
    let expires_at = sla::agreement_expires_at(call.now, call.timezone);
    let agreement = AcoAgreementRow {
        id: ObjectId::generate(IdKind::AcoAgreement),
        request_id: row.id.clone(),
        customer_id: row.customer_id.clone(),
        status: AgreementStatus::Published,
        signer_name: publication.signer_name,
        signer_email: publication.signer_email,
        credit_period_months: publication.credit_period_months,
        aco_amount: row.aco_amount,
        published_at: call.now,
        published_by: call.actor.subject.clone(),
        expires_at,
        signed_at: None,
        signed_by: None,
        closed_at: None,
        closed_reason: None,
    };
    let row = transition(
        tx,
        call,
        Some(&call.actor),
        row,
        WorkflowAction::PublishAgreement,
        step.comment,
        |r| {
            r.due_at = Some(expires_at);
            Ok(())
        },
    )?;
    agreements::insert(tx, &agreement)?;
    events::agreement(
        tx,
        EventType::AgreementPublished,
        By::of(&call.actor),
        call.now,
        &agreement,
    )?;
    Ok((row, agreement))
}

fn close(
    tx: &Tx<'_>,
    mut agreement: AcoAgreementRow,
    status: AgreementStatus,
    call: &Call,
    reason: Option<String>,
) -> Result<AcoAgreementRow> {
    agreement.status = status;
    agreement.closed_at = Some(call.now);
    agreement.closed_reason = reason;
    if status == AgreementStatus::Signed {
        agreement.signed_at = Some(call.now);
        agreement.signed_by = Some(call.actor.subject.clone());
    }
    if !agreements::close(tx, &agreement)? {
        return Err(Error::rejected(UserError::new(
            UserErrorCode::Conflict,
            "the agreement changed meanwhile; read it again",
        )));
    }
    let (kind, by) = match status {
        AgreementStatus::Signed => (EventType::AgreementSigned, By::of(&call.actor)),
        AgreementStatus::Withdrawn => (EventType::AgreementWithdrawn, By::of(&call.actor)),
        _ => (EventType::AgreementExpired, By::SYSTEM),
    };
    events::agreement(tx, kind, by, call.now, &agreement)?;
    Ok(agreement)
}

/// FLOW-12, AGR-6: Operations withdraws the published agreement to change it;
/// the request goes back to Finance.
pub fn withdraw(
    tx: &Tx<'_>,
    call: &Call,
    step: Step,
) -> Result<(AcoRequestRow, Option<AcoAgreementRow>)> {
    let row = load(tx, &call.actor, &step)?;
    let published = agreements::published_for(tx, &row.id)?;
    // FLOW-11, found at this write: an agreement past its deadline expires
    // rather than being withdrawn; either way the request goes back to Finance.
    if let Some(agreement) = published
        .clone()
        .filter(|a| sla::has_passed(a.expires_at, call.now))
    {
        let agreement = expire(tx, call, agreement)?;
        let request = requests::get(tx, &row.id)?.ok_or(Error::NotFound)?;
        return Ok((request, Some(agreement)));
    }
    let reason = step.comment.clone();
    let row = transition(
        tx,
        call,
        Some(&call.actor),
        row,
        WorkflowAction::WithdrawAgreement,
        step.comment,
        |_| Ok(()),
    )?;
    let agreement = match published {
        Some(a) => Some(close(tx, a, AgreementStatus::Withdrawn, call, reason)?),
        None => None,
    };
    Ok((row, agreement))
}

/// AGR-4/5, FLOW-11: the deadline passed; the agreement expires and the
/// request goes back to Finance. Recorded as the system's doing, at the
/// deadline however late it is found: the finance clock starts there.
fn expire(tx: &Tx<'_>, call: &Call, agreement: AcoAgreementRow) -> Result<AcoAgreementRow> {
    let request = requests::get(tx, &agreement.request_id)?.ok_or(Error::NotFound)?;
    let comment = format!(
        "not signed before {}",
        crate::domain::time::instant_text(agreement.expires_at)
    );
    let deadline = agreement.expires_at.min(call.now);
    transition_at(
        tx,
        call,
        deadline,
        None,
        request,
        WorkflowAction::ExpireAgreement,
        Some(comment.clone()),
        |_| Ok(()),
    )?;
    let as_of = Call {
        now: deadline,
        ..call.clone()
    };
    close(
        tx,
        agreement,
        AgreementStatus::Expired,
        &as_of,
        Some(comment),
    )
}

/// The refusal of a signature after the deadline (AGR-4).
pub fn too_late(agreement: &AcoAgreementRow) -> UserError {
    UserError::new(
        UserErrorCode::AgreementExpired,
        format!(
            "the agreement could be signed before {}; it has expired and the request is back with Finance",
            crate::domain::time::instant_text(agreement.expires_at)
        ),
    )
}

/// The outcome of a signature (a short-lived return value: its size does not matter).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Signature {
    Signed {
        agreement: AcoAgreementRow,
        request: AcoRequestRow,
        grant: CreditGrantRow,
    },
    /// AGR-4: too late. The agreement has now expired and the request is back
    /// with Finance; this change is kept although the signature is refused.
    Expired { agreement: AcoAgreementRow },
}

/// FLOW-10, LEDGER-1: the customer's own signer signs before the deadline; the
/// credit is granted in the same transaction and the request becomes ACTIVE.
pub fn sign(tx: &Tx<'_>, call: &Call, agreement_id: &ObjectId) -> Result<Signature> {
    authz::require(&call.actor, &SIGN)?;
    let agreement = authz::agreement(tx, &call.actor, agreement_id)?;
    // AGR-4: too late whether or not the sweep got there first.
    if agreement.status == AgreementStatus::Expired {
        return Err(Error::rejected(too_late(&agreement)));
    }
    if agreement.status != AgreementStatus::Published {
        return Err(Error::rejected(UserError::new(
            UserErrorCode::InvalidTransition,
            format!(
                "the agreement is {}; only a PUBLISHED agreement can be signed",
                agreement.status
            ),
        )));
    }
    if sla::has_passed(agreement.expires_at, call.now) {
        return Ok(Signature::Expired {
            agreement: expire(tx, call, agreement)?,
        });
    }
    let request = requests::get(tx, &agreement.request_id)?.ok_or(Error::NotFound)?;
    let request = transition(
        tx,
        call,
        Some(&call.actor),
        request,
        WorkflowAction::SignAgreement,
        None,
        |_| Ok(()),
    )?;
    let agreement = close(tx, agreement, AgreementStatus::Signed, call, None)?;
    let first_month = Month::of(sla::local_date(call.now, call.timezone));
    let grant = CreditGrantRow {
        id: ObjectId::generate(IdKind::CreditGrant),
        customer_id: agreement.customer_id.clone(),
        partner_id: request.partner_id.clone(),
        request_id: request.id.clone(),
        agreement_id: agreement.id.clone(),
        amount: agreement.aco_amount,
        first_month,
        last_month: first_month.plus(agreement.credit_period_months.saturating_sub(1)),
        status: GrantStatus::Active,
        granted_at: call.now,
    };
    agreements::insert_grant(tx, &grant)?;
    events::grant(
        tx,
        EventType::CreditGranted,
        By::of(&call.actor),
        call.now,
        &grant,
    )?;
    // Usage already recorded for this month counts against the new credit at once.
    super::credits::settle(tx, call, &grant.customer_id, &grant.partner_id)?;
    let request = crate::store::requests::get(tx, &request.id)?.unwrap_or(request);
    Ok(Signature::Signed {
        agreement,
        request,
        grant,
    })
}

/// How many agreements one transaction of the sweep expires at most: each
/// changes eight rows or so (the agreement, its request, their history, log
/// and events, the published-agreement row), well inside Aurora DSQL's 3,000
/// rows a transaction, in some ten statements: 25 of them commit well within
/// the two seconds a PostgreSQL transaction has after its first event
/// (`store::tx::EVENT_COMMIT_WINDOW`) even at a few milliseconds a statement.
pub const EXPIRY_BATCH: usize = 25;

/// AGR-4, FLOW-11: expires published agreements whose deadline has passed,
/// at most [`EXPIRY_BATCH`] of them: fewer means none is left. The caller
/// runs it again, each batch its own transaction, until then.
/// `by_operations` is false when the service runs it on its own.
pub fn expire_overdue(
    tx: &Tx<'_>,
    call: &Call,
    by_operations: bool,
) -> Result<Vec<AcoAgreementRow>> {
    if by_operations {
        authz::require(&call.actor, &EXPIRE)?;
    }
    agreements::overdue_published(tx, call.now, EXPIRY_BATCH)?
        .into_iter()
        .map(|agreement| expire(tx, call, agreement))
        .collect()
}
