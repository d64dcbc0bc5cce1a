//! The REST API: one module per resource, each exporting `router()`, merged here.

pub mod billing_usage;
pub mod domain_usage;
pub mod entitlements;
pub mod events;
pub mod health;
pub mod organization_usage;
pub mod shape;
pub mod statements;
pub mod subscription;

use axum::{
    response::{IntoResponse, Response},
    Router,
};

use crate::error::AppError;

use shape::ShapedError;

use super::state::AppState;

/// Every REST route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(events::router())
        .merge(entitlements::router())
        .merge(billing_usage::router())
        .merge(organization_usage::router())
        .merge(subscription::router())
        .merge(domain_usage::router())
        .merge(statements::router())
}

/// Our own endpoints answer errors in the [`shape::Standard`] shape.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        ShapedError::<shape::Standard>::from(self).into_response()
    }
}
