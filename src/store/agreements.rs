//! ACO agreements (AGR-3…6) and the credit grants their signature creates (LEDGER-1).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::columns::{Instant, Money, instant};
use super::pagination::{Filter, Page, PageArgs, find_one, page, text};
use super::requests::RequestScope;
use super::{Row, Tx};
use crate::domain::ids::ObjectId;
use crate::domain::time::Month;
use crate::domain::{AgreementStatus, GrantStatus};
use crate::error::Result;

/// A stored ACO agreement.
#[derive(Debug, Clone)]
pub struct AcoAgreementRow {
    pub id: ObjectId,
    pub request_id: ObjectId,
    pub customer_id: ObjectId,
    pub status: AgreementStatus,
    pub signer_name: String,
    pub signer_email: String,
    pub credit_period_months: u32,
    pub aco_amount: Decimal,
    pub published_at: DateTime<Utc>,
    pub published_by: String,
    pub expires_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    pub signed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_reason: Option<String>,
}

const COLUMNS: &str = "a.id, a.request_id, a.customer_id, a.status, a.signer_name, a.signer_email, \
    a.credit_period_months, a.aco_amount, a.published_at, a.published_by, a.expires_at, a.signed_at, \
    a.signed_by, a.closed_at, a.closed_reason";

fn map(r: &Row<'_>) -> Result<AcoAgreementRow> {
    Ok(AcoAgreementRow {
        id: r.get(0)?,
        request_id: r.get(1)?,
        customer_id: r.get(2)?,
        status: r.get(3)?,
        signer_name: r.get(4)?,
        signer_email: r.get(5)?,
        credit_period_months: u32::try_from(r.get::<i64>(6)?).unwrap_or(0),
        aco_amount: r.get::<Money>(7)?.0,
        published_at: r.get::<Instant>(8)?.0,
        published_by: r.get(9)?,
        expires_at: r.get::<Instant>(10)?.0,
        signed_at: r.get::<Option<Instant>>(11)?.map(|i| i.0),
        signed_by: r.get(12)?,
        closed_at: r.get::<Option<Instant>>(13)?.map(|i| i.0),
        closed_reason: r.get(14)?,
    })
}

/// Which agreements and credit grants a caller may see: what
/// `authz::agreement_scope` decides, turned into SQL here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgreementScope {
    All,
    /// A customer's (its signer's view).
    OfCustomer(ObjectId),
    /// Those of the requests in this scope.
    OfRequests(RequestScope),
}

impl AgreementScope {
    /// The condition on the table of `alias` (agreements `a`, grants `g`),
    /// which has `customer_id` and `request_id`.
    pub(crate) fn filter(&self, alias: &str) -> Filter {
        match self {
            AgreementScope::All => Filter::new(),
            AgreementScope::OfCustomer(id) => {
                Filter::new().and(&format!("{alias}.customer_id = ?"), [text(id.as_str())])
            }
            // EXISTS on the request's primary key: cheap per row.
            AgreementScope::OfRequests(requests) => Filter::new().and_within(
                &format!(
                    "EXISTS (SELECT 1 FROM aco_requests q WHERE q.id = {alias}.request_id AND {{}})"
                ),
                &requests.filter(),
            ),
        }
    }
}

/// What narrows a list of agreements or grants besides its scope.
#[derive(Debug, Clone, Default)]
pub struct AgreementFilter {
    pub customer: Option<ObjectId>,
    pub request: Option<ObjectId>,
    pub status: Option<AgreementStatus>,
}

impl AgreementFilter {
    fn and(&self, mut sql: Filter, alias: &str) -> Filter {
        if let Some(c) = &self.customer {
            sql = sql.and(&format!("{alias}.customer_id = ?"), [text(c.as_str())]);
        }
        if let Some(r) = &self.request {
            sql = sql.and(&format!("{alias}.request_id = ?"), [text(r.as_str())]);
        }
        if let Some(status) = self.status {
            sql = sql.and(&format!("{alias}.status = ?"), [text(status.as_str())]);
        }
        sql
    }
}

/// The agreement with this id, if it is in `scope`.
pub fn find_in(
    tx: &Tx<'_>,
    scope: &AgreementScope,
    id: &ObjectId,
) -> Result<Option<AcoAgreementRow>> {
    let filter = scope.filter("a").and("a.id = ?", [text(id.as_str())]);
    find_one(tx, COLUMNS, "aco_agreements a", &filter, map)
}

/// A page of the agreements in `scope` that `filter` lets through, oldest first.
pub fn page_of(
    tx: &Tx<'_>,
    scope: &AgreementScope,
    filter: &AgreementFilter,
    args: &PageArgs,
) -> Result<Page<AcoAgreementRow>> {
    let sql = filter.and(scope.filter("a"), "a");
    page(tx, COLUMNS, "aco_agreements a", "a.id", &sql, args, map)
}

/// The request's published agreement, if any.
pub fn published_for(tx: &Tx<'_>, request: &ObjectId) -> Result<Option<AcoAgreementRow>> {
    let filter = Filter::new()
        .and("a.request_id = ?", [text(request.as_str())])
        .and("a.status = 'PUBLISHED'", []);
    find_one(tx, COLUMNS, "aco_agreements a", &filter, map)
}

/// Where [`overdue_published`] looks: the `(status, expires_at)` index. Left
/// to itself, SQLite walks every agreement in id order rather than sort the
/// few it finds, in the sweep's write (see BENCHMARKS.md, decision log).
pub(crate) const OVERDUE_PUBLISHED: &str = "FROM aco_agreements a INDEXED BY aco_agreements_expiry \
     WHERE a.status = 'PUBLISHED' AND a.expires_at <= ?1 ORDER BY a.id";

/// The first `limit` published agreements whose signing deadline has
/// passed (at its instant and after, as `sla::has_passed`), by id.
pub fn overdue_published(
    tx: &Tx<'_>,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<AcoAgreementRow>> {
    tx.rows(
        &format!("SELECT {COLUMNS} {OVERDUE_PUBLISHED} LIMIT ?2"),
        &[&instant(now), &i64::try_from(limit).unwrap_or(i64::MAX)],
        map,
    )
}

pub fn insert(tx: &Tx<'_>, a: &AcoAgreementRow) -> Result<()> {
    tx.exec(
        "INSERT INTO aco_agreements (id, request_id, customer_id, status, signer_name, signer_email, \
            credit_period_months, aco_amount, published_at, published_by, expires_at, signed_at, signed_by, \
            closed_at, closed_reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        &[
            &a.id,
            &a.request_id,
            &a.customer_id,
            &a.status,
            &a.signer_name,
            &a.signer_email,
            &i64::from(a.credit_period_months),
            &Money(a.aco_amount),
            &instant(a.published_at),
            &a.published_by,
            &instant(a.expires_at),
            &a.signed_at.map(instant),
            &a.signed_by,
            &a.closed_at.map(instant),
            &a.closed_reason,
        ],
    )?;
    keep_published(tx, a)
}

/// At most one published agreement per request, on PostgreSQL (SQLite's
/// partial unique index holds it there): a row in `published_agreements`
/// while one is published, removed when it closes.
const PUBLISHED: super::guard::Guard = super::guard::Guard {
    table: "published_agreements",
    columns: &["request_id", "agreement_id"],
    rule: "one published agreement per request",
};

fn keep_published(tx: &Tx<'_>, a: &AcoAgreementRow) -> Result<()> {
    PUBLISHED.keep(
        tx,
        &[&a.request_id],
        &a.id,
        a.status == AgreementStatus::Published,
    )
}

/// Moves a published agreement to its new status; `false` if it was no longer published.
pub fn close(tx: &Tx<'_>, a: &AcoAgreementRow) -> Result<bool> {
    let n = tx.exec(
        "UPDATE aco_agreements SET status = ?2, signed_at = ?3, signed_by = ?4, closed_at = ?5, \
            closed_reason = ?6 WHERE id = ?1 AND status = 'PUBLISHED'",
        &[
            &a.id,
            &a.status,
            &a.signed_at.map(instant),
            &a.signed_by,
            &a.closed_at.map(instant),
            &a.closed_reason,
        ],
    )?;
    if n == 1 {
        keep_published(tx, a)?;
    }
    Ok(n == 1)
}

/// LEDGER-1: a credit granted to a customer by a signed agreement.
#[derive(Debug, Clone)]
pub struct CreditGrantRow {
    pub id: ObjectId,
    pub customer_id: ObjectId,
    /// The transacting partner of its request: only its usage consumes the grant (LEDGER-2).
    pub partner_id: ObjectId,
    pub request_id: ObjectId,
    pub agreement_id: ObjectId,
    pub amount: Decimal,
    pub first_month: Month,
    pub last_month: Month,
    pub status: GrantStatus,
    pub granted_at: DateTime<Utc>,
}

const GRANT_COLUMNS: &str = "g.id, g.customer_id, g.request_id, g.agreement_id, g.amount, g.first_month, \
    g.last_month, g.status, g.granted_at, g.partner_id";

fn map_grant(r: &Row<'_>) -> Result<CreditGrantRow> {
    Ok(CreditGrantRow {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        request_id: r.get(2)?,
        agreement_id: r.get(3)?,
        amount: r.get::<Money>(4)?.0,
        first_month: r.get(5)?,
        last_month: r.get(6)?,
        status: r.get(7)?,
        granted_at: r.get::<Instant>(8)?.0,
        partner_id: r.get(9)?,
    })
}

pub fn insert_grant(tx: &Tx<'_>, g: &CreditGrantRow) -> Result<()> {
    tx.exec(
        "INSERT INTO credit_grants (id, customer_id, request_id, agreement_id, amount, first_month, \
            last_month, status, granted_at, partner_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        &[
            &g.id,
            &g.customer_id,
            &g.request_id,
            &g.agreement_id,
            &Money(g.amount),
            &g.first_month.to_string(),
            &g.last_month.to_string(),
            &g.status,
            &instant(g.granted_at),
            &g.partner_id,
        ],
    )?;
    Ok(())
}

/// The first grant in `scope` that `filter` lets through (a request has one).
pub fn find_grant(
    tx: &Tx<'_>,
    scope: &AgreementScope,
    filter: &AgreementFilter,
) -> Result<Option<CreditGrantRow>> {
    let sql = filter.and(scope.filter("g"), "g");
    find_one(tx, GRANT_COLUMNS, "credit_grants g", &sql, map_grant)
}

/// The grant with this id, if it is in `scope`.
pub fn find_grant_in(
    tx: &Tx<'_>,
    scope: &AgreementScope,
    id: &ObjectId,
) -> Result<Option<CreditGrantRow>> {
    let sql = scope.filter("g").and("g.id = ?", [text(id.as_str())]);
    find_one(tx, GRANT_COLUMNS, "credit_grants g", &sql, map_grant)
}

/// A page of the grants in `scope` that `filter` lets through, oldest first.
pub fn grant_page(
    tx: &Tx<'_>,
    scope: &AgreementScope,
    filter: &AgreementFilter,
    args: &PageArgs,
) -> Result<Page<CreditGrantRow>> {
    let sql = filter.and(scope.filter("g"), "g");
    page(
        tx,
        GRANT_COLUMNS,
        "credit_grants g",
        "g.id",
        &sql,
        args,
        map_grant,
    )
}

/// Every grant of the customer (unscoped: the ledger needs them all).
pub fn customer_grants(tx: &Tx<'_>, customer: &ObjectId) -> Result<Vec<CreditGrantRow>> {
    tx.rows(
        &format!(
            "SELECT {GRANT_COLUMNS} FROM credit_grants g WHERE g.customer_id = ?1 ORDER BY g.id"
        ),
        &[customer],
        map_grant,
    )
}

/// What settling a grant needs of it: its terms for the ledger, its status
/// and its request.
#[derive(Debug, Clone)]
pub struct GrantTerms {
    pub id: ObjectId,
    pub request_id: ObjectId,
    pub amount: Decimal,
    pub first_month: Month,
    pub last_month: Month,
    pub status: GrantStatus,
}

/// The customer's grants from the partner's requests, in the order of
/// `customer_grants`, with only what settling them needs.
pub fn partner_grant_terms(
    tx: &Tx<'_>,
    customer: &ObjectId,
    partner: &ObjectId,
) -> Result<Vec<GrantTerms>> {
    tx.rows(
        "SELECT id, request_id, amount, first_month, last_month, status FROM credit_grants \
         WHERE customer_id = ?1 AND partner_id = ?2 ORDER BY id",
        &[customer, partner],
        |r| {
            Ok(GrantTerms {
                id: r.get(0)?,
                request_id: r.get(1)?,
                amount: r.get::<Money>(2)?.0,
                first_month: r.get(3)?,
                last_month: r.get(4)?,
                status: r.get(5)?,
            })
        },
    )
}

pub fn set_grant_status(tx: &Tx<'_>, grant: &ObjectId, status: GrantStatus) -> Result<()> {
    tx.exec(
        "UPDATE credit_grants SET status = ?2 WHERE id = ?1",
        &[grant, &status],
    )?;
    Ok(())
}

/// A grant with the tenant ids of its transacting partner and its customer.
#[derive(Debug, Clone)]
pub struct GrantWithTenants {
    pub grant: CreditGrantRow,
    pub partner_tenant_id: String,
    pub customer_tenant_id: String,
}

/// Every grant in `scope` that began by `month`, with tenants.
pub fn grants_with_tenants(
    tx: &Tx<'_>,
    scope: &AgreementScope,
    month: Month,
) -> Result<Vec<GrantWithTenants>> {
    let filter = scope
        .filter("g")
        .and("g.first_month <= ?", [text(month.to_string())]);
    let sql = format!(
        "SELECT {GRANT_COLUMNS}, p.tenant_id, c.tenant_id FROM credit_grants g \
         JOIN partners p ON p.id = g.partner_id \
         JOIN customers c ON c.id = g.customer_id \
         WHERE {} ORDER BY g.customer_id, g.partner_id, g.id",
        filter.sql()
    );
    tx.rows(&sql, &filter.bound(), |r| {
        Ok(GrantWithTenants {
            grant: map_grant(r)?,
            partner_tenant_id: r.get(10)?,
            customer_tenant_id: r.get(11)?,
        })
    })
}
