//! The role gate: who may call each root field, decided before its arguments
//! are even parsed, so that a caller whose role may never do something gets
//! `FORBIDDEN` whatever its input (ROLE-1, ROLE-2), and an anonymous caller
//! `UNAUTHENTICATED`. The use cases check the same permissions again.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerError, ServerResult, Value};

use super::RequestContext;
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

/// Installs the gate on a schema.
pub struct RoleGate;

impl ExtensionFactory for RoleGate {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RoleGateExtension)
    }
}

struct RoleGateExtension;

#[async_trait::async_trait]
impl Extension for RoleGateExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root = matches!(info.parent_type, "QueryRoot" | "MutationRoot");
        if root && !info.is_for_introspection && !info.name.starts_with("__") {
            let Some(request) = ctx.data_opt::<RequestContext>() else {
                return next.run(ctx, info).await;
            };
            let refusal = match &request.actor {
                None => Some(Error::Unauthenticated),
                Some(actor) => check(info.name, actor).err(),
            };
            if let Some(error) = refusal {
                let mut server_error: ServerError = error
                    .into_graphql(&request.request_id)
                    .into_server_error(Default::default());
                server_error.locations.clear();
                server_error.path = info
                    .path_node
                    .to_string_vec()
                    .into_iter()
                    .map(async_graphql::PathSegment::Field)
                    .collect();
                return Err(server_error);
            }
        }
        next.run(ctx, info).await
    }
}
