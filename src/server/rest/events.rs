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
use utoipa::ToSchema;

use crate::{
    domain::event::MAX_EVENTS_PER_BATCH,
    error::AppError,
    server::{
        metering::ingest::{self, IngestReport},
        rest::extract::Admin,
        rest::shape::ErrorBody,
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

/// The request body as documented: up to 1 000 events.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct EventBatch {
    events: Vec<EventInput>,
}

/// One usage event. Unknown fields are refused.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct EventInput {
    /// Idempotency key, unique in the organization: a repeat is acknowledged, not counted.
    #[schema(example = "evt-1")]
    id: String,
    /// A metric code of the catalogue.
    #[schema(example = "apiCalls")]
    metric: String,
    /// Default 1; at most 6 decimals. A number, or a string of one to keep every digit.
    #[schema(schema_with = quantity_schema)]
    quantity: Option<f64>,
    /// RFC 3339; default now. At most 35 days old (configurable), 5 minutes ahead.
    timestamp: Option<String>,
    account: Option<String>,
    domain_id: Option<String>,
    channel: Option<String>,
    /// Free-form JSON object, at most 8 KiB.
    #[schema(value_type = Option<Object>)]
    properties: Option<serde_json::Value>,
}

/// A quantity: a JSON number, or a decimal number in a string (no precision lost to floats).
pub(crate) fn quantity_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    let one_of = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(
            r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$",
        )))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build();
    Schema::OneOf(one_of)
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
#[utoipa::path(
    post, path = "/api/v1/events", tag = "events", request_body = EventBatch,
    responses(
        (status = 200, description = "What happened to each event", body = IngestReport),
        (status = 400, description = "Not a batch, or more than 1 000 events", body = ErrorBody),
        (status = 413, description = "A body over 4 MiB", body = ErrorBody),
    )
)]
pub(crate) async fn ingest_events(
    State(state): State<AppState>,
    Admin(principal): Admin,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestReport>, AppError> {
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
