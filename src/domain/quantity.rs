//! Exact metered amounts, stored as whole millionths ("micro-units") of a metric's unit.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Decimal places every quantity keeps: amounts are exact to a millionth of the unit.
pub const SCALE: u32 = 6;

/// A non-negative metered amount, exact to [`SCALE`] decimal places.
///
/// Stored as a signed 64-bit count of millionths, so one aggregate holds up to
/// 9 223 372 036 854.775807 units of its metric.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i64);

/// Why a number is not a valid [`Quantity`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("quantity must not be negative")]
    Negative,
    #[error("quantity has more than {SCALE} decimal places")]
    TooPrecise,
    #[error("quantity is too large")]
    TooLarge,
}

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);
    pub const ONE: Quantity = Quantity(1_000_000);
    pub const MAX: Quantity = Quantity(i64::MAX);

    /// Parses a decimal amount; rejects negatives, more than [`SCALE`] decimals and overflow.
    pub fn parse(value: Decimal) -> Result<Self, QuantityError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(QuantityError::Negative);
        }
        let normalized = value.normalize();
        if normalized.scale() > SCALE {
            return Err(QuantityError::TooPrecise);
        }
        let micros = normalized
            .checked_mul(Decimal::from(1_000_000_i64))
            .and_then(|scaled| i64::try_from(scaled).ok())
            .ok_or(QuantityError::TooLarge)?;
        Ok(Quantity(micros))
    }

    /// Builds a quantity from its stored count of millionths; negative counts are refused.
    pub fn from_micros(micros: i64) -> Result<Self, QuantityError> {
        if micros < 0 {
            Err(QuantityError::Negative)
        } else {
            Ok(Quantity(micros))
        }
    }

    /// The stored representation: whole millionths of the unit.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// `self + other`, or `None` past the 64-bit limit.
    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_add(other.0).map(Quantity)
    }

    /// `self - other`, or zero when `other` is larger.
    pub fn saturating_sub(self, other: Quantity) -> Quantity {
        Quantity(self.0.saturating_sub(other.0).max(0))
    }

    /// The nearest quantity to a non-negative decimal, rounding half away from zero at the
    /// sixth decimal and capping at [`Quantity::MAX`]; negative values give zero.
    pub fn saturating_from_decimal(value: Decimal) -> Quantity {
        if value <= Decimal::ZERO {
            return Quantity::ZERO;
        }
        value
            .checked_mul(Decimal::from(1_000_000_i64))
            .map(|micros| {
                micros
                    .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
            })
            .and_then(|micros| i64::try_from(micros).ok())
            .map_or(Quantity::MAX, Quantity)
    }

    /// The exact decimal value, without trailing zeros.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, SCALE).normalize()
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Serialize::serialize(&self.to_decimal(), serializer)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = <Decimal as Deserialize>::deserialize(deserializer)?;
        Quantity::parse(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimal")
    }

    #[test]
    fn parse_keeps_exact_value_up_to_six_decimals() {
        for (input, micros) in [
            ("0", 0),
            ("1", 1_000_000),
            ("67.5", 67_500_000),
            ("0.000001", 1),
            ("1.500000000", 1_500_000),
            ("9223372036854.775807", i64::MAX),
        ] {
            let quantity = Quantity::parse(dec(input)).expect(input);
            assert_eq!(quantity.micros(), micros, "{input}");
            assert_eq!(quantity.to_decimal(), dec(input).normalize(), "{input}");
        }
    }

    #[test]
    fn parse_rejects_negative_too_precise_and_too_large_amounts() {
        assert_eq!(Quantity::parse(dec("-1")), Err(QuantityError::Negative));
        assert_eq!(
            Quantity::parse(dec("0.0000001")),
            Err(QuantityError::TooPrecise)
        );
        assert_eq!(
            Quantity::parse(dec("9223372036854.775808")),
            Err(QuantityError::TooLarge)
        );
        assert_eq!(Quantity::from_micros(-5), Err(QuantityError::Negative));
    }

    #[test]
    fn serializes_as_an_exact_decimal() {
        let quantity = Quantity::parse(dec("234.8")).expect("valid");
        let json = serde_json::to_string(&quantity).expect("serialize");
        assert_eq!(json, "\"234.8\"");
        let back: Quantity = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, quantity);
        assert!(serde_json::from_str::<Quantity>("\"-3\"").is_err());
    }
}
