//! The types that cross the client/server line: what server functions return and pages
//! render, what the server's ledger and license code build. Imported by `api`, `pages`,
//! `components` and `server`; imports only `domain`, `error` and `i18n` (and, on the
//! server, charming for the history chart's option).

pub mod account;
#[cfg(feature = "ssr")]
pub mod chart;
pub mod embed;
pub mod licenses;
pub mod usage;
#[cfg(feature = "ssr")]
pub mod wire;
