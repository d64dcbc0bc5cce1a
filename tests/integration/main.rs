//! Integration tests: the HTTP app on a real database, SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set. One binary, so the build is linked once.

mod accounts;
mod admin;
mod alerts;
mod architecture;
mod cache;
mod cli;
mod consume;
mod dashboard;
mod distribution;
mod entitlements;
mod events;
mod extremes;
mod headers;
mod health;
mod helpers;
mod isolation;
mod limits;
mod openapi;
mod portal;
mod reliability;
mod replica;
mod resources;
mod retention;
mod secrets;
mod seeds;
mod servers;
mod sessions;
mod shape;
mod statements;
mod storage;
mod usage;
