//! The ACO request workflow (DOMAIN §5) as one transition table.

use super::{AcoRequestStatus as S, Role};

/// What someone does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkflowAction {
    PassComplianceCheck,
    RequestInformation,
    AnswerInformationRequest,
    Support,
    Approve,
    Reject,
    PublishAgreement,
    SignAgreement,
    ExpireAgreement,
    WithdrawAgreement,
    Cancel,
    Exhaust,
    Lapse,
    Reopen,
}

impl WorkflowAction {
    pub const ALL: [WorkflowAction; 14] = [
        WorkflowAction::PassComplianceCheck,
        WorkflowAction::RequestInformation,
        WorkflowAction::AnswerInformationRequest,
        WorkflowAction::Support,
        WorkflowAction::Approve,
        WorkflowAction::Reject,
        WorkflowAction::PublishAgreement,
        WorkflowAction::SignAgreement,
        WorkflowAction::ExpireAgreement,
        WorkflowAction::WithdrawAgreement,
        WorkflowAction::Cancel,
        WorkflowAction::Exhaust,
        WorkflowAction::Lapse,
        WorkflowAction::Reopen,
    ];

    /// The name recorded in history.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowAction::PassComplianceCheck => "PASS_COMPLIANCE_CHECK",
            WorkflowAction::RequestInformation => "REQUEST_INFORMATION",
            WorkflowAction::AnswerInformationRequest => "ANSWER_INFORMATION_REQUEST",
            WorkflowAction::Support => "SUPPORT",
            WorkflowAction::Approve => "APPROVE",
            WorkflowAction::Reject => "REJECT",
            WorkflowAction::PublishAgreement => "PUBLISH_AGREEMENT",
            WorkflowAction::SignAgreement => "SIGN_AGREEMENT",
            WorkflowAction::ExpireAgreement => "EXPIRE_AGREEMENT",
            WorkflowAction::WithdrawAgreement => "WITHDRAW_AGREEMENT",
            WorkflowAction::Cancel => "CANCEL",
            WorkflowAction::Exhaust => "EXHAUST",
            WorkflowAction::Lapse => "LAPSE",
            WorkflowAction::Reopen => "REOPEN",
        }
    }
}

/// Who performs a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Performer {
    Role(Role),
    /// The service itself: the expiry sweep, the ledger.
    System,
}

/// Where a transition leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    To(S),
    /// FLOW-5: back to the state that asked for information.
    Back,
}

/// One row of the table.
#[derive(Debug)]
pub struct Transition {
    pub rule: &'static str,
    pub from: &'static [S],
    pub action: WorkflowAction,
    pub by: &'static [Performer],
    pub to: Target,
}

use Performer::{Role as R, System};
use WorkflowAction as A;

const PARTNER: &[Performer] = &[R(Role::PartnerAdmin), R(Role::PartnerUser)];
const BEFORE_ACTIVE: &[S] = &[
    S::Submitted,
    S::ChannelReview,
    S::FinanceReview,
    S::OperationsReview,
    S::AwaitingSignature,
    S::NeedsInfo,
];

/// DOMAIN §5, FLOW-2…15, and LEDGER-2's corrections. Submission (FLOW-1) creates a request and is not a transition.
pub const TABLE: &[Transition] = &[
    Transition {
        rule: "FLOW-2",
        from: &[S::Submitted],
        action: A::PassComplianceCheck,
        by: &[R(Role::Plsr)],
        to: Target::To(S::ChannelReview),
    },
    Transition {
        rule: "FLOW-3",
        from: &[S::Submitted],
        action: A::RequestInformation,
        by: &[R(Role::Plsr)],
        to: Target::To(S::NeedsInfo),
    },
    Transition {
        rule: "FLOW-4",
        from: &[S::ChannelReview],
        action: A::RequestInformation,
        by: &[R(Role::ChannelSales)],
        to: Target::To(S::NeedsInfo),
    },
    Transition {
        rule: "FLOW-5",
        from: &[S::NeedsInfo],
        action: A::AnswerInformationRequest,
        by: PARTNER,
        to: Target::Back,
    },
    Transition {
        rule: "FLOW-6",
        from: &[S::Submitted],
        action: A::Reject,
        by: &[R(Role::Plsr)],
        to: Target::To(S::Rejected),
    },
    Transition {
        rule: "FLOW-6",
        from: &[S::ChannelReview],
        action: A::Reject,
        by: &[R(Role::ChannelSales)],
        to: Target::To(S::Rejected),
    },
    Transition {
        rule: "FLOW-6",
        from: &[S::FinanceReview],
        action: A::Reject,
        by: &[R(Role::Finance)],
        to: Target::To(S::Rejected),
    },
    Transition {
        rule: "FLOW-7",
        from: &[S::ChannelReview],
        action: A::Support,
        by: &[R(Role::ChannelSales)],
        to: Target::To(S::FinanceReview),
    },
    Transition {
        rule: "FLOW-8",
        from: &[S::FinanceReview],
        action: A::Approve,
        by: &[R(Role::Finance)],
        to: Target::To(S::OperationsReview),
    },
    Transition {
        rule: "FLOW-9",
        from: &[S::OperationsReview],
        action: A::PublishAgreement,
        by: &[R(Role::Operations)],
        to: Target::To(S::AwaitingSignature),
    },
    Transition {
        rule: "FLOW-10",
        from: &[S::AwaitingSignature],
        action: A::SignAgreement,
        by: &[R(Role::CustomerSigner)],
        to: Target::To(S::Active),
    },
    Transition {
        rule: "FLOW-11",
        from: &[S::AwaitingSignature],
        action: A::ExpireAgreement,
        by: &[R(Role::Operations), R(Role::CustomerSigner), System],
        to: Target::To(S::FinanceReview),
    },
    Transition {
        rule: "FLOW-12",
        from: &[S::AwaitingSignature],
        action: A::WithdrawAgreement,
        by: &[R(Role::Operations)],
        to: Target::To(S::FinanceReview),
    },
    Transition {
        rule: "FLOW-13",
        from: BEFORE_ACTIVE,
        action: A::Cancel,
        by: PARTNER,
        to: Target::To(S::Cancelled),
    },
    Transition {
        rule: "FLOW-14",
        from: &[S::Active],
        action: A::Exhaust,
        by: &[System],
        to: Target::To(S::Exhausted),
    },
    Transition {
        rule: "FLOW-15",
        from: &[S::Active],
        action: A::Lapse,
        by: &[System],
        to: Target::To(S::Lapsed),
    },
    // LEDGER-2 (our decision): a usage correction that gives an exhausted or
    // lapsed credit a balance back within its period makes the request active again.
    Transition {
        rule: "LEDGER-2",
        from: &[S::Exhausted, S::Lapsed],
        action: A::Reopen,
        by: &[System],
        to: Target::To(S::Active),
    },
];

/// Why a transition is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The performer may never take this action, in any state (ROLE-2).
    NotPermitted,
    /// FLOW-16: not from this state (or not by this performer in this state).
    InvalidTransition { state: S },
}

/// Everyone who may ever take `action`.
pub fn performers(action: WorkflowAction) -> impl Iterator<Item = Performer> {
    TABLE
        .iter()
        .filter(move |t| t.action == action)
        .flat_map(|t| t.by.iter().copied())
}

/// The row that lets `by` take `action` from `from`, and the state it leads to.
/// `asked_from` is the state that asked for information (for FLOW-5).
pub fn decide(
    from: S,
    action: WorkflowAction,
    by: Performer,
    asked_from: Option<S>,
) -> Result<(&'static Transition, S), Refusal> {
    if !performers(action).any(|p| p == by) {
        return Err(Refusal::NotPermitted);
    }
    let row = TABLE
        .iter()
        .find(|t| t.action == action && t.from.contains(&from) && t.by.contains(&by))
        .ok_or(Refusal::InvalidTransition { state: from })?;
    let to = match row.to {
        Target::To(to) => to,
        Target::Back => asked_from.ok_or(Refusal::InvalidTransition { state: from })?,
    };
    Ok((row, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected outcome of every state × action pair for the role that
    /// performs the action in the rule book; `None` is INVALID_TRANSITION.
    fn expected(from: S, action: A) -> Option<S> {
        use A::*;
        Some(match (action, from) {
            (PassComplianceCheck, S::Submitted) => S::ChannelReview,
            (RequestInformation, S::Submitted | S::ChannelReview) => S::NeedsInfo,
            (AnswerInformationRequest, S::NeedsInfo) => S::ChannelReview,
            (Support, S::ChannelReview) => S::FinanceReview,
            (Approve, S::FinanceReview) => S::OperationsReview,
            (Reject, S::Submitted | S::ChannelReview | S::FinanceReview) => S::Rejected,
            (PublishAgreement, S::OperationsReview) => S::AwaitingSignature,
            (SignAgreement, S::AwaitingSignature) => S::Active,
            (ExpireAgreement | WithdrawAgreement, S::AwaitingSignature) => S::FinanceReview,
            (
                Cancel,
                S::Submitted
                | S::ChannelReview
                | S::FinanceReview
                | S::OperationsReview
                | S::AwaitingSignature
                | S::NeedsInfo,
            ) => S::Cancelled,
            (Exhaust, S::Active) => S::Exhausted,
            (Lapse, S::Active) => S::Lapsed,
            (Reopen, S::Exhausted | S::Lapsed) => S::Active,
            _ => return None,
        })
    }

    /// The performer who acts in `from`, per the rule book.
    fn performer(from: S, action: A) -> Performer {
        match action {
            A::PassComplianceCheck => R(Role::Plsr),
            A::RequestInformation => match from {
                S::ChannelReview => R(Role::ChannelSales),
                _ => R(Role::Plsr),
            },
            A::Reject => match from {
                S::ChannelReview => R(Role::ChannelSales),
                S::FinanceReview => R(Role::Finance),
                _ => R(Role::Plsr),
            },
            A::Support => R(Role::ChannelSales),
            A::Approve => R(Role::Finance),
            A::PublishAgreement | A::WithdrawAgreement => R(Role::Operations),
            A::SignAgreement => R(Role::CustomerSigner),
            A::ExpireAgreement | A::Exhaust | A::Lapse | A::Reopen => System,
            A::AnswerInformationRequest | A::Cancel => R(Role::PartnerUser),
        }
    }

    #[test]
    fn flow_16_every_state_and_action_pair() {
        for from in S::ALL {
            for action in A::ALL {
                let by = performer(*from, action);
                let got = decide(*from, action, by, Some(S::ChannelReview)).map(|(_, to)| to);
                match expected(*from, action) {
                    Some(to) => assert_eq!(got, Ok(to), "{from} {action:?}"),
                    None => assert_eq!(
                        got,
                        Err(Refusal::InvalidTransition { state: *from }),
                        "{from} {action:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn role_2_roles_never_step_outside_their_part() {
        // Partner roles never review; programme roles never answer or cancel.
        for action in [
            A::PassComplianceCheck,
            A::Support,
            A::Approve,
            A::Reject,
            A::PublishAgreement,
            A::SignAgreement,
        ] {
            for role in [Role::PartnerAdmin, Role::PartnerUser] {
                assert_eq!(
                    decide(S::Submitted, action, R(role), None).unwrap_err(),
                    Refusal::NotPermitted
                );
            }
        }
        for role in [
            Role::Plsr,
            Role::ChannelSales,
            Role::Finance,
            Role::Operations,
            Role::ProgramAdmin,
        ] {
            assert_eq!(
                decide(S::NeedsInfo, A::AnswerInformationRequest, R(role), None).unwrap_err(),
                Refusal::NotPermitted
            );
            assert_eq!(
                decide(S::Submitted, A::Cancel, R(role), None).unwrap_err(),
                Refusal::NotPermitted
            );
        }
        assert_eq!(
            decide(
                S::AwaitingSignature,
                A::SignAgreement,
                R(Role::Operations),
                None
            )
            .unwrap_err(),
            Refusal::NotPermitted
        );
        // A reviewer acting in another reviewer's state: not permitted there.
        assert_eq!(
            decide(S::Submitted, A::Reject, R(Role::Finance), None).unwrap_err(),
            Refusal::InvalidTransition {
                state: S::Submitted
            }
        );
    }

    #[test]
    fn flow_5_answer_goes_back_to_the_state_that_asked() {
        for asked in [S::Submitted, S::ChannelReview] {
            let (row, to) = decide(
                S::NeedsInfo,
                A::AnswerInformationRequest,
                R(Role::PartnerAdmin),
                Some(asked),
            )
            .unwrap();
            assert_eq!((row.rule, to), ("FLOW-5", asked));
        }
    }
}
