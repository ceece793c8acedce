//! Instants, dates and months, and the clock that tells the time.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use std::fmt;
use std::str::FromStr;

/// Where "now" comes from: the system clock, or a fixed instant in dev mode.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => *at,
        }
    }
}

/// RFC 3339 UTC with a `Z`, as stored and sent.
pub fn instant_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a month: expected YYYY-MM")]
pub struct MonthError;

impl FromStr for Month {
    type Err = MonthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        let shaped = b.len() == 7
            && b[4] == b'-'
            && b[..4].iter().chain(&b[5..]).all(|c| c.is_ascii_digit());
        if !shaped {
            return Err(MonthError);
        }
        let year: i32 = s[..4].parse().map_err(|_| MonthError)?;
        let month: u32 = s[5..].parse().map_err(|_| MonthError)?;
        if !(1..=12).contains(&month) || year < 1900 {
            return Err(MonthError);
        }
        Ok(Month { year, month })
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Month {
    pub fn of(date: NaiveDate) -> Self {
        use chrono::Datelike;
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The month `n` months later.
    pub fn plus(self, n: u32) -> Self {
        let index = self.year * 12 + (self.month as i32 - 1) + n as i32;
        Month {
            year: index.div_euclid(12),
            month: index.rem_euclid(12) as u32 + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_strictly() {
        assert_eq!("2027-01".parse::<Month>().unwrap().to_string(), "2027-01");
        for bad in [
            "2027-13",
            "2027-00",
            "2027-1",
            "27-01",
            "2027/01",
            "2027-01-01",
            "",
        ] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }

    #[test]
    fn month_arithmetic_crosses_years() {
        let m: Month = "2027-11".parse().unwrap();
        assert_eq!(m.plus(2).to_string(), "2028-01");
        assert_eq!(m.plus(12).to_string(), "2028-11");
    }
}
