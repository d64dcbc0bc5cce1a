//! SQL for API keys.

use sqlx::{Any, Executor, FromRow};

/// A stored key, without its secret.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ApiKeyRow {
    pub id: i64,
    pub organization_id: i64,
    pub prefix: String,
    pub secret_hash: String,
    pub role: String,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// Stores a key; a duplicate prefix is a unique violation (draw a new key and retry).
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    prefix: &str,
    secret_hash: &str,
    role: &str,
    name: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into api_keys (organization_id, prefix, secret_hash, role, name, created_at)
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(organization_id)
    .bind(prefix)
    .bind(secret_hash)
    .bind(role)
    .bind(name)
    .bind(now)
    .fetch_one(executor)
    .await
}

const COLUMNS: &str =
    "id, organization_id, prefix, secret_hash, role, name, created_at, revoked_at";

/// The key with this public prefix, revoked or not.
pub async fn find_by_prefix<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    prefix: &str,
) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("select {COLUMNS} from api_keys where prefix = $1"))
        .bind(prefix)
        .fetch_optional(executor)
        .await
}

/// Every key of the organization, newest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
) -> Result<Vec<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from api_keys where organization_id = $1 order by id desc"
    ))
    .bind(organization_id)
    .fetch_all(executor)
    .await
}

/// Revokes the key with this prefix; false when there is no such key or it was revoked.
pub async fn revoke<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    prefix: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("update api_keys set revoked_at = $2 where prefix = $1 and revoked_at is null")
            .bind(prefix)
            .bind(now)
            .execute(executor)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// The organization's key with this id, revoked or not.
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    id: i64,
) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from api_keys where organization_id = $1 and id = $2"
    ))
    .bind(organization_id)
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// Revokes the organization's key with this id; false when it has no such live key.
pub async fn revoke_by_id<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "update api_keys set revoked_at = $3
         where organization_id = $1 and id = $2 and revoked_at is null",
    )
    .bind(organization_id)
    .bind(id)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}
