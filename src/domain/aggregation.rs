//! How a metric's events become its totals: sum, count, max, latest and unique count, per
//! day as stored and per span of days as shown.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::quantity::{Quantity, QuantityError};

/// The rule that turns a metric's events into its total for a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Total of the quantities (API calls, bandwidth).
    Sum,
    /// Number of events, whatever their quantity.
    Count,
    /// Largest quantity seen (peak seats, peak storage).
    Max,
    /// Quantity of the event with the latest timestamp (a gauge such as storage in use).
    Latest,
    /// Number of distinct values of the field the metric names (seats by user id).
    UniqueCount,
}

impl Aggregation {
    /// How much of a limit one event of `quantity` takes: its quantity for a sum, one for
    /// a count, and for a unique count one, or nothing when its value is `counted` already
    /// this period. Gauges (`max`, `latest`) take what they read.
    pub fn taken_by(self, quantity: Quantity, counted: bool) -> Quantity {
        match self {
            Aggregation::UniqueCount if counted => Quantity::ZERO,
            Aggregation::Count | Aggregation::UniqueCount => Quantity::ONE,
            Aggregation::Sum | Aggregation::Max | Aggregation::Latest => quantity,
        }
    }

    /// As stored: `sum`, `count`, `max`, `latest`, `unique_count`.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Sum => "sum",
            Aggregation::Count => "count",
            Aggregation::Max => "max",
            Aggregation::Latest => "latest",
            Aggregation::UniqueCount => "unique_count",
        }
    }

    /// What one event of `quantity` at `at` contributes to its day's total. For
    /// `UniqueCount` that is one more distinct value, and only when the value is new to the
    /// day: the caller checks that.
    pub fn delta(self, quantity: Quantity, at: DateTime<Utc>) -> PeriodDelta {
        match self {
            Aggregation::Sum => PeriodDelta::Add(quantity),
            Aggregation::Count | Aggregation::UniqueCount => PeriodDelta::Add(Quantity::ONE),
            Aggregation::Max => PeriodDelta::AtLeast(quantity),
            Aggregation::Latest => PeriodDelta::Latest {
                value: quantity,
                at,
            },
        }
    }

    /// The total over a span of days from the days' stored totals. `None` for
    /// `UniqueCount`, whose total is the number of values distinct across the whole span and
    /// so cannot be added up from days; and when a sum passes the 64-bit limit.
    pub fn combine(self, days: impl IntoIterator<Item = DayTotal>) -> Option<Quantity> {
        let mut days = days.into_iter();
        match self {
            Aggregation::Sum | Aggregation::Count => {
                days.try_fold(Quantity::ZERO, |total, day| total.checked_add(day.used))
            }
            Aggregation::Max => Some(days.map(|day| day.used).max().unwrap_or(Quantity::ZERO)),
            Aggregation::Latest => Some(
                days.filter_map(|day| Some((day.latest_at?, day.used)))
                    .max_by_key(|&(at, _)| at)
                    .map_or(Quantity::ZERO, |(_, used)| used),
            ),
            Aggregation::UniqueCount => None,
        }
    }
}

/// One stored day's total of a metric; `latest_at` is set for `latest` metrics only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayTotal {
    pub used: Quantity,
    pub latest_at: Option<DateTime<Utc>>,
}

impl FromStr for Aggregation {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "sum" => Ok(Aggregation::Sum),
            "count" => Ok(Aggregation::Count),
            "max" => Ok(Aggregation::Max),
            "latest" => Ok(Aggregation::Latest),
            "unique_count" => Ok(Aggregation::UniqueCount),
            other => Err(format!("unknown aggregation {other:?}")),
        }
    }
}

/// The change a batch makes to one stored period total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodDelta {
    /// Add this much (sum, count).
    Add(Quantity),
    /// Raise the total to at least this (max).
    AtLeast(Quantity),
    /// Replace the total with `value` unless the stored one is from a later instant (latest).
    Latest { value: Quantity, at: DateTime<Utc> },
}

impl PeriodDelta {
    /// Combines two deltas of the same aggregation into one; `Add` past the 64-bit limit is
    /// refused. Of two `Latest` at the same instant the second wins, as it arrived later.
    pub fn merge(self, next: PeriodDelta) -> Result<PeriodDelta, QuantityError> {
        Ok(match (self, next) {
            (PeriodDelta::Add(a), PeriodDelta::Add(b)) => PeriodDelta::Add(Quantity::from_micros(
                a.micros()
                    .checked_add(b.micros())
                    .ok_or(QuantityError::TooLarge)?,
            )?),
            (PeriodDelta::AtLeast(a), PeriodDelta::AtLeast(b)) => PeriodDelta::AtLeast(a.max(b)),
            (PeriodDelta::Latest { value, at }, PeriodDelta::Latest { value: v2, at: at2 }) => {
                if at2 >= at {
                    PeriodDelta::Latest { value: v2, at: at2 }
                } else {
                    PeriodDelta::Latest { value, at }
                }
            }
            // One metric has one aggregation, so mixed pairs never meet; keep the newer.
            (_, next) => next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qty(units: i64) -> Quantity {
        Quantity::from_micros(units * 1_000_000).expect("quantity")
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    fn fold(aggregation: Aggregation, events: &[(i64, &str)]) -> PeriodDelta {
        events
            .iter()
            .map(|(units, time)| aggregation.delta(qty(*units), at(time)))
            .reduce(|a, b| a.merge(b).expect("merge"))
            .expect("events")
    }

    #[test]
    fn each_aggregation_folds_a_batch_as_its_name_says() {
        let events = [
            (5, "2026-11-02T00:00:00Z"),
            (9, "2026-11-01T00:00:00Z"),
            (2, "2026-11-03T00:00:00Z"),
        ];
        assert_eq!(fold(Aggregation::Sum, &events), PeriodDelta::Add(qty(16)));
        assert_eq!(fold(Aggregation::Count, &events), PeriodDelta::Add(qty(3)));
        assert_eq!(
            fold(Aggregation::Max, &events),
            PeriodDelta::AtLeast(qty(9))
        );
        assert_eq!(
            fold(Aggregation::Latest, &events),
            PeriodDelta::Latest {
                value: qty(2),
                at: at("2026-11-03T00:00:00Z")
            }
        );
    }

    #[test]
    fn of_two_latest_events_at_the_same_instant_the_later_one_wins() {
        let same = "2026-11-02T00:00:00Z";
        assert_eq!(
            fold(Aggregation::Latest, &[(4, same), (7, same)]),
            PeriodDelta::Latest {
                value: qty(7),
                at: at(same)
            }
        );
    }

    #[test]
    fn a_sum_past_the_limit_is_refused() {
        let huge = PeriodDelta::Add(Quantity::from_micros(i64::MAX).expect("max"));
        assert_eq!(
            huge.merge(PeriodDelta::Add(qty(1))),
            Err(QuantityError::TooLarge)
        );
    }

    #[test]
    fn names_round_trip_and_unique_count_counts_each_new_value_once() {
        assert_eq!(
            Aggregation::UniqueCount.delta(qty(40), at("2026-11-01T00:00:00Z")),
            PeriodDelta::Add(qty(1))
        );
        for aggregation in ALL {
            assert_eq!(aggregation.as_str().parse::<Aggregation>(), Ok(aggregation));
        }
    }

    #[test]
    fn days_combine_into_a_span_total_by_each_rule() {
        let days = [
            DayTotal {
                used: qty(3),
                latest_at: Some(at("2026-11-02T10:00:00Z")),
            },
            DayTotal {
                used: qty(8),
                latest_at: Some(at("2026-11-01T10:00:00Z")),
            },
            DayTotal {
                used: qty(1),
                latest_at: Some(at("2026-11-03T10:00:00Z")),
            },
        ];
        assert_eq!(Aggregation::Sum.combine(days), Some(qty(12)));
        assert_eq!(Aggregation::Count.combine(days), Some(qty(12)));
        assert_eq!(Aggregation::Max.combine(days), Some(qty(8)));
        assert_eq!(Aggregation::Latest.combine(days), Some(qty(1)));
        assert_eq!(Aggregation::UniqueCount.combine(days), None);
        assert_eq!(Aggregation::Max.combine([]), Some(Quantity::ZERO));
        assert_eq!(Aggregation::Latest.combine([]), Some(Quantity::ZERO));
    }

    const ALL: [Aggregation; 5] = [
        Aggregation::Sum,
        Aggregation::Count,
        Aggregation::Max,
        Aggregation::Latest,
        Aggregation::UniqueCount,
    ];

    fn stored(delta: PeriodDelta) -> DayTotal {
        match delta {
            PeriodDelta::Add(used) | PeriodDelta::AtLeast(used) => DayTotal {
                used,
                latest_at: None,
            },
            PeriodDelta::Latest { value, at } => DayTotal {
                used: value,
                latest_at: Some(at),
            },
        }
    }

    proptest::proptest! {
        // Rolling events up by day in any number of batches, then combining the days, gives
        // the total of folding every event at once: what the rollups promise.
        #[test]
        fn rolling_up_by_batch_and_day_equals_folding_all_events(
            events in proptest::collection::vec((0_i64..1_000_000_000, 0_i64..2_592_000), 1..60),
            batch_size in 1_usize..10,
            rule in 0_usize..4,
        ) {
            let aggregation = ALL[rule];
            let event = |&(micros, second): &(i64, i64)| {
                aggregation.delta(
                    Quantity::from_micros(micros).expect("quantity"),
                    DateTime::from_timestamp(1_793_491_200 + second, 0).expect("instant"),
                )
            };
            let day_of = |second: i64| second / 86_400;
            let mut days: std::collections::BTreeMap<i64, PeriodDelta> = Default::default();
            for batch in events.chunks(batch_size) {
                for e in batch {
                    let delta = event(e);
                    let merged = match days.remove(&day_of(e.1)) {
                        Some(stored) => stored.merge(delta).expect("merge"),
                        None => delta,
                    };
                    days.insert(day_of(e.1), merged);
                }
            }
            let everything = events.iter().map(event).reduce(|a, b| a.merge(b).expect("merge"));
            let expected = everything.map(|delta| stored(delta).used);
            let combined = aggregation.combine(days.into_values().map(stored));
            proptest::prop_assert_eq!(combined, expected);
        }
    }
}
