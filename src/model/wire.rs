//! How values are written in JSON answers and payloads, as the seed documents print them:
//! ids as strings, instants in their two forms, amounts as numbers that are never null.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde_json::Value;

use crate::domain::quantity::Quantity;

/// An id as the documents write them: a string of digits.
pub fn id(id: i64) -> String {
    id.to_string()
}

/// Unix seconds as seeds 000 and 001 write instants: `2025-01-01T12:00:00.000Z`.
pub fn timestamp_millis(unix_seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix_seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An instant as seeds 002 and 004 write them: `2024-01-01T00:00:00Z`.
pub fn timestamp_seconds(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An amount as a JSON number, never null: whole amounts as integers (`9`, not `9.0`),
/// others through `f64`, whose shortest form prints any amount with at most 15
/// significant digits exactly. (Every `Decimal` is finite and within `f64`'s range.)
pub fn decimal(amount: Decimal) -> Value {
    let amount = amount.normalize();
    if amount.fract().is_zero() {
        if let Some(whole) = amount.to_i64() {
            return Value::from(whole);
        }
    }
    Value::from(amount.to_f64().unwrap_or_default())
}

/// A quantity as a JSON number; see [`decimal`].
pub fn quantity(quantity: Quantity) -> Value {
    decimal(quantity.to_decimal())
}
