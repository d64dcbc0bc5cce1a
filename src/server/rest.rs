//! The REST API: one module per resource, each exporting `router()`, merged here.

pub mod api_keys;
pub mod billing_usage;
pub mod domain_usage;
pub mod domains;
pub mod entitlements;
pub mod events;
pub mod health;
pub mod licenses;
pub mod organization_usage;
pub mod shape;
pub mod statements;
pub mod subscription;
pub mod user;
pub mod webhooks;

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
        .merge(user::router())
        .merge(api_keys::router())
        .merge(domains::router())
        .merge(licenses::router())
        .merge(webhooks::router())
}

/// Our own endpoints answer errors in the [`shape::Standard`] shape.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        ShapedError::<shape::Standard>::from(self).into_response()
    }
}
