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
}

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
#[server]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, AppError> {
    use crate::server::{db, server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            let rows = db::api_keys::list(state.db.pool(), principal.organization_id).await?;
            Ok(rows.iter().map(ssr::key_view).collect())
        }
        .await,
    )
}

/// Creates a key named `name` with `role` (`member` or `admin`). Errors: `BadRequest` for
/// a blank or over-long name or an unknown role; `Forbidden` unless the user is an admin.
#[server]
pub async fn create_api_key(name: String, role: String) -> Result<CreatedKey, AppError> {
    use std::str::FromStr;

    use crate::server::{api_keys, auth::Role, db, server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            principal.require(Role::Admin)?;
            let name = api_keys::parse_name(&name)?;
            let role = Role::from_str(&role).map_err(AppError::BadRequest)?;
            let now = db::unix_seconds(chrono::Utc::now());
            let issued =
                api_keys::issue(&state.db, principal.organization_id, role, name, now).await?;
            tracing::info!(key = issued.prefix, role = role.as_str(), "API key created");
            Ok(CreatedKey {
                key: ApiKeyView {
                    id: issued.id,
                    name: name.to_string(),
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
#[server]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    use crate::server::{auth::Role, db, server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            principal.require(Role::Admin)?;
            let now = db::unix_seconds(chrono::Utc::now());
            if db::api_keys::revoke_by_id(state.db.pool(), principal.organization_id, id, now)
                .await?
            {
                tracing::info!(key = id, "API key revoked");
                Ok(())
            } else {
                Err(AppError::NotFound("API key".into()))
            }
        }
        .await,
    )
}

/// The organization's webhooks, oldest first. Errors: `Unauthorized` when not signed in.
#[server]
pub async fn list_webhooks() -> Result<Vec<WebhookView>, AppError> {
    use crate::server::{db, server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            let rows = db::webhooks::list(state.db.pool(), principal.organization_id).await?;
            Ok(rows.iter().map(ssr::webhook_view).collect())
        }
        .await,
    )
}

/// Adds a webhook posting to `url` at `thresholds` (blank: the instance's warning and
/// critical thresholds and 100). Errors: `BadRequest` for a bad URL, description or
/// thresholds; `Forbidden` unless an admin.
#[server]
pub async fn create_webhook(
    url: String,
    description: String,
    thresholds: String,
) -> Result<CreatedWebhook, AppError> {
    use crate::server::{auth::Role, server_fn, webhooks};

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
            let (row, secret) = webhooks::create(&state, principal.organization_id, draft).await?;
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
#[server]
pub async fn update_webhook(
    id: i64,
    url: String,
    description: String,
    thresholds: String,
    active: Option<String>,
) -> Result<WebhookView, AppError> {
    use crate::server::{auth::Role, server_fn, webhooks};

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
            let row = webhooks::update(&state, principal.organization_id, id, change).await?;
            Ok(ssr::webhook_view(&row))
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{ApiKeyView, WebhookView};
    use crate::server::{
        db::{api_keys::ApiKeyRow, webhooks::WebhookRow},
        webhooks,
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
            thresholds: webhooks::thresholds_of(row),
            active: row.active != 0,
            updated_at: row.updated_at,
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
