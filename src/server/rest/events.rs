//! `POST /api/v1/events`: usage events in, with an admin API key.

use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, DefaultBodyLimit, State},
    http::StatusCode,
    routing::post,
    Json, Router,
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{
    domain::event::MAX_EVENTS_PER_BATCH,
    error::AppError,
    server::{
        auth::{ApiPrincipal, Role},
        ingest::{self, IngestReport},
        state::AppState,
    },
};

/// Largest request body accepted: room for 1 000 events with their properties.
pub const BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// `POST /api/v1/events`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/events", post(ingest_events))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
}

/// The request body: `{"events": [ … ]}`; each event is checked on its own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    events: Vec<Box<RawValue>>,
}

/// 200 with `{"accepted", "duplicates", "rejected": [{"index", "id", "reason"}]}` for any
/// well-formed batch; 400 when the body is not a batch or holds more than 1 000 events,
/// 413 above [`BODY_LIMIT_BYTES`], 401 without a valid key, 403 for a member key. Nothing is
/// stored unless the answer is 200.
#[tracing::instrument(skip_all, fields(organization = principal.organization_id))]
async fn ingest_events(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestReport>, AppError> {
    principal.require(Role::Admin)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge(format!(
                "request body must be at most {BODY_LIMIT_BYTES} bytes"
            ))
        } else {
            AppError::BadRequest(rejection.body_text())
        }
    })?;
    let batch: Batch = serde_json::from_slice(&body).map_err(|e| {
        AppError::BadRequest(format!(
            "body must be a JSON object {{\"events\": [ … ]}}: {e}"
        ))
    })?;
    if batch.events.len() > MAX_EVENTS_PER_BATCH {
        return Err(AppError::BadRequest(format!(
            "a batch holds at most {MAX_EVENTS_PER_BATCH} events (got {})",
            batch.events.len()
        )));
    }
    let report =
        ingest::ingest(&state, principal.organization_id, &batch.events, Utc::now()).await?;
    tracing::info!(
        accepted = report.accepted,
        duplicates = report.duplicates,
        rejected = report.rejected.len(),
        "events ingested"
    );
    Ok(Json(report))
}
