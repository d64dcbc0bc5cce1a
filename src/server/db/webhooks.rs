//! SQL for an organization's webhooks.

use sqlx::{Any, Executor, FromRow};

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
    sqlx::query_scalar(
        "insert into webhooks
             (organization_id, url, description, thresholds, secret, active, created_at,
              updated_at)
         select $1, $2, $3, $4, $5, $6, $7, $7
         where $8 = 0 or (select count(*) from webhooks where organization_id = $1) < $8
         returning id",
    )
    .bind(organization_id)
    .bind(fields.url)
    .bind(fields.description)
    .bind(fields.thresholds)
    .bind(secret)
    .bind(fields.active)
    .bind(now)
    .bind(cap)
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
    let result = sqlx::query(
        "update webhooks set url = $1, description = $2, thresholds = $3, active = $4,
                updated_at = $5
         where organization_id = $6 and id = $7",
    )
    .bind(fields.url)
    .bind(fields.description)
    .bind(fields.thresholds)
    .bind(fields.active)
    .bind(now)
    .bind(organization_id)
    .bind(id)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The organization's webhook with this id.
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    id: i64,
) -> Result<Option<WebhookRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from webhooks where organization_id = $1 and id = $2"
    ))
    .bind(organization_id)
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// The organization's webhooks, oldest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
) -> Result<Vec<WebhookRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from webhooks where organization_id = $1 order by id"
    ))
    .bind(organization_id)
    .fetch_all(executor)
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
    sqlx::query_as(
        "select id, organization_id, secret from webhooks where secret not like $1 order by id",
    )
    .bind(format!("{sealed_prefix}%"))
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
    let result = sqlx::query("update webhooks set secret = $1 where id = $2 and secret = $3")
        .bind(after)
        .bind(id)
        .bind(before)
        .execute(executor)
        .await?;
    Ok(result.rows_affected() == 1)
}
