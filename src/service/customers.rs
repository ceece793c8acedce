//! Managing customers (§1) and their MCA acceptance (AGR-2).

use chrono::NaiveDate;
use serde_json::json;

use super::Call;
use super::partners::ensure_tenant_free;
use crate::authz::{self, Permission};
use crate::domain::UserErrorCode;
use crate::domain::actor::Organization;
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{
    AcceptanceMethod, BillingProfile, Contact, CustomerSegment, OrganizationKind,
    RelationshipStatus, Role,
};
use crate::error::{Error, Result, UserError};
use crate::fields;
use crate::store::Tx;
use crate::store::audit;
use crate::store::customers::{self, CustomerAgreementRow, CustomerRow, McaConfirmationRow};
use crate::store::relationships::{self, RelationshipRow};

pub const CREATE_CUSTOMER: Permission = Permission {
    roles: &[Role::PartnerAdmin, Role::ProgramAdmin],
    action: "create customers",
};

pub const UPDATE_CUSTOMER: Permission = Permission {
    roles: &[Role::PartnerAdmin, Role::ProgramAdmin],
    action: "update customers",
};

pub const RECORD_CUSTOMER_AGREEMENT: Permission = Permission {
    roles: &[Role::PartnerAdmin, Role::CustomerSigner],
    action: "record a customer's acceptance of the Microsoft Customer Agreement",
};

pub const CONFIRM_CUSTOMER_AGREEMENT: Permission = Permission {
    roles: &[Role::PartnerAdmin],
    action: "confirm a customer's MCA acceptance",
};

/// A customer to create, already shape-checked.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub tenant_id: String,
    pub domain: String,
    pub company_name: String,
    pub country: String,
    pub segment: CustomerSegment,
    pub organization_kind: OrganizationKind,
    pub billing_profile: BillingProfile,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CustomerChanges {
    pub domain: Option<String>,
    pub company_name: Option<String>,
    pub country: Option<String>,
    pub segment: Option<CustomerSegment>,
    pub organization_kind: Option<OrganizationKind>,
    pub billing_profile: Option<BillingProfile>,
}

/// A partner admin creates a customer with an active reseller relationship to
/// its own partner (as Partner Center does); a programme admin creates one
/// without any relationship.
pub fn create_customer(tx: &Tx<'_>, call: &Call, new: NewCustomer) -> Result<CustomerRow> {
    authz::require(&call.actor, &CREATE_CUSTOMER)?;
    ensure_tenant_free(tx, call, &new.tenant_id)?;
    let row = CustomerRow {
        id: ObjectId::generate(IdKind::Customer),
        name_key: Some(crate::store::search::name_key(&new.company_name)),
        tenant_id: new.tenant_id,
        domain: new.domain,
        company_name: new.company_name,
        country: new.country,
        segment: new.segment,
        organization_kind: new.organization_kind,
        billing_profile: new.billing_profile,
        version: 1,
        created_at: call.now,
        updated_at: call.now,
    };
    customers::insert(tx, &row)?;
    audit::record(
        tx,
        &call.actor,
        &row.id,
        "CUSTOMER_CREATED",
        json!({ "tenantId": row.tenant_id }),
        call.now,
    )?;
    if let Organization::Partner { id: partner_id, .. } = &call.actor.organization {
        let relationship = RelationshipRow {
            id: ObjectId::generate(IdKind::ResellerRelationship),
            partner_id: partner_id.clone(),
            customer_id: row.id.clone(),
            status: RelationshipStatus::Active,
            requested_at: call.now,
            accepted_at: Some(call.now),
            revoked_at: None,
            revoke_reason: None,
        };
        relationships::insert(tx, &relationship, &call.actor.subject)?;
        audit::record(
            tx,
            &call.actor,
            &relationship.id,
            "RELATIONSHIP_CREATED",
            json!({ "status": "ACTIVE", "partnerId": partner_id.as_str(), "customerId": row.id.as_str() }),
            call.now,
        )?;
    }
    Ok(row)
}

pub fn update_customer(
    tx: &Tx<'_>,
    call: &Call,
    id: &ObjectId,
    changes: CustomerChanges,
) -> Result<CustomerRow> {
    authz::require(&call.actor, &UPDATE_CUSTOMER)?;
    let mut row = authz::customer(tx, &call.actor, id)?;
    let mut changed = Vec::new();
    if let Some(v) = changes.domain {
        changed.push("domain");
        row.domain = v;
    }
    if let Some(v) = changes.company_name {
        changed.push("companyName");
        row.company_name = v;
    }
    if let Some(v) = changes.country {
        changed.push("country");
        row.country = v;
    }
    if let Some(v) = changes.segment {
        changed.push("segment");
        row.segment = v;
    }
    if let Some(v) = changes.organization_kind {
        changed.push("organizationKind");
        row.organization_kind = v;
    }
    if let Some(v) = changes.billing_profile {
        changed.push("billingProfile");
        row.billing_profile = v;
    }
    if changed.is_empty() {
        return Ok(row);
    }
    row.updated_at = call.now;
    customers::update(tx, &row)?;
    audit::record(
        tx,
        &call.actor,
        &row.id,
        "CUSTOMER_UPDATED",
        json!({ "fields": changed }),
        call.now,
    )?;
    authz::customer(tx, &call.actor, id)
}

/// An MCA acceptance to record (AGR-2).
#[derive(Debug, Clone)]
pub struct NewCustomerAgreement {
    pub date_agreed: NaiveDate,
    pub primary_contact: Contact,
    pub acceptance_method: AcceptanceMethod,
}

/// AGR-2: records that the customer accepted the MCA. A customer signer records
/// its own acceptance; a partner admin records one it attests or that the
/// customer made.
pub fn record_customer_agreement(
    tx: &Tx<'_>,
    call: &Call,
    customer_id: &ObjectId,
    new: NewCustomerAgreement,
) -> Result<(CustomerRow, CustomerAgreementRow)> {
    authz::require(&call.actor, &RECORD_CUSTOMER_AGREEMENT)?;
    let customer = authz::customer(tx, &call.actor, customer_id)?;
    let mut errors = Vec::new();
    if call.actor.customer_id().is_some()
        && new.acceptance_method == AcceptanceMethod::PartnerAttested
    {
        errors.push(
            UserError::new(
                UserErrorCode::AcceptanceMethodNotAllowed,
                "a customer records its own acceptance as CUSTOMER_ACCEPTED",
            )
            .at(fields::ACCEPTANCE_METHOD),
        );
    }
    if new.date_agreed > call.today() {
        errors.push(
            UserError::new(
                UserErrorCode::DateInFuture,
                "the acceptance cannot be dated in the future",
            )
            .at(fields::CUSTOMER_AGREEMENT_DATE),
        );
    }
    if !errors.is_empty() {
        return Err(Error::Rejected(errors));
    }
    let agreement = CustomerAgreementRow {
        id: ObjectId::generate(IdKind::CustomerAgreement),
        customer_id: customer.id.clone(),
        date_agreed: new.date_agreed,
        primary_contact: new.primary_contact,
        acceptance_method: new.acceptance_method,
        recorded_by_partner: call.actor.partner_id().cloned(),
        recorded_at: call.now,
    };
    customers::insert_agreement(tx, &agreement, &call.actor.subject)?;
    audit::record(
        tx,
        &call.actor,
        &customer.id,
        "CUSTOMER_AGREEMENT_RECORDED",
        json!({
            "agreementId": agreement.id.as_str(),
            "dateAgreed": agreement.date_agreed.to_string(),
            "acceptanceMethod": agreement.acceptance_method.as_str(),
        }),
        call.now,
    )?;
    Ok((customer, agreement))
}

/// AGR-2, ELIG-7: the caller's partner confirms the customer's MCA acceptance
/// in its own records.
pub fn confirm_customer_agreement(
    tx: &Tx<'_>,
    call: &Call,
    customer_id: &ObjectId,
) -> Result<CustomerRow> {
    authz::require(&call.actor, &CONFIRM_CUSTOMER_AGREEMENT)?;
    let customer = authz::customer(tx, &call.actor, customer_id)?;
    let partner_id = call.actor.partner_id().cloned().ok_or(Error::NotFound)?;
    let agreement = customers::current_agreement(tx, &customer.id)?.ok_or_else(|| {
        Error::rejected(
            UserError::new(
                UserErrorCode::McaNotAccepted,
                "the customer has not accepted the Microsoft Customer Agreement",
            )
            .at(fields::CONFIRMED_CUSTOMER),
        )
    })?;
    let confirmation = McaConfirmationRow {
        partner_id,
        agreement_id: agreement.id,
        confirmed_at: call.now,
    };
    customers::confirm(tx, &customer.id, &confirmation, &call.actor.subject)?;
    audit::record(
        tx,
        &call.actor,
        &customer.id,
        "CUSTOMER_AGREEMENT_CONFIRMED",
        json!({ "partnerId": confirmation.partner_id.as_str(), "agreementId": confirmation.agreement_id.as_str() }),
        call.now,
    )?;
    Ok(customer)
}
