//! Partners, their indirect links and their Microsoft Partner Agreement (AGR-1).

use chrono::{DateTime, NaiveDate, Utc};

use super::columns::{Date, Instant, instant};
use std::borrow::Cow;

use super::among::{Among, AmongIds};
use super::pagination::{Filter, Page, PageArgs, find_one, page, text};
use super::{Param, Row, Tx};
use crate::domain::ids::ObjectId;
use crate::domain::{Address, Contact, PartnerType};
use crate::error::Result;

/// A stored partner.
#[derive(Debug, Clone)]
pub struct PartnerRow {
    pub id: ObjectId,
    /// The name's sort key as stored (`search::name_key`); `None` for a row
    /// written without one, until `aco-api migrate` or the sweep indexes it.
    pub name_key: Option<String>,
    pub tenant_id: String,
    pub company_name: String,
    pub domain: String,
    pub partner_type: PartnerType,
    pub mpn_id: Option<String>,
    pub default_address: Address,
    pub primary_contact: Contact,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "p.id, p.tenant_id, p.company_name, p.domain, p.partner_type, p.mpn_id, \
    p.address_line1, p.address_line2, p.address_city, p.address_state, p.address_postal_code, \
    p.address_country, p.contact_first_name, p.contact_last_name, p.contact_email, p.contact_phone, \
    p.version, p.created_at, p.updated_at, p.name_key";

/// Reads a row of [`COLUMNS`], on either engine.
fn read(r: &Row<'_>) -> Result<PartnerRow> {
    Ok(PartnerRow {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        company_name: r.get(2)?,
        domain: r.get(3)?,
        partner_type: r.get(4)?,
        mpn_id: r.get(5)?,
        default_address: Address {
            address_line1: r.get(6)?,
            address_line2: r.get(7)?,
            city: r.get(8)?,
            state: r.get(9)?,
            postal_code: r.get(10)?,
            country: r.get(11)?,
        },
        primary_contact: Contact {
            first_name: r.get(12)?,
            last_name: r.get(13)?,
            email: r.get(14)?,
            phone_number: r.get(15)?,
        },
        version: r.get(16)?,
        created_at: r.get::<Instant>(17)?.0,
        updated_at: r.get::<Instant>(18)?.0,
        name_key: r.get(19)?,
    })
}

pub fn get(tx: &Tx<'_>, id: &ObjectId) -> Result<Option<PartnerRow>> {
    tx.row(
        &format!("SELECT {COLUMNS} FROM partners p WHERE p.id = ?1"),
        &[id],
        read,
    )
}

pub fn by_tenant(tx: &Tx<'_>, tenant_id: &str) -> Result<Option<PartnerRow>> {
    tx.row(
        &format!("SELECT {COLUMNS} FROM partners p WHERE p.tenant_id = ?1"),
        &[&tenant_id],
        read,
    )
}

/// Which partners a caller may see: what `authz::partner_scope` decides,
/// turned into SQL here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartnerScope {
    All,
    /// A partner itself and the partners linked to it (its providers, or its
    /// resellers).
    SelfAndLinked(ObjectId),
    /// The partners with a pending or active relationship with a customer.
    RelatedTo(ObjectId),
}

impl PartnerScope {
    /// The condition on partners (alias `p`).
    pub(crate) fn filter(&self) -> Filter {
        match self {
            PartnerScope::All => Filter::new(),
            PartnerScope::SelfAndLinked(id) => Filter::new().and(
                "p.id = ? OR p.id IN (SELECT provider_id FROM indirect_links WHERE reseller_id = ?) \
                 OR p.id IN (SELECT reseller_id FROM indirect_links WHERE provider_id = ?)",
                [text(id.as_str()), text(id.as_str()), text(id.as_str())],
            ),
            PartnerScope::RelatedTo(customer) => Filter::new().and(
                "p.id IN (SELECT partner_id FROM reseller_relationships \
                 WHERE customer_id = ? AND status IN ('PENDING', 'ACTIVE'))",
                [text(customer.as_str())],
            ),
        }
    }
}

/// What narrows a list of partners besides its scope.
#[derive(Debug, Clone, Default)]
pub struct PartnerFilter {
    pub partner_type: Option<PartnerType>,
    /// The indirect providers this reseller is linked to.
    pub providers_of: Option<ObjectId>,
    /// The indirect resellers linked to this provider.
    pub resellers_of: Option<ObjectId>,
    /// Only partners a word of whose name starts with each word of the
    /// search, or whose domain or tenant id it is.
    pub search: Option<super::search::Search>,
}

/// The sort expression of the order by name (alias `p`).
pub const BY_NAME: &str = "p.name_key";

/// The partner with this id, if it is in `scope`.
pub fn find_in(tx: &Tx<'_>, scope: &PartnerScope, id: &ObjectId) -> Result<Option<PartnerRow>> {
    let filter = scope.filter().and("p.id = ?", [text(id.as_str())]);
    find_one(tx, COLUMNS, "partners p", &filter, read)
}

/// A page of the partners in `scope` that `filter` lets through, by id.
pub fn page_of(
    tx: &Tx<'_>,
    scope: &PartnerScope,
    filter: &PartnerFilter,
    args: &PageArgs,
) -> Result<Page<PartnerRow>> {
    let mut sql = scope.filter();
    if let Some(t) = filter.partner_type {
        sql = sql.and("p.partner_type = ?", [text(t.as_str())]);
    }
    if let Some(reseller) = &filter.providers_of {
        sql = sql.and(
            "p.id IN (SELECT provider_id FROM indirect_links WHERE reseller_id = ?)",
            [text(reseller.as_str())],
        );
    }
    if let Some(provider) = &filter.resellers_of {
        sql = sql.and(
            "p.id IN (SELECT reseller_id FROM indirect_links WHERE provider_id = ?)",
            [text(provider.as_str())],
        );
    }
    if let Some(search) = &filter.search {
        sql = sql.and_filter(&search.filter(super::search::Kind::Partner, "p.id"));
    }
    page(tx, COLUMNS, "partners p", "p.id", &sql, args, read)
}

/// Whether there is any partner at all (an empty database).
pub fn any(tx: &Tx<'_>) -> Result<bool> {
    let any = tx.row("SELECT EXISTS (SELECT 1 FROM partners)", &[], |r| r.get(0))?;
    Ok(any == Some(true))
}

/// Whether any organisation (partner or customer) already uses this tenant id.
pub fn tenant_in_use(tx: &Tx<'_>, tenant_id: &str) -> Result<bool> {
    let in_use = tx.row(
        "SELECT EXISTS (SELECT 1 FROM partners WHERE tenant_id = ?1) \
         OR EXISTS (SELECT 1 FROM customers WHERE tenant_id = ?1)",
        &[&tenant_id],
        |r| r.get(0),
    )?;
    Ok(in_use == Some(true))
}

/// The columns a partner's owner may edit, in the order of [`editable`].
const EDITABLE: &str = "company_name, domain, mpn_id, address_line1, address_line2, address_city, \
    address_state, address_postal_code, address_country, contact_first_name, contact_last_name, \
    contact_email, contact_phone";

/// The values of [`EDITABLE`]: parameters `?1` to `?13` of both writes.
fn editable(p: &PartnerRow) -> [&dyn Param; 13] {
    [
        &p.company_name,
        &p.domain,
        &p.mpn_id,
        &p.default_address.address_line1,
        &p.default_address.address_line2,
        &p.default_address.city,
        &p.default_address.state,
        &p.default_address.postal_code,
        &p.default_address.country,
        &p.primary_contact.first_name,
        &p.primary_contact.last_name,
        &p.primary_contact.email,
        &p.primary_contact.phone_number,
    ]
}

pub fn insert(tx: &Tx<'_>, p: &PartnerRow) -> Result<()> {
    let (created_at, updated_at) = (instant(p.created_at), instant(p.updated_at));
    let mut params = editable(p).to_vec();
    params.extend([
        &p.id as &dyn Param,
        &p.tenant_id,
        &p.partner_type,
        &p.version,
        &created_at,
        &updated_at,
    ]);
    tx.exec(
        &format!(
            "INSERT INTO partners ({EDITABLE}, id, tenant_id, partner_type, version, created_at, \
                updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
                ?18, ?19)"
        ),
        &params,
    )?;
    super::search::index(
        tx,
        super::search::Kind::Partner,
        &p.id,
        &p.company_name,
        &p.domain,
        &p.tenant_id,
    )
}

/// Writes the editable fields of `p` and bumps its version.
pub fn update(tx: &Tx<'_>, p: &PartnerRow) -> Result<()> {
    let updated_at = instant(p.updated_at);
    let mut params = editable(p).to_vec();
    params.extend([&updated_at as &dyn Param, &p.id]);
    let set: Vec<String> = EDITABLE
        .split(',')
        .enumerate()
        .map(|(n, column)| format!("{} = ?{}", column.trim(), n + 1))
        .collect();
    tx.exec(
        &format!(
            "UPDATE partners SET {}, version = version + 1, updated_at = ?14 WHERE id = ?15",
            set.join(", ")
        ),
        &params,
    )?;
    super::search::index(
        tx,
        super::search::Kind::Partner,
        &p.id,
        &p.company_name,
        &p.domain,
        &p.tenant_id,
    )
}

/// Links an indirect reseller to an indirect provider; `false` if already linked.
pub fn link(
    tx: &Tx<'_>,
    reseller: &ObjectId,
    provider: &ObjectId,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = tx.exec(
        "INSERT INTO indirect_links (reseller_id, provider_id, linked_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT DO NOTHING",
        &[reseller, provider, &instant(now)],
    )?;
    Ok(n == 1)
}

/// The providers a reseller is linked to, or the resellers linked to a provider.
pub fn linked(tx: &Tx<'_>, partner: &PartnerRow) -> Result<Vec<ObjectId>> {
    let sql = match partner.partner_type {
        PartnerType::IndirectReseller => {
            "SELECT provider_id FROM indirect_links WHERE reseller_id = ?1 ORDER BY provider_id"
        }
        PartnerType::IndirectProvider => {
            "SELECT reseller_id FROM indirect_links WHERE provider_id = ?1 ORDER BY reseller_id"
        }
        PartnerType::DirectBill => return Ok(Vec::new()),
    };
    tx.rows(sql, &[&partner.id], |r| r.get(0))
}

/// AGR-1: the partner's signature of the Microsoft Partner Agreement.
#[derive(Debug, Clone)]
pub struct PartnerAgreementRow {
    pub signer_name: String,
    pub signer_email: String,
    pub date_agreed: NaiveDate,
    pub recorded_at: DateTime<Utc>,
}

/// The partner's latest MPA signature, if any.
pub fn partner_agreement(tx: &Tx<'_>, partner: &ObjectId) -> Result<Option<PartnerAgreementRow>> {
    tx.row(
        "SELECT signer_name, signer_email, date_agreed, recorded_at FROM partner_agreements \
         WHERE partner_id = ?1 ORDER BY id DESC LIMIT 1",
        &[partner],
        |r| {
            Ok(PartnerAgreementRow {
                signer_name: r.get(0)?,
                signer_email: r.get(1)?,
                date_agreed: r.get::<Date>(2)?.0,
                recorded_at: r.get::<Instant>(3)?.0,
            })
        },
    )
}

pub fn insert_partner_agreement(
    tx: &Tx<'_>,
    partner: &ObjectId,
    agreement: &PartnerAgreementRow,
    recorded_by: &str,
) -> Result<()> {
    let id = tx.history_id("partner_agreements", "partner_id", partner)?;
    tx.exec(
        "INSERT INTO partner_agreements (id, partner_id, signer_name, signer_email, date_agreed, \
            recorded_at, recorded_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            &id,
            partner,
            &agreement.signer_name,
            &agreement.signer_email,
            &agreement.date_agreed.to_string(),
            &instant(agreement.recorded_at),
            &recorded_by,
        ],
    )?;
    Ok(())
}

/// §8: what the partner's authorization requirements are judged on.
pub fn profile(tx: &Tx<'_>, partner: &ObjectId) -> Result<crate::domain::authorization::Profile> {
    use super::columns::Money;
    let profile = tx.row(
        "SELECT revenue_trailing_12m, mfa_all_admins, security_contact_email, support_plan, \
            indirect_reseller_since, prior_experience_assessed, capabilities_assessment_passed, \
            credit_check_passed, business_email FROM partners WHERE id = ?1",
        &[partner],
        |r| {
            Ok(crate::domain::authorization::Profile {
                revenue_trailing_12m: r.get::<Option<Money>>(0)?.map(|m| m.0),
                mfa_all_admins: r.get(1)?,
                security_contact_email: r.get(2)?,
                support_plan: r.get(3)?,
                indirect_reseller_since: r.get::<Option<Date>>(4)?.map(|d| d.0),
                prior_experience_assessed: r.get(5)?,
                capabilities_assessment_passed: r.get(6)?,
                credit_check_passed: r.get(7)?,
                business_email: r.get(8)?,
                ..Default::default()
            })
        },
    )?;
    let mut profile =
        profile.ok_or_else(|| crate::error::Error::Internal(format!("no partner {partner}")))?;
    profile.regional_revenue = tx.rows(
        "SELECT region, amount FROM partner_regional_revenue WHERE partner_id = ?1 ORDER BY region",
        &[partner],
        |r| Ok((r.get::<String>(0)?, r.get::<Money>(1)?.0)),
    )?;
    profile.designations = tx.rows(
        "SELECT designation FROM partner_designations WHERE partner_id = ?1 ORDER BY designation",
        &[partner],
        |r| r.get(0),
    )?;
    profile.mpa_signed = partner_agreement(tx, partner)?.is_some();
    Ok(profile)
}

/// Writes the profile (all of it: the caller merged the changes).
pub fn save_profile(
    tx: &Tx<'_>,
    partner: &ObjectId,
    p: &crate::domain::authorization::Profile,
    now: DateTime<Utc>,
) -> Result<()> {
    use super::columns::Money;
    tx.exec(
        "UPDATE partners SET revenue_trailing_12m = ?2, mfa_all_admins = ?3, security_contact_email = ?4, \
            support_plan = ?5, indirect_reseller_since = ?6, prior_experience_assessed = ?7, \
            capabilities_assessment_passed = ?8, credit_check_passed = ?9, business_email = ?10, \
            version = version + 1, updated_at = ?11 WHERE id = ?1",
        &[
            partner,
            &p.revenue_trailing_12m.map(Money),
            &p.mfa_all_admins,
            &p.security_contact_email,
            &p.support_plan,
            &p.indirect_reseller_since.map(|d| d.to_string()),
            &p.prior_experience_assessed,
            &p.capabilities_assessment_passed,
            &p.credit_check_passed,
            &p.business_email,
            &instant(now),
        ],
    )?;
    tx.exec(
        "DELETE FROM partner_regional_revenue WHERE partner_id = ?1",
        &[partner],
    )?;
    for (region, amount) in &p.regional_revenue {
        tx.exec(
            "INSERT INTO partner_regional_revenue (partner_id, region, amount) VALUES (?1, ?2, ?3)",
            &[partner, region, &Money(*amount)],
        )?;
    }
    tx.exec(
        "DELETE FROM partner_designations WHERE partner_id = ?1",
        &[partner],
    )?;
    for designation in &p.designations {
        tx.exec(
            "INSERT INTO partner_designations (partner_id, designation) VALUES (?1, ?2)",
            &[partner, designation],
        )?;
    }
    Ok(())
}

/// The partner's authorization dates: since when, and blocked from reapplying until when.
pub fn authorization_dates(
    tx: &Tx<'_>,
    partner: &ObjectId,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>)> {
    let dates = tx.row(
        "SELECT authorized_since, reapply_blocked_until FROM partners WHERE id = ?1",
        &[partner],
        |r| {
            Ok((
                r.get::<Option<Date>>(0)?.map(|d| d.0),
                r.get::<Option<Date>>(1)?.map(|d| d.0),
            ))
        },
    )?;
    dates.ok_or_else(|| crate::error::Error::Internal(format!("no partner {partner}")))
}

pub fn set_authorized_since(tx: &Tx<'_>, partner: &ObjectId, since: NaiveDate) -> Result<()> {
    tx.exec(
        "UPDATE partners SET authorized_since = ?2 WHERE id = ?1 AND authorized_since IS NULL",
        &[partner, &since.to_string()],
    )?;
    Ok(())
}

/// AUTH-1: a direct bill partner becomes an indirect reseller, blocked from reapplying until `blocked_until`.
pub fn demote(
    tx: &Tx<'_>,
    partner: &ObjectId,
    blocked_until: NaiveDate,
    since: NaiveDate,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.exec(
        "UPDATE partners SET partner_type = 'INDIRECT_RESELLER', reapply_blocked_until = ?2, \
            indirect_reseller_since = COALESCE(indirect_reseller_since, ?3), version = version + 1, updated_at = ?4 \
         WHERE id = ?1",
        &[
            partner,
            &blocked_until.to_string(),
            &since.to_string(),
            &instant(now),
        ],
    )?;
    Ok(())
}

pub fn set_type(
    tx: &Tx<'_>,
    partner: &ObjectId,
    partner_type: PartnerType,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.exec(
        "UPDATE partners SET partner_type = ?2, version = version + 1, updated_at = ?3 WHERE id = ?1",
        &[partner, &partner_type, &instant(now)],
    )?;
    Ok(())
}

/// A reassessment (AUTH-1).
#[derive(Debug, Clone)]
pub struct AssessmentRow {
    pub id: i64,
    pub partner_id: ObjectId,
    pub assessed_at: DateTime<Utc>,
    pub passed: bool,
    pub failed_requirements: Vec<String>,
    pub remediation_deadline: Option<NaiveDate>,
    pub outcome: Option<String>,
}

fn map_assessment(r: &Row<'_>) -> Result<AssessmentRow> {
    let failed: String = r.get(4)?;
    Ok(AssessmentRow {
        id: r.get(0)?,
        partner_id: r.get(1)?,
        assessed_at: r.get::<Instant>(2)?.0,
        passed: r.get(3)?,
        failed_requirements: serde_json::from_str(&failed).unwrap_or_default(),
        remediation_deadline: r.get::<Option<Date>>(5)?.map(|d| d.0),
        outcome: r.get(6)?,
    })
}

const ASSESSMENT_COLUMNS: &str =
    "id, partner_id, assessed_at, passed, failed_requirements, remediation_deadline, outcome";

pub fn insert_assessment(tx: &Tx<'_>, a: &AssessmentRow, by: &str) -> Result<()> {
    let id = tx.history_id("partner_assessments", "partner_id", &a.partner_id)?;
    tx.exec(
        "INSERT INTO partner_assessments (id, partner_id, assessed_at, assessed_by, passed, \
            failed_requirements, remediation_deadline) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            &id,
            &a.partner_id,
            &instant(a.assessed_at),
            &by,
            &a.passed,
            &serde_json::Value::from(a.failed_requirements.clone()).to_string(),
            &a.remediation_deadline.map(|d| d.to_string()),
        ],
    )?;
    Ok(())
}

/// The partner's latest reassessment.
pub fn latest_assessment(tx: &Tx<'_>, partner: &ObjectId) -> Result<Option<AssessmentRow>> {
    tx.row(
        &format!(
            "SELECT {ASSESSMENT_COLUMNS} FROM partner_assessments WHERE partner_id = ?1 \
             ORDER BY id DESC LIMIT 1"
        ),
        &[partner],
        map_assessment,
    )
}

/// Through the index of open remediation windows (migration 0004).
pub(crate) const REMEDIATION_OVERDUE: &str = "FROM partner_assessments INDEXED BY partner_assessments_open_by_deadline \
     WHERE outcome IS NULL AND remediation_deadline IS NOT NULL AND remediation_deadline < ?1 \
     ORDER BY id";

/// Open remediation windows that ended before `today`.
pub fn remediation_overdue(tx: &Tx<'_>, today: NaiveDate) -> Result<Vec<AssessmentRow>> {
    tx.rows(
        &format!("SELECT {ASSESSMENT_COLUMNS} {REMEDIATION_OVERDUE}"),
        &[&today.to_string()],
        map_assessment,
    )
}

/// Closes every open remediation window of the partner with `outcome`.
pub fn resolve_assessments(
    tx: &Tx<'_>,
    partner: &ObjectId,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.exec(
        "UPDATE partner_assessments SET outcome = ?2, resolved_at = ?3 \
         WHERE partner_id = ?1 AND outcome IS NULL AND remediation_deadline IS NOT NULL",
        &[partner, &outcome, &instant(now)],
    )?;
    Ok(())
}

/// The deadline of the partner's open remediation window, if one is open.
pub fn open_remediation(tx: &Tx<'_>, partner: &ObjectId) -> Result<Option<NaiveDate>> {
    Ok(tx
        .row(
            "SELECT remediation_deadline FROM partner_assessments \
             WHERE partner_id = ?1 AND outcome IS NULL AND remediation_deadline IS NOT NULL \
             ORDER BY id LIMIT 1",
            &[partner],
            |r| r.get::<Date>(0),
        )?
        .map(|d| d.0))
}

/// The partners with these ids that are in `scope`: a lookup for
/// [`Tx::together`].
pub fn every_among<'a>(
    tx: &Tx<'_>,
    ids: &'a [&'a str],
    scope: &PartnerScope,
) -> AmongIds<'a, PartnerRow> {
    Among::new(
        tx,
        COLUMNS,
        "partners p",
        "p.id",
        ids,
        Cow::Owned(scope.filter()),
        read,
    )
}

/// The id and company name of the partners with these ids that are in
/// `scope`: a lookup for [`Tx::together`].
pub fn named_among<'a>(
    tx: &Tx<'_>,
    ids: &'a [&'a str],
    scope: &PartnerScope,
) -> AmongIds<'a, super::NamedRow> {
    Among::new(
        tx,
        "p.id, p.company_name",
        "partners p",
        "p.id",
        ids,
        Cow::Owned(scope.filter()),
        super::NamedRow::map,
    )
}

/// Makes two use cases that read several rows of the partner's and write
/// others conflict (see `guard::claim`).
pub fn claim(tx: &Tx<'_>, id: &ObjectId) -> Result<()> {
    super::guard::claim(tx, "partners", id)
}
