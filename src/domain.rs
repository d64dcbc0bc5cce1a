//! Pure product rules: quantities, billing periods and usage levels. No I/O, no web or SQL names.

pub mod aggregation;
pub mod event;
pub mod period;
pub mod quantity;
pub mod usage_level;
