//! SQL for an organization's domains (apps) and the mailbox accounts inside them.

use sqlx::{Any, Executor, FromRow};

/// Stores a domain; returns its id. A name the organization already has is a unique
/// violation.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    name: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into domains (organization_id, name, created_at, updated_at)
         values ($1, $2, $3, $3) returning id",
    )
    .bind(organization_id)
    .bind(name)
    .bind(now)
    .fetch_one(executor)
    .await
}

/// Stores an account of one of the organization's domains; returns its id. An address the
/// organization already has is a unique violation.
pub async fn insert_account<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    domain_id: i64,
    (address, relay): (&str, bool),
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into accounts (organization_id, domain_id, address, relay, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5) returning id",
    )
    .bind(organization_id)
    .bind(domain_id)
    .bind(address)
    .bind(relay)
    .bind(now)
    .fetch_one(executor)
    .await
}

/// An account as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub domain_id: i64,
    pub address: String,
    /// 1 for a relay account, else 0 (sqlx's `Any` driver reads no SQLite booleans).
    pub relay: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The organization's accounts, by address.
pub async fn accounts<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
) -> Result<Vec<AccountRow>, sqlx::Error> {
    sqlx::query_as(
        "select id, domain_id, address,
                cast(case when relay then 1 else 0 end as bigint) as relay, created_at, updated_at
         from accounts
         where organization_id = $1 order by address",
    )
    .bind(organization_id)
    .fetch_all(executor)
    .await
}

/// A domain as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct DomainRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The organization's domain with this id; `None` when there is none, or it is another
/// organization's.
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    domain_id: i64,
) -> Result<Option<DomainRow>, sqlx::Error> {
    sqlx::query_as(
        "select id, name, created_at, updated_at from domains
         where organization_id = $1 and id = $2",
    )
    .bind(organization_id)
    .bind(domain_id)
    .fetch_optional(executor)
    .await
}

/// The organization's domains, by name.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
) -> Result<Vec<DomainRow>, sqlx::Error> {
    sqlx::query_as(
        "select id, name, created_at, updated_at from domains
         where organization_id = $1 order by name",
    )
    .bind(organization_id)
    .fetch_all(executor)
    .await
}

/// Deletes the organization's domain and its accounts; false when it has no such domain.
/// Usage already recorded for it is kept.
pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    domain_id: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("delete from domains where organization_id = $1 and id = $2")
        .bind(organization_id)
        .bind(domain_id)
        .execute(executor)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Deletes an account of the organization's domain; false when there is no such account.
pub async fn delete_account<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    domain_id: i64,
    account_id: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "delete from accounts where organization_id = $1 and domain_id = $2 and id = $3",
    )
    .bind(organization_id)
    .bind(domain_id)
    .bind(account_id)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}
