//! Stored text columns that hold an enum, a decimal, an instant or an id.

use crate::domain::ids::ObjectId;
use crate::domain::money;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rust_decimal::Decimal;
use std::str::FromStr;

fn text_of(value: ValueRef<'_>) -> FromSqlResult<&str> {
    value.as_str()
}

fn other<E: std::error::Error + Send + Sync + 'static>(e: E) -> FromSqlError {
    FromSqlError::Other(Box::new(e))
}

fn not_a(what: &str, text: &str) -> FromSqlError {
    FromSqlError::Other(format!("not {what}: {text:?}").into())
}

macro_rules! enum_columns {
    ($($t:ty),+ $(,)?) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                <$t>::from_str(text_of(value)?).map_err(other)
            }
        }
    )+};
}

use crate::domain::*;
enum_columns!(
    PartnerType,
    CustomerSegment,
    OrganizationKind,
    RelationshipStatus,
    AcceptanceMethod,
    AgreementStatus,
    AcoRequestStatus,
    AcoScenario,
    GrantStatus,
    BenefitCreditKind,
    BenefitPurpose,
    SupportPlan,
    Role,
);

impl ToSql for ObjectId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}
impl FromSql for ObjectId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(ObjectId::from_trusted(text_of(value)?.to_owned()))
    }
}

/// A month as `YYYY-MM` text.
impl FromSql for crate::domain::time::Month {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_of(value)?.parse().map_err(other)
    }
}

/// Money as canonical text.
pub struct Money(pub Decimal);
impl ToSql for Money {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(money::to_text(self.0)))
    }
}
impl FromSql for Money {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        money::parse_money(text_of(value)?)
            .map(Money)
            .map_err(other)
    }
}

/// An instant as RFC 3339 UTC text.
pub fn instant(at: DateTime<Utc>) -> String {
    crate::domain::time::instant_text(at)
}

/// Reads an RFC 3339 instant column.
pub struct Instant(pub DateTime<Utc>);
impl FromSql for Instant {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = text_of(value)?;
        crate::domain::time::parse_instant(text)
            .map(Instant)
            .ok_or_else(|| not_a("an RFC 3339 instant", text))
    }
}

/// Reads a `YYYY-MM-DD` column.
pub struct Date(pub NaiveDate);
impl FromSql for Date {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = text_of(value)?;
        crate::domain::time::parse_date(text)
            .map(Date)
            .ok_or_else(|| not_a("a YYYY-MM-DD date", text))
    }
}
