//! Customers and their Microsoft Customer Agreement acceptance (AGR-2).

use chrono::{DateTime, NaiveDate, Utc};

use super::columns::{Date, Instant, instant};
use std::borrow::Cow;

use super::among::{Among, AmongIds};
use super::pagination::{Filter, Page, PageArgs, find_one, page, text};
use super::{Row, Tx};
use crate::domain::ids::ObjectId;
use crate::domain::{
    AcceptanceMethod, Address, BillingProfile, Contact, CustomerSegment, OrganizationKind,
};
use crate::error::Result;

/// A stored customer.
#[derive(Debug, Clone)]
pub struct CustomerRow {
    pub id: ObjectId,
    /// The name's sort key as stored (`search::name_key`); `None` for a row
    /// written without one, until `aco-api migrate` or the sweep indexes it.
    pub name_key: Option<String>,
    pub tenant_id: String,
    pub domain: String,
    pub company_name: String,
    pub country: String,
    pub segment: CustomerSegment,
    pub organization_kind: OrganizationKind,
    pub billing_profile: BillingProfile,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "c.id, c.tenant_id, c.domain, c.company_name, c.country, c.segment, \
    c.organization_kind, c.billing_legal_name, c.billing_tax_id, c.billing_registration_number, \
    c.billing_email, c.billing_line1, c.billing_line2, c.billing_city, c.billing_state, \
    c.billing_postal_code, c.billing_country, c.version, c.created_at, c.updated_at, c.name_key";

/// Reads a row of [`COLUMNS`], on either engine.
fn read(r: &Row<'_>) -> Result<CustomerRow> {
    Ok(CustomerRow {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        domain: r.get(2)?,
        company_name: r.get(3)?,
        country: r.get(4)?,
        segment: r.get(5)?,
        organization_kind: r.get(6)?,
        billing_profile: BillingProfile {
            legal_name: r.get(7)?,
            tax_id: r.get(8)?,
            registration_number: r.get(9)?,
            email: r.get(10)?,
            address: Address {
                address_line1: r.get(11)?,
                address_line2: r.get(12)?,
                city: r.get(13)?,
                state: r.get(14)?,
                postal_code: r.get(15)?,
                country: r.get(16)?,
            },
        },
        version: r.get(17)?,
        created_at: r.get::<Instant>(18)?.0,
        updated_at: r.get::<Instant>(19)?.0,
        name_key: r.get(20)?,
    })
}

pub fn get(tx: &Tx<'_>, id: &ObjectId) -> Result<Option<CustomerRow>> {
    tx.row(
        &format!("SELECT {COLUMNS} FROM customers c WHERE c.id = ?1"),
        &[id],
        read,
    )
}

pub fn by_tenant(tx: &Tx<'_>, tenant_id: &str) -> Result<Option<CustomerRow>> {
    tx.row(
        &format!("SELECT {COLUMNS} FROM customers c WHERE c.tenant_id = ?1"),
        &[&tenant_id],
        read,
    )
}

/// Which customers a caller may see: what `authz::customer_scope` decides,
/// turned into SQL here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerScope {
    All,
    /// The customers a partner has an active relationship with.
    RelatedTo(ObjectId),
    /// One customer (its signer's view).
    Only(ObjectId),
}

impl CustomerScope {
    /// The condition on customers (alias `c`).
    pub(crate) fn filter(&self) -> Filter {
        match self {
            CustomerScope::All => Filter::new(),
            // EXISTS per row uses the (customer_id, status) index: cheap for one
            // customer and for a page, whatever the partner's size.
            CustomerScope::RelatedTo(partner) => Filter::new().and(
                "EXISTS (SELECT 1 FROM reseller_relationships rr \
                 WHERE rr.customer_id = c.id AND rr.partner_id = ? AND rr.status = 'ACTIVE')",
                [text(partner.as_str())],
            ),
            CustomerScope::Only(id) => Filter::new().and("c.id = ?", [text(id.as_str())]),
        }
    }
}

/// What narrows a list of customers besides its scope.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// ISO 3166 alpha-2, any case.
    pub country: Option<String>,
    pub segment: Option<CustomerSegment>,
    /// Only customers a word of whose name starts with each word of the
    /// search, or whose domain or tenant id it is.
    pub search: Option<super::search::Search>,
}

/// The sort expression of the order by name (alias `c`).
pub const BY_NAME: &str = "c.name_key";

/// The customer with this id, if it is in `scope`.
pub fn find_in(tx: &Tx<'_>, scope: &CustomerScope, id: &ObjectId) -> Result<Option<CustomerRow>> {
    let filter = scope.filter().and("c.id = ?", [text(id.as_str())]);
    find_one(tx, COLUMNS, "customers c", &filter, read)
}

/// A page of the customers in `scope` that `filter` lets through, by id.
pub fn page_of(
    tx: &Tx<'_>,
    scope: &CustomerScope,
    filter: &CustomerFilter,
    args: &PageArgs,
) -> Result<Page<CustomerRow>> {
    let mut sql = scope.filter();
    if let Some(country) = &filter.country {
        sql = sql.and("c.country = ?", [text(country.to_ascii_uppercase())]);
    }
    if let Some(segment) = filter.segment {
        sql = sql.and("c.segment = ?", [text(segment.as_str())]);
    }
    if let Some(search) = &filter.search {
        sql = sql.and_filter(&search.filter(super::search::Kind::Customer, "c.id"));
    }
    page(tx, COLUMNS, "customers c", "c.id", &sql, args, read)
}

/// A page of the customers with an active relationship with `partner` that
/// are in `scope`, read in order from the partner's range of the
/// `(partner_id, status, customer_id)` index: a page costs the same for a
/// partner with five customers or with a hundred thousand.
pub fn list_of_partner(
    tx: &Tx<'_>,
    partner: &ObjectId,
    scope: &CustomerScope,
    search: Option<&super::search::Search>,
    args: &PageArgs,
) -> Result<Page<CustomerRow>> {
    let mut filter = Filter::new()
        .and(
            "rr.partner_id = ? AND rr.status = 'ACTIVE'",
            [text(partner.as_str())],
        )
        .and_filter(&scope.filter());
    if let Some(search) = search {
        filter = filter.and_filter(&search.filter(super::search::Kind::Customer, "c.id"));
    }
    page(
        tx,
        COLUMNS,
        PARTNER_CUSTOMERS,
        "rr.customer_id",
        &filter,
        args,
        read,
    )
}

/// What [`list_of_partner`] reads: one live relationship per partner and
/// customer (the `reseller_relationships_live` index), so one row per customer.
pub(crate) const PARTNER_CUSTOMERS: &str = "reseller_relationships rr \
     INDEXED BY reseller_relationships_partner JOIN customers c ON c.id = rr.customer_id";

fn billing_params(b: &BillingProfile) -> [&Option<String>; 10] {
    [
        &b.legal_name,
        &b.tax_id,
        &b.registration_number,
        &b.email,
        &b.address.address_line1,
        &b.address.address_line2,
        &b.address.city,
        &b.address.state,
        &b.address.postal_code,
        &b.address.country,
    ]
}

pub fn insert(tx: &Tx<'_>, c: &CustomerRow) -> Result<()> {
    let b = billing_params(&c.billing_profile);
    tx.exec(
        "INSERT INTO customers (id, tenant_id, domain, company_name, country, segment, organization_kind, \
            billing_legal_name, billing_tax_id, billing_registration_number, billing_email, billing_line1, \
            billing_line2, billing_city, billing_state, billing_postal_code, billing_country, \
            version, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        &[
            &c.id,
            &c.tenant_id,
            &c.domain,
            &c.company_name,
            &c.country,
            &c.segment,
            &c.organization_kind,
            b[0],
            b[1],
            b[2],
            b[3],
            b[4],
            b[5],
            b[6],
            b[7],
            b[8],
            b[9],
            &c.version,
            &instant(c.created_at),
            &instant(c.updated_at),
        ],
    )?;
    super::search::index(
        tx,
        super::search::Kind::Customer,
        &c.id,
        &c.company_name,
        &c.domain,
        &c.tenant_id,
    )
}

/// Writes the editable fields of `c` and bumps its version.
pub fn update(tx: &Tx<'_>, c: &CustomerRow) -> Result<()> {
    let b = billing_params(&c.billing_profile);
    tx.exec(
        "UPDATE customers SET domain = ?2, company_name = ?3, country = ?4, segment = ?5, \
            organization_kind = ?6, billing_legal_name = ?7, billing_tax_id = ?8, \
            billing_registration_number = ?9, billing_email = ?10, billing_line1 = ?11, \
            billing_line2 = ?12, billing_city = ?13, billing_state = ?14, billing_postal_code = ?15, \
            billing_country = ?16, version = version + 1, updated_at = ?17 \
         WHERE id = ?1",
        &[
            &c.id,
            &c.domain,
            &c.company_name,
            &c.country,
            &c.segment,
            &c.organization_kind,
            b[0],
            b[1],
            b[2],
            b[3],
            b[4],
            b[5],
            b[6],
            b[7],
            b[8],
            b[9],
            &instant(c.updated_at),
        ],
    )?;
    super::search::index(
        tx,
        super::search::Kind::Customer,
        &c.id,
        &c.company_name,
        &c.domain,
        &c.tenant_id,
    )
}

/// AGR-2: a record of the customer's acceptance of the MCA.
#[derive(Debug, Clone)]
pub struct CustomerAgreementRow {
    pub id: ObjectId,
    pub customer_id: ObjectId,
    pub date_agreed: NaiveDate,
    pub primary_contact: Contact,
    pub acceptance_method: AcceptanceMethod,
    pub recorded_by_partner: Option<ObjectId>,
    pub recorded_at: DateTime<Utc>,
}

const AGREEMENT_COLUMNS: &str = "id, customer_id, date_agreed, contact_first_name, contact_last_name, \
    contact_email, contact_phone, acceptance_method, recorded_by_partner, recorded_at";

fn read_agreement(r: &Row<'_>) -> Result<CustomerAgreementRow> {
    Ok(CustomerAgreementRow {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        date_agreed: r.get::<Date>(2)?.0,
        primary_contact: Contact {
            first_name: r.get(3)?,
            last_name: r.get(4)?,
            email: r.get(5)?,
            phone_number: r.get(6)?,
        },
        acceptance_method: r.get(7)?,
        recorded_by_partner: r.get(8)?,
        recorded_at: r.get::<Instant>(9)?.0,
    })
}

/// The newest MCA acceptance of the customer: the one that counts.
pub fn current_agreement(tx: &Tx<'_>, customer: &ObjectId) -> Result<Option<CustomerAgreementRow>> {
    tx.row(
        &format!(
            "SELECT {AGREEMENT_COLUMNS} FROM customer_agreements \
             WHERE customer_id = ?1 ORDER BY id DESC LIMIT 1"
        ),
        &[customer],
        read_agreement,
    )
}

/// One MCA acceptance record by id (not scoped: check the customer).
pub fn agreement(tx: &Tx<'_>, id: &ObjectId) -> Result<Option<CustomerAgreementRow>> {
    tx.row(
        &format!("SELECT {AGREEMENT_COLUMNS} FROM customer_agreements WHERE id = ?1"),
        &[id],
        read_agreement,
    )
}

pub fn insert_agreement(tx: &Tx<'_>, a: &CustomerAgreementRow, recorded_by: &str) -> Result<()> {
    tx.exec(
        "INSERT INTO customer_agreements (id, customer_id, date_agreed, contact_first_name, \
            contact_last_name, contact_email, contact_phone, acceptance_method, recorded_by_partner, \
            recorded_at, recorded_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        &[
            &a.id,
            &a.customer_id,
            &a.date_agreed.to_string(),
            &a.primary_contact.first_name,
            &a.primary_contact.last_name,
            &a.primary_contact.email,
            &a.primary_contact.phone_number,
            &a.acceptance_method,
            &a.recorded_by_partner,
            &instant(a.recorded_at),
            &recorded_by,
        ],
    )?;
    Ok(())
}

/// ELIG-7: a partner's confirmation of the customer's MCA acceptance.
#[derive(Debug, Clone)]
pub struct McaConfirmationRow {
    pub partner_id: ObjectId,
    pub agreement_id: ObjectId,
    pub confirmed_at: DateTime<Utc>,
}

/// Confirms (or re-confirms, against a newer acceptance) for `partner`.
pub fn confirm(
    tx: &Tx<'_>,
    customer: &ObjectId,
    confirmation: &McaConfirmationRow,
    confirmed_by: &str,
) -> Result<()> {
    tx.exec(
        "INSERT INTO mca_confirmations (customer_id, partner_id, agreement_id, confirmed_at, confirmed_by) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (customer_id, partner_id) DO UPDATE SET agreement_id = excluded.agreement_id, \
            confirmed_at = excluded.confirmed_at, confirmed_by = excluded.confirmed_by",
        &[
            &customer,
            &confirmation.partner_id,
            &confirmation.agreement_id,
            &instant(confirmation.confirmed_at),
            &confirmed_by,
        ],
    )?;
    Ok(())
}

/// The confirmations of the customer's MCA acceptance, one per partner.
pub fn confirmations(tx: &Tx<'_>, customer: &ObjectId) -> Result<Vec<McaConfirmationRow>> {
    tx.rows(
        "SELECT partner_id, agreement_id, confirmed_at FROM mca_confirmations \
         WHERE customer_id = ?1 ORDER BY partner_id",
        &[customer],
        |r| {
            Ok(McaConfirmationRow {
                partner_id: r.get(0)?,
                agreement_id: r.get(1)?,
                confirmed_at: r.get::<Instant>(2)?.0,
            })
        },
    )
}

/// The customers with these ids that are in `scope`: a lookup for
/// [`Tx::together`].
pub fn every_among<'a>(
    tx: &Tx<'_>,
    ids: &'a [&'a str],
    scope: &CustomerScope,
) -> AmongIds<'a, CustomerRow> {
    Among::new(
        tx,
        COLUMNS,
        "customers c",
        "c.id",
        ids,
        Cow::Owned(scope.filter()),
        read,
    )
}

/// The id and company name of the customers with these ids that are in
/// `scope`: a lookup for [`Tx::together`].
pub fn named_among<'a>(
    tx: &Tx<'_>,
    ids: &'a [&'a str],
    scope: &CustomerScope,
) -> AmongIds<'a, super::NamedRow> {
    Among::new(
        tx,
        "c.id, c.company_name",
        "customers c",
        "c.id",
        ids,
        Cow::Owned(scope.filter()),
        super::NamedRow::map,
    )
}

/// Makes two use cases that read several rows of the customer's and write
/// others conflict (see `guard::claim`).
pub fn claim(tx: &Tx<'_>, id: &ObjectId) -> Result<()> {
    super::guard::claim(tx, "customers", id)
}
