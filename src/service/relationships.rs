//! Reseller relationships: requested by a partner, accepted by the customer,
//! revoked by either side (§1).

use serde_json::json;

use super::Call;
use crate::authz::{self, Permission};
use crate::domain::UserErrorCode;
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{RelationshipStatus, Role};
use crate::error::{Error, Result, UserError};
use crate::fields;
use crate::store::Tx;
use crate::store::relationships::{self, RelationshipRow};
use crate::store::{audit, customers};

pub const REQUEST: Permission = Permission {
    roles: &[Role::PartnerAdmin],
    action: "request reseller relationships",
};

pub const ACCEPT: Permission = Permission {
    roles: &[Role::CustomerSigner, Role::ProgramAdmin],
    action: "accept reseller relationships",
};

pub const REVOKE: Permission = Permission {
    roles: &[Role::PartnerAdmin, Role::CustomerSigner, Role::ProgramAdmin],
    action: "revoke reseller relationships",
};

/// A partner admin asks the customer with `customer_tenant_id` for a reseller
/// relationship. The partner cannot see the customer until it is accepted.
pub fn request(tx: &Tx<'_>, call: &Call, customer_tenant_id: &str) -> Result<RelationshipRow> {
    authz::require(&call.actor, &REQUEST)?;
    let partner_id = call.actor.partner_id().cloned().ok_or(Error::NotFound)?;
    let customer = customers::by_tenant(tx, customer_tenant_id)?.ok_or_else(|| {
        Error::rejected(
            UserError::new(
                UserErrorCode::CustomerNotFound,
                "no customer has this tenant id",
            )
            .at(fields::CUSTOMER_TENANT_ID),
        )
    })?;
    if let Some(live) = relationships::live(tx, &partner_id, &customer.id)? {
        return Err(Error::rejected(UserError::new(
            UserErrorCode::RelationshipExists,
            format!(
                "a {} relationship with this customer exists already",
                live.status
            ),
        )));
    }
    let row = RelationshipRow {
        id: ObjectId::generate(IdKind::ResellerRelationship),
        partner_id,
        customer_id: customer.id,
        status: RelationshipStatus::Pending,
        requested_at: call.now,
        accepted_at: None,
        revoked_at: None,
        revoke_reason: None,
    };
    relationships::insert(tx, &row, &call.actor.subject)?;
    audit::record(
        tx,
        &call.actor,
        &row.id,
        "RELATIONSHIP_REQUESTED",
        json!({ "partnerId": row.partner_id.as_str(), "customerId": row.customer_id.as_str() }),
        call.now,
    )?;
    Ok(row)
}

fn transition(
    tx: &Tx<'_>,
    call: &Call,
    mut row: RelationshipRow,
    from: RelationshipStatus,
    to: RelationshipStatus,
    reason: Option<String>,
) -> Result<RelationshipRow> {
    if row.status != from {
        return Err(Error::rejected(UserError::new(
            UserErrorCode::InvalidTransition,
            format!(
                "the relationship is {}; only a {from} relationship can become {to}",
                row.status
            ),
        )));
    }
    row.status = to;
    match to {
        RelationshipStatus::Active => row.accepted_at = Some(call.now),
        RelationshipStatus::Revoked => {
            row.revoked_at = Some(call.now);
            row.revoke_reason = reason.clone();
        }
        RelationshipStatus::Pending => {}
    }
    if !relationships::set_status(tx, &row, from)? {
        return Err(Error::rejected(UserError::new(
            UserErrorCode::Conflict,
            "the relationship changed meanwhile; read it again",
        )));
    }
    audit::record(
        tx,
        &call.actor,
        &row.id,
        &format!("RELATIONSHIP_{to}"),
        json!({ "from": from.as_str(), "to": to.as_str(), "reason": reason }),
        call.now,
    )?;
    Ok(row)
}

/// The customer (or a programme admin) accepts a pending relationship.
pub fn accept(tx: &Tx<'_>, call: &Call, id: &ObjectId) -> Result<RelationshipRow> {
    authz::require(&call.actor, &ACCEPT)?;
    let row = authz::relationship(tx, &call.actor, id)?;
    transition(
        tx,
        call,
        row,
        RelationshipStatus::Pending,
        RelationshipStatus::Active,
        None,
    )
}

/// Either side (or a programme admin) ends a pending or active relationship.
pub fn revoke(
    tx: &Tx<'_>,
    call: &Call,
    id: &ObjectId,
    reason: Option<String>,
) -> Result<RelationshipRow> {
    authz::require(&call.actor, &REVOKE)?;
    let row = authz::relationship(tx, &call.actor, id)?;
    let from = match row.status {
        RelationshipStatus::Revoked => RelationshipStatus::Active,
        live => live,
    };
    transition(tx, call, row, from, RelationshipStatus::Revoked, reason)
}
