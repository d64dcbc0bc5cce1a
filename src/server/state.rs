//! `AppState`: what every handler and server function shares.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::{
    cache::{ReadCache, SessionCache},
    config::Settings,
    consume::Consumptions,
    db::Database,
    limits::Limits,
    live::LiveUpdates,
    sealing::SealingKey,
};

/// Cheap to clone (one reference count: every request clones it several times, through
/// its middleware and server functions); provided to server functions as Leptos context
/// and to axum handlers as state. Its fields are [`Shared`]'s.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every handler and server function shares, behind [`AppState`].
pub struct Shared {
    pub leptos_options: LeptosOptions,
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
    /// Consumes waiting for their turn to write, taken together.
    pub consumptions: Arc<Consumptions>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
