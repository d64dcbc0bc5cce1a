//! SQL for an organization's domains (apps) and the mailbox accounts inside them.

use sqlx::{Any, Executor, FromRow};

use super::{scoped::Scoped, Table};

/// Stores a domain; returns its id. A name the organization already has is a unique
/// violation.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    name: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar_with(
        "insert into domains (organization_id, name, created_at, updated_at)
         values ($1, $2, $3, $3) returning id",
        crate::params![organization_id, name, now],
    )
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
    sqlx::query_scalar_with(
        "insert into accounts (organization_id, domain_id, address, relay, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5) returning id",
        crate::params![organization_id, domain_id, address, relay, now],
    )
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
    sqlx::query_as_with(
        "select id, domain_id, address,
                cast(case when relay then 1 else 0 end as bigint) as relay, created_at, updated_at
         from accounts
         where organization_id = $1 order by address",
        crate::params![organization_id],
    )
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

/// Found and listed with [`super::scoped`]: by name.
impl Table for DomainRow {
    const TABLE: &'static str = "domains";
    const COLUMNS: &'static str = "id, name, created_at, updated_at";
}

impl Scoped for DomainRow {
    const ORDER: &'static str = "name";
}

/// Deletes the organization's domain and its accounts; false when it has no such domain.
/// Usage already recorded for it is kept.
pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    domain_id: i64,
) -> Result<bool, sqlx::Error> {
    super::changed_one(
        executor,
        "delete from domains where organization_id = $1 and id = $2",
        crate::params![organization_id, domain_id],
    )
    .await
}

/// Deletes an account of the organization's domain; false when there is no such account.
pub async fn delete_account<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    domain_id: i64,
    account_id: i64,
) -> Result<bool, sqlx::Error> {
    super::changed_one(
        executor,
        "delete from accounts where organization_id = $1 and domain_id = $2 and id = $3",
        crate::params![organization_id, domain_id, account_id],
    )
    .await
}
