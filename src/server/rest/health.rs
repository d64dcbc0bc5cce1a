//! `GET /healthz`: whether this instance can serve requests.

use std::time::Duration;

use axum::{extract::State, http::StatusCode, routing::get, Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::server::state::AppState;

/// `GET /healthz`.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

/// 200 `{"status":"ok"}` when the database answers within 2 s, 503 `{"status":"unavailable"}`
/// otherwise.
#[utoipa::path(
    get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = HealthBody),
        (status = 503, description = "The database does not answer within 2 s", body = HealthBody),
    ),
    security(())
)]
pub(crate) async fn health(State(state): State<AppState>) -> (StatusCode, Json<HealthBody>) {
    if state.db.is_healthy(Duration::from_secs(2)).await {
        (
            StatusCode::OK,
            Json(HealthBody {
                status: "ok",
                reason: None,
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthBody {
                status: "unavailable",
                reason: Some("database is not answering"),
            }),
        )
    }
}

/// `ok` or `unavailable`, with the reason when unavailable.
#[derive(Serialize, ToSchema)]
pub struct HealthBody {
    #[schema(example = "ok")]
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub reason: Option<&'static str>,
}
