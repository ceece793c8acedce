//! Instants, dates and months, and the clock that tells the time.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};
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

/// RFC 3339 UTC with a `Z`, as stored and sent: `2027-01-20T10:00:00.000000Z`.
///
/// Written digit by digit (every instant of every list row passes through
/// here); years outside 0–9999 and leap seconds are left to chrono.
pub fn instant_text(at: DateTime<Utc>) -> String {
    let (year, nanos) = (at.year(), at.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return at.to_rfc3339_opts(SecondsFormat::Micros, true);
    }
    let mut out = String::with_capacity(27);
    push_date(&mut out, at.date_naive());
    out.push('T');
    push_digits(&mut out, at.hour(), 2);
    out.push(':');
    push_digits(&mut out, at.minute(), 2);
    out.push(':');
    push_digits(&mut out, at.second(), 2);
    out.push('.');
    push_digits(&mut out, nanos / 1000, 6);
    out.push('Z');
    out
}

/// Reads an instant as [`instant_text`] writes it, or any other RFC 3339
/// form (through chrono); `None` if it is not one.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    fast_instant(text).or_else(|| {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|at| at.with_timezone(&Utc))
    })
}

fn fast_instant(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() != 27
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[26] != b'Z'
    {
        return None;
    }
    let date = fast_date(&b[..10])?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if second > 59 {
        return None; // a leap second: chrono's reading
    }
    let time = date.and_hms_micro_opt(hour, minute, second, digits(&b[20..26])?)?;
    Some(time.and_utc())
}

/// `YYYY-MM-DD`, as stored and sent.
pub fn date_text(date: NaiveDate) -> String {
    if !(0..=9999).contains(&date.year()) {
        return date.format("%Y-%m-%d").to_string();
    }
    let mut out = String::with_capacity(10);
    push_date(&mut out, date);
    out
}

/// Reads a `YYYY-MM-DD` date (chrono's `%Y-%m-%d` for any other spelling it
/// accepts); `None` if it is not one.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    fast_date(text.as_bytes()).or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
}

fn fast_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(digits(&b[..4])? as i32, digits(&b[5..7])?, digits(&b[8..])?)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

fn push_date(out: &mut String, date: NaiveDate) {
    push_digits(out, date.year() as u32, 4);
    out.push('-');
    push_digits(out, date.month(), 2);
    out.push('-');
    push_digits(out, date.day(), 2);
}

/// `value`'s last `width` (at most 10) decimal digits, zero-padded.
fn push_digits(out: &mut String, mut value: u32, width: usize) {
    let mut digits = [b'0'; 10];
    for digit in digits[..width].iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
    out.extend(digits[..width].iter().map(|&d| char::from(d)));
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
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn instants_are_written_and_read_as_chrono_does(
            seconds in -70_000_000_000i64..260_000_000_000i64,
            nanos in 0u32..1_000_000_000,
        ) {
            let at = DateTime::from_timestamp(seconds, nanos).unwrap();
            let text = instant_text(at);
            prop_assert_eq!(&text, &at.to_rfc3339_opts(SecondsFormat::Micros, true));
            if !(0..=9999).contains(&at.year()) {
                return Ok(()); // RFC 3339 has four-digit years only
            }
            let read = parse_instant(&text).unwrap();
            let chrono_read = DateTime::parse_from_rfc3339(&text).unwrap().with_timezone(&Utc);
            prop_assert_eq!(read, chrono_read);
            prop_assert_eq!(read.timestamp_micros(), at.timestamp_micros());
        }

        #[test]
        fn dates_are_written_and_read_as_chrono_does(days in -800_000i32..3_000_000) {
            let date = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            let text = date_text(date);
            prop_assert_eq!(&text, &date.format("%Y-%m-%d").to_string());
            prop_assert_eq!(parse_date(&text), Some(date));
        }

        #[test]
        fn any_text_reads_as_chrono_reads_it(text in "[0-9T:.Z+-]{0,30}") {
            prop_assert_eq!(
                parse_instant(&text),
                DateTime::parse_from_rfc3339(&text).ok().map(|at| at.with_timezone(&Utc))
            );
            prop_assert_eq!(parse_date(&text), NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok());
        }
    }

    #[test]
    fn impossible_instants_and_dates_are_refused() {
        for bad in [
            "2027-02-30T10:00:00.000000Z",
            "2027-01-20T24:00:00.000000Z",
            "2027-01-20T10:60:00.000000Z",
            "2027-01-20T10:00:00.00000aZ",
            "2027-01-20 10:00:00",
            "",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "2027-00-10",
            "20270110",
            "2027-01-1x",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(
            parse_instant("2027-01-20T10:00:00+02:00"),
            Some("2027-01-20T08:00:00Z".parse::<DateTime<Utc>>().unwrap())
        );
    }

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
