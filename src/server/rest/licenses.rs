//! Licenses (plans): `GET /api/v1/billing/licenses?search=` and
//! `GET /api/v1/billing/licenses/{id}`, in seed 001's license shape.

use axum::{
    extract::{rejection::QueryRejection, Path, Query, State},
    routing::get,
    Json, Router,
};
use serde_json::{json, Value};

use crate::{
    error::AppError,
    server::{
        auth::ApiPrincipal,
        db::{
            licenses::{self, LicenseRow, ResourceRow},
            usage::{self, MetricRow},
        },
        ledger::{stored_price, stored_quantity},
        rest::shape::{self, decimal, id, parse_id, quantity, timestamp_millis, ListQuery},
        state::AppState,
    },
};

/// `GET /api/v1/billing/licenses`, `GET /api/v1/billing/licenses/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/billing/licenses", get(search_licenses))
        .route("/api/v1/billing/licenses/{id}", get(get_license))
}

/// 200 `{total, items}`: the licenses whose name, external id or description holds
/// `search` (ignoring case), by name and paged by `limit` and `offset`, each with its currency and resources. Licenses are
/// the instance's catalogue of plans: any key may read them. 401 without a valid key.
#[tracing::instrument(skip_all)]
async fn search_licenses(
    State(state): State<AppState>,
    _principal: ApiPrincipal,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let query = shape::query(query)?;
    let pool = state.db.pool();
    let catalogue = usage::catalogue(pool).await?;
    let resources = licenses::all_resources(pool).await?;
    let mut items = Vec::new();
    for license in licenses::list(pool).await? {
        let texts = [
            license.name.as_str(),
            license.external_id.as_deref().unwrap_or_default(),
            license.description.as_str(),
        ];
        if !query.matches(texts) {
            continue;
        }
        let own: Vec<&ResourceRow> = resources
            .iter()
            .filter(|(license_id, _)| *license_id == license.id)
            .map(|(_, resource)| resource)
            .collect();
        items.push(catalogue_license_json(&license, &own, &catalogue)?);
    }
    Ok(Json(query.page(items)?))
}

/// 200 with the license, its currency and resources; 400 for an id that is not digits,
/// 401 without a valid key, 404 for no such license.
#[tracing::instrument(skip(state, _principal))]
async fn get_license(
    State(state): State<AppState>,
    _principal: ApiPrincipal,
    Path(license_id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let license_id = parse_id("id", &license_id)?;
    let pool = state.db.pool();
    let license = licenses::find(pool, license_id)
        .await?
        .ok_or_else(|| AppError::NotFound("License".into()))?;
    let catalogue = usage::catalogue(pool).await?;
    let resources = licenses::resources_of(pool, license.id).await?;
    let own: Vec<&ResourceRow> = resources.iter().collect();
    Ok(Json(catalogue_license_json(&license, &own, &catalogue)?))
}

/// A license of the catalogue: seed 001's license object plus its `currency`.
fn catalogue_license_json(
    license: &LicenseRow,
    resources: &[&ResourceRow],
    catalogue: &[MetricRow],
) -> Result<Value, AppError> {
    let mut items = Vec::with_capacity(resources.len());
    for resource in resources {
        if let Some(metric) = catalogue.iter().find(|m| m.id == resource.metric_id) {
            items.push(resource_json(resource, license.id, metric)?);
        }
    }
    let mut value = license_json(license, items);
    value["currency"] = json!(license.currency);
    Ok(value)
}

/// Seed 001's license object: `{id, name, externalId, price, default, description,
/// createdAt, updatedAt, resources}`.
pub fn license_json(license: &LicenseRow, resources: Vec<Value>) -> Value {
    json!({
        "id": id(license.id),
        "name": license.name,
        "externalId": license.external_id,
        "price": decimal(stored_price(&license.price, license.id)),
        "default": license.is_default != 0,
        "description": license.description,
        "createdAt": timestamp_millis(license.created_at),
        "updatedAt": timestamp_millis(license.updated_at),
        "resources": resources,
    })
}

/// Seed 001's license resource: `limit` is the included amount per period (null when
/// unlimited), `limited` whether it is a hard limit.
pub fn resource_json(
    resource: &ResourceRow,
    license_id: i64,
    metric: &MetricRow,
) -> Result<Value, AppError> {
    let limit = resource.included_micros.map(stored_quantity).transpose()?;
    Ok(json!({
        "id": id(resource.id),
        "licenseId": id(license_id),
        "resourceId": id(metric.id),
        "limit": limit.map(quantity),
        "limited": resource.limited != 0,
        "createdAt": timestamp_millis(resource.created_at),
        "updatedAt": timestamp_millis(resource.updated_at),
        "resource": {
            "id": id(metric.id),
            "codeName": metric.code,
            "resource": metric.name,
            "createdAt": timestamp_millis(metric.created_at),
            "updatedAt": timestamp_millis(metric.created_at),
        },
    }))
}
