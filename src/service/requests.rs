//! ACO requests: submission (FLOW-1, ROLE-1/2) and every workflow step (§5),
//! each one write transaction with its history entry. The eligibility check
//! a submission passes first (§3) is [`eligibility`](super::eligibility).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::Call;
use super::eligibility::{check_eligibility, scope_errors};
use crate::authz::{self, Permission};
use crate::domain::UserErrorCode;
use crate::domain::actor::{Actor, Organization};
use crate::domain::eligibility::{self, Scope};
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::workflow::{self, Performer, Refusal, WorkflowAction};
use crate::domain::{AcoRequestStatus, AcoScenario, PartnerType, Role, sla};
use crate::error::{Error, Result, UserError};
use crate::fields;
use crate::store::Tx;
use crate::store::requests::{self, AcoRequestRow, HistoryRow};

pub use super::eligibility::{CHECK_ELIGIBILITY, Deal};

pub const SUBMIT: Permission = Permission {
    roles: &[Role::PartnerAdmin, Role::PartnerUser],
    action: "submit ACO requests",
};

/// ROLE-1 and ROLE-2: callers who may never submit, whatever the input.
pub fn ensure_may_submit(actor: &Actor) -> Result<()> {
    match &actor.organization {
        Organization::Partner {
            partner_type: PartnerType::IndirectProvider,
            ..
        } => Err(Error::forbidden(
            "INDIRECT_PROVIDER_CANNOT_SUBMIT",
            "an indirect provider can never submit an ACO request, for itself or for a reseller (ROLE-1)",
        )),
        Organization::Program => Err(Error::forbidden(
            "PROGRAM_ROLE_CANNOT_SUBMIT",
            "programme roles review ACO requests; they never submit them (ROLE-2)",
        )),
        Organization::Customer { .. } => Err(Error::forbidden(
            "CUSTOMER_CANNOT_SUBMIT",
            "customer signers sign ACO agreements; the transacting partner submits the request (ROLE-2)",
        )),
        Organization::Partner { .. } => authz::require(actor, &SUBMIT),
    }
}

fn history_entry(
    actor: &Actor,
    request: &AcoRequestRow,
    action: &str,
    from: Option<AcoRequestStatus>,
    comment: Option<String>,
) -> HistoryRow {
    HistoryRow {
        seq: 0,
        request_id: request.id.clone(),
        at: request.updated_at,
        actor_subject: actor.subject.clone(),
        actor_name: actor.name.clone(),
        actor_role: actor.recorded_role().to_owned(),
        action: action.to_owned(),
        from_status: from,
        to_status: request.status,
        comment,
        recorded_at: None,
    }
}

/// FLOW-1: submits the deal if every rule passes; otherwise refuses with every
/// failing rule and stores nothing.
pub fn submit(
    tx: &Tx<'_>,
    call: &Call,
    deal: Deal,
    comment: Option<String>,
) -> Result<AcoRequestRow> {
    ensure_may_submit(&call.actor)?;
    let report = check_eligibility(tx, call, &deal)?;
    if !report.eligible() {
        return Err(Error::Rejected(report.failures(&deal.scope)));
    }
    let (start, end) = deal.scope.timeline.unwrap_or_default();
    let row = AcoRequestRow {
        id: ObjectId::generate(IdKind::AcoRequest),
        customer_id: report.customer.id.clone(),
        partner_id: report.partner.id.clone(),
        indirect_provider_id: deal.indirect_provider_id,
        status: AcoRequestStatus::Submitted,
        scenario: deal.scope.scenario.unwrap_or(AcoScenario::Migration),
        workloads: deal.scope.workloads,
        timeline_start: start,
        timeline_end: end,
        estimated_acr: deal.estimated_acr,
        aco_amount: report.aco_amount,
        channel_sales_manager: None,
        info_requested_from: None,
        info_requested_at: None,
        decision_reason: None,
        stage_entered_at: call.now,
        due_at: Some(sla::stage_due(
            call.now,
            sla::APPLICATION_REVIEW_DAYS,
            call.timezone,
        )),
        version: 1,
        submitted_at: call.now,
        submitted_by: call.actor.subject.clone(),
        updated_at: call.now,
        last_history_id: None,
    };
    requests::insert(tx, &row)?;
    let entry = history_entry(&call.actor, &row, "SUBMIT", None, comment);
    requests::append_history(tx, &entry)?;
    super::events::request(tx, &entry, &row)?;
    Ok(row)
}

/// What a caller saw: the request and its version (FLOW-18).
#[derive(Debug, Clone)]
pub struct Step {
    pub request_id: ObjectId,
    pub version: i64,
    pub comment: Option<String>,
}

/// Loads the request as the caller sees it and checks the version it saw.
pub(crate) fn load(tx: &Tx<'_>, actor: &Actor, step: &Step) -> Result<AcoRequestRow> {
    let row = authz::request(tx, actor, &step.request_id)?;
    if row.version != step.version {
        return Err(conflict(&row));
    }
    Ok(row)
}

fn conflict(row: &AcoRequestRow) -> Error {
    Error::rejected(
        UserError::new(
            UserErrorCode::Conflict,
            format!(
                "the request changed since you read it: it is now version {} in state {}; read it again",
                row.version, row.status
            ),
        )
        .at(fields::VERSION),
    )
}

/// Who performs `action`: the first of the caller's roles the table lets act.
/// A token may carry several roles of one kind: the one that acts is the
/// first the table lets take `action` from `from`, else the first that may
/// take it at all (so the refusal names the state), else the first role.
fn performer(actor: Option<&Actor>, action: WorkflowAction, from: AcoRequestStatus) -> Performer {
    let Some(actor) = actor else {
        return Performer::System;
    };
    let roles = || actor.roles.iter().map(|r| Performer::Role(*r));
    roles()
        .find(|p| {
            workflow::TABLE
                .iter()
                .any(|t| t.action == action && t.from.contains(&from) && t.by.contains(p))
        })
        .or_else(|| roles().find(|p| workflow::performers(action).any(|q| q == *p)))
        .unwrap_or_else(|| {
            actor
                .primary_role()
                .map_or(Performer::System, Performer::Role)
        })
}

/// Applies one row of the transition table to `row`, runs `change` on the
/// new state, writes it if nobody changed it meanwhile, and appends history.
/// `by` is `None` for the system.
pub(crate) fn transition(
    tx: &Tx<'_>,
    call: &Call,
    by: Option<&Actor>,
    row: AcoRequestRow,
    action: WorkflowAction,
    comment: Option<String>,
    change: impl FnOnce(&mut AcoRequestRow) -> Result<()>,
) -> Result<AcoRequestRow> {
    transition_at(tx, call, call.now, by, row, action, comment, change)
}

/// [`transition`] as of the instant `at`, which may be earlier than the
/// call (FLOW-11: an expiry found after its deadline happened at the
/// deadline, and the finance clock starts there); the history entry then
/// says when it was written.
#[allow(clippy::too_many_arguments)]
pub(crate) fn transition_at(
    tx: &Tx<'_>,
    call: &Call,
    at: DateTime<Utc>,
    by: Option<&Actor>,
    mut row: AcoRequestRow,
    action: WorkflowAction,
    comment: Option<String>,
    change: impl FnOnce(&mut AcoRequestRow) -> Result<()>,
) -> Result<AcoRequestRow> {
    let from = row.status;
    let seen = row.version;
    let acting = performer(by, action, from);
    let (_, to) =
        workflow::decide(from, action, acting, row.info_requested_from).map_err(|refusal| {
            match refusal {
                Refusal::NotPermitted => Error::forbidden(
                    "ROLE_NOT_PERMITTED",
                    format!(
                        "your role may not {} ACO requests",
                        action.as_str().to_ascii_lowercase().replace('_', " ")
                    ),
                ),
                Refusal::InvalidTransition { state } => Error::rejected(UserError::new(
                    UserErrorCode::InvalidTransition,
                    format!(
                        "{} is not possible while the request is {state}",
                        action.as_str()
                    ),
                )),
            }
        })?;
    row.status = to;
    row.updated_at = at;
    let tz = call.timezone;
    if to == AcoRequestStatus::NeedsInfo {
        row.info_requested_from = Some(from);
        row.info_requested_at = Some(at);
    } else if from == AcoRequestStatus::NeedsInfo {
        if let (Some(due), Some(paused)) = (row.due_at, row.info_requested_at) {
            row.due_at = Some(sla::resume_due(due, paused, at, tz));
        }
        row.info_requested_from = None;
        row.info_requested_at = None;
    }
    if to == AcoRequestStatus::FinanceReview {
        row.stage_entered_at = at;
        row.due_at = Some(sla::stage_due(at, sla::FINANCE_AND_OPERATIONS_DAYS, tz));
    }
    if !sla::clock_runs(to) && to != AcoRequestStatus::NeedsInfo {
        row.due_at = None;
    }
    change(&mut row)?;
    if !requests::update(tx, &row, seen)? {
        return Err(conflict(&row));
    }
    row.version = seen + 1;
    let system = Actor::system();
    let mut entry = history_entry(
        by.unwrap_or(&system),
        &row,
        action.as_str(),
        Some(from),
        comment,
    );
    if at < call.now {
        entry.recorded_at = Some(call.now);
    }
    // FLOW-17: the role that acted, or the system.
    entry.actor_role = match acting {
        Performer::Role(role) => role.as_str().to_owned(),
        Performer::System => crate::domain::actor::SYSTEM.into(),
    };
    requests::append_history(tx, &entry)?;
    super::events::request(tx, &entry, &row)?;
    Ok(row)
}

/// A review step that needs nothing but the version and a comment.
pub fn step(tx: &Tx<'_>, call: &Call, action: WorkflowAction, step: Step) -> Result<AcoRequestRow> {
    let row = load(tx, &call.actor, &step)?;
    if action == WorkflowAction::Reject && step.comment.is_none() {
        return Err(Error::bad_input(
            &["input", "reason"],
            "a rejection states its reason",
        ));
    }
    let reason = (action == WorkflowAction::Reject)
        .then(|| step.comment.clone())
        .flatten();
    transition(
        tx,
        call,
        Some(&call.actor),
        row,
        action,
        step.comment,
        |r| {
            if reason.is_some() {
                r.decision_reason = reason;
            }
            Ok(())
        },
    )
}

/// FLOW-2: PLSR passes the quality & compliance check and assigns a channel sales manager.
pub fn pass_compliance_check(
    tx: &Tx<'_>,
    call: &Call,
    step: Step,
    channel_sales_manager: String,
) -> Result<AcoRequestRow> {
    let row = load(tx, &call.actor, &step)?;
    transition(
        tx,
        call,
        Some(&call.actor),
        row,
        WorkflowAction::PassComplianceCheck,
        step.comment,
        |r| {
            r.channel_sales_manager = Some(channel_sales_manager);
            Ok(())
        },
    )
}

/// FLOW-5: corrections a partner may make when answering.
#[derive(Debug, Clone, Default)]
pub struct Corrections {
    pub estimated_acr: Option<Decimal>,
    pub scenario: Option<AcoScenario>,
    pub workloads: Option<Vec<String>>,
    pub timeline: Option<(NaiveDate, NaiveDate)>,
}

/// Refuses a partner that is not the request's submitting partner (an
/// indirect provider sees its resellers' requests read-only).
fn ensure_submitting_partner(actor: &Actor, row: &AcoRequestRow) -> Result<()> {
    match actor.partner_id() {
        Some(id) if *id == row.partner_id => Ok(()),
        Some(_) => Err(Error::forbidden(
            "NOT_SUBMITTING_PARTNER",
            "only the partner that submitted the request may act on it",
        )),
        None => Ok(()),
    }
}

/// FLOW-5: the partner answers, optionally correcting scope or estimate; the
/// ACO amount is recomputed and ELIG-10 and ELIG-12 checked again.
pub fn answer_information_request(
    tx: &Tx<'_>,
    call: &Call,
    step: Step,
    corrections: Corrections,
) -> Result<AcoRequestRow> {
    let row = load(tx, &call.actor, &step)?;
    ensure_submitting_partner(&call.actor, &row)?;
    transition(
        tx,
        call,
        Some(&call.actor),
        row,
        WorkflowAction::AnswerInformationRequest,
        step.comment,
        |r| {
            if let Some(acr) = corrections.estimated_acr {
                r.estimated_acr = acr;
                r.aco_amount = eligibility::aco_amount(acr);
            }
            if let Some(s) = corrections.scenario {
                r.scenario = s;
            }
            if let Some(w) = corrections.workloads {
                r.workloads = w;
            }
            if let Some((start, end)) = corrections.timeline {
                r.timeline_start = start;
                r.timeline_end = end;
            }
            let scope = Scope {
                scenario: Some(r.scenario),
                workloads: r.workloads.clone(),
                timeline: Some((r.timeline_start, r.timeline_end)),
            };
            let mut errors = Vec::new();
            if r.estimated_acr < eligibility::MINIMUM_ACR {
                errors.push(
                    UserError::new(
                        UserErrorCode::DealBelowMinimum,
                        "the estimated 12-month incremental ACR is below USD 5,000.00",
                    )
                    .at(fields::ESTIMATED_ACR),
                );
            }
            errors.extend(scope_errors(&scope));
            if errors.is_empty() {
                Ok(())
            } else {
                Err(Error::Rejected(errors))
            }
        },
    )
}

/// FLOW-13: the submitting partner cancels a request that is not yet active.
pub fn cancel(tx: &Tx<'_>, call: &Call, step: Step) -> Result<AcoRequestRow> {
    let row = load(tx, &call.actor, &step)?;
    ensure_submitting_partner(&call.actor, &row)?;
    let open_agreement = crate::store::agreements::published_for(tx, &row.id)?;
    let reason = step.comment.clone();
    let row = transition(
        tx,
        call,
        Some(&call.actor),
        row,
        WorkflowAction::Cancel,
        step.comment,
        |r| {
            r.decision_reason = reason.clone();
            Ok(())
        },
    )?;
    if let Some(mut agreement) = open_agreement {
        // An agreement already past its deadline expired; one still open is withdrawn.
        agreement.status = if call.now > agreement.expires_at {
            crate::domain::AgreementStatus::Expired
        } else {
            crate::domain::AgreementStatus::Withdrawn
        };
        agreement.closed_at = Some(call.now);
        agreement.closed_reason = Some("the request was cancelled".into());
        crate::store::agreements::close(tx, &agreement)?;
    }
    Ok(row)
}
