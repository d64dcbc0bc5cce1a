//! `GET /api/v1/entitlements/{metric}`: may the organization use more of a metric now?

use axum::{
    extract::{Path, State},
    routing::get,
    Json, Router,
};
use chrono::Utc;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::{
    error::AppError,
    server::{
        auth::ApiPrincipal,
        ledger::Ledger,
        rest::shape::{quantity, ErrorBody},
        state::AppState,
    },
};

/// `GET /api/v1/entitlements/{metric}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/entitlements/{metric}", get(entitlement))
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
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 404, description = "No such metric in the catalogue", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip(state, principal))]
pub(crate) async fn entitlement(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Path(metric): Path<String>,
) -> Result<Json<EntitlementBody>, AppError> {
    let ledger = Ledger::load(&state, principal.organization_id).await?;
    let entitlement = ledger.entitlement(&state, &metric, Utc::now()).await?;
    Ok(Json(EntitlementBody {
        metric: entitlement.metric,
        allowed: entitlement.allowed,
        used: quantity(entitlement.used),
        limit: entitlement.limit.map_or(Value::Null, quantity),
        remaining: entitlement.remaining.map_or(Value::Null, quantity),
        included: entitlement.included.map_or(Value::Null, quantity),
        limited: entitlement.limited,
    }))
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
