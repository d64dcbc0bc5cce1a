//! The REST API: one module per resource, each exporting `router()`, merged here.

pub mod health;

use axum::Router;

use super::state::AppState;

/// Every REST route.
pub fn router() -> Router<AppState> {
    Router::new().merge(health::router())
}
