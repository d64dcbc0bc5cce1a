//! Licenses (plans): `GET /api/v1/billing/licenses?search=` and
//! `GET /api/v1/billing/licenses/{id}`, in seed 001's license shape.

use axum::{extract::State, routing::get, Json, Router};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::{
    domain::quantity::Quantity,
    error::AppError,
    server::{
        access::principal::ApiPrincipal,
        db::{
            licenses::{self, LicenseRow, ResourceRow},
            usage::{self, MetricRow},
        },
        metering::ledger::{stored_price, stored_quantity},
        rest::extract::{Ids, Params},
        rest::shape::{decimal, id, quantity, timestamp_millis, ListQuery, Page},
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
#[utoipa::path(
    get, path = "/api/v1/billing/licenses", tag = "licenses", params(ListQuery),
    responses((status = 200, description = "The licenses, by name", body = Page<LicenseBody>))
)]
pub(crate) async fn search_licenses(
    State(state): State<AppState>,
    _principal: ApiPrincipal,
    Params(query): Params<ListQuery>,
) -> Result<Json<Page<LicenseBody>>, AppError> {
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
        items.push(catalogue_license_body(&license, &own, &catalogue)?);
    }
    Ok(Json(query.page(items)?))
}

/// 200 with the license, its currency and resources; 400 for an id that is not digits,
/// 401 without a valid key, 404 for no such license.
#[utoipa::path(
    get, path = "/api/v1/billing/licenses/{id}", tag = "licenses",
    params(("id" = String, Path, description = "The license's id")),
    responses((status = 200, description = "The license", body = LicenseBody))
)]
pub(crate) async fn get_license(
    State(state): State<AppState>,
    _principal: ApiPrincipal,
    Ids([license_id]): Ids<1>,
) -> Result<Json<LicenseBody>, AppError> {
    let pool = state.db.pool();
    let license = licenses::find(pool, license_id)
        .await?
        .ok_or_else(|| AppError::NotFound("License".into()))?;
    let catalogue = usage::catalogue(pool).await?;
    let resources = licenses::resources_of(pool, license.id).await?;
    let own: Vec<&ResourceRow> = resources.iter().collect();
    Ok(Json(catalogue_license_body(&license, &own, &catalogue)?))
}

/// A license of the catalogue: seed 001's license object plus its `currency`.
fn catalogue_license_body(
    license: &LicenseRow,
    resources: &[&ResourceRow],
    catalogue: &[MetricRow],
) -> Result<LicenseBody, AppError> {
    let mut items = Vec::with_capacity(resources.len());
    for resource in resources {
        if let Some(metric) = catalogue.iter().find(|m| m.id == resource.metric_id) {
            items.push(resource_body(resource, license.id, metric)?);
        }
    }
    Ok(LicenseBody {
        currency: Some(license.currency.clone()),
        ..license_body(license, items)
    })
}

/// Seed 001's license object; the license endpoints add its `currency`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LicenseBody {
    pub id: String,
    #[schema(example = "Plano Básico")]
    pub name: String,
    #[schema(required = true)]
    pub external_id: Option<String>,
    /// Price per billing period.
    #[schema(value_type = f64)]
    pub price: Value,
    /// The license organizations without a subscription are on.
    pub default: bool,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    pub resources: Vec<ResourceBody>,
    /// ISO 4217 code of `price` (license endpoints only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub currency: Option<String>,
}

/// Seed 001's license resource, in the document's shape: `limited` whether it is a hard
/// limit, `limit` where that limit refuses usage or, for a soft limit, the included amount
/// per period. An unlimited resource is `limit: 0, limited: false`, as the document shows
/// its `webhook` resource, with `unlimited: true`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceBody {
    pub id: String,
    pub license_id: String,
    pub resource_id: String,
    /// 0 when unlimited.
    #[schema(value_type = f64)]
    pub limit: Value,
    pub limited: bool,
    /// No cap (added to the document's fields): `limit` is then 0 and `limited` false.
    pub unlimited: bool,
    pub created_at: String,
    pub updated_at: String,
    pub resource: MetricBody,
    /// The organization's usage this period (subscription only): null before any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, value_type = Option<ResourceUsageBody>)]
    pub resource_usage: Option<Option<ResourceUsageBody>>,
}

/// A metric (resource) of the catalogue.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricBody {
    pub id: String,
    #[schema(example = "mailbox")]
    pub code_name: String,
    /// Display name.
    #[schema(example = "Caixa de Entrada")]
    pub resource: String,
    pub created_at: String,
    pub updated_at: String,
}

/// An organization's usage of a resource in the current billing period.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceUsageBody {
    /// Stable for the period.
    pub id: String,
    pub resource_id: String,
    #[schema(value_type = f64)]
    pub usage: Value,
    /// The organization's id.
    pub user_id: String,
    /// The period's first day with usage.
    pub created_at: String,
    /// The last change.
    pub updated_at: String,
}

/// Seed 001's license object.
pub fn license_body(license: &LicenseRow, resources: Vec<ResourceBody>) -> LicenseBody {
    LicenseBody {
        id: id(license.id),
        name: license.name.clone(),
        external_id: license.external_id.clone(),
        price: decimal(stored_price(&license.price, license.id)),
        default: license.is_default != 0,
        description: license.description.clone(),
        created_at: timestamp_millis(license.created_at),
        updated_at: timestamp_millis(license.updated_at),
        resources,
        currency: None,
    }
}

/// Seed 001's license resource, without usage.
pub fn resource_body(
    resource: &ResourceRow,
    license_id: i64,
    metric: &MetricRow,
) -> Result<ResourceBody, AppError> {
    let included = resource.included_micros.map(stored_quantity).transpose()?;
    let limited = resource.limited != 0;
    let limit = match resource.limit_micros.filter(|_| limited) {
        Some(micros) => Some(stored_quantity(micros)?),
        None => included,
    };
    Ok(ResourceBody {
        id: id(resource.id),
        license_id: id(license_id),
        resource_id: id(metric.id),
        limit: quantity(limit.unwrap_or(Quantity::ZERO)),
        limited: limited && limit.is_some(),
        unlimited: limit.is_none(),
        created_at: timestamp_millis(resource.created_at),
        updated_at: timestamp_millis(resource.updated_at),
        resource: MetricBody {
            id: id(metric.id),
            code_name: metric.code.clone(),
            resource: metric.name.clone(),
            created_at: timestamp_millis(metric.created_at),
            updated_at: timestamp_millis(metric.created_at),
        },
        resource_usage: None,
    })
}
