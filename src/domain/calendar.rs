//! US business days (FLOW-19): Monday to Friday, except US federal holidays,
//! with a Saturday holiday observed the Friday before and a Sunday holiday the
//! Monday after. The holidays are computed from their rules, not listed.

use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};

/// How a federal holiday's date is found in its month.
#[derive(Clone, Copy)]
enum Rule {
    Day(u32),
    Nth(Weekday, u8),
    Last(Weekday),
}

/// The federal holidays (5 U.S.C. 6103): month, rule, and the first year
/// it is kept.
const HOLIDAYS: [(u32, Rule, i32); 11] = [
    (1, Rule::Day(1), i32::MIN),                // New Year's Day
    (1, Rule::Nth(Weekday::Mon, 3), i32::MIN),  // Birthday of Martin Luther King, Jr.
    (2, Rule::Nth(Weekday::Mon, 3), i32::MIN),  // Washington's Birthday
    (5, Rule::Last(Weekday::Mon), i32::MIN),    // Memorial Day
    (6, Rule::Day(19), 2021),                   // Juneteenth National Independence Day
    (7, Rule::Day(4), i32::MIN),                // Independence Day
    (9, Rule::Nth(Weekday::Mon, 1), i32::MIN),  // Labor Day
    (10, Rule::Nth(Weekday::Mon, 2), i32::MIN), // Columbus Day
    (11, Rule::Day(11), i32::MIN),              // Veterans Day
    (11, Rule::Nth(Weekday::Thu, 4), i32::MIN), // Thanksgiving Day
    (12, Rule::Day(25), i32::MIN),              // Christmas Day
];

fn holiday(year: i32, month: u32, rule: Rule) -> Option<NaiveDate> {
    let nth = |weekday, n| NaiveDate::from_weekday_of_month_opt(year, month, weekday, n);
    match rule {
        Rule::Day(day) => NaiveDate::from_ymd_opt(year, month, day),
        Rule::Nth(weekday, n) => nth(weekday, n),
        Rule::Last(weekday) => nth(weekday, 5).or_else(|| nth(weekday, 4)),
    }
}

/// The federal holidays of the month of `first` (its first day) on their
/// actual dates.
fn holidays_of_month(first: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    HOLIDAYS
        .iter()
        .filter(move |(month, _, since)| *month == first.month() && first.year() >= *since)
        .filter_map(move |&(month, rule, _)| holiday(first.year(), month, rule))
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
/// A holiday is observed at most a day from its date, so only the holidays of
/// the date's month and of the months either side of it can fall on it: the
/// holidays of other months are not worked out (this runs for every day an
/// SLA deadline counts, inside the write that sets it).
pub fn is_observed_holiday(date: NaiveDate) -> bool {
    let first = date - Duration::days(i64::from(date.day0()));
    [
        first.checked_sub_months(Months::new(1)),
        Some(first),
        first.checked_add_months(Months::new(1)),
    ]
    .into_iter()
    .flatten()
    .flat_map(holidays_of_month)
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

    /// The holidays of a year, found by asking of every day.
    fn observed_in(year: i32) -> Vec<NaiveDate> {
        let mut date = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        let mut found = Vec::new();
        while date.year() == year {
            if is_observed_holiday(date) {
                found.push(date);
            }
            date += Duration::days(1);
        }
        found
    }

    #[test]
    fn flow_19_a_year_observes_its_holidays_and_no_other_day() {
        // 2022: New Year's Day 2022 (a Saturday) was observed on 31 December
        // 2021, and Christmas (a Sunday) on Monday 26 December.
        let days = |list: &[&str]| list.iter().map(|s| d(s)).collect::<Vec<_>>();
        assert_eq!(
            observed_in(2022),
            days(&[
                "2022-01-17",
                "2022-02-21",
                "2022-05-30",
                "2022-06-20",
                "2022-07-04",
                "2022-09-05",
                "2022-10-10",
                "2022-11-11",
                "2022-11-24",
                "2022-12-26",
            ])
        );
        assert_eq!(observed_in(2021).last(), Some(&d("2021-12-31")));
        // 2027: Juneteenth on Friday 18 June, Independence Day on Monday 5 July,
        // Christmas on Friday 24 December, and New Year's Day 2028 on Friday 31 December.
        assert_eq!(
            observed_in(2027),
            days(&[
                "2027-01-01",
                "2027-01-18",
                "2027-02-15",
                "2027-05-31",
                "2027-06-18",
                "2027-07-05",
                "2027-09-06",
                "2027-10-11",
                "2027-11-11",
                "2027-11-25",
                "2027-12-24",
                "2027-12-31",
            ])
        );
        // Before 2021 Juneteenth was not a federal holiday.
        assert!(!observed_in(2020).contains(&d("2020-06-19")));
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
