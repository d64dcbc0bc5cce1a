//! Billing periods: the calendar month an instant falls in, in an organisation's time zone.

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A half-open span of time `[start, end)` that usage is counted in.
///
/// `first_day` and `last_day` are the calendar days it covers in the organisation's time
/// zone, both inclusive; `start` and `end` are the exact UTC instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingPeriod {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

impl BillingPeriod {
    /// The calendar month of `time_zone` that contains `instant`.
    pub fn calendar_month_containing(instant: DateTime<Utc>, time_zone: Tz) -> Self {
        let local = instant.with_timezone(&time_zone).date_naive();
        let first_day = local.with_day(1).unwrap_or(local);
        let next_first_day = first_day
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
        let last_day = next_first_day
            .checked_sub_days(Days::new(1))
            .unwrap_or(first_day);
        BillingPeriod {
            start: start_of_day(first_day, time_zone),
            end: start_of_day(next_first_day, time_zone),
            first_day,
            last_day,
        }
    }

    /// The calendar month before this one, in the same time zone.
    pub fn previous(&self, time_zone: Tz) -> Self {
        BillingPeriod::calendar_month_containing(
            self.start - chrono::Duration::seconds(1),
            time_zone,
        )
    }

    /// True when `instant` lies in `[start, end)`.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }

    /// "1 Nov 2026 – 30 Nov 2026".
    pub fn label(&self) -> String {
        format!(
            "{} – {}",
            self.first_day.format("%-d %b %Y"),
            self.last_day.format("%-d %b %Y")
        )
    }
}

/// The first instant of `date` in `time_zone`. Where a daylight-saving jump skips local
/// midnight, that is the instant of the jump: midnight read with the offset in force before it.
fn start_of_day(date: NaiveDate, time_zone: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    match time_zone.from_local_datetime(&midnight) {
        LocalResult::Single(time) | LocalResult::Ambiguous(time, _) => time.with_timezone(&Utc),
        LocalResult::None => {
            let day_before = Utc.from_utc_datetime(&midnight) - chrono::Duration::days(1);
            let offset = time_zone
                .offset_from_utc_datetime(&day_before.naive_utc())
                .fix();
            Utc.from_utc_datetime(&(midnight - offset))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .with_timezone(&Utc)
    }

    #[test]
    fn utc_month_runs_from_the_first_to_the_first_of_next_month() {
        let period = BillingPeriod::calendar_month_containing(utc("2026-11-22T10:00:00Z"), Tz::UTC);
        assert_eq!(period.start, utc("2026-11-01T00:00:00Z"));
        assert_eq!(period.end, utc("2026-12-01T00:00:00Z"));
        assert_eq!(period.label(), "1 Nov 2026 – 30 Nov 2026");
        assert!(period.contains(utc("2026-11-30T23:59:59Z")));
        assert!(!period.contains(utc("2026-12-01T00:00:00Z")));
    }

    #[test]
    fn month_boundaries_are_in_the_organisations_time_zone() {
        // 23:30 UTC on 31 Oct is already 1 Nov in Berlin (UTC+1 in winter).
        let period = BillingPeriod::calendar_month_containing(
            utc("2026-10-31T23:30:00Z"),
            Tz::Europe__Berlin,
        );
        assert_eq!(
            period.first_day,
            NaiveDate::from_ymd_opt(2026, 11, 1).expect("date")
        );
        assert_eq!(period.start, utc("2026-10-31T23:00:00Z"));
        assert_eq!(period.end, utc("2026-11-30T23:00:00Z"));
    }

    #[test]
    fn a_month_with_a_daylight_saving_change_keeps_local_midnights() {
        // Berlin moves from UTC+1 to UTC+2 on 29 Mar 2026.
        let march = BillingPeriod::calendar_month_containing(
            utc("2026-03-15T12:00:00Z"),
            Tz::Europe__Berlin,
        );
        assert_eq!(march.start, utc("2026-02-28T23:00:00Z"));
        assert_eq!(march.end, utc("2026-03-31T22:00:00Z"));
    }

    #[test]
    fn previous_steps_back_whole_months_even_from_a_month_end() {
        // From 30 Apr 23:30 UTC (already 1 May in Berlin) back through April and March.
        let may = BillingPeriod::calendar_month_containing(
            utc("2026-04-30T23:30:00Z"),
            Tz::Europe__Berlin,
        );
        let april = may.previous(Tz::Europe__Berlin);
        let march = april.previous(Tz::Europe__Berlin);
        assert_eq!(may.label(), "1 May 2026 – 31 May 2026");
        assert_eq!(april.label(), "1 Apr 2026 – 30 Apr 2026");
        assert_eq!(march.label(), "1 Mar 2026 – 31 Mar 2026");
        assert_eq!(april.end, may.start);
        assert_eq!(march.end, april.start);
    }

    #[test]
    fn december_rolls_over_into_the_next_year_and_february_has_its_leap_day() {
        let december =
            BillingPeriod::calendar_month_containing(utc("2026-12-15T00:00:00Z"), Tz::UTC);
        assert_eq!(december.end, utc("2027-01-01T00:00:00Z"));
        assert_eq!(december.label(), "1 Dec 2026 – 31 Dec 2026");
        let february =
            BillingPeriod::calendar_month_containing(utc("2028-02-10T00:00:00Z"), Tz::UTC);
        assert_eq!(february.label(), "1 Feb 2028 – 29 Feb 2028");
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_at_the_first_existing_minute() {
        // Chile moved its clocks from 00:00 to 01:00 (UTC-4 to UTC-3) on 8 Sep 2019.
        let start = start_of_day(
            NaiveDate::from_ymd_opt(2019, 9, 8).expect("date"),
            Tz::America__Santiago,
        );
        assert_eq!(start, utc("2019-09-08T04:00:00Z"));
    }
}
