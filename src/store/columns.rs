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

/// The same text columns on PostgreSQL: written from, and read into, the
/// text SQLite holds.
macro_rules! postgres_text {
    ($t:ty, |$value:ident| $write:expr, |$text:ident| $read:expr) => {
        impl tokio_postgres::types::ToSql for $t {
            fn to_sql(
                &self,
                ty: &tokio_postgres::types::Type,
                out: &mut bytes::BytesMut,
            ) -> std::result::Result<tokio_postgres::types::IsNull, PostgresError> {
                let $value = self;
                <&str as tokio_postgres::types::ToSql>::to_sql(&&*$write, ty, out)
            }
            fn accepts(ty: &tokio_postgres::types::Type) -> bool {
                <&str as tokio_postgres::types::ToSql>::accepts(ty)
            }
            tokio_postgres::types::to_sql_checked!();
        }
        impl<'a> tokio_postgres::types::FromSql<'a> for $t {
            fn from_sql(
                ty: &tokio_postgres::types::Type,
                raw: &'a [u8],
            ) -> std::result::Result<Self, PostgresError> {
                let $text = <&str as tokio_postgres::types::FromSql>::from_sql(ty, raw)?;
                $read
            }
            fn accepts(ty: &tokio_postgres::types::Type) -> bool {
                <&str as tokio_postgres::types::FromSql>::accepts(ty)
            }
        }
    };
}

type PostgresError = Box<dyn std::error::Error + Sync + Send>;

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
        postgres_text!($t, |v| v.as_str(), |text| Ok(<$t>::from_str(text)?));
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
    EventType,
    WebhookDeliveryStatus,
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
postgres_text!(ObjectId, |id| id.as_str(), |text| Ok(
    ObjectId::from_trusted(text.to_owned())
));

/// A month as `YYYY-MM` text.
impl ToSql for crate::domain::time::Month {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}
impl FromSql for crate::domain::time::Month {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        text_of(value)?.parse().map_err(other)
    }
}

postgres_text!(
    crate::domain::time::Month,
    |month| month.to_string(),
    |text| Ok(text
        .parse::<crate::domain::time::Month>()
        .map_err(|e| e.to_string())?)
);

/// Money as canonical text.
#[derive(Debug)]
pub struct Money(pub Decimal);
postgres_text!(Money, |m| money::to_text(m.0), |text| Ok(Money(
    money::parse_money(text).map_err(|e| e.to_string())?
)));
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
#[derive(Debug)]
pub struct Instant(pub DateTime<Utc>);
impl FromSql for Instant {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = text_of(value)?;
        crate::domain::time::parse_instant(text)
            .map(Instant)
            .ok_or_else(|| not_a("an RFC 3339 instant", text))
    }
}
postgres_text!(
    Instant,
    |at| crate::domain::time::instant_text(at.0),
    |text| {
        crate::domain::time::parse_instant(text)
            .map(Instant)
            .ok_or_else(|| format!("not an RFC 3339 instant: {text:?}").into())
    }
);

/// Reads a `YYYY-MM-DD` column.
#[derive(Debug)]
pub struct Date(pub NaiveDate);
impl FromSql for Date {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = text_of(value)?;
        crate::domain::time::parse_date(text)
            .map(Date)
            .ok_or_else(|| not_a("a YYYY-MM-DD date", text))
    }
}
postgres_text!(Date, |date| date.0.to_string(), |text| {
    crate::domain::time::parse_date(text)
        .map(Date)
        .ok_or_else(|| format!("not a YYYY-MM-DD date: {text:?}").into())
});
