//! How a metric's events become its period total: sum, count, max, latest (unique count later).

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
    /// Number of distinct values; takes no events until a metric can name the property to count.
    UniqueCount,
}

impl Aggregation {
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

    /// What one event of `quantity` at `at` contributes, or `None` when this aggregation
    /// cannot take events.
    pub fn delta(self, quantity: Quantity, at: DateTime<Utc>) -> Option<PeriodDelta> {
        match self {
            Aggregation::Sum => Some(PeriodDelta::Add(quantity)),
            Aggregation::Count => Quantity::parse(rust_decimal::Decimal::ONE)
                .ok()
                .map(PeriodDelta::Add),
            Aggregation::Max => Some(PeriodDelta::AtLeast(quantity)),
            Aggregation::Latest => Some(PeriodDelta::Latest {
                value: quantity,
                at,
            }),
            Aggregation::UniqueCount => None,
        }
    }
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
            .map(|(units, time)| {
                aggregation
                    .delta(qty(*units), at(time))
                    .expect("takes events")
            })
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
    fn unique_count_takes_no_events_yet_and_names_round_trip() {
        assert_eq!(
            Aggregation::UniqueCount.delta(qty(1), at("2026-11-01T00:00:00Z")),
            None
        );
        for aggregation in [
            Aggregation::Sum,
            Aggregation::Count,
            Aggregation::Max,
            Aggregation::Latest,
            Aggregation::UniqueCount,
        ] {
            assert_eq!(aggregation.as_str().parse::<Aggregation>(), Ok(aggregation));
        }
    }
}
