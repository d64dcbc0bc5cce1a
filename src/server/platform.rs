//! What every capability stands on: settings, live updates between servers, the read
//! caches, request and sign-in limits, sealed secrets, and [`Platform`], the one value
//! that holds them. Imports `db` and `domain` only.

pub mod assets;
pub mod cache;
pub mod config;
pub mod limits;
pub mod live;
pub mod sealing;

use std::sync::Arc;

use cache::{ReadCache, SessionCache};
use config::Settings;
use limits::Limits;
use live::LiveUpdates;
use sealing::SealingKey;

use super::db::Database;

/// The shared resources of one server, handed to the capabilities (which never see the
/// [`AppState`](super::state::AppState) that holds it). Cloning it clones reference counts.
#[derive(Clone)]
pub struct Platform {
    pub db: Database,
    pub settings: Arc<Settings>,
    pub live: LiveUpdates,
    /// Woken when threshold alerts are queued, so the delivery task sends them at once.
    pub deliveries: Arc<tokio::sync::Notify>,
    /// Request rates and failed sign-ins, per client.
    pub limits: Arc<Limits>,
    /// Seals and opens webhook signing secrets.
    pub sealing: Arc<SealingKey>,
    /// What pages and read endpoints read of organizations, while current.
    pub cache: Arc<ReadCache>,
    /// Sessions as last read, while current.
    pub sessions: Arc<SessionCache>,
}

impl Platform {
    /// The pool `organization_id`'s usage reads go to: the replica once it has replayed the
    /// organization's last change this server knows of (its own writes at once, other
    /// servers' as their announcements arrive), else the primary. Writes, sessions and
    /// reads inside a writing transaction always use `db.pool()`.
    pub fn reader(&self, organization_id: i64) -> &sqlx::AnyPool {
        self.db.reader(self.live.written_at(organization_id))
    }
}
