//! Who is asking and what they may do: API keys, sessions and sign-in, users, portal
//! sessions and the origins that may frame their view, the
//! principal a request proves, and the audit log of changes they make. Imports `db`,
//! `platform`, `model`, `domain`; never `state`, `rest`, `http` or another capability.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod embedding;
pub mod portal;
pub mod principal;
pub mod sessions;
pub mod tokens;
pub mod users;
