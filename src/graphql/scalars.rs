//! The API's scalars: `Decimal` (money as a string), `DateTime`, `Date`,
//! `Month`, `JSON`; each says with `@specifiedBy` which format it follows
//! (RFC 3339 and RFC 8259, or the project's own page, `docs/scalars.md`).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, Utc};

use crate::domain::money;
use crate::domain::time::{self, Month as DomainMonth};

/// Money in USD as a decimal string, `"1500.00"`. Input accepts strings only:
/// a JSON number would have passed through floating point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Description)]
pub struct Decimal(pub rust_decimal::Decimal);

#[Scalar(
    name = "Decimal",
    use_type_description,
    specified_by_url = "docs/scalars.md#decimal"
)]
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => money::parse_money(&s)
                .map(Decimal)
                .map_err(|e| InputValueError::custom(e.to_string())),
            _ => Err(InputValueError::custom(
                "Decimal must be a string such as \"1500.00\", not a number",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(money::to_text(self.0))
    }
}

/// An instant, RFC 3339 in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Description)]
pub struct DateTime(pub chrono::DateTime<Utc>);

#[Scalar(
    name = "DateTime",
    use_type_description,
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => time::parse_instant(&s).map(DateTime).ok_or_else(|| {
                InputValueError::custom("DateTime must be RFC 3339, e.g. 2027-01-20T10:00:00Z")
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(time::instant_text(self.0))
    }
}

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Description)]
pub struct Date(pub NaiveDate);

#[Scalar(
    name = "Date",
    use_type_description,
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) if s.len() == 10 => time::parse_date(&s)
                .map(Date)
                .ok_or_else(|| InputValueError::custom("Date must be YYYY-MM-DD")),
            _ => Err(InputValueError::custom("Date must be YYYY-MM-DD")),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(time::date_text(self.0))
    }
}

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Description)]
pub struct Month(pub DomainMonth);

#[Scalar(
    name = "Month",
    use_type_description,
    specified_by_url = "docs/scalars.md#month"
)]
impl ScalarType for Month {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => s
                .parse()
                .map(Month)
                .map_err(|e: time::MonthError| InputValueError::custom(e.to_string())),
            _ => Err(InputValueError::custom("Month must be YYYY-MM")),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// A JSON value (an object, for a change's detail).
#[derive(Debug, Clone, PartialEq, async_graphql::Description)]
pub struct Json(pub serde_json::Value);

#[Scalar(
    name = "JSON",
    use_type_description,
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc8259"
)]
impl ScalarType for Json {
    fn parse(value: Value) -> InputValueResult<Self> {
        value
            .into_json()
            .map(Json)
            .map_err(|e| InputValueError::custom(e.to_string()))
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}
