//! Pure product rules: quantities, billing periods, usage levels, pricing and projections.
//! No I/O, no web or SQL names.

pub mod aggregation;
pub mod event;
pub mod mailbox;
pub mod metric_scope;
pub mod period;
pub mod pricing;
pub mod projection;
pub mod quantity;
pub mod retention;
pub mod usage_level;
