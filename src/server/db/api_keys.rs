//! SQL for API keys.

use sqlx::{Any, Executor, FromRow};

use super::queries;

use super::{scoped::Scoped, Table};

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

queries! {
    /// Stores a key; a duplicate prefix is a unique violation (draw a new key and retry).
    pub fn insert(
        organization_id: i64,
        prefix: &str,
        secret_hash: &str,
        role: &str,
        name: &str,
        now: i64,
    ) -> scalar<i64>
        "insert into api_keys (organization_id, prefix, secret_hash, role, name, created_at)
         values ($1, $2, $3, $4, $5, $6) returning id";
}

const COLUMNS: &str =
    "id, organization_id, prefix, secret_hash, role, name, created_at, revoked_at";

/// Found and listed with [`super::scoped`]: newest first, revoked ones too.
impl Table for ApiKeyRow {
    const TABLE: &'static str = "api_keys";
    const COLUMNS: &'static str = COLUMNS;
}

impl Scoped for ApiKeyRow {
    const ORDER: &'static str = "id desc";
}

/// The key with this public prefix, revoked or not.
pub async fn find_by_prefix<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    prefix: &str,
) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    super::row_by(executor, "prefix", prefix).await
}

queries! {
    /// Revokes the key with this prefix; false when there is no such key or it was revoked.
    pub fn revoke(prefix: &str, now: i64) -> changed_one
        "update api_keys set revoked_at = $2 where prefix = $1 and revoked_at is null";

    /// Revokes the organization's key with this id; false when it has no such live key.
    pub fn revoke_by_id(organization_id: i64, id: i64, now: i64) -> changed_one
        "update api_keys set revoked_at = $3
         where organization_id = $1 and id = $2 and revoked_at is null";

    /// The public prefix of the API key with this id.
    pub fn prefix_by_id(key_id: i64) -> scalar_optional<String>
        "select prefix from api_keys where id = $1";
}
