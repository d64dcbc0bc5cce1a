//! The running process: start-up and shutdown, the router and the Leptos site, telemetry,
//! the allocator's statistics and the demo data. The top layer: imports everything below,
//! nothing imports it (but `main.rs`).

pub mod allocator;
pub mod demo;
pub mod site;
pub mod startup;
pub mod telemetry;
