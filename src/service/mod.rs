//! Use cases: each takes the caller and its input, checks the caller's role and
//! the rules, writes through the store in the caller's transaction, and records
//! the change in the append-only history. A refusal returns
//! [`Error::Rejected`](crate::error::Error::Rejected), which rolls the whole
//! transaction back: a refused mutation changes nothing.

pub mod agreements;
pub mod authorization;
pub mod benefits;
pub mod check;
pub mod credits;
pub mod customers;
pub mod eligibility;
pub mod events;
pub mod partners;
pub mod relationships;
pub mod requests;
pub mod webhooks;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::actor::Actor;

/// Who is calling, and when.
#[derive(Debug, Clone)]
pub struct Call {
    pub actor: Actor,
    pub now: DateTime<Utc>,
    pub program_tenant_id: String,
    pub timezone: chrono_tz::Tz,
}

impl Call {
    /// Today's calendar date in the programme time zone.
    pub fn today(&self) -> NaiveDate {
        self.day_of(self.now)
    }

    /// The calendar day of `instant` in the programme time zone.
    pub fn day_of(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.timezone).date_naive()
    }
}
