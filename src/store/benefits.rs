//! Partner benefit credits (§7) and their usage.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::columns::{Date, Instant, Money, instant};
use super::pagination::{Filter, Page, PageArgs, find_one, page, text};
use super::{Row, Tx};
use crate::domain::ids::ObjectId;
use crate::domain::{BenefitCreditKind, BenefitPurpose};
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct BenefitCreditRow {
    pub id: ObjectId,
    pub partner_id: ObjectId,
    pub kind: BenefitCreditKind,
    pub purpose: BenefitPurpose,
    pub amount: Decimal,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub activated_at: Option<DateTime<Utc>>,
    pub assignee_email: Option<String>,
    pub assignee_name: Option<String>,
    pub reassignments: u32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "b.id, b.partner_id, b.kind, b.purpose, b.amount, b.starts_on, b.ends_on, b.activated_at, \
    b.assignee_email, b.assignee_name, b.reassignments, b.version, b.created_at";

fn map(r: &Row<'_>) -> Result<BenefitCreditRow> {
    Ok(BenefitCreditRow {
        id: r.get(0)?,
        partner_id: r.get(1)?,
        kind: r.get(2)?,
        purpose: r.get(3)?,
        amount: r.get::<Money>(4)?.0,
        starts_on: r.get::<Date>(5)?.0,
        ends_on: r.get::<Date>(6)?.0,
        activated_at: r.get::<Option<Instant>>(7)?.map(|i| i.0),
        assignee_email: r.get(8)?,
        assignee_name: r.get(9)?,
        reassignments: u32::try_from(r.get::<i64>(10)?).unwrap_or(u32::MAX),
        version: r.get(11)?,
        created_at: r.get::<Instant>(12)?.0,
    })
}

/// Which benefit credits a caller may see: what `authz::benefit_scope`
/// decides, turned into SQL here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BenefitScope {
    All,
    OfPartner(ObjectId),
    Nothing,
}

impl BenefitScope {
    /// The condition on credits (alias `b`).
    pub(crate) fn filter(&self) -> Filter {
        match self {
            BenefitScope::All => Filter::new(),
            BenefitScope::OfPartner(id) => {
                Filter::new().and("b.partner_id = ?", [text(id.as_str())])
            }
            BenefitScope::Nothing => Filter::new().nothing(),
        }
    }
}

/// The credit with this id, if it is in `scope`.
pub fn find_in(
    tx: &Tx<'_>,
    scope: &BenefitScope,
    id: &ObjectId,
) -> Result<Option<BenefitCreditRow>> {
    let filter = scope.filter().and("b.id = ?", [text(id.as_str())]);
    find_one(tx, COLUMNS, "benefit_credits b", &filter, map)
}

/// A page of the partner's credits in `scope`, by id.
pub fn page_of_partner(
    tx: &Tx<'_>,
    scope: &BenefitScope,
    partner: &ObjectId,
    args: &PageArgs,
) -> Result<Page<BenefitCreditRow>> {
    let filter = scope
        .filter()
        .and("b.partner_id = ?", [text(partner.as_str())]);
    page(tx, COLUMNS, "benefit_credits b", "b.id", &filter, args, map)
}

pub fn insert(tx: &Tx<'_>, b: &BenefitCreditRow, created_by: &str) -> Result<()> {
    tx.exec(
        "INSERT INTO benefit_credits (id, partner_id, kind, purpose, amount, starts_on, ends_on, activated_at, \
            assignee_email, assignee_name, reassignments, version, created_at, created_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        &[
            &b.id,
            &b.partner_id,
            &b.kind,
            &b.purpose,
            &Money(b.amount),
            &b.starts_on.to_string(),
            &b.ends_on.to_string(),
            &b.activated_at.map(instant),
            &b.assignee_email,
            &b.assignee_name,
            &i64::from(b.reassignments),
            &b.version,
            &instant(b.created_at),
            &created_by,
        ],
    )?;
    Ok(())
}

/// Writes a new assignment if the credit is still at `seen_version`.
pub fn assign(tx: &Tx<'_>, b: &BenefitCreditRow, seen_version: i64) -> Result<bool> {
    let n = tx.exec(
        "UPDATE benefit_credits SET ends_on = ?3, activated_at = ?4, assignee_email = ?5, assignee_name = ?6, \
            reassignments = ?7, version = version + 1 WHERE id = ?1 AND version = ?2",
        &[
            &b.id,
            &seen_version,
            &b.ends_on.to_string(),
            &b.activated_at.map(instant),
            &b.assignee_email,
            &b.assignee_name,
            &i64::from(b.reassignments),
        ],
    )?;
    Ok(n == 1)
}

/// Whether `email` holds another live credit of `kind` of the same partner on `today` (BEN-6).
pub fn holds_other(
    tx: &Tx<'_>,
    partner: &ObjectId,
    email: &str,
    kind: BenefitCreditKind,
    except: &ObjectId,
    today: NaiveDate,
) -> Result<bool> {
    let holds = tx.row(
        "SELECT EXISTS (SELECT 1 FROM benefit_credits WHERE partner_id = ?5 AND lower(assignee_email) = lower(?1) \
         AND kind = ?2 AND id <> ?3 AND ends_on >= ?4)",
        &[&email, &kind, except, &today.to_string(), partner],
        |r| r.get(0),
    )?;
    Ok(holds == Some(true))
}

/// What was used of a credit between two dates, inclusive.
pub fn used_between(
    tx: &Tx<'_>,
    credit: &ObjectId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Decimal> {
    let amounts = tx.rows(
        "SELECT amount FROM benefit_usage WHERE credit_id = ?1 AND used_on BETWEEN ?2 AND ?3",
        &[credit, &from.to_string(), &to.to_string()],
        |r| r.get::<Money>(0),
    )?;
    Ok(amounts.into_iter().map(|m| m.0).sum())
}

pub fn insert_usage(
    tx: &Tx<'_>,
    credit: &ObjectId,
    used_on: NaiveDate,
    amount: Decimal,
    purpose: BenefitPurpose,
    at: DateTime<Utc>,
    by: &str,
) -> Result<()> {
    let id = tx.history_id("benefit_usage", "credit_id", credit)?;
    tx.exec(
        "INSERT INTO benefit_usage (id, credit_id, used_on, amount, purpose, recorded_at, recorded_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            &id,
            credit,
            &used_on.to_string(),
            &Money(amount),
            &purpose,
            &instant(at),
            &by,
        ],
    )?;
    Ok(())
}
