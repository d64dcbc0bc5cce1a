//! Leptos server functions by resource: stubs in the browser, bodies on the server.

pub mod account;
pub mod admin;
pub mod audit;
pub mod billing;
pub mod embedding;
pub mod licenses;
pub mod settings;
pub mod usage;
pub mod users;
