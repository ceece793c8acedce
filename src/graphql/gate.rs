//! The role gate: who may call each root field, decided before its arguments
//! are even parsed, so that a caller whose role may never do something gets
//! `FORBIDDEN` whatever its input (ROLE-1, ROLE-2), and an anonymous caller
//! `UNAUTHENTICATED`. The use cases check the same permissions again.

use std::collections::HashSet;

use async_graphql::ServerError;
use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};

use crate::authz::{self, Permission};
use crate::domain::actor::Actor;
use crate::domain::workflow::{Performer, WorkflowAction, performers};
use crate::error::{Error, Result};
use crate::service::{agreements, customers, partners, relationships, requests};

/// A workflow step is open to the roles the transition table names for it.
fn step(actor: &Actor, action: WorkflowAction) -> Result<()> {
    if performers(action).any(|p| matches!(p, Performer::Role(r) if actor.has_role(r))) {
        return Ok(());
    }
    let reason = match action {
        WorkflowAction::AnswerInformationRequest | WorkflowAction::Cancel => "ROLE_NOT_PERMITTED",
        _ if actor.partner_id().is_some() => "PARTNER_CANNOT_REVIEW",
        _ => "ROLE_NOT_PERMITTED",
    };
    Err(Error::forbidden(
        reason,
        format!(
            "your role may not {} (ROLE-2)",
            action.as_str().to_ascii_lowercase().replace('_', " ")
        ),
    ))
}

/// The check for one root field; fields not listed are open to every caller.
fn check(field: &str, actor: &Actor) -> Result<()> {
    let permission: &Permission = match field {
        "createPartner" => &partners::CREATE_PARTNER,
        "updatePartner" => &partners::UPDATE_PARTNER,
        "linkIndirectReseller" => &partners::LINK_INDIRECT_RESELLER,
        "signPartnerAgreement" => &partners::SIGN_PARTNER_AGREEMENT,
        "createCustomer" => &customers::CREATE_CUSTOMER,
        "updateCustomer" => &customers::UPDATE_CUSTOMER,
        "recordCustomerAgreement" => &customers::RECORD_CUSTOMER_AGREEMENT,
        "confirmCustomerAgreement" => &customers::CONFIRM_CUSTOMER_AGREEMENT,
        "requestResellerRelationship" => &relationships::REQUEST,
        "acceptResellerRelationship" => &relationships::ACCEPT,
        "revokeResellerRelationship" => &relationships::REVOKE,
        "signAcoAgreement" => &agreements::SIGN,
        "expireAcoAgreements" => &agreements::EXPIRE,
        "recordMonthlyUsage" => &crate::service::credits::RECORD_USAGE,
        "createBenefitCredit" => &crate::service::benefits::CREATE,
        "updatePartnerProfile" => &crate::service::authorization::UPDATE_PROFILE,
        "reassessPartner" => &crate::service::authorization::REASSESS,
        "expireRemediation" => &crate::service::authorization::REASSESS,
        "assignBenefitCredit" => &crate::service::benefits::ASSIGN,
        "recordBenefitUsage" => &crate::service::benefits::USE,
        "submitAcoRequest" => return requests::ensure_may_submit(actor),
        "acoEligibility" => {
            authz::require(actor, &requests::CHECK_ELIGIBILITY)?;
            // A partner checks for itself: only a partner that may submit.
            if actor.partner_id().is_some() {
                requests::ensure_may_submit(actor)?;
            }
            return Ok(());
        }
        "passAcoComplianceCheck" => return step(actor, WorkflowAction::PassComplianceCheck),
        "requestAcoInformation" => return step(actor, WorkflowAction::RequestInformation),
        "answerAcoInformationRequest" => {
            return step(actor, WorkflowAction::AnswerInformationRequest);
        }
        "supportAcoRequest" => return step(actor, WorkflowAction::Support),
        "approveAcoRequest" => return step(actor, WorkflowAction::Approve),
        "rejectAcoRequest" => return step(actor, WorkflowAction::Reject),
        "cancelAcoRequest" => return step(actor, WorkflowAction::Cancel),
        "publishAcoAgreement" => return step(actor, WorkflowAction::PublishAgreement),
        "withdrawAcoAgreement" => return step(actor, WorkflowAction::WithdrawAgreement),
        _ => return Ok(()),
    };
    authz::require(actor, permission)
}

/// Checks every root field the operation to run asks for — through fragments
/// too — before anything runs: a caller whose role may never call one of them
/// gets `FORBIDDEN` for the request, whatever the arguments (ROLE-1, ROLE-2),
/// and an anonymous caller `UNAUTHENTICATED`. Introspection is open to all.
/// A document naming no such operation is left to validation to refuse.
/// The operation a request runs: the one it names, or the document's only one.
pub fn operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (operation_name, &document.operations) {
        (None, DocumentOperations::Single(operation)) => Some(operation),
        (Some(wanted), operations) => operations
            .iter()
            .find(|(name, _)| name.is_some_and(|n| n.as_str() == wanted))
            .map(|(_, operation)| operation),
        (None, DocumentOperations::Multiple(_)) => None,
    }
}

pub fn check_operation(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    actor: Option<&Actor>,
    request_id: &str,
) -> std::result::Result<(), ServerError> {
    let Some(operation) = operation(document, operation_name) else {
        return Ok(()); // the engine refuses a missing or ambiguous operation
    };
    let mut fields = Vec::new();
    let mut spread = HashSet::new();
    root_fields(
        document,
        &operation.node.selection_set.node,
        &mut spread,
        &mut fields,
    );
    for (name, key) in fields {
        if name.starts_with("__") {
            continue;
        }
        let refusal = match actor {
            None => Some(Error::Unauthenticated),
            Some(actor) => check(name, actor).err(),
        };
        if let Some(error) = refusal {
            let mut server_error = error
                .into_graphql(request_id)
                .into_server_error(Default::default());
            server_error.locations.clear();
            server_error.path = vec![async_graphql::PathSegment::Field(key.to_owned())];
            return Err(server_error);
        }
    }
    Ok(())
}

/// The root fields of a selection set as (field name, response key).
fn root_fields<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    spread: &mut HashSet<&'a str>,
    fields: &mut Vec<(&'a str, &'a str)>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                let key = field.node.alias.as_ref().map_or(name, |a| a.node.as_str());
                fields.push((name, key));
            }
            Selection::InlineFragment(fragment) => {
                root_fields(document, &fragment.node.selection_set.node, spread, fields);
            }
            Selection::FragmentSpread(fragment) => {
                let name = fragment.node.fragment_name.node.as_str();
                if spread.insert(name)
                    && let Some(definition) = document.fragments.get(name)
                {
                    root_fields(
                        document,
                        &definition.node.selection_set.node,
                        spread,
                        fields,
                    );
                }
            }
        }
    }
}
