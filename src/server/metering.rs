//! Usage: events taken in, hard limits consumed, the ledger that reads an organization's
//! usage, the threshold alerts a change raises (queued; `alerting` delivers them),
//! statements, licenses and the purge of old events. Imports `db`, `platform`, `access`,
//! `model`, `domain`; never `alerting`, `state`, `rest` or `http`.

pub mod alerts;
pub mod consume;
pub mod ingest;
pub mod ledger;
pub mod license_form;
pub mod licenses;
pub mod purge;
pub mod statements;
