//! The request history event: one transition in a request's append-only
//! history (FLOW-17).

use async_graphql::resolver_utils::enum_value;
use async_graphql::{ScalarType, SimpleObject, Value};

use crate::domain::AcoRequestStatus;
use crate::graphql::plain::{PlainContext, PlainFields, SelectedField};
use crate::graphql::scalars::DateTime;
use crate::store::requests::HistoryRow;

/// One transition in a request's append-only history (FLOW-17).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct AcoRequestEvent {
    /// When the transition took effect.
    pub at: DateTime,
    /// The token subject of whoever acted; `system` for the expiry sweep.
    pub actor_subject: String,
    /// The actor's display name from the token (`name`, `email` or
    /// `preferred_username`), if it carried one.
    pub actor_name: Option<String>,
    /// The actor's role, or `SYSTEM`.
    pub actor_role: String,
    /// What was done, e.g. `SUBMIT`, `APPROVE`, `PUBLISH_AGREEMENT`, `EXPIRE_AGREEMENT`.
    pub action: String,
    /// The state before; `null` for the submission.
    pub from_status: Option<AcoRequestStatus>,
    /// The state after.
    pub to_status: AcoRequestStatus,
    /// The comment, question, answer or reason given with the action, if any.
    pub comment: Option<String>,
    /// When the entry was written, if later than `at`: an expiry found after
    /// its deadline is recorded at the deadline (FLOW-11). `null` when it was
    /// written at `at`.
    pub recorded_at: Option<DateTime>,
}

impl From<HistoryRow> for AcoRequestEvent {
    fn from(h: HistoryRow) -> Self {
        AcoRequestEvent {
            at: DateTime(h.at),
            actor_subject: h.actor_subject,
            actor_name: h.actor_name,
            actor_role: h.actor_role,
            action: h.action,
            from_status: h.from_status,
            to_status: h.to_status,
            comment: h.comment,
            recorded_at: h.recorded_at.map(DateTime),
        }
    }
}

impl PlainFields for AcoRequestEvent {
    fn plain(&self, _: &PlainContext<'_>, field: &str, _: &[SelectedField]) -> Option<Value> {
        let text =
            |t: &Option<String>| t.as_ref().map_or(Value::Null, |t| Value::String(t.clone()));
        Some(match field {
            "at" => self.at.to_value(),
            "actorSubject" => Value::String(self.actor_subject.clone()),
            "actorName" => text(&self.actor_name),
            "actorRole" => Value::String(self.actor_role.clone()),
            "action" => Value::String(self.action.clone()),
            "fromStatus" => self.from_status.map_or(Value::Null, enum_value),
            "toStatus" => enum_value(self.to_status),
            "comment" => text(&self.comment),
            "recordedAt" => self
                .recorded_at
                .as_ref()
                .map_or(Value::Null, |at| at.to_value()),
            _ => return None,
        })
    }
}
