//! Webhooks that usage alerts are sent to: `POST /api/v1/webhooks`,
//! `PUT /api/v1/webhooks/{id}`, `GET /api/v1/webhooks?search=`.

use axum::{
    extract::State,
    routing::{get, put},
    Json, Router,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::{
    error::AppError,
    server::{
        access::audit::Actor,
        alerting::webhooks::{self, Change, Draft},
        db::{self, webhooks::WebhookRow},
        rest::extract::{Admin, Body, Ids, List},
        rest::shape::{decimal, id, timestamp_millis, Created, ErrorBody, ListQuery, Page},
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

/// A webhook to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Absolute http(s) URL deliveries are posted to, kept as sent. Its host is a dotted
    /// IPv4 address or a domain name whose last label starts with a letter (a last label of
    /// digits would make the host read as an IPv4 number).
    #[schema(
        max_length = 2048,
        pattern = r"^https?://((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}|([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?)(:[0-9]{1,4})?([/?#][!-~]*)?$"
    )]
    pub url: String,
    pub description: Option<String>,
    /// Percentages of an allowance (default: warning, critical and 100).
    #[schema(schema_with = thresholds_schema)]
    pub thresholds: Option<Vec<Decimal>>,
}

/// 1 to 10 percentages above 0 and at most 1000 (`webhooks::parse_thresholds`), or null.
/// The document's minimum is a millionth: smaller floats read as 0 when made decimals.
fn thresholds_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
    let percentage = ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0.000_001))
        .maximum(Some(f64::from(webhooks::MAX_THRESHOLD_PERCENT)));
    Schema::Array(
        ArrayBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
            .items(percentage)
            .min_items(Some(1))
            .max_items(Some(webhooks::MAX_THRESHOLDS))
            .build(),
    )
}

/// The fields of a webhook to change; the others stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    /// A new URL, with the same rules as a new webhook's.
    #[schema(
        max_length = 2048,
        pattern = r"^https?://((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}|([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?)(:[0-9]{1,4})?([/?#][!-~]*)?$"
    )]
    pub url: Option<String>,
    pub description: Option<String>,
    #[schema(schema_with = thresholds_schema)]
    pub thresholds: Option<Vec<Decimal>>,
    pub active: Option<bool>,
}

/// 201 `{id, url, description, thresholds, active, createdAt, updatedAt, secret}`: `secret`
/// signs every delivery and is shown this once. `thresholds` are percentages of an
/// allowance (default: the instance's warning and critical thresholds and 100). Needs an
/// admin key. 400 for a URL that is not absolute http(s), bad thresholds or an over-long
/// description; 401; 403 for a member key; 409 when the organization has as many
/// webhooks as `webhooks-per-organization` allows.
#[utoipa::path(
    post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses(Created::<WebhookBody>)
)]
pub(crate) async fn create_webhook(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Body(request): Body<NewWebhook>,
) -> Result<Created<WebhookBody>, AppError> {
    let draft = Draft {
        url: request.url,
        description: request.description.unwrap_or_default(),
        thresholds: request.thresholds,
    };
    let (row, secret) = webhooks::create(
        &state,
        Actor::from(&principal),
        principal.organization_id,
        draft,
    )
    .await?;
    let body = WebhookBody {
        secret: Some(secret),
        ..webhook_body(&row)
    };
    Ok(Created(body))
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
    )
)]
pub(crate) async fn update_webhook(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Ids([webhook_id]): Ids<1>,
    Body(change): Body<WebhookChange>,
) -> Result<Json<WebhookBody>, AppError> {
    let change = Change {
        url: change.url,
        description: change.description,
        thresholds: change.thresholds,
        active: change.active,
    };
    let row = webhooks::update(
        &state,
        Actor::from(&principal),
        principal.organization_id,
        webhook_id,
        change,
    )
    .await?;
    Ok(Json(webhook_body(&row)))
}

/// 200 `{total, items}`: the organization's webhooks whose URL or description holds
/// `search`, oldest first, without their secrets, paged by `limit` and `offset`. 400 for a
/// bad limit or offset, 401 without a valid key.
#[utoipa::path(
    get, path = "/api/v1/webhooks", tag = "webhooks", params(ListQuery),
    responses(Page::<WebhookBody>)
)]
pub(crate) async fn search_webhooks(list: List) -> Result<Json<Page<WebhookBody>>, AppError> {
    // Members read (and search) only each URL's origin.
    let role = list.principal.role;
    let body = |hook: &WebhookRow| WebhookBody {
        url: webhooks::url_for(role, &hook.url),
        ..webhook_body(hook)
    };
    list.search(body, |hook| {
        vec![hook.url.as_str(), hook.description.as_str()]
    })
    .await
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
    let thresholds = db::webhooks::thresholds_of(hook);
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
