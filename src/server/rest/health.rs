//! `GET /healthz`: whether this instance can serve requests.

use std::time::Duration;

use axum::{extract::State, http::StatusCode, routing::get, Json, Router};
use serde_json::{json, Value};

use crate::server::state::AppState;

/// `GET /healthz`.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

/// 200 `{"status":"ok"}` when the database answers within 2 s, 503 `{"status":"unavailable"}`
/// otherwise.
#[tracing::instrument(skip_all)]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.db.is_healthy(Duration::from_secs(2)).await {
        (StatusCode::OK, Json(json!({ "status": "ok" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "reason": "database is not answering" })),
        )
    }
}
