//! Webhooks that usage alerts are sent to: `POST /api/v1/webhooks`,
//! `PUT /api/v1/webhooks/{id}`, `GET /api/v1/webhooks?search=`.

use axum::{
    extract::{
        rejection::{JsonRejection, QueryRejection},
        Path, Query, State,
    },
    http::StatusCode,
    routing::{get, put},
    Json, Router,
};
use chrono::Utc;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::{
    error::AppError,
    server::{
        auth::{ApiPrincipal, Role},
        db::{
            self,
            webhooks::{self, WebhookFields, WebhookRow},
        },
        rest::shape::{self, decimal, id, parse_id, timestamp_millis, ErrorBody, ListQuery, Page},
        state::AppState,
    },
};

/// The webhook routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/webhooks",
            get(search_webhooks).post(create_webhook),
        )
        .route("/api/v1/webhooks/{id}", put(update_webhook))
}

/// Most thresholds a webhook may have, and the highest (a percentage of an allowance).
const MAX_THRESHOLDS: usize = 10;
const MAX_THRESHOLD_PERCENT: u32 = 1000;
const MAX_DESCRIPTION_CHARS: usize = 500;

/// A webhook to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Absolute http(s) URL deliveries are posted to.
    pub url: String,
    pub description: Option<String>,
    /// Percentages of an allowance (default: warning, critical and 100).
    #[schema(value_type = Option<Vec<f64>>)]
    pub thresholds: Option<Vec<Decimal>>,
}

/// The fields of a webhook to change; the others stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<Vec<f64>>)]
    pub thresholds: Option<Vec<Decimal>>,
    pub active: Option<bool>,
}

/// 201 `{id, url, description, thresholds, active, createdAt, updatedAt, secret}`: `secret`
/// signs every delivery and is shown this once. `thresholds` are percentages of an
/// allowance (default: the instance's warning and critical thresholds and 100). Needs an
/// admin key. 400 for a URL that is not absolute http(s), bad thresholds or an over-long
/// description; 401; 403 for a member key.
#[utoipa::path(
    post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses(
        (status = 201, description = "The webhook, with its secret shown this once", body = WebhookBody),
        (status = 400, description = "A bad URL, thresholds or description", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "A member key", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(organization = principal.organization_id))]
pub(crate) async fn create_webhook(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    request: Result<Json<NewWebhook>, JsonRejection>,
) -> Result<(StatusCode, Json<WebhookBody>), AppError> {
    principal.require(Role::Admin)?;
    let request = shape::body(request)?;
    let url = parse_url(&request.url)?;
    let description = parse_description(request.description.as_deref().unwrap_or_default())?;
    let thresholds = match request.thresholds {
        Some(thresholds) => parse_thresholds(thresholds)?,
        None => vec![
            state.settings.thresholds.warning(),
            state.settings.thresholds.critical(),
            Decimal::ONE_HUNDRED,
        ],
    };
    let thresholds_json = thresholds_text(&thresholds);
    let secret = new_secret()?;
    let now = db::unix_seconds(Utc::now());
    let fields = WebhookFields {
        url: &url,
        description: &description,
        thresholds: &thresholds_json,
        active: true,
    };
    let webhook_id = webhooks::insert(
        state.db.pool(),
        principal.organization_id,
        &fields,
        &secret,
        now,
    )
    .await?;
    let row = WebhookRow {
        id: webhook_id,
        url,
        description,
        thresholds: thresholds_json,
        active: 1,
        created_at: now,
        updated_at: now,
    };
    let body = WebhookBody {
        secret: Some(secret),
        ..webhook_body(&row)
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// 200 with the webhook after the change: only the fields given change. Needs an admin
/// key. 400 as for creating, or for an id that is not digits; 401; 403 for a member key;
/// 404 for a webhook the organization does not have.
#[utoipa::path(
    put, path = "/api/v1/webhooks/{id}", tag = "webhooks", request_body = WebhookChange,
    params(("id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook after the change", body = WebhookBody),
        (status = 400, description = "A bad id, URL, thresholds or description", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "A member key", body = ErrorBody),
        (status = 404, description = "No such webhook in the organization", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip(state, principal, request))]
pub(crate) async fn update_webhook(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Path(webhook_id): Path<String>,
    request: Result<Json<WebhookChange>, JsonRejection>,
) -> Result<Json<WebhookBody>, AppError> {
    principal.require(Role::Admin)?;
    let webhook_id = parse_id("id", &webhook_id)?;
    let change = shape::body(request)?;
    let pool = state.db.pool();
    let current = webhooks::find(pool, principal.organization_id, webhook_id)
        .await?
        .ok_or_else(|| AppError::NotFound("Webhook".into()))?;
    let url = match change.url.as_deref() {
        Some(url) => parse_url(url)?,
        None => current.url.clone(),
    };
    let description = match change.description.as_deref() {
        Some(description) => parse_description(description)?,
        None => current.description.clone(),
    };
    let thresholds = match change.thresholds {
        Some(thresholds) => thresholds_text(&parse_thresholds(thresholds)?),
        None => current.thresholds.clone(),
    };
    let active = change.active.unwrap_or(current.active != 0);
    let now = db::unix_seconds(Utc::now());
    let fields = WebhookFields {
        url: &url,
        description: &description,
        thresholds: &thresholds,
        active,
    };
    if !webhooks::update(pool, principal.organization_id, webhook_id, &fields, now).await? {
        return Err(AppError::NotFound("Webhook".into()));
    }
    Ok(Json(webhook_body(&WebhookRow {
        id: webhook_id,
        url,
        description,
        thresholds,
        active: i64::from(active),
        created_at: current.created_at,
        updated_at: now,
    })))
}

/// 200 `{total, items}`: the organization's webhooks whose URL or description holds
/// `search`, oldest first, without their secrets, paged by `limit` and `offset`. 400 for a
/// bad limit or offset, 401 without a valid key.
#[utoipa::path(
    get, path = "/api/v1/webhooks", tag = "webhooks", params(ListQuery),
    responses(
        (status = 200, description = "The organization's webhooks, oldest first", body = Page<WebhookBody>),
        (status = 400, description = "A bad limit or offset", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []), ("session" = []))
)]
#[tracing::instrument(skip_all, fields(organization = principal.organization_id))]
pub(crate) async fn search_webhooks(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page<WebhookBody>>, AppError> {
    let query = shape::query(query)?;
    let items: Vec<WebhookBody> = webhooks::list(state.db.pool(), principal.organization_id)
        .await?
        .iter()
        .filter(|hook| query.matches([hook.url.as_str(), hook.description.as_str()]))
        .map(webhook_body)
        .collect();
    Ok(Json(query.page(items)?))
}

/// A webhook, never with its secret except in the answer that creates it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookBody {
    pub id: String,
    pub url: String,
    pub description: String,
    /// Percentages of an allowance, ascending.
    #[schema(value_type = Vec<f64>)]
    pub thresholds: Vec<Value>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Signs every delivery: only in the answer that creates the webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub secret: Option<String>,
}

fn webhook_body(hook: &WebhookRow) -> WebhookBody {
    let thresholds: Vec<Decimal> = serde_json::from_str(&hook.thresholds).unwrap_or_else(|e| {
        tracing::error!(webhook = hook.id, %e, "unreadable thresholds");
        Vec::new()
    });
    WebhookBody {
        id: id(hook.id),
        url: hook.url.clone(),
        description: hook.description.clone(),
        thresholds: thresholds.into_iter().map(decimal).collect(),
        active: hook.active != 0,
        created_at: timestamp_millis(hook.created_at),
        updated_at: timestamp_millis(hook.updated_at),
        secret: None,
    }
}

/// An absolute `http` or `https` URL with a host, at most 2 048 characters.
fn parse_url(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    let url = url::Url::parse(text)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .filter(|_| text.len() <= 2048)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "url must be an absolute http or https URL of at most 2048 characters (got {text:?})"
            ))
        })?;
    Ok(url.to_string())
}

fn parse_description(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::BadRequest(format!(
            "description must be at most {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

/// 1 to 10 percentages, each above 0 and at most 1000, kept ascending without repeats.
fn parse_thresholds(mut thresholds: Vec<Decimal>) -> Result<Vec<Decimal>, AppError> {
    let bad = || {
        AppError::BadRequest(format!(
            "thresholds must be 1 to {MAX_THRESHOLDS} percentages above 0 and at most \
             {MAX_THRESHOLD_PERCENT}, such as [75, 90, 100]"
        ))
    };
    if thresholds.is_empty()
        || thresholds.len() > MAX_THRESHOLDS
        || thresholds
            .iter()
            .any(|t| *t <= Decimal::ZERO || *t > Decimal::from(MAX_THRESHOLD_PERCENT))
    {
        return Err(bad());
    }
    thresholds.iter_mut().for_each(|t| *t = t.normalize());
    thresholds.sort();
    thresholds.dedup();
    Ok(thresholds)
}

fn thresholds_text(thresholds: &[Decimal]) -> String {
    serde_json::to_string(thresholds).unwrap_or_else(|_| "[]".into())
}

/// `whsec_` and 256 random bits in hex.
fn new_secret() -> Result<String, AppError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| {
        tracing::error!(%error, "no randomness for a webhook secret");
        AppError::Internal
    })?;
    Ok(format!("whsec_{}", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().expect("decimal")
    }

    #[test]
    fn thresholds_are_sorted_percentages_without_repeats() {
        assert_eq!(
            parse_thresholds(vec![dec("100"), dec("75"), dec("90.0"), dec("75")]),
            Ok(vec![dec("75"), dec("90"), dec("100")])
        );
        for bad in [
            vec![],
            vec![dec("0")],
            vec![dec("1001")],
            vec![dec("-5")],
            vec![dec("1"); 11],
        ] {
            assert!(parse_thresholds(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn webhook_urls_are_absolute_http_or_https() {
        assert_eq!(
            parse_url(" https://hooks.example.com/quota ").as_deref(),
            Ok("https://hooks.example.com/quota")
        );
        for bad in [
            "ftp://x.example",
            "/relative",
            "https://",
            "not a url",
            "mailto:a@b.c",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
