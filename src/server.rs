//! Server-only code, in layers that import only downwards (ARCHITECTURE.md draws them):
//! `db` (all SQL) → `platform` (settings, live updates, caches, limits, sealing) → the
//! capabilities `access`, `alerting`, `metering` → `state` (what handlers share) → `rest`
//! and `http` (the edge) → `process` (start-up and wiring).

pub mod access;
pub mod alerting;
pub mod db;
pub mod http;
pub mod metering;
pub mod platform;
pub mod process;
pub mod rest;
pub mod state;
