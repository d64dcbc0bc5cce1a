//! Delivering threshold alerts: the webhooks that receive them, where they may be sent and
//! the worker that sends what `metering::alerts` queued. Imports `db`, `platform`,
//! `access`, `metering`, `model`, `domain`; never `state`, `rest` or `http`.

pub mod deliveries;
pub mod destinations;
pub mod webhooks;
