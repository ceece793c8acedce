//! US business days (FLOW-19): Monday to Friday, except US federal holidays,
//! with a Saturday holiday observed the Friday before and a Sunday holiday the
//! Monday after. The holidays are computed from their rules, not listed.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    nth_weekday(year, month, weekday, 5).or_else(|| nth_weekday(year, month, weekday, 4))
}

/// The federal holidays of `year` on their actual dates (5 U.S.C. 6103).
pub fn federal_holidays(year: i32) -> Vec<NaiveDate> {
    let fixed = |month, day| NaiveDate::from_ymd_opt(year, month, day);
    let mut days = vec![
        fixed(1, 1),                            // New Year's Day
        nth_weekday(year, 1, Weekday::Mon, 3),  // Birthday of Martin Luther King, Jr.
        nth_weekday(year, 2, Weekday::Mon, 3),  // Washington's Birthday
        last_weekday(year, 5, Weekday::Mon),    // Memorial Day
        fixed(7, 4),                            // Independence Day
        nth_weekday(year, 9, Weekday::Mon, 1),  // Labor Day
        nth_weekday(year, 10, Weekday::Mon, 2), // Columbus Day
        fixed(11, 11),                          // Veterans Day
        nth_weekday(year, 11, Weekday::Thu, 4), // Thanksgiving Day
        fixed(12, 25),                          // Christmas Day
    ];
    if year >= 2021 {
        days.push(fixed(6, 19)); // Juneteenth National Independence Day
    }
    days.into_iter().flatten().collect()
}

/// The day a holiday is observed on.
pub fn observed(holiday: NaiveDate) -> NaiveDate {
    match holiday.weekday() {
        Weekday::Sat => holiday - Duration::days(1),
        Weekday::Sun => holiday + Duration::days(1),
        _ => holiday,
    }
}

/// Whether federal offices are closed for a holiday on `date`. A New Year's
/// Day on a Saturday is observed on Friday 31 December of the year before.
pub fn is_observed_holiday(date: NaiveDate) -> bool {
    [date.year(), date.year() + 1]
        .into_iter()
        .flat_map(federal_holidays)
        .any(|h| observed(h) == date)
}

pub fn is_business_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !is_observed_holiday(date)
}

/// The date `n` business days after `start` (`start` itself not counted).
pub fn add_business_days(start: NaiveDate, n: u32) -> NaiveDate {
    let mut date = start;
    let mut left = n;
    while left > 0 {
        date += Duration::days(1);
        if is_business_day(date) {
            left -= 1;
        }
    }
    date
}

/// How many business days lie after `from` up to and including `to`.
pub fn business_days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    let mut count = 0;
    let mut date = from;
    while date < to {
        date += Duration::days(1);
        if is_business_day(date) {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn flow_19_holidays_are_computed_with_observed_days() {
        // 2027: Christmas on a Saturday is observed Friday 24 December;
        // New Year's Day 2028 is a Saturday, observed Friday 31 December 2027.
        assert!(is_observed_holiday(d("2027-12-24")));
        assert!(is_observed_holiday(d("2027-12-31")));
        assert!(!is_business_day(d("2027-12-31")));
        // Independence Day 2027 is a Sunday: observed Monday 5 July.
        assert!(is_observed_holiday(d("2027-07-05")));
        // Thanksgiving: fourth Thursday of November.
        assert!(is_observed_holiday(d("2026-11-26")));
        assert!(is_observed_holiday(d("2027-11-25")));
        // Memorial Day: last Monday of May; MLK: third Monday of January.
        assert!(is_observed_holiday(d("2027-05-31")));
        assert!(is_observed_holiday(d("2027-01-18")));
        assert!(
            is_observed_holiday(d("2027-06-18")),
            "Juneteenth 2027 is a Saturday"
        );
        assert!(is_business_day(d("2027-01-20")));
    }

    #[test]
    fn flow_19_business_days_skip_weekends_and_holidays() {
        // Across Thanksgiving 2026: Wed 25 Nov + 2 = Mon 30 Nov (Thu holiday, weekend).
        assert_eq!(add_business_days(d("2026-11-25"), 2), d("2026-11-30"));
        // Across Christmas and a Saturday New Year's Day: Thu 23 Dec 2027 + 1 = Mon 27 Dec,
        // + 4 = Mon 3 Jan 2028 (24 and 31 December observed).
        assert_eq!(add_business_days(d("2027-12-23"), 1), d("2027-12-27"));
        assert_eq!(add_business_days(d("2027-12-23"), 4), d("2027-12-30"));
        assert_eq!(add_business_days(d("2027-12-23"), 5), d("2028-01-03"));
        assert_eq!(business_days_between(d("2027-12-23"), d("2028-01-03")), 5);
        assert_eq!(business_days_between(d("2027-01-22"), d("2027-01-25")), 1);
    }
}
