//! Managing partners (§1, programme admin) and their MPA (AGR-1).

use chrono::NaiveDate;
use serde_json::json;

use super::Call;
use crate::authz::{self, Permission};
use crate::domain::UserErrorCode;
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{Address, Contact, PartnerType, Role};
use crate::error::{Error, Result, UserError};
use crate::fields;
use crate::store::Tx;
use crate::store::audit;
use crate::store::partners::{self, PartnerAgreementRow, PartnerRow};

pub const CREATE_PARTNER: Permission = Permission {
    roles: &[Role::ProgramAdmin],
    action: "create partners",
};

pub const UPDATE_PARTNER: Permission = Permission {
    roles: &[Role::ProgramAdmin],
    action: "update partners",
};

pub const LINK_INDIRECT_RESELLER: Permission = Permission {
    roles: &[Role::ProgramAdmin],
    action: "link indirect resellers to providers",
};

pub const SIGN_PARTNER_AGREEMENT: Permission = Permission {
    roles: &[Role::PartnerAdmin],
    action: "sign the Microsoft Partner Agreement for their partner",
};

/// A partner to create, already shape-checked.
#[derive(Debug, Clone)]
pub struct NewPartner {
    pub tenant_id: String,
    pub company_name: String,
    pub domain: String,
    pub partner_type: PartnerType,
    pub mpn_id: Option<String>,
    pub default_address: Address,
    pub primary_contact: Contact,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PartnerChanges {
    pub company_name: Option<String>,
    pub domain: Option<String>,
    pub mpn_id: Option<String>,
    pub default_address: Option<Address>,
    pub primary_contact: Option<Contact>,
    /// A change of type (AUTH-1: a demoted partner may not become direct bill while blocked).
    pub partner_type: Option<PartnerType>,
}

/// Refuses a tenant id that any organisation, or the programme, already uses.
pub(crate) fn ensure_tenant_free(tx: &Tx<'_>, call: &Call, tenant_id: &str) -> Result<()> {
    if tenant_id == call.program_tenant_id || partners::tenant_in_use(tx, tenant_id)? {
        return Err(Error::rejected(
            UserError::new(
                UserErrorCode::TenantInUse,
                "another organisation already has this tenant id",
            )
            .at(fields::TENANT_ID),
        ));
    }
    Ok(())
}

pub fn create_partner(tx: &Tx<'_>, call: &Call, new: NewPartner) -> Result<PartnerRow> {
    authz::require(&call.actor, &CREATE_PARTNER)?;
    ensure_tenant_free(tx, call, &new.tenant_id)?;
    let row = PartnerRow {
        id: ObjectId::generate(IdKind::Partner),
        name_key: Some(crate::store::search::name_key(&new.company_name)),
        tenant_id: new.tenant_id,
        company_name: new.company_name,
        domain: new.domain,
        partner_type: new.partner_type,
        mpn_id: new.mpn_id,
        default_address: new.default_address,
        primary_contact: new.primary_contact,
        version: 1,
        created_at: call.now,
        updated_at: call.now,
    };
    partners::insert(tx, &row)?;
    audit::record(
        tx,
        &call.actor,
        &row.id,
        "PARTNER_CREATED",
        json!({ "tenantId": row.tenant_id, "partnerType": row.partner_type.as_str() }),
        call.now,
    )?;
    Ok(row)
}

pub fn update_partner(
    tx: &Tx<'_>,
    call: &Call,
    id: &ObjectId,
    changes: PartnerChanges,
) -> Result<PartnerRow> {
    authz::require(&call.actor, &UPDATE_PARTNER)?;
    let mut row = authz::partner(tx, &call.actor, id)?;
    let mut changed = Vec::new();
    if let Some(v) = changes.company_name {
        changed.push("companyName");
        row.company_name = v;
    }
    if let Some(v) = changes.domain {
        changed.push("domain");
        row.domain = v;
    }
    if let Some(v) = changes.mpn_id {
        changed.push("mpnId");
        row.mpn_id = Some(v);
    }
    if let Some(v) = changes.default_address {
        changed.push("defaultAddress");
        row.default_address = v;
    }
    if let Some(v) = changes.primary_contact {
        changed.push("primaryContact");
        row.primary_contact = v;
    }
    let type_change = changes.partner_type.filter(|t| *t != row.partner_type);
    if let Some(to) = type_change {
        super::authorization::ensure_may_become(tx, &row, to, call.today())?;
        changed.push("partnerType");
    }
    if changed.is_empty() {
        return Ok(row);
    }
    row.updated_at = call.now;
    partners::update(tx, &row)?;
    if let Some(to) = type_change {
        partners::set_type(tx, &row.id, to, call.now)?;
    }
    audit::record(
        tx,
        &call.actor,
        &row.id,
        "PARTNER_UPDATED",
        json!({ "fields": changed, "partnerType": type_change.map(|t| t.as_str()) }),
        call.now,
    )?;
    authz::partner(tx, &call.actor, id)
}

/// Links an indirect reseller to an indirect provider (§1).
pub fn link_indirect_reseller(
    tx: &Tx<'_>,
    call: &Call,
    reseller_id: &ObjectId,
    provider_id: &ObjectId,
) -> Result<(PartnerRow, PartnerRow)> {
    authz::require(&call.actor, &LINK_INDIRECT_RESELLER)?;
    let reseller = authz::partner(tx, &call.actor, reseller_id)?;
    let provider = authz::partner(tx, &call.actor, provider_id)?;
    let mut errors = Vec::new();
    if reseller.partner_type != PartnerType::IndirectReseller {
        errors.push(
            UserError::new(
                UserErrorCode::NotIndirectReseller,
                "the reseller must be an INDIRECT_RESELLER partner",
            )
            .at(fields::RESELLER_ID),
        );
    }
    if provider.partner_type != PartnerType::IndirectProvider {
        errors.push(
            UserError::new(
                UserErrorCode::NotIndirectProvider,
                "the provider must be an INDIRECT_PROVIDER partner",
            )
            .at(fields::PROVIDER_ID),
        );
    }
    if !errors.is_empty() {
        return Err(Error::Rejected(errors));
    }
    if !partners::link(tx, &reseller.id, &provider.id, call.now)? {
        return Err(Error::rejected(UserError::new(
            UserErrorCode::AlreadyLinked,
            "the reseller is already linked to this provider",
        )));
    }
    let detail = json!({ "resellerId": reseller.id.as_str(), "providerId": provider.id.as_str() });
    audit::record(
        tx,
        &call.actor,
        &reseller.id,
        "INDIRECT_PROVIDER_LINKED",
        detail.clone(),
        call.now,
    )?;
    audit::record(
        tx,
        &call.actor,
        &provider.id,
        "INDIRECT_RESELLER_LINKED",
        detail,
        call.now,
    )?;
    Ok((reseller, provider))
}

/// AGR-1: a partner admin records the partner's signature of the MPA.
pub fn sign_partner_agreement(
    tx: &Tx<'_>,
    call: &Call,
    signer_name: String,
    signer_email: String,
    date_agreed: Option<NaiveDate>,
) -> Result<PartnerRow> {
    authz::require(&call.actor, &SIGN_PARTNER_AGREEMENT)?;
    let partner_id = call.actor.partner_id().cloned().ok_or(Error::NotFound)?;
    let partner = authz::partner(tx, &call.actor, &partner_id)?;
    let date_agreed = date_agreed.unwrap_or_else(|| call.today());
    if date_agreed > call.today() {
        return Err(Error::rejected(
            UserError::new(
                UserErrorCode::DateInFuture,
                "the agreement cannot be dated in the future",
            )
            .at(fields::PARTNER_AGREEMENT_DATE),
        ));
    }
    let agreement = PartnerAgreementRow {
        signer_name,
        signer_email,
        date_agreed,
        recorded_at: call.now,
    };
    partners::insert_partner_agreement(tx, &partner.id, &agreement, &call.actor.subject)?;
    audit::record(
        tx,
        &call.actor,
        &partner.id,
        "PARTNER_AGREEMENT_SIGNED",
        json!({ "signerEmail": agreement.signer_email, "dateAgreed": date_agreed.to_string() }),
        call.now,
    )?;
    Ok(partner)
}
