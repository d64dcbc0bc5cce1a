//! Billing periods: from a subscription's anchor day to the same day a month later, in an
//! organisation's time zone; and the local days usage is rolled up by.

use chrono::{DateTime, Datelike, LocalResult, Months, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The day of the month a subscription's periods start on, 1–31. In a month without that
/// day the period starts on the month's last day instead (an anchor of 31 starts on 28 or
/// 29 February, 30 April, ...), and returns to the anchor the month after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct AnchorDay(u8);

impl AnchorDay {
    /// Periods that are calendar months.
    pub const FIRST: AnchorDay = AnchorDay(1);

    /// Accepts 1–31.
    pub fn new(day: u8) -> Result<Self, String> {
        if (1..=31).contains(&day) {
            Ok(AnchorDay(day))
        } else {
            Err(format!(
                "billing anchor day must be between 1 and 31 (got {day})"
            ))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// The day this anchor falls on in the month of `any_day`, clamped to the month's end.
    fn in_month_of(self, any_day: NaiveDate) -> NaiveDate {
        let first = any_day.with_day(1).unwrap_or(any_day);
        let last = first
            .checked_add_months(Months::new(1))
            .and_then(|next| next.pred_opt())
            .unwrap_or(first);
        first
            .with_day(u32::from(self.0).min(last.day()))
            .unwrap_or(last)
    }
}

impl TryFrom<u8> for AnchorDay {
    type Error = String;

    fn try_from(day: u8) -> Result<Self, Self::Error> {
        AnchorDay::new(day)
    }
}

impl From<AnchorDay> for u8 {
    fn from(anchor: AnchorDay) -> u8 {
        anchor.0
    }
}

/// The longest span of days usage can be asked for at once: raw events are kept at least
/// this long, so any such span can still be recounted.
pub const MAX_SPAN_MONTHS: u32 = 13;

/// A half-open span of time `[start, end)` that usage is counted in.
///
/// `first_day` and `last_day` are the calendar days it covers in the organisation's time
/// zone, both inclusive; `start` and `end` are the exact UTC instants of local midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingPeriod {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub anchor: AnchorDay,
}

impl BillingPeriod {
    /// The period of a subscription anchored on `anchor` that contains `instant`.
    pub fn containing(instant: DateTime<Utc>, anchor: AnchorDay, time_zone: Tz) -> Self {
        let today = instant.with_timezone(&time_zone).date_naive();
        let this_month = anchor.in_month_of(today);
        let (first_day, next_first_day) = if today >= this_month {
            let next = this_month
                .checked_add_months(Months::new(1))
                .map_or(NaiveDate::MAX, |day| anchor.in_month_of(day));
            (this_month, next)
        } else {
            let previous = this_month
                .checked_sub_months(Months::new(1))
                .map_or(NaiveDate::MIN, |day| anchor.in_month_of(day));
            (previous, this_month)
        };
        BillingPeriod {
            start: start_of_day(first_day, time_zone),
            end: start_of_day(next_first_day, time_zone),
            first_day,
            last_day: next_first_day.pred_opt().unwrap_or(first_day),
            anchor,
        }
    }

    /// The whole local days `first_day` to `last_day` (inclusive) of `time_zone`: a span a
    /// client asks about, which need not be a billing period. `anchor` is the
    /// subscription's, kept so the span can be compared with its periods.
    pub fn of_days(
        first_day: NaiveDate,
        last_day: NaiveDate,
        anchor: AnchorDay,
        time_zone: Tz,
    ) -> Self {
        let last_day = last_day.max(first_day);
        BillingPeriod {
            start: start_of_day(first_day, time_zone),
            end: start_of_day(last_day.succ_opt().unwrap_or(last_day), time_zone),
            first_day,
            last_day,
            anchor,
        }
    }

    /// [`BillingPeriod::of_days`] for a span a client asked for: it must not run backwards
    /// nor be longer than [`MAX_SPAN_MONTHS`]; the message says which.
    pub fn requested(
        first_day: NaiveDate,
        last_day: NaiveDate,
        anchor: AnchorDay,
        time_zone: Tz,
    ) -> Result<Self, String> {
        if first_day > last_day {
            return Err("Invalid date range: startDate must be before endDate".into());
        }
        let too_far = first_day.checked_add_months(Months::new(MAX_SPAN_MONTHS));
        if too_far.is_none_or(|too_far| last_day >= too_far) {
            return Err(format!(
                "Invalid date range: at most {MAX_SPAN_MONTHS} months can be asked for at once"
            ));
        }
        Ok(BillingPeriod::of_days(
            first_day, last_day, anchor, time_zone,
        ))
    }

    /// The calendar month of `time_zone` that contains `instant`.
    pub fn calendar_month_containing(instant: DateTime<Utc>, time_zone: Tz) -> Self {
        BillingPeriod::containing(instant, AnchorDay::FIRST, time_zone)
    }

    /// The period before this one, with the same anchor and time zone.
    pub fn previous(&self, time_zone: Tz) -> Self {
        BillingPeriod::containing(
            self.start - chrono::Duration::seconds(1),
            self.anchor,
            time_zone,
        )
    }

    /// This period and the `count - 1` before it, oldest first.
    pub fn last(&self, count: usize, time_zone: Tz) -> Vec<BillingPeriod> {
        let mut periods = Vec::with_capacity(count);
        let mut period = *self;
        for _ in 0..count {
            periods.push(period);
            period = period.previous(time_zone);
        }
        periods.reverse();
        periods
    }

    /// True when `instant` lies in `[start, end)`.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }

    /// How much of the period has passed at `now`, from 0 to 1.
    pub fn elapsed_fraction(&self, now: DateTime<Utc>) -> Decimal {
        let length = (self.end - self.start).num_seconds();
        if length <= 0 || now >= self.end {
            return Decimal::ONE;
        }
        let elapsed = (now - self.start).num_seconds().clamp(0, length);
        Decimal::from(elapsed) / Decimal::from(length)
    }

    /// "1 Nov 2026 – 30 Nov 2026".
    pub fn label(&self) -> String {
        format!(
            "{} – {}",
            self.first_day.format("%-d %b %Y"),
            self.last_day.format("%-d %b %Y")
        )
    }

    /// "11/2026": the month the period starts in, as monthly histories name it.
    pub fn month_label(&self) -> String {
        self.first_day.format("%m/%Y").to_string()
    }
}

/// The days quotaboard reads and answers about, as an error message names them: years with
/// four digits, as ISO 8601 and RFC 3339 write them. Period arithmetic (a month back, the
/// day before a local midnight) stays far inside what dates can hold.
pub const SUPPORTED_DAYS: &str = "0001-01-01 to 9999-12-31";

/// True when `day` lies within [`SUPPORTED_DAYS`].
pub fn supported_day(day: NaiveDate) -> bool {
    (1..=9999).contains(&day.year())
}

/// The first instant of the local day of `time_zone` that contains `instant`: the key usage
/// is rolled up by, so a period (which starts at a local midnight) is a whole number of days.
pub fn day_start(instant: DateTime<Utc>, time_zone: Tz) -> DateTime<Utc> {
    start_of_day(instant.with_timezone(&time_zone).date_naive(), time_zone)
}

/// The first instant of `date` in `time_zone`. Where a daylight-saving jump skips local
/// midnight, that is the instant of the jump: midnight read with the offset in force before it.
pub fn start_of_day(date: NaiveDate, time_zone: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    match time_zone.from_local_datetime(&midnight) {
        LocalResult::Single(time) | LocalResult::Ambiguous(time, _) => time.with_timezone(&Utc),
        LocalResult::None => {
            // Checked: at the ends of what dates can hold there is no day before.
            let day_before = midnight
                .checked_sub_signed(chrono::TimeDelta::days(1))
                .unwrap_or(midnight);
            let offset = time_zone.offset_from_utc_datetime(&day_before).fix();
            Utc.from_utc_datetime(&midnight.checked_sub_offset(offset).unwrap_or(midnight))
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
    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn anchor(day: u8) -> AnchorDay {
        AnchorDay::new(day).expect("anchor")
    }

    #[test]
    fn an_anchor_of_the_31st_starts_on_the_last_day_of_short_months() {
        // (instant, expected first day, expected last day), anchor 31, UTC.
        let cases = [
            ("2026-01-31T00:00:00Z", day(2026, 1, 31), day(2026, 2, 27)),
            ("2026-02-27T23:59:59Z", day(2026, 1, 31), day(2026, 2, 27)),
            ("2026-02-28T00:00:00Z", day(2026, 2, 28), day(2026, 3, 30)),
            ("2026-03-31T12:00:00Z", day(2026, 3, 31), day(2026, 4, 29)),
            ("2026-04-30T00:00:00Z", day(2026, 4, 30), day(2026, 5, 30)),
            ("2028-02-28T12:00:00Z", day(2028, 1, 31), day(2028, 2, 28)),
            ("2028-02-29T00:00:00Z", day(2028, 2, 29), day(2028, 3, 30)),
            ("2026-12-31T00:00:00Z", day(2026, 12, 31), day(2027, 1, 30)),
        ];
        for (instant, first, last) in cases {
            let period = BillingPeriod::containing(utc(instant), anchor(31), Tz::UTC);
            assert_eq!(
                (period.first_day, period.last_day),
                (first, last),
                "{instant}"
            );
        }
    }

    #[test]
    fn an_anchor_before_the_day_of_month_reaches_back_into_the_previous_month() {
        let period = BillingPeriod::containing(utc("2026-11-05T10:00:00Z"), anchor(10), Tz::UTC);
        assert_eq!(period.start, utc("2026-10-10T00:00:00Z"));
        assert_eq!(period.end, utc("2026-11-10T00:00:00Z"));
        assert_eq!(period.month_label(), "10/2026");
        let january = BillingPeriod::containing(utc("2027-01-09T10:00:00Z"), anchor(10), Tz::UTC);
        assert_eq!(january.first_day, day(2026, 12, 10));
    }

    #[test]
    fn anchored_periods_follow_local_midnight_across_time_zones_and_dst() {
        // 15 Mar anchor in New York: DST starts 8 Mar 2026, so the period opens at UTC-5 and
        // closes at UTC-4.
        let new_york = BillingPeriod::containing(
            utc("2026-03-20T12:00:00Z"),
            anchor(15),
            Tz::America__New_York,
        );
        assert_eq!(new_york.start, utc("2026-03-15T04:00:00Z"));
        let february = new_york.previous(Tz::America__New_York);
        assert_eq!(february.start, utc("2026-02-15T05:00:00Z"));
        assert_eq!(february.end, new_york.start);
        // Tokyo is 9 hours ahead: 20:00 UTC on the 14th is already the 15th there.
        let tokyo =
            BillingPeriod::containing(utc("2026-03-14T20:00:00Z"), anchor(15), Tz::Asia__Tokyo);
        assert_eq!(tokyo.first_day, day(2026, 3, 15));
        assert_eq!(tokyo.start, utc("2026-03-14T15:00:00Z"));
    }

    #[test]
    fn elapsed_fraction_runs_from_zero_to_one() {
        let period = BillingPeriod::calendar_month_containing(utc("2026-11-16T00:00:00Z"), Tz::UTC);
        assert_eq!(period.elapsed_fraction(period.start), Decimal::ZERO);
        assert_eq!(
            period.elapsed_fraction(utc("2026-11-16T00:00:00Z")),
            Decimal::from(1) / Decimal::from(2)
        );
        assert_eq!(period.elapsed_fraction(period.end), Decimal::ONE);
        assert_eq!(
            period.elapsed_fraction(utc("2026-10-01T00:00:00Z")),
            Decimal::ZERO
        );
    }

    #[test]
    fn last_lists_twelve_consecutive_periods_oldest_first() {
        let now = BillingPeriod::calendar_month_containing(utc("2026-03-15T00:00:00Z"), Tz::UTC);
        let year = now.last(12, Tz::UTC);
        let labels: Vec<String> = year.iter().map(BillingPeriod::month_label).collect();
        assert_eq!(labels.first().map(String::as_str), Some("04/2025"));
        assert_eq!(labels.last().map(String::as_str), Some("03/2026"));
        assert!(year.windows(2).all(|pair| pair[0].end == pair[1].start));
    }

    #[test]
    fn a_span_of_days_runs_from_local_midnight_to_the_midnight_after_its_last_day() {
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        // 29 March 2026 has 23 hours in Berlin.
        let span = BillingPeriod::of_days(day(2026, 3, 28), day(2026, 3, 29), anchor(1), berlin);
        assert_eq!(span.start, utc("2026-03-27T23:00:00Z"));
        assert_eq!(span.end, utc("2026-03-29T22:00:00Z"));
        assert_eq!((span.end - span.start).num_hours(), 47);
        // One day, and a reversed span read as its first day alone.
        let one = BillingPeriod::of_days(day(2026, 1, 31), day(2026, 1, 31), anchor(1), Tz::UTC);
        assert_eq!(
            (one.start, one.end),
            (utc("2026-01-31T00:00:00Z"), utc("2026-02-01T00:00:00Z"))
        );
        let reversed =
            BillingPeriod::of_days(day(2026, 1, 31), day(2026, 1, 2), anchor(1), Tz::UTC);
        assert_eq!(reversed, one);
    }

    #[test]
    fn a_requested_span_may_not_run_backwards_nor_exceed_thirteen_months() {
        let ask = |first, last| BillingPeriod::requested(first, last, anchor(1), Tz::UTC);
        assert!(ask(day(2025, 1, 1), day(2026, 1, 31)).is_ok());
        assert!(ask(day(2024, 2, 29), day(2025, 3, 28)).is_ok());
        let too_long = ask(day(2025, 1, 1), day(2026, 2, 1)).expect_err("14 months");
        assert!(too_long.contains("at most 13 months"), "{too_long}");
        assert_eq!(
            ask(day(2026, 1, 2), day(2026, 1, 1)),
            Err("Invalid date range: startDate must be before endDate".to_string())
        );
    }

    #[test]
    fn anchor_days_outside_1_to_31_are_refused() {
        assert!(AnchorDay::new(0).is_err());
        assert!(AnchorDay::new(32).is_err());
        assert_eq!(AnchorDay::new(31).map(AnchorDay::get), Ok(31));
    }

    const ZONES: [Tz; 6] = [
        Tz::UTC,
        Tz::Europe__Berlin,
        Tz::America__New_York,
        Tz::America__Santiago,
        Tz::Australia__Lord_Howe,
        Tz::Asia__Kathmandu,
    ];

    proptest::proptest! {
        #[test]
        fn every_instant_lies_in_exactly_one_period_of_whole_local_days(
            seconds in 0_i64..4_102_444_800,
            anchor_day in 1_u8..=31,
            zone in 0_usize..ZONES.len(),
        ) {
            let time_zone = ZONES[zone];
            let instant = DateTime::from_timestamp(seconds, 0).expect("instant");
            let period = BillingPeriod::containing(instant, anchor(anchor_day), time_zone);
            proptest::prop_assert!(period.contains(instant));
            let previous = period.previous(time_zone);
            proptest::prop_assert_eq!(previous.end, period.start);
            let next = BillingPeriod::containing(period.end, anchor(anchor_day), time_zone);
            proptest::prop_assert_eq!(next.start, period.end);
            let days = (period.last_day - period.first_day).num_days() + 1;
            proptest::prop_assert!((28..=31).contains(&days));
            // It starts on the anchor day, or on the last day of a month too short for it.
            proptest::prop_assert!(
                period.first_day.day() == u32::from(anchor_day)
                    || (period.first_day.day() < u32::from(anchor_day)
                        && period.first_day.succ_opt().map(|d| d.day()) == Some(1))
            );
            proptest::prop_assert_eq!(day_start(period.start, time_zone), period.start);
            proptest::prop_assert!(day_start(instant, time_zone) <= instant);
        }
    }

    proptest::proptest! {
        // Any day chrono can hold, in a zone far east or west of UTC: the start of its day
        // and a span a client asks for are computed (or refused) without a panic.
        #[test]
        fn any_day_in_any_zone_is_answered_without_a_panic(
            days in i32::MIN..i32::MAX,
            length in 0_i64..500,
            zone in 0_usize..4,
        ) {
            let time_zone = [Tz::Pacific__Kiritimati, Tz::Etc__GMTPlus12, Tz::Europe__Berlin, Tz::UTC][zone];
            let Some(first) = NaiveDate::from_num_days_from_ce_opt(days) else {
                return Ok(());
            };
            let _ = start_of_day(first, time_zone);
            let last = first
                .checked_add_signed(chrono::TimeDelta::days(length))
                .unwrap_or(first);
            if supported_day(first) && supported_day(last) {
                let anchor = AnchorDay::new(1).expect("anchor");
                let period = BillingPeriod::requested(first, last, anchor, time_zone);
                if let Ok(period) = period {
                    let _ = period.previous(time_zone);
                    proptest::prop_assert!(period.start < period.end);
                }
            }
        }
    }
}
