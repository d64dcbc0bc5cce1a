//! Projected usage at the end of a billing period from what has been used so far.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{aggregation::Aggregation, period::BillingPeriod, quantity::Quantity};

/// The usage expected by the end of `period`, seen at `now`.
///
/// Sums and counts grow with time, so they are extended linearly from the elapsed fraction
/// of the period: half way through, twice what is used now. Gauges (`max`, `latest`,
/// `unique_count`) are expected to stay where they are. Before the period starts, and once
/// it has ended, the projection is the usage itself. Rounded half away from zero to a
/// millionth and capped at [`Quantity::MAX`].
pub fn projected_usage(
    aggregation: Aggregation,
    used: Quantity,
    period: &BillingPeriod,
    now: DateTime<Utc>,
) -> Quantity {
    match aggregation {
        Aggregation::Sum | Aggregation::Count => {
            let elapsed = period.elapsed_fraction(now);
            if elapsed.is_zero() || elapsed >= Decimal::ONE {
                used
            } else {
                used.to_decimal()
                    .checked_div(elapsed)
                    .map_or(Quantity::MAX, Quantity::saturating_from_decimal)
            }
        }
        Aggregation::Max | Aggregation::Latest | Aggregation::UniqueCount => used,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Tz;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    fn units(n: i64) -> Quantity {
        Quantity::parse(Decimal::from(n)).expect("quantity")
    }

    #[test]
    fn sums_extend_linearly_and_gauges_stay_put() {
        // 30-day November, 12 days gone (40 %): 45 230 → 113 075.
        let november =
            BillingPeriod::calendar_month_containing(at("2026-11-13T00:00:00Z"), Tz::UTC);
        let now = at("2026-11-13T00:00:00Z");
        assert_eq!(
            projected_usage(Aggregation::Sum, units(45_230), &november, now),
            units(113_075)
        );
        assert_eq!(
            projected_usage(Aggregation::Count, units(3), &november, now),
            Quantity::parse(Decimal::new(75, 1)).expect("7.5")
        );
        for gauge in [
            Aggregation::Max,
            Aggregation::Latest,
            Aggregation::UniqueCount,
        ] {
            assert_eq!(projected_usage(gauge, units(7), &november, now), units(7));
        }
    }

    #[test]
    fn at_the_edges_of_the_period_the_projection_is_the_usage() {
        let november =
            BillingPeriod::calendar_month_containing(at("2026-11-13T00:00:00Z"), Tz::UTC);
        for now in [november.start, november.end, at("2027-01-01T00:00:00Z")] {
            assert_eq!(
                projected_usage(Aggregation::Sum, units(10), &november, now),
                units(10)
            );
        }
        // One second in, a huge extrapolation still fits.
        let early = november.start + chrono::Duration::seconds(1);
        assert_eq!(
            projected_usage(Aggregation::Sum, Quantity::MAX, &november, early),
            Quantity::MAX
        );
    }

    proptest::proptest! {
        #[test]
        fn a_projection_never_falls_below_the_usage(
            micros in 0_i64..i64::MAX,
            second in 0_i64..2_592_000,
        ) {
            let november = BillingPeriod::calendar_month_containing(at("2026-11-13T00:00:00Z"), Tz::UTC);
            let used = Quantity::from_micros(micros).expect("quantity");
            let now = november.start + chrono::Duration::seconds(second);
            proptest::prop_assert!(projected_usage(Aggregation::Sum, used, &november, now) >= used);
        }
    }
}
