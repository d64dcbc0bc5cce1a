//! How full an allowance is: the percentage used and its colour band (green, yellow, red).

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::quantity::Quantity;

/// Percentages at which a metric turns yellow (`warning`) and red (`critical`).
///
/// A metric is green up to and including `warning`, yellow above it up to and including
/// `critical`, and red above `critical`. Invariant: `0 < warning < critical <= 1000`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedThresholds")]
pub struct Thresholds {
    warning: Decimal,
    critical: Decimal,
}

/// Thresholds as they arrive over the wire, checked by [`Thresholds::new`] on the way in.
#[derive(Deserialize)]
struct UncheckedThresholds {
    warning: Decimal,
    critical: Decimal,
}

impl TryFrom<UncheckedThresholds> for Thresholds {
    type Error = ThresholdsError;

    fn try_from(raw: UncheckedThresholds) -> Result<Self, Self::Error> {
        Thresholds::new(raw.warning, raw.critical)
    }
}

/// Why a pair of thresholds was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdsError {
    #[error("warning threshold must be above 0 % (got {0} %)")]
    WarningNotPositive(Decimal),
    #[error("warning threshold ({warning} %) must be below the critical threshold ({critical} %)")]
    NotIncreasing { warning: Decimal, critical: Decimal },
    #[error("critical threshold must be at most 1000 % (got {0} %)")]
    CriticalTooHigh(Decimal),
}

impl Thresholds {
    /// Validates a warning / critical pair of percentages.
    pub fn new(warning: Decimal, critical: Decimal) -> Result<Self, ThresholdsError> {
        if warning <= Decimal::ZERO {
            return Err(ThresholdsError::WarningNotPositive(warning));
        }
        if warning >= critical {
            return Err(ThresholdsError::NotIncreasing { warning, critical });
        }
        if critical > Decimal::from(1000) {
            return Err(ThresholdsError::CriticalTooHigh(critical));
        }
        Ok(Thresholds { warning, critical })
    }

    /// Percentage above which a metric is yellow.
    pub fn warning(&self) -> Decimal {
        self.warning
    }

    /// Percentage above which a metric is red.
    pub fn critical(&self) -> Decimal {
        self.critical
    }
}

impl Default for Thresholds {
    /// 75 % and 90 %.
    fn default() -> Self {
        Thresholds {
            warning: Decimal::from(75),
            critical: Decimal::from(90),
        }
    }
}

/// The colour a usage bar takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    Green,
    Yellow,
    Red,
}

impl Band {
    /// Lower-case name, used in CSS classes and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Green => "green",
            Band::Yellow => "yellow",
            Band::Red => "red",
        }
    }
}

/// How much of a metric a plan grants in one period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "amount")]
pub enum Allowance {
    /// No cap: usage is shown but never turns yellow or red.
    Unlimited,
    /// This much is included; usage above it is overage.
    Included(Quantity),
}

/// Where usage of a metric is refused, if anywhere: a hard-limited (`limited`) resource
/// stops at its own `limit`, or at the included amount when it has none. `None` for a soft
/// limit, whose usage past the included amount is billed as overage instead.
pub fn hard_cap(allowance: Allowance, limited: bool, limit: Option<Quantity>) -> Option<Quantity> {
    match (limited, limit, allowance) {
        (false, _, _) | (true, None, Allowance::Unlimited) => None,
        (true, Some(limit), _) | (true, None, Allowance::Included(limit)) => Some(limit),
    }
}

/// Whether more usage is accepted after `used`: always without a hard cap, else only while
/// `used` is below it.
pub fn accepts_more(cap: Option<Quantity>, used: Quantity) -> bool {
    cap.is_none_or(|cap| used < cap)
}

/// Whether taking `needed` more after `used` stays within a hard cap: always without one,
/// else only when `used + needed` is at most the cap (so the last unit before it fits).
pub fn fits(cap: Option<Quantity>, used: Quantity, needed: Quantity) -> bool {
    cap.is_none_or(|cap| used.checked_add(needed).is_some_and(|total| total <= cap))
}

/// The level of one metric: percentage of its allowance used, colour band and overage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageLevel {
    /// Used ÷ included × 100, rounded *up* to 2 decimals: never under-reports usage, and for
    /// thresholds with at most 2 decimals always falls in the same band as the exact value.
    /// `None` when the allowance is unlimited, or when it is zero and something was used.
    pub percentage: Option<Decimal>,
    /// Decided on the exact, unrounded percentage.
    pub band: Band,
    /// Usage above the included amount; zero when within it or unlimited.
    pub overage: Quantity,
}

impl UsageLevel {
    /// Rates `used` against `allowance`.
    ///
    /// Unlimited allowances are always green with no percentage. A zero allowance is green
    /// at 0 % while nothing is used and red, with no percentage, once anything is.
    pub fn assess(used: Quantity, allowance: Allowance, thresholds: &Thresholds) -> Self {
        let included = match allowance {
            Allowance::Unlimited => {
                return UsageLevel {
                    percentage: None,
                    band: Band::Green,
                    overage: Quantity::ZERO,
                }
            }
            Allowance::Included(included) => included,
        };
        let overage = used.saturating_sub(included);
        if included == Quantity::ZERO {
            let band = if used == Quantity::ZERO {
                Band::Green
            } else {
                Band::Red
            };
            let percentage = (used == Quantity::ZERO).then_some(Decimal::ZERO);
            return UsageLevel {
                percentage,
                band,
                overage,
            };
        }
        let exact = used.to_decimal() * Decimal::ONE_HUNDRED / included.to_decimal();
        let band = if exact > thresholds.critical() {
            Band::Red
        } else if exact > thresholds.warning() {
            Band::Yellow
        } else {
            Band::Green
        };
        UsageLevel {
            percentage: Some(
                exact
                    .round_dp_with_strategy(2, RoundingStrategy::ToPositiveInfinity)
                    .normalize(),
            ),
            band,
            overage,
        }
    }

    /// How full the bar is drawn, 0–100: the percentage clamped, full when a zero
    /// allowance is exceeded, empty when unlimited. This is the bar's `aria-valuenow`.
    pub fn fill_percent(&self) -> Decimal {
        match self.percentage {
            Some(percentage) => percentage.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED),
            None if self.overage > Quantity::ZERO => Decimal::ONE_HUNDRED,
            None => Decimal::ZERO,
        }
    }

    /// The percentage as a number, for clients that cannot take a missing one (seed 002's
    /// `percentage`): where there is none, how full the bar is drawn, 0 for an unlimited
    /// allowance and 100 once a zero allowance is exceeded.
    pub fn reported_percentage(&self) -> Decimal {
        self.percentage.unwrap_or_else(|| self.fill_percent())
    }

    /// True once usage is above the included amount.
    pub fn is_over(&self) -> bool {
        self.overage > Quantity::ZERO
    }
}

/// The thresholds (percentages of `allowance`) that `used` has reached, ascending: every
/// threshold at or below the exact, unrounded percentage, so one jump past several reaches
/// each of them. None for an unlimited allowance; every one for a zero allowance once
/// anything is used.
pub fn thresholds_reached(
    used: Quantity,
    allowance: Allowance,
    thresholds: &[Decimal],
) -> Vec<Decimal> {
    let Allowance::Included(included) = allowance else {
        return Vec::new();
    };
    let mut reached: Vec<Decimal> = if included == Quantity::ZERO {
        if used == Quantity::ZERO {
            Vec::new()
        } else {
            thresholds.to_vec()
        }
    } else {
        let exact = used.to_decimal() * Decimal::ONE_HUNDRED / included.to_decimal();
        thresholds.iter().copied().filter(|t| *t <= exact).collect()
    };
    reached.sort();
    reached
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hard_limit_refuses_more_once_used_up() {
        let q = |n: i64| Quantity::parse(Decimal::from(n)).expect("quantity");
        let ten = Allowance::Included(q(10));
        let at_included = hard_cap(ten, true, None);
        assert_eq!(at_included, Some(q(10)));
        assert!(accepts_more(at_included, q(9)));
        assert!(!accepts_more(at_included, q(10)));
        let soft = hard_cap(ten, false, None);
        assert_eq!(soft, None, "a soft limit bills overage instead");
        assert!(accepts_more(soft, q(12)));
        assert!(!accepts_more(
            hard_cap(Allowance::Included(q(0)), true, None),
            q(0)
        ));
        assert_eq!(hard_cap(Allowance::Unlimited, true, None), None);
    }

    #[test]
    fn a_limit_of_its_own_moves_the_cap_off_the_included_amount() {
        let q = |n: i64| Quantity::parse(Decimal::from(n)).expect("quantity");
        let ten = Allowance::Included(q(10));
        let above = hard_cap(ten, true, Some(q(15)));
        assert!(
            accepts_more(above, q(12)),
            "between included and limit: overage"
        );
        assert!(!accepts_more(above, q(15)));
        let below = hard_cap(ten, true, Some(q(8)));
        assert!(
            !accepts_more(below, q(8)),
            "a limit below included stops first"
        );
        assert_eq!(
            hard_cap(ten, false, Some(q(15))),
            None,
            "only a hard limit refuses"
        );
    }

    use std::str::FromStr;

    fn qty(s: &str) -> Quantity {
        Quantity::parse(Decimal::from_str(s).expect("decimal")).expect("quantity")
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn bands_follow_the_default_thresholds() {
        // (used of 100 included, percentage, band, fill)
        let cases = [
            ("0", "0", Band::Green, "0"),
            ("75", "75", Band::Green, "75"),
            ("75.01", "75.01", Band::Yellow, "75.01"),
            ("90", "90", Band::Yellow, "90"),
            ("90.01", "90.01", Band::Red, "90.01"),
            ("100", "100", Band::Red, "100"),
            ("250", "250", Band::Red, "100"),
        ];
        for (used, percentage, band, fill) in cases {
            let level = UsageLevel::assess(
                qty(used),
                Allowance::Included(qty("100")),
                &Thresholds::default(),
            );
            assert_eq!(level.percentage, Some(dec(percentage)), "used {used}");
            assert_eq!(level.band, band, "used {used}");
            assert_eq!(level.fill_percent(), dec(fill), "used {used}");
        }
    }

    #[test]
    fn the_shown_percentage_rounds_up_so_it_agrees_with_the_band() {
        let assess = |used: &str| {
            UsageLevel::assess(
                qty(used),
                Allowance::Included(qty("100")),
                &Thresholds::default(),
            )
        };
        // Just above the warning threshold: shows 75.01, not 75, and is yellow.
        let above = assess("75.004");
        assert_eq!(above.percentage, Some(dec("75.01")));
        assert_eq!(above.band, Band::Yellow);
        // Just below: shows 75 and is green.
        let below = assess("74.996");
        assert_eq!(below.percentage, Some(dec("75")));
        assert_eq!(below.band, Band::Green);
    }

    #[test]
    fn percentages_keep_two_decimals_rounded_up() {
        let of_three = |used: &str| {
            UsageLevel::assess(
                qty(used),
                Allowance::Included(qty("3")),
                &Thresholds::default(),
            )
            .percentage
        };
        assert_eq!(of_three("1"), Some(dec("33.34")));
        assert_eq!(of_three("2"), Some(dec("66.67")));
        assert_eq!(of_three("3"), Some(dec("100")));
    }

    #[test]
    fn overage_is_usage_above_the_included_amount() {
        let level = UsageLevel::assess(
            qty("13000"),
            Allowance::Included(qty("10000")),
            &Thresholds::default(),
        );
        assert_eq!(level.overage, qty("3000"));
        assert!(level.is_over());
        let within = UsageLevel::assess(
            qty("10000"),
            Allowance::Included(qty("10000")),
            &Thresholds::default(),
        );
        assert_eq!(within.overage, Quantity::ZERO);
        assert!(!within.is_over());
    }

    #[test]
    fn zero_allowance_is_green_until_used_then_red_without_percentage() {
        let unused = UsageLevel::assess(
            Quantity::ZERO,
            Allowance::Included(Quantity::ZERO),
            &Thresholds::default(),
        );
        assert_eq!(unused.percentage, Some(Decimal::ZERO));
        assert_eq!(unused.band, Band::Green);
        assert_eq!(unused.fill_percent(), Decimal::ZERO);

        let used = UsageLevel::assess(
            qty("2"),
            Allowance::Included(Quantity::ZERO),
            &Thresholds::default(),
        );
        assert_eq!(used.percentage, None);
        assert_eq!(used.band, Band::Red);
        assert_eq!(used.overage, qty("2"));
        assert_eq!(used.fill_percent(), Decimal::ONE_HUNDRED);
    }

    #[test]
    fn what_is_taken_fits_up_to_the_cap_and_not_past_it() {
        let cap = Some(qty("10"));
        let cases = [
            // (used, needed, fits)
            ("9", "1", true),
            ("9", "2", false),
            ("10", "1", false),
            ("10", "0", true),
            ("0", "10", true),
            ("0", "10.000001", false),
        ];
        for (used, needed, expected) in cases {
            assert_eq!(
                fits(cap, qty(used), qty(needed)),
                expected,
                "{used} + {needed}"
            );
        }
        assert!(fits(None, Quantity::MAX, Quantity::MAX), "no cap: always");
        assert!(!fits(cap, Quantity::MAX, Quantity::ONE), "no overflow");
    }

    #[test]
    fn unlimited_is_always_green_with_no_percentage() {
        let level =
            UsageLevel::assess(qty("1000000"), Allowance::Unlimited, &Thresholds::default());
        assert_eq!(level.percentage, None);
        assert_eq!(level.band, Band::Green);
        assert_eq!(level.overage, Quantity::ZERO);
        assert_eq!(level.fill_percent(), Decimal::ZERO);
    }

    #[test]
    fn configured_thresholds_move_the_bands() {
        let thresholds = Thresholds::new(dec("50"), dec("80")).expect("valid");
        let band = |used: &str| {
            UsageLevel::assess(qty(used), Allowance::Included(qty("100")), &thresholds).band
        };
        assert_eq!(band("50"), Band::Green);
        assert_eq!(band("50.5"), Band::Yellow);
        assert_eq!(band("80"), Band::Yellow);
        assert_eq!(band("81"), Band::Red);
    }

    #[test]
    fn thresholds_read_from_json_are_checked_too() {
        let valid: Thresholds =
            serde_json::from_str(r#"{"warning":"60","critical":"80"}"#).expect("valid");
        assert_eq!(valid.warning(), dec("60"));
        assert!(serde_json::from_str::<Thresholds>(r#"{"warning":"95","critical":"80"}"#).is_err());
    }

    #[test]
    fn thresholds_must_be_positive_and_increasing() {
        assert!(Thresholds::new(dec("0"), dec("90")).is_err());
        assert!(Thresholds::new(dec("90"), dec("90")).is_err());
        assert!(Thresholds::new(dec("95"), dec("90")).is_err());
        assert!(Thresholds::new(dec("75"), dec("1001")).is_err());
        assert!(Thresholds::new(dec("75"), dec("90")).is_ok());
    }

    #[test]
    fn every_threshold_at_or_below_the_exact_percentage_is_reached() {
        let hundred = Allowance::Included(qty("100"));
        let thresholds = [dec("100"), dec("75"), dec("90")];
        // (used of 100, thresholds reached)
        let cases: [(&str, &[&str]); 6] = [
            ("0", &[]),
            ("74.999999", &[]),
            ("75", &["75"]),
            ("89.99", &["75"]),
            ("95", &["75", "90"]),
            ("300", &["75", "90", "100"]),
        ];
        for (used, expected) in cases {
            let expected: Vec<Decimal> = expected.iter().map(|t| dec(t)).collect();
            assert_eq!(
                thresholds_reached(qty(used), hundred, &thresholds),
                expected,
                "used {used}"
            );
        }
        assert!(thresholds_reached(qty("5000"), Allowance::Unlimited, &thresholds).is_empty());
        let zero = Allowance::Included(Quantity::ZERO);
        assert!(thresholds_reached(Quantity::ZERO, zero, &thresholds).is_empty());
        assert_eq!(thresholds_reached(qty("1"), zero, &thresholds).len(), 3);
    }
}
