//! Reusable views.

pub mod cost_card;
pub mod error_template;
pub mod format;
pub mod metric_filter;
pub mod progress_bar;
pub mod usage_tables;
