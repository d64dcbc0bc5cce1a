//! Leptos server functions by resource: stubs in the browser, bodies on the server.

pub mod usage;
