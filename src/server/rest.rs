//! The REST API: one module per resource, each exporting `router()`, merged here.

pub mod events;
pub mod health;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json, Router,
};
use serde_json::json;

use crate::error::AppError;

use super::state::AppState;

/// Every REST route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(events::router())
}

/// Our endpoints answer errors as `{"error": {"code": "BAD_REQUEST", "message": "…"}}` with
/// the error's status; 401 also carries `WWW-Authenticate: Bearer`.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({ "error": { "code": self.code(), "message": self.to_string() } });
        let mut response = (status, Json(body)).into_response();
        if self == AppError::Unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
