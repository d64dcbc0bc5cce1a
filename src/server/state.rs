//! `AppState`: what every handler and server function shares, built from the platform and
//! the capabilities' own shared parts. Capabilities never import it: they take the
//! [`Platform`] (or a part of it) it hands them.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::{metering::consume::Consumptions, platform::Platform};

/// Cheap to clone (one reference count: every request clones it several times, through
/// its middleware and server functions); provided to server functions as Leptos context
/// and to axum handlers as state. Its fields are [`Shared`]'s, and through it
/// [`Platform`]'s (`state.db`, `state.settings`, …).
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
    /// What the capabilities stand on.
    pub platform: Platform,
    /// Consumes waiting for their turn to write, taken together.
    pub consumptions: Arc<Consumptions>,
}

impl std::ops::Deref for Shared {
    type Target = Platform;

    fn deref(&self) -> &Platform {
        &self.platform
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
