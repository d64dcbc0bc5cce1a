//! The organization's settings pages: API keys and webhooks. Every member reads them; only
//! admins change them, checked here on the server whatever the page shows.

use leptos::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// An API key as listed: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    /// `member` or `admin`.
    pub role: String,
    /// The public part that finds the key, e.g. `qb_3f2a9c0d1b7e`.
    pub prefix: String,
    /// Unix seconds.
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A key just created: its secret is in this answer only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub key: ApiKeyView,
    pub secret: String,
}

/// A webhook as listed: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub description: String,
    /// Percentages of an allowance, ascending.
    pub thresholds: Vec<Decimal>,
    pub active: bool,
    /// Unix seconds.
    pub updated_at: i64,
    /// The latest threshold alerts sent to it (or still trying), newest first.
    pub deliveries: Vec<DeliveryView>,
}

/// One threshold alert to a webhook, as its delivery log shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    /// The payload's `id`.
    pub event_id: String,
    pub metric: String,
    /// The percentage crossed, e.g. `90`.
    pub threshold: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    /// The receiver's HTTP status at the last try; `None` before any or when unreachable.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub last_attempt_at: Option<i64>,
    /// Unix seconds of the next try, while pending.
    pub next_attempt_at: Option<i64>,
}

/// Deliveries kept in each webhook's log on the page.
pub const DELIVERY_LOG_SIZE: i64 = 20;

/// A webhook just created: its signing secret is in this answer only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub webhook: WebhookView,
    pub secret: String,
}

/// Percentages typed as `75, 90, 100` (spaces or commas between); blank is `None`.
pub fn parse_thresholds(text: &str) -> Result<Option<Vec<Decimal>>, AppError> {
    let parts: Vec<&str> = text
        .split([',', ' ', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Ok(None);
    }
    parts
        .into_iter()
        .map(|part| {
            part.trim_end_matches('%').parse::<Decimal>().map_err(|_| {
                AppError::BadRequest(format!(
                    "thresholds must be percentages such as 75, 90, 100 (got {part:?})"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The organization's API keys, newest first. Errors: `Unauthorized` when not signed in.
#[server(output = crate::codec::JsonText)]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, AppError> {
    use crate::server::{db, http::server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            let rows = db::scoped::list::<db::api_keys::ApiKeyRow, _>(
                state.db.pool(),
                principal.organization_id,
            )
            .await?;
            Ok(rows.iter().map(ssr::key_view).collect())
        }
        .await,
    )
}

/// Creates a key named `name` with `role` (`member` or `admin`). Errors: `BadRequest` for
/// a blank or over-long name or an unknown role; `Forbidden` unless the user is an admin.
#[server(output = crate::codec::JsonText)]
pub async fn create_api_key(name: String, role: String) -> Result<CreatedKey, AppError> {
    use std::str::FromStr;

    use crate::server::{
        access::api_keys, access::audit::Actor, access::principal::Role, http::server_fn,
    };

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            principal.require(Role::Admin)?;
            let role = Role::from_str(&role).map_err(AppError::BadRequest)?;
            let actor = Actor::User(principal.user_id);
            let (issued, now) =
                api_keys::issue_by(&state, actor, principal.organization_id, role, &name).await?;
            Ok(CreatedKey {
                key: ApiKeyView {
                    id: issued.id,
                    name: name.trim().to_string(),
                    role: role.as_str().to_string(),
                    prefix: format!("qb_{}", issued.prefix),
                    created_at: now,
                    revoked_at: None,
                },
                secret: issued.plaintext,
            })
        }
        .await,
    )
}

/// Revokes the organization's key `id`: it stops working on the next request. Errors:
/// `Forbidden` unless an admin; `NotFound` for a key the organization does not have or
/// one already revoked.
#[server(output = crate::codec::JsonText)]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    use crate::server::{
        access::api_keys, access::audit::Actor, access::principal::Role, http::server_fn,
    };

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            principal.require(Role::Admin)?;
            let actor = Actor::User(principal.user_id);
            api_keys::revoke_by(&state, actor, principal.organization_id, id).await
        }
        .await,
    )
}

/// The organization's webhooks, oldest first. Errors: `Unauthorized` when not signed in.
#[server(output = crate::codec::JsonText)]
pub async fn list_webhooks() -> Result<Vec<WebhookView>, AppError> {
    use crate::server::{alerting::webhooks, db, http::server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            let pool = state.db.pool();
            let rows =
                db::scoped::list::<db::webhooks::WebhookRow, _>(pool, principal.organization_id)
                    .await?;
            let deliveries =
                db::deliveries::recent(pool, principal.organization_id, DELIVERY_LOG_SIZE).await?;
            Ok(rows
                .iter()
                .map(|row| WebhookView {
                    // Members read only each URL's origin.
                    url: webhooks::url_for(principal.role, &row.url),
                    deliveries: deliveries
                        .iter()
                        .filter(|d| d.webhook_id == row.id)
                        .map(ssr::delivery_view)
                        .collect(),
                    ..ssr::webhook_view(row)
                })
                .collect())
        }
        .await,
    )
}

/// Adds a webhook posting to `url` at `thresholds` (blank: the instance's warning and
/// critical thresholds and 100). Errors: `BadRequest` for a bad URL, description or
/// thresholds; `Forbidden` unless an admin.
#[server(output = crate::codec::JsonText)]
pub async fn create_webhook(
    url: String,
    description: String,
    thresholds: String,
) -> Result<CreatedWebhook, AppError> {
    use crate::server::{access::principal::Role, alerting::webhooks, http::server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            principal.require(Role::Admin)?;
            let draft = webhooks::Draft {
                url,
                description,
                thresholds: parse_thresholds(&thresholds)?,
            };
            let (row, secret) = webhooks::create(
                &state,
                crate::server::access::audit::Actor::User(principal.user_id),
                principal.organization_id,
                draft,
            )
            .await?;
            Ok(CreatedWebhook {
                webhook: ssr::webhook_view(&row),
                secret,
            })
        }
        .await,
    )
}

/// Changes webhook `id`: its URL, description, thresholds (blank keeps them) and whether it
/// is enabled (`active` present, as a checked box sends it). Errors as [`create_webhook`],
/// and `NotFound` for a webhook the organization does not have.
#[server(output = crate::codec::JsonText)]
pub async fn update_webhook(
    id: i64,
    url: String,
    description: String,
    thresholds: String,
    active: Option<String>,
) -> Result<WebhookView, AppError> {
    use crate::server::{access::principal::Role, alerting::webhooks, http::server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            principal.require(Role::Admin)?;
            let change = webhooks::Change {
                url: Some(url),
                description: Some(description),
                thresholds: parse_thresholds(&thresholds)?,
                active: Some(active.is_some()),
            };
            let row = webhooks::update(
                &state,
                crate::server::access::audit::Actor::User(principal.user_id),
                principal.organization_id,
                id,
                change,
            )
            .await?;
            Ok(ssr::webhook_view(&row))
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{ApiKeyView, DeliveryView, WebhookView};
    use crate::server::{
        db,
        db::{api_keys::ApiKeyRow, deliveries::DeliveryRow, webhooks::WebhookRow},
    };

    pub fn key_view(row: &ApiKeyRow) -> ApiKeyView {
        ApiKeyView {
            id: row.id,
            name: row.name.clone(),
            role: row.role.clone(),
            prefix: format!("qb_{}", row.prefix),
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        }
    }

    pub fn webhook_view(row: &WebhookRow) -> WebhookView {
        WebhookView {
            id: row.id,
            url: row.url.clone(),
            description: row.description.clone(),
            thresholds: db::webhooks::thresholds_of(row),
            active: row.active != 0,
            updated_at: row.updated_at,
            deliveries: Vec::new(),
        }
    }

    pub fn delivery_view(row: &DeliveryRow) -> DeliveryView {
        DeliveryView {
            event_id: row.event_id.clone(),
            metric: row.metric_code.clone(),
            threshold: row.threshold.clone(),
            status: row.status.clone(),
            attempts: row.attempts,
            last_status: row.last_status,
            last_error: row.last_error.clone(),
            created_at: row.created_at,
            last_attempt_at: row.last_attempt_at,
            next_attempt_at: (row.status == "pending").then_some(row.next_attempt_ms / 1000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_read_from_what_people_type() {
        let d = |n: i64| Decimal::from(n);
        assert_eq!(
            parse_thresholds("75, 90 100%"),
            Ok(Some(vec![d(75), d(90), d(100)]))
        );
        assert_eq!(parse_thresholds("  "), Ok(None));
        assert!(parse_thresholds("75, lots").is_err());
    }
}
