//! Who may see what (DOMAIN §1, ROLE-3), decided in one place per kind of object.
//!
//! Each kind has one *scope*: a value saying which rows a caller may see (all,
//! a partner's, a provider's resellers', a customer's), which the store turns
//! into SQL. Lists use it, and lookups by id (`customer(id)`, `node`, nested
//! fields, mutations) use the very same scope, so every path to an object is
//! authorized the same way. What a caller may not see does not exist for it:
//! `NOT_FOUND`, never `FORBIDDEN`.

use crate::domain::PartnerType;
use crate::domain::Role;
use crate::domain::actor::{Actor, Organization};
use crate::domain::ids::ObjectId;
use crate::error::{Error, Result};
use crate::store::Tx;
use crate::store::agreements::AgreementScope;
use crate::store::benefits::BenefitScope;
use crate::store::customers::CustomerScope;
use crate::store::events::{EventScope, Scopes};
use crate::store::partners::PartnerScope;
use crate::store::relationships::RelationshipScope;
use crate::store::requests::RequestScope;
use crate::store::webhooks::SubscriptionScope;
use crate::store::{agreements, customers, partners, relationships, requests};

/// Partners: programme roles see all; a partner sees itself and the partners it
/// is linked to (its providers, or its resellers); a customer signer sees the
/// partners it has a pending or active relationship with (it decides on the
/// pending ones).
pub fn partner_scope(actor: &Actor) -> PartnerScope {
    match &actor.organization {
        Organization::Program => PartnerScope::All,
        Organization::Partner { id, .. } => PartnerScope::SelfAndLinked(id.clone()),
        Organization::Customer { id } => PartnerScope::RelatedTo(id.clone()),
    }
}

/// Customers: programme roles see all; a partner sees the customers it has an
/// active relationship with; a customer signer sees its own customer.
pub fn customer_scope(actor: &Actor) -> CustomerScope {
    match &actor.organization {
        Organization::Program => CustomerScope::All,
        Organization::Partner { id, .. } => CustomerScope::RelatedTo(id.clone()),
        Organization::Customer { id } => CustomerScope::Only(id.clone()),
    }
}

/// Relationships: a partner sees its own (also pending and revoked ones), a
/// customer signer its customer's, programme roles all.
pub fn relationship_scope(actor: &Actor) -> RelationshipScope {
    match &actor.organization {
        Organization::Program => RelationshipScope::All,
        Organization::Partner { id, .. } => RelationshipScope::OfPartner(id.clone()),
        Organization::Customer { id } => RelationshipScope::OfCustomer(id.clone()),
    }
}

/// ACO requests: a partner sees its own requests, and an indirect provider
/// also those of its linked resellers (read-only); programme roles see all; a
/// customer signer sees its customer's agreements, not the requests.
pub fn request_scope(actor: &Actor) -> RequestScope {
    match &actor.organization {
        Organization::Program => RequestScope::All,
        Organization::Partner { id, .. } => RequestScope::PartnerAndResellers(id.clone()),
        Organization::Customer { .. } => RequestScope::Nothing,
    }
}

/// ACO agreements and credit grants: those of the requests the caller sees;
/// a customer signer sees its own customer's.
pub fn agreement_scope(actor: &Actor) -> AgreementScope {
    match &actor.organization {
        Organization::Customer { id } => AgreementScope::OfCustomer(id.clone()),
        Organization::Program => AgreementScope::All,
        Organization::Partner { .. } => AgreementScope::OfRequests(request_scope(actor)),
    }
}

/// Benefit credits: a partner sees its own, programme roles all.
pub fn benefit_scope(actor: &Actor) -> BenefitScope {
    match &actor.organization {
        Organization::Program => BenefitScope::All,
        Organization::Partner { id, .. } => BenefitScope::OfPartner(id.clone()),
        Organization::Customer { .. } => BenefitScope::Nothing,
    }
}

/// Whose usage and ledgers of a customer the caller sees (LEDGER-2, ROLE-3).
pub enum UsageScope {
    Every,
    Partners(Vec<ObjectId>),
}

impl UsageScope {
    /// Whether usage of `partner` is in the scope (`None`: figures recorded
    /// before usage was kept per partner that no rule could attribute).
    pub fn includes(&self, partner: Option<&ObjectId>) -> bool {
        match self {
            UsageScope::Every => true,
            UsageScope::Partners(ids) => partner.is_some_and(|p| ids.contains(p)),
        }
    }
}

/// Usage and ledgers of a customer: a partner sees its own (an indirect
/// provider also its linked resellers', whose requests it reads); the
/// customer's signer and programme roles every partner's.
pub fn usage_scope(tx: &Tx<'_>, actor: &Actor) -> Result<UsageScope> {
    Ok(match &actor.organization {
        Organization::Partner {
            id,
            partner_type: PartnerType::IndirectProvider,
        } => {
            let mut ids = vec![id.clone()];
            if let Some(row) = partners::get(tx, id)? {
                ids.extend(partners::linked(tx, &row)?);
            }
            UsageScope::Partners(ids)
        }
        Organization::Partner { id, .. } => UsageScope::Partners(vec![id.clone()]),
        Organization::Program | Organization::Customer { .. } => UsageScope::Every,
    })
}

/// The benefit credit, if the caller may see it.
/// Webhook subscriptions and their deliveries: a programme admin's are all,
/// a partner admin's its partner's; other callers have none.
pub fn webhook_scope(actor: &Actor) -> SubscriptionScope {
    match &actor.organization {
        Organization::Program if actor.has_role(Role::ProgramAdmin) => SubscriptionScope::All,
        Organization::Partner { id, .. } if actor.has_role(Role::PartnerAdmin) => {
            SubscriptionScope::OfPartner(id.clone())
        }
        _ => SubscriptionScope::Nothing,
    }
}

/// Events: those of the objects the caller may see, each judged by its
/// object's scope when the feed is read; a partner's own affairs (its
/// authorization, its webhooks) by the partner itself. Programme roles see
/// every event.
pub fn event_scope(tx: &Tx<'_>, actor: &Actor) -> Result<EventScope> {
    if actor.is_program() {
        return Ok(EventScope::All);
    }
    let usage_of = match usage_scope(tx, actor)? {
        UsageScope::Every => None,
        UsageScope::Partners(ids) => Some(ids),
    };
    Ok(EventScope::Of(Box::new(Scopes {
        requests: request_scope(actor),
        agreements: agreement_scope(actor),
        customers: customer_scope(actor),
        partners: partner_scope(actor),
        relationships: relationship_scope(actor),
        benefits: benefit_scope(actor),
        usage_of,
        own_partner: actor.partner_id().cloned(),
    })))
}

pub fn find_benefit_credit(
    tx: &Tx<'_>,
    actor: &Actor,
    id: &ObjectId,
) -> Result<Option<crate::store::benefits::BenefitCreditRow>> {
    crate::store::benefits::find_in(tx, &benefit_scope(actor), id)
}

/// The partner, if the caller may see it.
pub fn find_partner(
    tx: &Tx<'_>,
    actor: &Actor,
    id: &ObjectId,
) -> Result<Option<partners::PartnerRow>> {
    partners::find_in(tx, &partner_scope(actor), id)
}

/// The customer, if the caller may see it.
pub fn find_customer(
    tx: &Tx<'_>,
    actor: &Actor,
    id: &ObjectId,
) -> Result<Option<customers::CustomerRow>> {
    customers::find_in(tx, &customer_scope(actor), id)
}

/// The relationship, if the caller may see it.
pub fn find_relationship(
    tx: &Tx<'_>,
    actor: &Actor,
    id: &ObjectId,
) -> Result<Option<relationships::RelationshipRow>> {
    relationships::find_in(tx, &relationship_scope(actor), id)
}

/// The ACO request, if the caller may see it.
pub fn find_request(
    tx: &Tx<'_>,
    actor: &Actor,
    id: &ObjectId,
) -> Result<Option<requests::AcoRequestRow>> {
    requests::find_in(tx, &request_scope(actor), id)
}

/// The ACO agreement, if the caller may see it.
pub fn find_agreement(
    tx: &Tx<'_>,
    actor: &Actor,
    id: &ObjectId,
) -> Result<Option<agreements::AcoAgreementRow>> {
    agreements::find_in(tx, &agreement_scope(actor), id)
}

/// The credit grant, if the caller may see it.
pub fn find_grant(
    tx: &Tx<'_>,
    actor: &Actor,
    id: &ObjectId,
) -> Result<Option<agreements::CreditGrantRow>> {
    agreements::find_grant_in(tx, &agreement_scope(actor), id)
}

pub fn request(tx: &Tx<'_>, actor: &Actor, id: &ObjectId) -> Result<requests::AcoRequestRow> {
    find_request(tx, actor, id)?.ok_or(Error::NotFound)
}

pub fn agreement(tx: &Tx<'_>, actor: &Actor, id: &ObjectId) -> Result<agreements::AcoAgreementRow> {
    find_agreement(tx, actor, id)?.ok_or(Error::NotFound)
}

pub fn partner(tx: &Tx<'_>, actor: &Actor, id: &ObjectId) -> Result<partners::PartnerRow> {
    find_partner(tx, actor, id)?.ok_or(Error::NotFound)
}

pub fn customer(tx: &Tx<'_>, actor: &Actor, id: &ObjectId) -> Result<customers::CustomerRow> {
    find_customer(tx, actor, id)?.ok_or(Error::NotFound)
}

pub fn relationship(
    tx: &Tx<'_>,
    actor: &Actor,
    id: &ObjectId,
) -> Result<relationships::RelationshipRow> {
    find_relationship(tx, actor, id)?.ok_or(Error::NotFound)
}

/// Which roles may perform an operation (DOMAIN §1, ROLE-2).
#[derive(Debug, Clone, Copy)]
pub struct Permission {
    pub roles: &'static [Role],
    /// What the operation does, for the refusal's message: "create partners".
    pub action: &'static str,
}

/// Refuses a caller none of whose roles may perform the operation:
/// `FORBIDDEN` with reason `ROLE_NOT_PERMITTED`, whatever the input.
pub fn require(actor: &Actor, permission: &Permission) -> Result<()> {
    if actor.has_any(permission.roles) {
        return Ok(());
    }
    let names = permission
        .roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Err(Error::forbidden(
        "ROLE_NOT_PERMITTED",
        format!("only {names} may {}", permission.action),
    ))
}
