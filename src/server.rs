//! Server-only code: configuration, state, storage, REST routes, sign-in and start-up.

pub mod alerts;
pub mod api_keys;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod browser;
pub mod config;
pub mod db;
pub mod deliveries;
pub mod demo;
pub mod destinations;
pub mod ingest;
pub mod ledger;
pub mod licenses;
pub mod live;
pub mod purge;
pub mod rest;
pub mod server_fn;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod statements;
pub mod telemetry;
pub mod users;
pub mod webhooks;
