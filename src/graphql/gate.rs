//! The role gate: who may call each root field, decided before its arguments
//! are even parsed, so that a caller whose role may never do something gets
//! `FORBIDDEN` whatever its input (ROLE-1, ROLE-2), and an anonymous caller
//! `UNAUTHENTICATED`. The use cases check the same permissions again.

use std::collections::HashSet;

use async_graphql::ServerError;
use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};

use crate::authz::{self, Permission};
use crate::domain::actor::Actor;
use crate::domain::workflow::{Performer, WorkflowAction, performers};
use crate::error::{Error, Result};
use crate::service::{self, agreements, customers, partners, relationships, requests};

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

/// Who may call one root field.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// Every authenticated caller; what each one sees is scoped where it is
    /// read (ROLE-3).
    Authenticated,
    Permission(&'static Permission),
    /// A workflow step, open to the roles its transition names.
    Step(WorkflowAction),
    /// `submitAcoRequest`: a partner that may submit (ROLE-1).
    Submit,
    /// `acoEligibility`: the pre-flight check, for a partner only of itself.
    Eligibility,
}

/// The table: every root field of every root type has a row. A field without
/// one is refused for everyone (see [`check_operation`]), and a test walks
/// the schema's root types so that none is left out.
pub fn rule(operation: OperationType, field: &str) -> Option<Rule> {
    use Rule::*;
    let rule = match (operation, field) {
        (
            OperationType::Query,
            "me" | "node" | "nodes" | "partner" | "partners" | "customer" | "customers"
            | "acoRequest" | "acoRequests" | "events",
        ) => Authenticated,
        (OperationType::Query, "acoEligibility") => Eligibility,
        (OperationType::Subscription, "events" | "acoRequestChanged") => Authenticated,
        (
            OperationType::Query,
            "webhookSubscriptions" | "webhookSubscription" | "webhookDeliveries",
        ) => Permission(&service::webhooks::MANAGE),
        (OperationType::Mutation, field) => match field {
            "createPartner" => Permission(&partners::CREATE_PARTNER),
            "updatePartner" => Permission(&partners::UPDATE_PARTNER),
            "linkIndirectReseller" => Permission(&partners::LINK_INDIRECT_RESELLER),
            "signPartnerAgreement" => Permission(&partners::SIGN_PARTNER_AGREEMENT),
            "createCustomer" => Permission(&customers::CREATE_CUSTOMER),
            "updateCustomer" => Permission(&customers::UPDATE_CUSTOMER),
            "recordCustomerAgreement" => Permission(&customers::RECORD_CUSTOMER_AGREEMENT),
            "confirmCustomerAgreement" => Permission(&customers::CONFIRM_CUSTOMER_AGREEMENT),
            "requestResellerRelationship" => Permission(&relationships::REQUEST),
            "acceptResellerRelationship" => Permission(&relationships::ACCEPT),
            "revokeResellerRelationship" => Permission(&relationships::REVOKE),
            "signAcoAgreement" => Permission(&agreements::SIGN),
            "expireAcoAgreements" => Permission(&agreements::EXPIRE),
            "recordMonthlyUsage" => Permission(&service::credits::RECORD_USAGE),
            "createBenefitCredit" => Permission(&service::benefits::CREATE),
            "assignBenefitCredit" => Permission(&service::benefits::ASSIGN),
            "recordBenefitUsage" => Permission(&service::benefits::USE),
            "updatePartnerProfile" => Permission(&service::authorization::UPDATE_PROFILE),
            "reassessPartner" | "expireRemediation" => {
                Permission(&service::authorization::REASSESS)
            }
            "submitAcoRequest" => Submit,
            "passAcoComplianceCheck" => Step(WorkflowAction::PassComplianceCheck),
            "requestAcoInformation" => Step(WorkflowAction::RequestInformation),
            "answerAcoInformationRequest" => Step(WorkflowAction::AnswerInformationRequest),
            "supportAcoRequest" => Step(WorkflowAction::Support),
            "approveAcoRequest" => Step(WorkflowAction::Approve),
            "rejectAcoRequest" => Step(WorkflowAction::Reject),
            "cancelAcoRequest" => Step(WorkflowAction::Cancel),
            "publishAcoAgreement" => Step(WorkflowAction::PublishAgreement),
            "withdrawAcoAgreement" => Step(WorkflowAction::WithdrawAgreement),
            "createWebhookSubscription"
            | "updateWebhookSubscription"
            | "deleteWebhookSubscription"
            | "rotateWebhookSecret"
            | "redeliverWebhookDelivery" => Permission(&service::webhooks::MANAGE),
            _ => return None,
        },
        _ => return None,
    };
    Some(rule)
}

fn check(rule: Rule, actor: &Actor) -> Result<()> {
    match rule {
        Rule::Authenticated => Ok(()),
        Rule::Permission(permission) => authz::require(actor, permission),
        Rule::Step(action) => step(actor, action),
        Rule::Submit => requests::ensure_may_submit(actor),
        Rule::Eligibility => {
            authz::require(actor, &requests::CHECK_ELIGIBILITY)?;
            // A partner checks for itself: only a partner that may submit.
            if actor.partner_id().is_some() {
                requests::ensure_may_submit(actor)?;
            }
            Ok(())
        }
    }
}

/// The root types of the served schema and their fields, read from the
/// same types the schema is built from (a subscription root included once
/// the schema has one).
pub fn root_fields() -> Vec<(OperationType, String)> {
    let (registry, roots) = super::registry();
    roots
        .into_iter()
        .flat_map(|(operation, name)| {
            let fields: Vec<String> = registry
                .types
                .get(&name)
                .and_then(|ty| ty.fields())
                .map(|fields| fields.keys().cloned().collect())
                .unwrap_or_default();
            fields
                .into_iter()
                .filter(|field| !field.starts_with("__"))
                .map(move |field| (operation, field))
        })
        .collect()
}

/// The root fields the schema has: a field with no row that the schema does
/// not have either is left to validation to refuse as unknown.
fn in_schema(operation: OperationType, field: &str) -> bool {
    static FIELDS: std::sync::LazyLock<Vec<(OperationType, String)>> =
        std::sync::LazyLock::new(root_fields);
    FIELDS
        .iter()
        .any(|(ty, name)| *ty == operation && name == field)
}

/// The operation a request runs, chosen exactly as the engine chooses it: the
/// one it names, or else the document's only one (named or not). `None` when
/// the engine would refuse the request for it.
pub fn operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (operation_name, &document.operations) {
        (None, DocumentOperations::Single(operation)) => Some(operation),
        (None, DocumentOperations::Multiple(operations)) if operations.len() == 1 => {
            operations.values().next()
        }
        (None, DocumentOperations::Multiple(_)) => None,
        (Some(_), DocumentOperations::Single(_)) => None,
        (Some(wanted), DocumentOperations::Multiple(operations)) => operations.get(wanted),
    }
}

/// A name for the operation a request runs, for figures: its type and its
/// first root field (`query:acoRequest`, `mutation:submitAcoRequest`),
/// `introspection`, or `unknown` when the field is not the schema's. Only
/// names the schema has: hostile documents cannot make new ones.
pub fn operation_label(document: &ExecutableDocument, operation_name: Option<&str>) -> String {
    let Some(operation) = operation(document, operation_name) else {
        return "unknown".into();
    };
    let kind = operation.node.ty;
    let mut fields = Vec::new();
    root_fields_of(
        document,
        &operation.node.selection_set.node,
        &mut HashSet::new(),
        &mut fields,
    );
    match fields.iter().find(|(name, _)| !name.starts_with("__")) {
        Some((name, _)) if in_schema(kind, name) => format!("{kind}:{name}"),
        Some(_) => "unknown".into(),
        None => "introspection".into(),
    }
}

/// Whether the operation the engine would run is a mutation.
pub fn runs_mutation(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    operation(document, operation_name).is_some_and(|op| op.node.ty == OperationType::Mutation)
}

/// Checks every root field the operation to run asks for — through fragments
/// too — before anything runs: a caller whose role may never call one of them
/// gets `FORBIDDEN` for the request, whatever the arguments (ROLE-1, ROLE-2),
/// and an anonymous caller `UNAUTHENTICATED`. Introspection and `__typename`
/// are open to all. A field of the schema without a row in the table is
/// refused for everyone: the gate fails closed.
pub fn check_operation(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    actor: Option<&Actor>,
    request_id: &str,
) -> std::result::Result<(), ServerError> {
    let Some(operation) = operation(document, operation_name) else {
        return Ok(()); // the engine refuses a missing or ambiguous operation
    };
    let kind = operation.node.ty;
    let mut fields = Vec::new();
    let mut spread = HashSet::new();
    root_fields_of(
        document,
        &operation.node.selection_set.node,
        &mut spread,
        &mut fields,
    );
    for (name, key) in fields {
        if name.starts_with("__") {
            continue;
        }
        let refusal = match (actor, rule(kind, name)) {
            (None, _) => Some(Error::Unauthenticated),
            (Some(actor), Some(rule)) => check(rule, actor).err(),
            (Some(_), None) if in_schema(kind, name) => {
                tracing::error!(field = ?name, "a root field has no row in the role gate's table");
                Some(Error::forbidden(
                    "ROLE_NOT_PERMITTED",
                    "this field is not open to any role".to_owned(),
                ))
            }
            (Some(_), None) => None, // not a field: validation says so
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
fn root_fields_of<'a>(
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
                root_fields_of(document, &fragment.node.selection_set.node, spread, fields);
            }
            Selection::FragmentSpread(fragment) => {
                let name = fragment.node.fragment_name.node.as_str();
                if spread.insert(name)
                    && let Some(definition) = document.fragments.get(name)
                {
                    root_fields_of(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_root_field_of_every_root_type_has_a_row() {
        let fields = root_fields();
        for kind in [OperationType::Query, OperationType::Mutation] {
            assert!(
                fields.iter().any(|(ty, _)| *ty == kind),
                "{kind:?} has no fields"
            );
        }
        let missing: Vec<_> = fields
            .iter()
            .filter(|(ty, name)| rule(*ty, name).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "root fields without a gate row: {missing:?}"
        );
    }

    #[test]
    fn the_operation_is_chosen_as_the_engine_chooses_it() {
        let parse = |q: &str| async_graphql::parser::parse_query(q).unwrap();
        let name = |op: Option<&Positioned<OperationDefinition>>| {
            op.map(|o| o.node.selection_set.node.items.len())
        };
        let one_named = parse("mutation M { a b }");
        assert_eq!(name(operation(&one_named, None)), Some(2));
        assert_eq!(name(operation(&one_named, Some("M"))), Some(2));
        assert_eq!(name(operation(&one_named, Some("N"))), None);
        let anonymous = parse("{ a }");
        assert_eq!(name(operation(&anonymous, None)), Some(1));
        assert_eq!(name(operation(&anonymous, Some("A"))), None);
        let two = parse("query A { a } query B { a b c }");
        assert_eq!(name(operation(&two, None)), None);
        assert_eq!(name(operation(&two, Some("B"))), Some(3));
    }
}
