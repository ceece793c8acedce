//! Input objects, and their shape checks into the use cases' types.
//! Malformed input is refused here as `BAD_USER_INPUT` with the field's path;
//! business rules are checked later and come back as `userErrors`.

use async_graphql::{ID, InputObject};

use super::scalars::Date;
use crate::domain::ids::{IdKind, ObjectId};
use crate::domain::{
    self, AcceptanceMethod, CustomerSegment, OrganizationKind, PartnerType, validate,
};
use crate::error::{Error, Result};
use crate::service::customers::{CustomerChanges, NewCustomer, NewCustomerAgreement};
use crate::service::partners::{NewPartner, PartnerChanges};

/// A field's path, e.g. `["input", "defaultAddress", "city"]`.
fn at<'a>(base: &[&'a str], field: &'a str) -> Vec<&'a str> {
    let mut path = base.to_vec();
    path.push(field);
    path
}

fn check(value: &str, path: &[&str], what: &str, f: fn(&str) -> Option<String>) -> Result<String> {
    f(value)
        .ok_or_else(|| Error::bad_input(path, format!("`{}` must be {what}", path[path.len() - 1])))
}

fn text(value: &str, path: &[&str]) -> Result<String> {
    check(
        value,
        path,
        "non-empty text of at most 256 characters",
        validate::text,
    )
}

/// Optional text: absent or blank means "none".
fn optional(
    value: Option<String>,
    path: &[&str],
    what: &str,
    f: fn(&str) -> Option<String>,
) -> Result<Option<String>> {
    match value {
        Some(v) if !v.trim().is_empty() => check(&v, path, what, f).map(Some),
        _ => Ok(None),
    }
}

fn optional_text(value: Option<String>, path: &[&str]) -> Result<Option<String>> {
    optional(
        value,
        path,
        "text of at most 256 characters",
        validate::text,
    )
}

pub(crate) fn id(value: &ID, path: &[&str], kind: IdKind) -> Result<ObjectId> {
    ObjectId::parse_kind(value, kind).map_err(|e| Error::bad_id(path, e))
}

fn tenant_id(value: &str, path: &[&str]) -> Result<String> {
    check(value, path, "a GUID", validate::tenant_id)
}

fn domain_name(value: &str, path: &[&str]) -> Result<String> {
    check(
        value,
        path,
        "a domain name such as contoso.com",
        validate::domain,
    )
}

fn country(value: &str, path: &[&str]) -> Result<String> {
    check(
        value,
        path,
        "an ISO 3166-1 alpha-2 country code such as US",
        validate::country,
    )
}

fn email(value: &str, path: &[&str]) -> Result<String> {
    check(value, path, "an email address", validate::email)
}

/// A postal address.
#[derive(InputObject, Default)]
pub struct AddressInput {
    /// The first address line (street and number); blank means none. Text of at most 256 characters.
    pub address_line1: Option<String>,
    /// An optional second address line; blank means none. Text of at most 256 characters.
    pub address_line2: Option<String>,
    /// The city; blank means none. Text of at most 256 characters.
    pub city: Option<String>,
    /// The state or region, e.g. `WA`; blank means none. Text of at most 256 characters.
    pub state: Option<String>,
    /// The postal code; blank means none. Text of at most 256 characters.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `US`.
    pub country: Option<String>,
}

impl AddressInput {
    fn into_domain(self, base: &[&str]) -> Result<domain::Address> {
        Ok(domain::Address {
            address_line1: optional_text(self.address_line1, &at(base, "addressLine1"))?,
            address_line2: optional_text(self.address_line2, &at(base, "addressLine2"))?,
            city: optional_text(self.city, &at(base, "city"))?,
            state: optional_text(self.state, &at(base, "state"))?,
            postal_code: optional_text(self.postal_code, &at(base, "postalCode"))?,
            country: optional(
                self.country,
                &at(base, "country"),
                "an ISO 3166-1 alpha-2 country code",
                validate::country,
            )?,
        })
    }
}

/// A person to contact.
#[derive(InputObject, Default)]
pub struct ContactInput {
    /// The person's first name; blank means none. Text of at most 256 characters.
    pub first_name: Option<String>,
    /// The person's last name; blank means none. Text of at most 256 characters.
    pub last_name: Option<String>,
    /// The person's email address; blank means none.
    pub email: Option<String>,
    /// The person's phone number, as free text; blank means none. At most 256 characters.
    pub phone_number: Option<String>,
}

impl ContactInput {
    fn into_domain(self, base: &[&str]) -> Result<domain::Contact> {
        Ok(domain::Contact {
            first_name: optional_text(self.first_name, &at(base, "firstName"))?,
            last_name: optional_text(self.last_name, &at(base, "lastName"))?,
            email: optional(
                self.email,
                &at(base, "email"),
                "an email address",
                validate::email,
            )?,
            phone_number: optional_text(self.phone_number, &at(base, "phoneNumber"))?,
        })
    }

    /// A contact with first name, last name and email all present.
    fn into_complete(self, base: &[&str]) -> Result<domain::Contact> {
        let contact = self.into_domain(base)?;
        for (field, value) in [
            ("firstName", &contact.first_name),
            ("lastName", &contact.last_name),
            ("email", &contact.email),
        ] {
            if value.is_none() {
                return Err(Error::bad_input(
                    &at(base, field),
                    format!("`{field}` is required"),
                ));
            }
        }
        Ok(contact)
    }
}

/// A customer's billing profile. Missing parts are allowed here; ELIG-4 reports them.
#[derive(InputObject, Default)]
pub struct BillingProfileInput {
    /// The customer's registered legal name (ELIG-4); blank means none. Text of at most 256 characters.
    pub legal_name: Option<String>,
    /// The customer's tax id (ELIG-4); blank means none. Text of at most 256 characters.
    pub tax_id: Option<String>,
    /// The company registration number (ELIG-4); blank means none. Text of at most 256 characters.
    pub registration_number: Option<String>,
    /// The billing email address; blank means none.
    pub email: Option<String>,
    /// The billing address (ELIG-4 needs line 1, city, state, postal code and country); left out means empty.
    pub default_address: Option<AddressInput>,
}

impl BillingProfileInput {
    fn into_domain(self, base: &[&str]) -> Result<domain::BillingProfile> {
        Ok(domain::BillingProfile {
            legal_name: optional_text(self.legal_name, &at(base, "legalName"))?,
            tax_id: optional_text(self.tax_id, &at(base, "taxId"))?,
            registration_number: optional_text(
                self.registration_number,
                &at(base, "registrationNumber"),
            )?,
            email: optional(
                self.email,
                &at(base, "email"),
                "an email address",
                validate::email,
            )?,
            address: self
                .default_address
                .unwrap_or_default()
                .into_domain(&at(base, "defaultAddress"))?,
        })
    }
}

const INPUT: &[&str] = &["input"];

/// A new CSP partner, added by a programme admin.
#[derive(InputObject)]
pub struct CreatePartnerInput {
    /// The partner's Microsoft Entra tenant id (a GUID).
    pub tenant_id: String,
    /// The partner's primary domain, e.g. `contoso.com` (stored in lower case).
    pub domain: String,
    /// The partner's company name: non-empty text of at most 256 characters.
    pub company_name: String,
    /// The partner's CSP type: `DIRECT_BILL`, `INDIRECT_RESELLER` or `INDIRECT_PROVIDER`.
    pub partner_type: PartnerType,
    /// The partner's PartnerID (MPN id).
    pub mpn_id: Option<String>,
    /// The partner's postal address; left out means empty.
    pub default_address: Option<AddressInput>,
    /// The partner's main contact person; left out means none.
    pub primary_contact: Option<ContactInput>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

impl CreatePartnerInput {
    pub fn into_new(self) -> Result<NewPartner> {
        Ok(NewPartner {
            tenant_id: tenant_id(&self.tenant_id, &at(INPUT, "tenantId"))?,
            company_name: text(&self.company_name, &at(INPUT, "companyName"))?,
            domain: domain_name(&self.domain, &at(INPUT, "domain"))?,
            partner_type: self.partner_type,
            mpn_id: optional_text(self.mpn_id, &at(INPUT, "mpnId"))?,
            default_address: self
                .default_address
                .unwrap_or_default()
                .into_domain(&at(INPUT, "defaultAddress"))?,
            primary_contact: self
                .primary_contact
                .unwrap_or_default()
                .into_domain(&at(INPUT, "primaryContact"))?,
        })
    }
}

/// Fields left out are not changed.
#[derive(InputObject)]
pub struct UpdatePartnerInput {
    /// The id of the partner to change.
    pub id: ID,
    /// The new company name: non-empty text of at most 256 characters.
    pub company_name: Option<String>,
    /// The new primary domain, e.g. `contoso.com`.
    pub domain: Option<String>,
    /// The new PartnerID (MPN id): non-empty text of at most 256 characters.
    pub mpn_id: Option<String>,
    /// Replaces the whole address.
    pub default_address: Option<AddressInput>,
    /// Replaces the whole contact.
    pub primary_contact: Option<ContactInput>,
    /// A change of partner type (AUTH-1: refused with `REAPPLY_BLOCKED` for a
    /// demoted partner within a year).
    pub partner_type: Option<PartnerType>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

impl UpdatePartnerInput {
    pub fn into_changes(self) -> Result<(ObjectId, PartnerChanges)> {
        let id = id(&self.id, &at(INPUT, "id"), IdKind::Partner)?;
        Ok((
            id,
            PartnerChanges {
                company_name: self
                    .company_name
                    .map(|v| text(&v, &at(INPUT, "companyName")))
                    .transpose()?,
                domain: self
                    .domain
                    .map(|v| domain_name(&v, &at(INPUT, "domain")))
                    .transpose()?,
                mpn_id: self
                    .mpn_id
                    .map(|v| text(&v, &at(INPUT, "mpnId")))
                    .transpose()?,
                default_address: self
                    .default_address
                    .map(|a| a.into_domain(&at(INPUT, "defaultAddress")))
                    .transpose()?,
                primary_contact: self
                    .primary_contact
                    .map(|c| c.into_domain(&at(INPUT, "primaryContact")))
                    .transpose()?,
                partner_type: self.partner_type,
            },
        ))
    }
}

/// An indirect reseller and the indirect provider it works through (§1).
#[derive(InputObject)]
pub struct LinkIndirectResellerInput {
    /// An `INDIRECT_RESELLER` partner.
    pub reseller_id: ID,
    /// An `INDIRECT_PROVIDER` partner.
    pub provider_id: ID,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

impl LinkIndirectResellerInput {
    pub fn ids(&self) -> Result<(ObjectId, ObjectId)> {
        Ok((
            id(&self.reseller_id, &at(INPUT, "resellerId"), IdKind::Partner)?,
            id(&self.provider_id, &at(INPUT, "providerId"), IdKind::Partner)?,
        ))
    }
}

/// The caller's partner's signature of the Microsoft Partner Agreement (AGR-1).
#[derive(InputObject)]
pub struct SignPartnerAgreementInput {
    /// The name of the person who signed the MPA: non-empty text of at most 256 characters.
    pub signer_name: String,
    /// The email address of the person who signed the MPA.
    pub signer_email: String,
    /// Defaults to today in the programme time zone.
    pub date_agreed: Option<Date>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

impl SignPartnerAgreementInput {
    pub fn checked(self) -> Result<(String, String, Option<chrono::NaiveDate>)> {
        Ok((
            text(&self.signer_name, &at(INPUT, "signerName"))?,
            email(&self.signer_email, &at(INPUT, "signerEmail"))?,
            self.date_agreed.map(|d| d.0),
        ))
    }
}

/// A new customer. Created by a partner admin, it comes with an active reseller
/// relationship to the caller's partner; created by a programme admin, with none.
#[derive(InputObject)]
pub struct CreateCustomerInput {
    /// The customer's Microsoft Entra tenant id (a GUID).
    pub tenant_id: String,
    /// The customer's primary domain.
    pub domain: String,
    /// The customer's company name: non-empty text of at most 256 characters.
    pub company_name: String,
    /// ISO 3166-1 alpha-2, e.g. `US`.
    pub country: String,
    /// The customer's segment; ACO is for `SMB` customers (ELIG-2).
    pub segment: CustomerSegment,
    /// The kind of organisation; ACO is for `COMMERCIAL` customers (ELIG-3).
    pub organization_kind: OrganizationKind,
    /// The customer's billing profile; left out means empty (ELIG-4 reports what is missing).
    pub billing_profile: Option<BillingProfileInput>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

impl CreateCustomerInput {
    pub fn into_new(self) -> Result<NewCustomer> {
        Ok(NewCustomer {
            tenant_id: tenant_id(&self.tenant_id, &at(INPUT, "tenantId"))?,
            domain: domain_name(&self.domain, &at(INPUT, "domain"))?,
            company_name: text(&self.company_name, &at(INPUT, "companyName"))?,
            country: country(&self.country, &at(INPUT, "country"))?,
            segment: self.segment,
            organization_kind: self.organization_kind,
            billing_profile: self
                .billing_profile
                .unwrap_or_default()
                .into_domain(&at(INPUT, "billingProfile"))?,
        })
    }
}

/// Fields left out are not changed. The tenant id is not changed here.
#[derive(InputObject)]
pub struct UpdateCustomerInput {
    /// The id of the customer to change.
    pub id: ID,
    /// The new primary domain, e.g. `contoso.com`.
    pub domain: Option<String>,
    /// The new company name: non-empty text of at most 256 characters.
    pub company_name: Option<String>,
    /// The new country: ISO 3166-1 alpha-2, e.g. `US` (ELIG-1).
    pub country: Option<String>,
    /// The new segment (ELIG-2).
    pub segment: Option<CustomerSegment>,
    /// The new kind of organisation (ELIG-3).
    pub organization_kind: Option<OrganizationKind>,
    /// Replaces the whole billing profile.
    pub billing_profile: Option<BillingProfileInput>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

impl UpdateCustomerInput {
    pub fn into_changes(self) -> Result<(ObjectId, CustomerChanges)> {
        let id = id(&self.id, &at(INPUT, "id"), IdKind::Customer)?;
        Ok((
            id,
            CustomerChanges {
                domain: self
                    .domain
                    .map(|v| domain_name(&v, &at(INPUT, "domain")))
                    .transpose()?,
                company_name: self
                    .company_name
                    .map(|v| text(&v, &at(INPUT, "companyName")))
                    .transpose()?,
                country: self
                    .country
                    .map(|v| country(&v, &at(INPUT, "country")))
                    .transpose()?,
                segment: self.segment,
                organization_kind: self.organization_kind,
                billing_profile: self
                    .billing_profile
                    .map(|b| b.into_domain(&at(INPUT, "billingProfile")))
                    .transpose()?,
            },
        ))
    }
}

/// A customer's acceptance of the Microsoft Customer Agreement (AGR-2).
#[derive(InputObject)]
pub struct RecordCustomerAgreementInput {
    /// The id of the customer that accepted the MCA.
    pub customer_id: ID,
    /// The day the customer accepted the MCA.
    pub date_agreed: Date,
    /// Who accepted for the customer: first name, last name and email are required.
    pub primary_contact: ContactInput,
    /// How the acceptance was made (AGR-2); a customer signer may record only `CUSTOMER_ACCEPTED`.
    pub acceptance_method: AcceptanceMethod,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

impl RecordCustomerAgreementInput {
    pub fn into_new(self) -> Result<(ObjectId, NewCustomerAgreement)> {
        Ok((
            id(
                &self.customer_id,
                &at(INPUT, "customerId"),
                IdKind::Customer,
            )?,
            NewCustomerAgreement {
                date_agreed: self.date_agreed.0,
                primary_contact: self
                    .primary_contact
                    .into_complete(&at(INPUT, "primaryContact"))?,
                acceptance_method: self.acceptance_method,
            },
        ))
    }
}

/// The caller's partner's confirmation of a customer's MCA acceptance (AGR-2, ELIG-7).
#[derive(InputObject)]
pub struct ConfirmCustomerAgreementInput {
    /// The id of the customer whose recorded MCA acceptance is confirmed.
    pub customer_id: ID,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// A partner's request for a reseller relationship with a customer.
#[derive(InputObject)]
pub struct RequestResellerRelationshipInput {
    /// The tenant id of the customer, as the customer gave it to the partner.
    pub customer_tenant_id: String,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

impl RequestResellerRelationshipInput {
    pub fn tenant(&self) -> Result<String> {
        tenant_id(&self.customer_tenant_id, &at(INPUT, "customerTenantId"))
    }
}

#[derive(InputObject)]
pub struct AcceptResellerRelationshipInput {
    pub relationship_id: ID,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

/// The end of a pending or active reseller relationship.
#[derive(InputObject)]
pub struct RevokeResellerRelationshipInput {
    /// The id of the reseller relationship to end.
    pub relationship_id: ID,
    /// Why the relationship ends, kept with it; blank means none. Text of at most 256 characters.
    pub reason: Option<String>,
    /// Any text; echoed back in the payload's `clientMutationId`, to match answers to calls.
    pub client_mutation_id: Option<String>,
}

impl RevokeResellerRelationshipInput {
    pub fn checked(self) -> Result<(ObjectId, Option<String>)> {
        Ok((
            id(
                &self.relationship_id,
                &at(INPUT, "relationshipId"),
                IdKind::ResellerRelationship,
            )?,
            optional(
                self.reason,
                &at(INPUT, "reason"),
                "text of at most 256 characters",
                validate::text,
            )?,
        ))
    }
}

/// Checks an id field of an input: `input.<field>`.
pub fn input_id(value: &ID, field: &str, kind: IdKind) -> Result<ObjectId> {
    id(value, &at(INPUT, field), kind)
}
