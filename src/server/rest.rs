//! The REST API: one module per resource, each exporting `router()`, merged here.

pub mod api_keys;
pub mod billing_usage;
pub mod domain_usage;
pub mod domains;
pub mod embed_origins;
pub mod entitlements;
pub mod events;
pub mod exports;
pub mod extract;
pub mod health;
pub mod licenses;
pub mod openapi;
pub mod organization_usage;
pub mod portal_sessions;
pub mod sessions;
pub mod shape;
pub mod statements;
pub mod subscription;
pub mod usage_stream;
pub mod user;
pub mod webhooks;

use axum::{
    http::{Method, Uri},
    response::{IntoResponse, Response},
    routing::any,
    Router,
};

use crate::error::AppError;

use shape::ShapedError;

use crate::server::state::AppState;

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
        .merge(sessions::router())
        .merge(api_keys::router())
        .merge(domains::router())
        .merge(licenses::router())
        .merge(webhooks::router())
        .merge(portal_sessions::router())
        .merge(embed_origins::router())
        .merge(exports::router())
        .merge(usage_stream::router())
        .merge(openapi::router())
        // Unknown paths under the API's prefixes answer JSON, not the dashboard's 404 page.
        .route("/api/v1/{*path}", any(unknown_route))
        .route("/api/billing/{*path}", any(unknown_route))
        .route("/v2/{*path}", any(unknown_route))
        .method_not_allowed_fallback(method_not_allowed)
}

/// 404 in our shape for a path no endpoint serves.
async fn unknown_route(method: Method, uri: Uri) -> AppError {
    AppError::NotFound(format!("Route {method} {}", uri.path()))
}

/// 405 in our shape for a method an endpoint does not take.
async fn method_not_allowed(method: Method) -> AppError {
    AppError::MethodNotAllowed(method.to_string())
}

/// Our own endpoints answer errors in the [`shape::Standard`] shape.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        ShapedError::<shape::Standard>::from(self).into_response()
    }
}
