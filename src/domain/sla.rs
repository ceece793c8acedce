//! Deadlines in the programme time zone: service levels (FLOW-19), the ACO
//! agreement's signing deadline (AGR-4) and the remediation window (AUTH-1).
//! A deadline is the first instant at which it has passed — 00:00 of the day
//! after the last day allowed — so that every instant of the last day, to
//! its last fraction of a second, is still in time.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::AcoRequestStatus;
use super::calendar::{add_business_days, business_days_between, is_business_day};

/// FLOW-19: application review (`SUBMITTED` + `CHANNEL_REVIEW`) takes up to 5
/// business days from submission.
pub const APPLICATION_REVIEW_DAYS: u32 = 5;
/// FLOW-19: finance and operations (`FINANCE_REVIEW` + `OPERATIONS_REVIEW`) take
/// up to 7 business days from entering `FINANCE_REVIEW`.
pub const FINANCE_AND_OPERATIONS_DAYS: u32 = 7;

/// The calendar date of `at` in the programme time zone.
pub fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The first instant of `date` in `tz` (a day that starts inside a DST gap
/// starts when the clocks resume).
fn start_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..=3)
        .find_map(|h| {
            tz.from_local_datetime(&(midnight + Duration::hours(h)))
                .earliest()
        })
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

/// The deadline of a period whose last day is `last_day`: 00:00 of the next
/// day in `tz`, the first instant at which it has passed.
pub fn passed_after(last_day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    start_of_day(last_day + Duration::days(1), tz)
}

/// The last day a deadline allows (the day before the one it falls on).
fn last_day_before(deadline: DateTime<Utc>, tz: Tz) -> NaiveDate {
    local_date(deadline, tz) - Duration::days(1)
}

/// AGR-4: an agreement published at `published_at` may be signed until the
/// end of the last calendar day of that month, in the programme time zone:
/// the deadline is the midnight that ends the month.
pub fn agreement_expires_at(published_at: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let date = local_date(published_at, tz);
    let first_of_next = if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    };
    start_of_day(first_of_next.unwrap_or(date), tz)
}

/// FLOW-19: the deadline of a service-level stage whose clock started at
/// `start`. A clock that starts on a weekend or holiday counts as started at
/// 00:00 of the next business day; the day it starts is not counted.
pub fn stage_due(start: DateTime<Utc>, business_days: u32, tz: Tz) -> DateTime<Utc> {
    let mut started = local_date(start, tz);
    while !is_business_day(started) {
        started += Duration::days(1);
    }
    passed_after(add_business_days(started, business_days), tz)
}

/// FLOW-19: time in `NEEDS_INFO` does not count. Moves `due` later by the
/// business days between asking (`paused_at`) and answering (`resumed_at`).
pub fn resume_due(
    due: DateTime<Utc>,
    paused_at: DateTime<Utc>,
    resumed_at: DateTime<Utc>,
    tz: Tz,
) -> DateTime<Utc> {
    let paused = business_days_between(local_date(paused_at, tz), local_date(resumed_at, tz));
    passed_after(add_business_days(last_day_before(due, tz), paused), tz)
}

/// States whose deadline is running (in `NEEDS_INFO` the clock is stopped).
pub fn clock_runs(status: AcoRequestStatus) -> bool {
    matches!(
        status,
        AcoRequestStatus::Submitted
            | AcoRequestStatus::ChannelReview
            | AcoRequestStatus::FinanceReview
            | AcoRequestStatus::OperationsReview
            | AcoRequestStatus::AwaitingSignature
    )
}

/// Whether a request in `status` with deadline `due` is overdue at `now`:
/// from the deadline's instant on.
pub fn is_overdue(
    status: AcoRequestStatus,
    due: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    clock_runs(status) && due.is_some_and(|due| has_passed(due, now))
}

/// Whether `deadline` has passed at `now`: at its instant and after.
pub fn has_passed(deadline: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= deadline
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn agr_4_deadline_is_the_midnight_that_ends_the_publishing_month() {
        let utc: Tz = "UTC".parse().unwrap();
        assert_eq!(
            agreement_expires_at(at("2027-07-20T10:00:00Z"), utc),
            at("2027-08-01T00:00:00Z")
        );
        // February of a leap year, and December into the next year.
        assert_eq!(
            agreement_expires_at(at("2028-02-03T00:00:00Z"), utc),
            at("2028-03-01T00:00:00Z")
        );
        assert_eq!(
            agreement_expires_at(at("2027-02-03T00:00:00Z"), utc),
            at("2027-03-01T00:00:00Z")
        );
        assert_eq!(
            agreement_expires_at(at("2027-12-31T23:00:00Z"), utc),
            at("2028-01-01T00:00:00Z")
        );
        // The last fraction of a second of the month is still in time.
        let deadline = at("2027-08-01T00:00:00Z");
        assert!(!has_passed(deadline, at("2027-07-31T23:59:59.999999Z")));
        assert!(has_passed(deadline, deadline));
    }

    #[test]
    fn agr_4_the_programme_time_zone_decides_the_month() {
        // 1 August 03:00 UTC is still 31 July in Los Angeles (UTC-7 in summer).
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(
            agreement_expires_at(at("2027-08-01T03:00:00Z"), la),
            at("2027-08-01T07:00:00Z")
        );
        // 31 July 20:00 UTC is already 1 August in Tokyo (UTC+9).
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(
            agreement_expires_at(at("2027-07-31T20:00:00Z"), tokyo),
            at("2027-08-31T15:00:00Z")
        );
    }

    #[test]
    fn flow_19_due_dates_and_paused_time() {
        let utc: Tz = "UTC".parse().unwrap();
        // Submitted Tuesday 24 Nov 2026: 5 business days, Thanksgiving skipped,
        // the last is Wed 2 Dec: overdue from Thu 3 Dec 00:00.
        let due = stage_due(at("2026-11-24T15:00:00Z"), APPLICATION_REVIEW_DAYS, utc);
        assert_eq!(due, at("2026-12-03T00:00:00Z"));
        // Asked Wed 25 Nov, answered Mon 30 Nov: two business days (27th, 30th) paused.
        let resumed = resume_due(
            due,
            at("2026-11-25T09:00:00Z"),
            at("2026-11-30T09:00:00Z"),
            utc,
        );
        assert_eq!(resumed, at("2026-12-05T00:00:00Z"));
        assert!(is_overdue(
            AcoRequestStatus::Submitted,
            Some(due),
            at("2026-12-03T00:00:00Z")
        ));
        assert!(!is_overdue(
            AcoRequestStatus::NeedsInfo,
            Some(due),
            at("2026-12-03T00:00:00Z")
        ));
        assert!(!is_overdue(
            AcoRequestStatus::Submitted,
            Some(due),
            at("2026-12-02T23:59:59.999Z")
        ));
    }

    #[test]
    fn flow_19_a_clock_started_on_a_weekend_or_holiday_starts_the_next_business_day() {
        let utc: Tz = "UTC".parse().unwrap();
        // Submitted Saturday 16 January 2027: counts from Tuesday 19 January
        // (Monday is Martin Luther King Jr. Day), which is not itself counted;
        // five business days later, overdue from 27 January 00:00.
        assert_eq!(
            stage_due(at("2027-01-16T11:00:00Z"), APPLICATION_REVIEW_DAYS, utc),
            at("2027-01-27T00:00:00Z")
        );
        // On the holiday itself, the same.
        assert_eq!(
            stage_due(at("2027-01-18T09:00:00Z"), APPLICATION_REVIEW_DAYS, utc),
            at("2027-01-27T00:00:00Z")
        );
        // In another time zone the day is that zone's.
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            stage_due(at("2027-01-16T11:00:00Z"), APPLICATION_REVIEW_DAYS, ny),
            at("2027-01-27T05:00:00Z")
        );
    }
}
