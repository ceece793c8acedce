//! The events the ACO workflow writes with its changes: a request's
//! submission and transitions, its agreement's and its credit's. (Every
//! change recorded in an object's history is an event too, written by
//! `store::audit::record`.) Each is written in the transaction of its change.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::domain::EventType;
use crate::domain::actor::SYSTEM;
use crate::domain::money::to_text;
use crate::domain::time::instant_text;
use crate::error::Result;
use crate::store::Tx;
use crate::store::agreements::{AcoAgreementRow, CreditGrantRow};
use crate::store::events::{self, NewEvent};
use crate::store::requests::{AcoRequestRow, HistoryRow};

/// A request event's `data`: its history entry, and where the request is.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestData<'a> {
    request_id: &'a str,
    customer_id: &'a str,
    partner_id: &'a str,
    action: &'a str,
    from_status: Option<&'static str>,
    to_status: &'static str,
    comment: Option<&'a str>,
    version: i64,
    due_at: Option<String>,
}

/// The request's history entry `entry`, just appended, as an event.
pub fn request(tx: &Tx<'_>, entry: &HistoryRow, row: &AcoRequestRow) -> Result<()> {
    let kind = if entry.from_status.is_none() {
        EventType::AcoRequestSubmitted
    } else {
        EventType::AcoRequestStatusChanged
    };
    let data = serde_json::to_string(&RequestData {
        request_id: row.id.as_str(),
        customer_id: row.customer_id.as_str(),
        partner_id: row.partner_id.as_str(),
        action: &entry.action,
        from_status: entry.from_status.map(|s| s.as_str()),
        to_status: entry.to_status.as_str(),
        comment: entry.comment.as_deref(),
        version: row.version,
        due_at: row.due_at.map(instant_text),
    })
    .map_err(|e| crate::error::Error::Internal(format!("an event's data: {e}")))?;
    events::record(
        tx,
        &NewEvent {
            kind,
            at: entry.at,
            actor_role: &entry.actor_role,
            actor_subject: &entry.actor_subject,
            object_id: &row.id,
            request_id: Some(&row.id),
            partner_id: Some(&row.partner_id),
            data: &data,
        },
    )
}

/// Who acted on an agreement or a credit: a role and its subject, or the
/// service itself.
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    pub role: &'a str,
    pub subject: &'a str,
}

impl<'a> By<'a> {
    /// The actor's recorded role and subject.
    pub fn of(actor: &'a crate::domain::actor::Actor) -> By<'a> {
        By {
            role: actor.recorded_role(),
            subject: &actor.subject,
        }
    }

    pub const SYSTEM: By<'static> = By {
        role: SYSTEM,
        subject: "system",
    };
}

/// An agreement published, signed, expired or withdrawn.
pub fn agreement(
    tx: &Tx<'_>,
    kind: EventType,
    by: By<'_>,
    at: DateTime<Utc>,
    a: &AcoAgreementRow,
) -> Result<()> {
    events::record(
        tx,
        &NewEvent {
            kind,
            at,
            actor_role: by.role,
            actor_subject: by.subject,
            object_id: &a.id,
            request_id: Some(&a.request_id),
            partner_id: None,
            data: &json!({
                "agreementId": a.id.as_str(),
                "requestId": a.request_id.as_str(),
                "customerId": a.customer_id.as_str(),
                "status": a.status.as_str(),
                "acoAmount": to_text(a.aco_amount),
                "creditPeriodMonths": a.credit_period_months,
                "expiresAt": instant_text(a.expires_at),
                "reason": a.closed_reason,
            })
            .to_string(),
        },
    )
}

/// A credit granted, exhausted, lapsed or reopened.
pub fn grant(
    tx: &Tx<'_>,
    kind: EventType,
    by: By<'_>,
    at: DateTime<Utc>,
    g: &CreditGrantRow,
) -> Result<()> {
    events::record(
        tx,
        &NewEvent {
            kind,
            at,
            actor_role: by.role,
            actor_subject: by.subject,
            object_id: &g.id,
            request_id: Some(&g.request_id),
            partner_id: Some(&g.partner_id),
            data: &json!({
                "grantId": g.id.as_str(),
                "requestId": g.request_id.as_str(),
                "agreementId": g.agreement_id.as_str(),
                "customerId": g.customer_id.as_str(),
                "partnerId": g.partner_id.as_str(),
                "amount": to_text(g.amount),
                "firstMonth": g.first_month.to_string(),
                "lastMonth": g.last_month.to_string(),
                "status": g.status.as_str(),
            })
            .to_string(),
        },
    )
}
