//! SQL for an organization's webhooks.

use sqlx::{Any, Executor, FromRow};

use super::{scoped::Scoped, Table};

/// A webhook as stored. `thresholds` is a JSON array of percentages.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub thresholds: String,
    /// 1 while deliveries are made, else 0 (sqlx's `Any` driver reads no SQLite booleans).
    pub active: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, url, description, thresholds,
    cast(case when active then 1 else 0 end as bigint) as active, created_at, updated_at";

/// Found and listed with [`super::scoped`]: oldest first.
impl Table for WebhookRow {
    const TABLE: &'static str = "webhooks";
    const COLUMNS: &'static str = COLUMNS;
}

impl Scoped for WebhookRow {
    const ORDER: &'static str = "id";
}

/// A webhook's editable fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookFields<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub thresholds: &'a str,
    pub active: bool,
}

/// Stores a webhook with its signing secret unless the organization has `cap` already
/// (0: no cap); returns its id, `None` at the cap.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    fields: &WebhookFields<'_>,
    secret: &str,
    (now, cap): (i64, i64),
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar_with(
        "insert into webhooks
             (organization_id, url, description, thresholds, secret, active, created_at,
              updated_at)
         select $1, $2, $3, $4, $5, $6, $7, $7
         where $8 = 0 or (select count(*) from webhooks where organization_id = $1) < $8
         returning id",
        crate::params![
            organization_id,
            fields.url,
            fields.description,
            fields.thresholds,
            secret,
            fields.active,
            now,
            cap
        ],
    )
    .fetch_optional(executor)
    .await
}

/// Replaces a webhook's fields; false when the organization has no such webhook.
pub async fn update<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    id: i64,
    fields: &WebhookFields<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    super::changed_one(
        executor,
        "update webhooks set url = $1, description = $2, thresholds = $3, active = $4,
                updated_at = $5
         where organization_id = $6 and id = $7",
        crate::params![
            fields.url,
            fields.description,
            fields.thresholds,
            fields.active,
            now,
            organization_id,
            id
        ],
    )
    .await
}

/// A webhook's stored signing secret: sealed, or as stored before secrets were sealed.
#[derive(Clone, Debug, FromRow)]
pub struct StoredSecret {
    pub id: i64,
    pub organization_id: i64,
    pub secret: String,
}

/// Every webhook whose secret does not start with `sealed_prefix`: stored before sealing.
pub async fn unsealed_secrets<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    sealed_prefix: &str,
) -> Result<Vec<StoredSecret>, sqlx::Error> {
    sqlx::query_as_with(
        "select id, organization_id, secret from webhooks where secret not like $1 order by id",
        crate::params![format!("{sealed_prefix}%")],
    )
    .fetch_all(executor)
    .await
}

/// Replaces the secret `before` of webhook `id` with `after`; false when it is no longer
/// `before` (another server sealed it first).
pub async fn replace_secret<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: i64,
    before: &str,
    after: &str,
) -> Result<bool, sqlx::Error> {
    super::changed_one(
        executor,
        "update webhooks set secret = $1 where id = $2 and secret = $3",
        crate::params![after, id, before],
    )
    .await
}

/// A webhook's stored thresholds, ascending.
pub fn thresholds_of(hook: &WebhookRow) -> Vec<rust_decimal::Decimal> {
    serde_json::from_str(&hook.thresholds).unwrap_or_else(|e| {
        tracing::error!(webhook = hook.id, %e, "unreadable thresholds");
        Vec::new()
    })
}
