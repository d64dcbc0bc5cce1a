//! How long raw events and their ids are kept: the retention cutoff, the calendar months
//! raw events are stored by, and how long an event id is remembered for idempotency.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Utc};

/// Days an event id is remembered beyond the backdating window. An event can only be
/// stored while its timestamp lies within the window, so a resend of it (same id and
/// timestamp) is a duplicate while its id is remembered and too old to store after.
pub const ID_MARGIN_DAYS: u32 = 10;

/// Months of raw-event storage made ready past the current one, so the month turning never
/// waits for storage.
pub const MONTHS_AHEAD: u32 = 2;

/// Days an accepted event's id is remembered: `backdating_days` plus [`ID_MARGIN_DAYS`].
pub fn id_memory_days(backdating_days: u32) -> u32 {
    backdating_days.saturating_add(ID_MARGIN_DAYS)
}

/// The instant before which raw events may go: `retention_months` calendar months before
/// `now` (UTC).
pub fn cutoff(now: DateTime<Utc>, retention_months: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(retention_months))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The instant before which an accepted event's id may be forgotten.
pub fn ids_forgotten_before(now: DateTime<Utc>, backdating_days: u32) -> DateTime<Utc> {
    now - Duration::days(i64::from(id_memory_days(backdating_days)))
}

/// One calendar month in UTC: the unit raw events are stored and dropped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    /// 1 to 12.
    month: u32,
}

impl Month {
    /// The month `unix_seconds` falls in; `None` outside chrono's range.
    pub fn of(unix_seconds: i64) -> Option<Month> {
        let instant = DateTime::<Utc>::from_timestamp(unix_seconds, 0)?;
        Some(Month {
            year: instant.year(),
            month: instant.month(),
        })
    }

    /// The month a name made by [`Month::name`] stands for.
    pub fn from_name(name: &str) -> Option<Month> {
        let (year, month) = name.split_once('_')?;
        let (year, month) = (year.parse().ok()?, month.parse().ok()?);
        if !(1..=12).contains(&month) {
            return None;
        }
        let parsed = Month { year, month };
        (parsed.name() == name).then_some(parsed)
    }

    /// `2026_12`: sorts as the months do.
    pub fn name(self) -> String {
        format!("{:04}_{:02}", self.year, self.month)
    }

    /// Unix seconds of the month's first instant.
    pub fn start(self) -> i64 {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map_or(i64::MIN, |midnight| {
                Utc.from_utc_datetime(&midnight).timestamp()
            })
    }

    /// Unix seconds of the next month's first instant: the month is `[start, end)`.
    pub fn end(self) -> i64 {
        self.next().start()
    }

    /// The month after.
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Every month from the one `first` falls in to the one `last` falls in, in order.
    pub fn spanning(first: i64, last: i64) -> Vec<Month> {
        let (Some(mut month), Some(end)) = (Month::of(first), Month::of(last)) else {
            return Vec::new();
        };
        let mut months = Vec::new();
        while month <= end {
            months.push(month);
            month = month.next();
        }
        months
    }

    /// Whether every instant of the month is before `cutoff`: its raw events may all go.
    pub fn ends_by(self, cutoff: DateTime<Utc>) -> bool {
        self.end() <= cutoff.timestamp()
    }
}

/// The months raw events may arrive in at `now`: from the oldest a backdated event may
/// fall in to [`MONTHS_AHEAD`] past the current one.
pub fn months_to_prepare(now: DateTime<Utc>, backdating_days: u32) -> Vec<Month> {
    let oldest = now - Duration::days(i64::from(backdating_days));
    let latest = now
        .checked_add_months(Months::new(MONTHS_AHEAD))
        .unwrap_or(now);
    Month::spanning(oldest.timestamp(), latest.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("instant")
    }

    #[test]
    fn the_cutoff_is_whole_calendar_months_back() {
        let now = at("2026-11-23T10:00:00Z");
        assert_eq!(cutoff(now, 13).to_rfc3339(), "2025-10-23T10:00:00+00:00");
        // From 31 March, 13 months back is the last day of February.
        let end_of_march = at("2027-03-31T00:00:00Z");
        assert_eq!(
            cutoff(end_of_march, 13).to_rfc3339(),
            "2026-02-28T00:00:00+00:00"
        );
    }

    #[test]
    fn a_month_is_its_utc_calendar_month_and_names_itself() {
        let december = Month::of(at("2026-12-31T23:59:59Z").timestamp()).expect("month");
        assert_eq!(december.name(), "2026_12");
        assert_eq!(december.start(), at("2026-12-01T00:00:00Z").timestamp());
        assert_eq!(december.end(), at("2027-01-01T00:00:00Z").timestamp());
        assert_eq!(december.next().name(), "2027_01");
        assert_eq!(Month::from_name("2026_12"), Some(december));
        for name in ["2026_13", "2026_1", "26_12", "2026-12", "x"] {
            assert_eq!(Month::from_name(name), None, "{name}");
        }
    }

    #[test]
    fn months_are_listed_across_a_year_end() {
        let names: Vec<String> = Month::spanning(
            at("2026-11-15T00:00:00Z").timestamp(),
            at("2027-02-01T00:00:00Z").timestamp(),
        )
        .into_iter()
        .map(Month::name)
        .collect();
        assert_eq!(names, ["2026_11", "2026_12", "2027_01", "2027_02"]);
    }

    #[test]
    fn storage_is_ready_from_the_oldest_backdated_month_to_two_months_ahead() {
        let names: Vec<String> = months_to_prepare(at("2026-12-07T05:00:00Z"), 35)
            .into_iter()
            .map(Month::name)
            .collect();
        assert_eq!(names, ["2026_11", "2026_12", "2027_01", "2027_02"]);
    }

    #[test]
    fn a_month_goes_only_once_it_ended_before_the_cutoff() {
        let cutoff = cutoff(at("2026-12-07T05:00:00Z"), 13);
        let october = Month::of(at("2025-10-20T00:00:00Z").timestamp()).expect("month");
        assert!(october.ends_by(cutoff));
        assert!(
            !october.next().ends_by(cutoff),
            "November 2025 has events past the cutoff"
        );
    }

    #[test]
    fn an_id_is_remembered_past_the_backdating_window() {
        assert_eq!(id_memory_days(35), 45);
        let now = at("2026-12-07T00:00:00Z");
        let accepted = now - Duration::days(36);
        assert!(accepted >= ids_forgotten_before(now, 35));
    }
}
