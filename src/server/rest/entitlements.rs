//! `GET /api/v1/entitlements/{metric}`: may the organization use more of a metric now?
//! `POST /api/v1/entitlements/{metric}/consume`: take some, atomically, or be refused.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, Path, State},
    http::{HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, value::RawValue, Value};
use utoipa::ToSchema;

use crate::{
    domain::{
        aggregation::Aggregation,
        event::{EventDraft, EventWindow},
        quantity::Quantity,
    },
    error::AppError,
    model::usage::Entitlement,
    server::{
        access::principal::ApiPrincipal,
        metering::alerts,
        metering::consume::{Consume, Outcome},
        metering::ingest::CatalogueEntry,
        metering::ledger::Ledger,
        rest::extract::Admin,
        rest::shape::{quantity, ErrorBody, ErrorDetail},
        state::AppState,
    },
};

/// `GET /api/v1/entitlements/{metric}`, `POST /api/v1/entitlements/{metric}/consume`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/entitlements/{metric}", get(entitlement))
        .route("/api/v1/entitlements/{metric}/consume", post(consume))
}

/// 200 `{"metric", "allowed", "used", "limit", "remaining", "included", "limited"}`
/// (amounts as JSON numbers) for any key of the organization; `limit` is where a hard limit
/// refuses usage, else the included amount; `limit`, `remaining` and `included` are null
/// when unlimited. 401 without a valid key,
/// 404 for a metric the catalogue lacks.
#[utoipa::path(
    get, path = "/api/v1/entitlements/{metric}", tag = "usage",
    params(("metric" = String, Path, description = "A metric code")),
    responses(
        (status = 200, description = "Whether more may be used now", body = EntitlementBody),
        (status = 404, description = "No such metric in the catalogue", body = ErrorBody),
    )
)]
pub(crate) async fn entitlement(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Path(metric): Path<String>,
) -> Result<Json<EntitlementBody>, AppError> {
    let ledger = Ledger::load(&state, principal.organization_id).await?;
    let entitlement = ledger.entitlement(&state, &metric, Utc::now()).await?;
    Ok(Json(EntitlementBody::of(&entitlement)))
}

impl EntitlementBody {
    fn of(entitlement: &Entitlement) -> EntitlementBody {
        EntitlementBody {
            metric: entitlement.metric.clone(),
            allowed: entitlement.allowed,
            used: quantity(entitlement.used),
            limit: entitlement.limit.map_or(Value::Null, quantity),
            remaining: entitlement.remaining.map_or(Value::Null, quantity),
            included: entitlement.included.map_or(Value::Null, quantity),
            limited: entitlement.limited,
        }
    }
}

/// What a consume may carry: the event fields, less the metric (the path's) and the
/// timestamp (a consume happens now). Unknown fields are refused.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct ConsumeInput {
    /// Idempotency key, unique in the organization among consumes and events: the same id
    /// again is answered the first answer, and counted once.
    #[schema(example = "seat-ann@acme.example")]
    id: String,
    /// Default 1; at most 6 decimals. Sums take any amount; counts and unique counts 1.
    #[schema(schema_with = super::events::quantity_schema)]
    quantity: Option<f64>,
    account: Option<String>,
    domain_id: Option<String>,
    channel: Option<String>,
    /// Free-form JSON object, at most 8 KiB; a unique count counts the value its field names
    /// (the demo's Team Seats: `properties.userId`).
    #[schema(value_type = Option<Object>)]
    properties: Option<serde_json::Value>,
}

/// The fields [`ConsumeInput`] documents.
const CONSUME_FIELDS: [&str; 6] = [
    "id",
    "quantity",
    "account",
    "domainId",
    "channel",
    "properties",
];

/// The header that marks an answer given before, to the same id.
pub const REPLAYED: &str = "idempotent-replayed";

/// 200 with the entitlement after the usage is recorded; 409 `LIMIT_EXCEEDED` with `used`,
/// `limit` and `remaining` when it does not fit under the hard limit (nothing is recorded);
/// the first answer again, with `Idempotent-Replayed: true`, for an id consumed before.
/// 400 for a body that is not such an object, a quantity other than 1 for a count or a
/// unique count, a unique count without its value, or a gauge (its readings go through
/// `POST /api/v1/events`); 401 without a valid key; 403 for a member key; 404 for a metric
/// the catalogue lacks; 409 `CONFLICT` for an id an ingested event has.
#[utoipa::path(
    post, path = "/api/v1/entitlements/{metric}/consume", tag = "usage",
    params(("metric" = String, Path, description = "A metric code", example = "apiCalls")),
    request_body = ConsumeInput,
    responses(
        (status = 200, description = "Recorded: the entitlement after it", body = EntitlementBody,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to the same id, given again"))),
        (status = 400, description = "Not a consume, or a metric that cannot be consumed", body = ErrorBody),
        (status = 404, description = "No such metric in the catalogue", body = ErrorBody),
        (status = 409, description = "It does not fit under the hard limit (nothing recorded), or the id is an ingested event's", body = LimitErrorBody),
    )
)]
pub(crate) async fn consume(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Path(metric): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = body.map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
    let ledger = Ledger::cached(&state, principal.organization_id).await?;
    let resource = ledger
        .resource_named(&metric)
        .ok_or_else(|| AppError::NotFound(format!("Metric {metric:?}")))?
        .clone();
    let now = Utc::now();
    let draft = parse(
        &body,
        &resource.metric.code,
        now,
        state.settings.backdating_days,
    )?;
    match resource.aggregation {
        Aggregation::Max | Aggregation::Latest => {
            return Err(AppError::BadRequest(format!(
                "{} is a gauge: its readings go through POST /api/v1/events; a consume \
                 takes sums, counts and unique counts",
                resource.metric.code
            )))
        }
        Aggregation::Count | Aggregation::UniqueCount if draft.quantity != Quantity::ONE => {
            return Err(AppError::BadRequest(format!(
                "{} counts events: a consume takes one (quantity 1)",
                resource.metric.code
            )))
        }
        _ => {}
    }
    let event = CatalogueEntry::of(&resource.metric)
        .ok_or(AppError::Internal)?
        .accept(draft)
        .map_err(AppError::BadRequest)?;
    let consume = Consume {
        organization_id: principal.organization_id,
        time_zone: ledger.time_zone,
        period: ledger.period_at(now),
        resource,
        event,
        now,
    };
    let answer = state.consumptions.consume(&state.db, consume).await?;
    if let Some(changed) = answer.changed {
        let (state, organization) = (state.clone(), principal.organization_id);
        state.live.usage_changed(organization).await;
        tokio::spawn(async move {
            alerts::check_and_clear(&state, organization, changed.touched, changed.noted_at).await;
        });
    }
    let mut response = match answer.outcome {
        Outcome::Taken(entitlement) => Json(EntitlementBody::of(&entitlement)).into_response(),
        Outcome::Refused(entitlement) => (
            StatusCode::CONFLICT,
            Json(LimitErrorBody::refused(&entitlement)),
        )
            .into_response(),
        Outcome::IdInUse => {
            return Err(AppError::Conflict(
                "the id is already an ingested event's, or another metric's consume: \
                 a consume needs an id of its own"
                    .into(),
            ))
        }
    };
    if answer.replayed {
        response.headers_mut().insert(
            HeaderName::from_static(REPLAYED),
            HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

/// The consume in `body` as an event of `metric` at `now`, or 400 saying what is wrong.
fn parse(
    body: &[u8],
    metric: &str,
    now: chrono::DateTime<Utc>,
    backdating_days: u32,
) -> Result<EventDraft, AppError> {
    let fields: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(body).map_err(|e| {
        AppError::BadRequest(format!("body must be a JSON object {{\"id\": …}}: {e}"))
    })?;
    if let Some(unknown) = fields
        .keys()
        .find(|k| !CONSUME_FIELDS.contains(&k.as_str()))
    {
        return Err(AppError::BadRequest(format!(
            "unknown field {unknown:?}: a consume takes {} (the metric is the path's, the \
             time is now)",
            CONSUME_FIELDS.join(", ")
        )));
    }
    let mut event = serde_json::to_value(&fields).map_err(|_| AppError::Internal)?;
    event["metric"] = json!(metric);
    let raw = RawValue::from_string(event.to_string()).map_err(|_| AppError::Internal)?;
    EventDraft::parse(
        &raw,
        &EventWindow {
            now,
            backdating_days,
        },
    )
    .map_err(|refusal| AppError::BadRequest(refusal.reason))
}

/// A refused consume: our error body, with where the limit stands.
#[derive(Serialize, ToSchema)]
pub struct LimitErrorBody {
    pub error: LimitErrorDetail,
}

/// `LIMIT_EXCEEDED` (or `CONFLICT` for an id in use, without the amounts), why, and the
/// metric's `used`, `limit` and `remaining` when it was refused.
#[derive(Serialize, ToSchema)]
pub struct LimitErrorDetail {
    #[serde(flatten)]
    pub error: ErrorDetail,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used: Option<Value>,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<Value>,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<Value>,
}

impl LimitErrorBody {
    fn refused(entitlement: &Entitlement) -> LimitErrorBody {
        let limit = entitlement.limit.unwrap_or(Quantity::ZERO);
        let remaining = entitlement.remaining.unwrap_or(Quantity::ZERO);
        LimitErrorBody {
            error: LimitErrorDetail {
                error: ErrorDetail {
                    code: "LIMIT_EXCEEDED".into(),
                    message: format!(
                        "{}: {} of {} used, {} left; the quantity does not fit under the hard \
                         limit and nothing was recorded",
                        entitlement.metric,
                        entitlement.used.to_decimal(),
                        limit.to_decimal(),
                        remaining.to_decimal()
                    ),
                },
                used: Some(quantity(entitlement.used)),
                limit: Some(quantity(limit)),
                remaining: Some(quantity(remaining)),
            },
        }
    }
}

/// Whether the organization may use more of a metric now.
#[derive(Serialize, ToSchema)]
pub struct EntitlementBody {
    #[schema(example = "seats")]
    pub metric: String,
    /// False once a hard-limited resource is used up, or when the plan lacks the metric.
    pub allowed: bool,
    #[schema(value_type = f64)]
    pub used: Value,
    /// Where usage is refused under a hard limit, else the included amount; null when
    /// unlimited.
    #[schema(value_type = Option<f64>, required = true)]
    pub limit: Value,
    /// What is left of it; null when unlimited.
    #[schema(value_type = Option<f64>, required = true)]
    pub remaining: Value,
    /// The included amount per period, past which usage is overage; null when unlimited.
    #[schema(value_type = Option<f64>, required = true)]
    pub included: Value,
    /// A hard limit.
    pub limited: bool,
}
