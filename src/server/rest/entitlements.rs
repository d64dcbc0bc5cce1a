//! `GET /api/v1/entitlements/{metric}`: may the organization use more of a metric now?

use axum::{
    extract::{Path, State},
    routing::get,
    Json, Router,
};
use chrono::Utc;
use serde_json::{json, Value};

use crate::{
    error::AppError,
    server::{auth::ApiPrincipal, ledger::Ledger, rest::shape::quantity, state::AppState},
};

/// `GET /api/v1/entitlements/{metric}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/entitlements/{metric}", get(entitlement))
}

/// 200 `{"metric", "allowed", "used", "limit", "remaining", "limited"}` (amounts as JSON
/// numbers) for any key of the organization; `limit` and `remaining` are null when
/// unlimited. 401 without a valid key,
/// 404 for a metric the catalogue lacks.
#[tracing::instrument(skip(state, principal))]
async fn entitlement(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Path(metric): Path<String>,
) -> Result<Json<Value>, AppError> {
    let ledger = Ledger::load(&state, principal.organization_id).await?;
    let entitlement = ledger.entitlement(&state, &metric, Utc::now()).await?;
    Ok(Json(json!({
        "metric": entitlement.metric,
        "allowed": entitlement.allowed,
        "used": quantity(entitlement.used),
        "limit": entitlement.limit.map(quantity),
        "remaining": entitlement.remaining.map(quantity),
        "limited": entitlement.limited,
    })))
}
