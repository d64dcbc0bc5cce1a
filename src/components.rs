//! Reusable views.

pub mod copy_button;
pub mod cost_card;
pub mod data_table;
pub mod error_template;
pub mod format;
pub mod history_chart;
pub mod limit_table;
pub mod live;
pub mod loading;
pub mod progress_bar;
pub mod sort_header;
pub mod usage_tables;
