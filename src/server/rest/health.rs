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
/// otherwise; with a read replica, where usage reads went since the server started.
#[utoipa::path(
    get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = HealthBody),
        (status = 503, description = "The database does not answer within 2 s", body = HealthBody),
    ),
    security(())
)]
pub(crate) async fn health(State(state): State<AppState>) -> (StatusCode, Json<HealthBody>) {
    let replica = state.db.has_replica().then(|| {
        let routing = state.db.read_routing();
        ReplicaReads {
            reads_on_replica: routing.on_replica,
            reads_on_primary: routing.on_primary,
        }
    });
    if state.db.is_healthy(Duration::from_secs(2)).await {
        (
            StatusCode::OK,
            Json(HealthBody {
                status: "ok",
                reason: None,
                replica,
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthBody {
                status: "unavailable",
                reason: Some("database is not answering"),
                replica,
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
    /// Present when `database-read-url` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub replica: Option<ReplicaReads>,
}

/// Usage reads since the server started: served by the replica, or sent to the primary
/// because the replica had not replayed the organization's last change yet (or could not
/// be reached).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaReads {
    pub reads_on_replica: u64,
    pub reads_on_primary: u64,
}
