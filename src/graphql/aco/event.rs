//! The request history event: one transition in a request's append-only
//! history (FLOW-17).

use async_graphql::resolver_utils::enum_value;
use async_graphql::{ScalarType, SimpleObject, Value};

use crate::domain::AcoRequestStatus;
use crate::domain::workflow::WorkflowAction;
use crate::graphql::plain::{PlainContext, PlainFields, SelectedField};
use crate::graphql::scalars::DateTime;
pub use crate::graphql::types::ActorRole;
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
    /// The actor's role, or `SYSTEM` for what the service did by itself.
    pub actor_role: ActorRole,
    /// What was done.
    pub action: AcoRequestAction,
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

/// What was done to a request: its submission, or a step of the workflow (DOMAIN §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum AcoRequestAction {
    /// The partner submitted the request (FLOW-1).
    #[graphql(name = "SUBMIT")]
    Submit,
    /// The PLSR passed the compliance check.
    #[graphql(name = "PASS_COMPLIANCE_CHECK")]
    PassComplianceCheck,
    /// A reviewer asked the partner for more information (FLOW-5).
    #[graphql(name = "REQUEST_INFORMATION")]
    RequestInformation,
    /// The partner answered a request for information (FLOW-5).
    #[graphql(name = "ANSWER_INFORMATION_REQUEST")]
    AnswerInformationRequest,
    /// Channel sales supported the request.
    #[graphql(name = "SUPPORT")]
    Support,
    /// Finance approved the request.
    #[graphql(name = "APPROVE")]
    Approve,
    /// A reviewer rejected the request.
    #[graphql(name = "REJECT")]
    Reject,
    /// Operations published the ACO agreement to the customer's signer.
    #[graphql(name = "PUBLISH_AGREEMENT")]
    PublishAgreement,
    /// The customer's signer signed the ACO agreement; the credit is granted.
    #[graphql(name = "SIGN_AGREEMENT")]
    SignAgreement,
    /// The agreement was not signed by its deadline (FLOW-11).
    #[graphql(name = "EXPIRE_AGREEMENT")]
    ExpireAgreement,
    /// Operations withdrew the agreement to change it.
    #[graphql(name = "WITHDRAW_AGREEMENT")]
    WithdrawAgreement,
    /// The partner cancelled the request.
    #[graphql(name = "CANCEL")]
    Cancel,
    /// The credit was used up.
    #[graphql(name = "EXHAUST")]
    Exhaust,
    /// The credit's period ended with credit left.
    #[graphql(name = "LAPSE")]
    Lapse,
    /// A correction of usage gave the credit back some balance.
    #[graphql(name = "REOPEN")]
    Reopen,
}

impl AcoRequestAction {
    /// The action recorded in a history entry.
    pub fn recorded(text: &str) -> Option<AcoRequestAction> {
        use AcoRequestAction as A;
        if text == "SUBMIT" {
            return Some(A::Submit);
        }
        let step = WorkflowAction::ALL
            .into_iter()
            .find(|a| a.as_str() == text)?;
        Some(match step {
            WorkflowAction::PassComplianceCheck => A::PassComplianceCheck,
            WorkflowAction::RequestInformation => A::RequestInformation,
            WorkflowAction::AnswerInformationRequest => A::AnswerInformationRequest,
            WorkflowAction::Support => A::Support,
            WorkflowAction::Approve => A::Approve,
            WorkflowAction::Reject => A::Reject,
            WorkflowAction::PublishAgreement => A::PublishAgreement,
            WorkflowAction::SignAgreement => A::SignAgreement,
            WorkflowAction::ExpireAgreement => A::ExpireAgreement,
            WorkflowAction::WithdrawAgreement => A::WithdrawAgreement,
            WorkflowAction::Cancel => A::Cancel,
            WorkflowAction::Exhaust => A::Exhaust,
            WorkflowAction::Lapse => A::Lapse,
            WorkflowAction::Reopen => A::Reopen,
        })
    }
}

impl TryFrom<HistoryRow> for AcoRequestEvent {
    type Error = crate::error::Error;

    /// A history entry, its role and action read as the enums they are; an
    /// entry with another is a fault of the database, not the caller's.
    fn try_from(h: HistoryRow) -> Result<Self, Self::Error> {
        let unknown = |what: &str, value: &str| {
            crate::error::Error::Internal(format!(
                "a history entry names an unknown {what}: {value:?}"
            ))
        };
        Ok(AcoRequestEvent {
            at: DateTime(h.at),
            actor_subject: h.actor_subject,
            actor_name: h.actor_name,
            actor_role: ActorRole::recorded(&h.actor_role)
                .ok_or_else(|| unknown("role", &h.actor_role))?,
            action: AcoRequestAction::recorded(&h.action)
                .ok_or_else(|| unknown("action", &h.action))?,
            from_status: h.from_status,
            to_status: h.to_status,
            comment: h.comment,
            recorded_at: h.recorded_at.map(DateTime),
        })
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
            "actorRole" => enum_value(self.actor_role),
            "action" => enum_value(self.action),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action and role a history entry can record reads as an enum value.
    #[test]
    fn every_recorded_action_and_role_has_its_enum_value() {
        assert_eq!(
            AcoRequestAction::recorded("SUBMIT"),
            Some(AcoRequestAction::Submit)
        );
        for action in WorkflowAction::ALL {
            let value = AcoRequestAction::recorded(action.as_str())
                .unwrap_or_else(|| panic!("{}", action.as_str()));
            assert_eq!(
                enum_value(value),
                Value::Enum(async_graphql::Name::new(action.as_str()))
            );
        }
        for role in crate::domain::Role::ALL {
            let value = ActorRole::recorded(role.as_str()).unwrap_or_else(|| panic!("{role}"));
            assert_eq!(
                enum_value(value),
                Value::Enum(async_graphql::Name::new(role.as_str()))
            );
        }
        assert_eq!(ActorRole::recorded("SYSTEM"), Some(ActorRole::System));
        assert_eq!(ActorRole::recorded("ADMIN"), None);
        assert_eq!(AcoRequestAction::recorded("DANCE"), None);
    }
}
