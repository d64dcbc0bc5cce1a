//! SQL for an organization's domains (apps) and the mailbox accounts inside them.

use sqlx::FromRow;

use super::queries;

use super::{scoped::Scoped, Table};

queries! {
    /// Stores a domain; returns its id. A name the organization already has is a unique
    /// violation.
    pub fn insert(organization_id: i64, name: &str, now: i64) -> scalar<i64>
        "insert into domains (organization_id, name, created_at, updated_at)
         values ($1, $2, $3, $3) returning id";

    /// Stores an account of one of the organization's domains; returns its id. An address the
    /// organization already has is a unique violation.
    pub fn insert_account(
        organization_id: i64,
        domain_id: i64,
        (address, relay): (&str, bool),
        now: i64,
    ) -> scalar<i64>
        "insert into accounts (organization_id, domain_id, address, relay, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5) returning id"
        with [organization_id, domain_id, address, relay, now];
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

queries! {
    /// The organization's accounts, by address.
    pub fn accounts(organization_id: i64) -> all<AccountRow>
        "select id, domain_id, address,
                cast(case when relay then 1 else 0 end as bigint) as relay, created_at, updated_at
         from accounts
         where organization_id = $1 order by address";
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

queries! {
    /// Deletes the organization's domain and its accounts; false when it has no such domain.
    /// Usage already recorded for it is kept.
    pub fn delete(organization_id: i64, domain_id: i64) -> changed_one
        "delete from domains where organization_id = $1 and id = $2";

    /// Deletes an account of the organization's domain; false when there is no such account.
    pub fn delete_account(organization_id: i64, domain_id: i64, account_id: i64) -> changed_one
        "delete from accounts where organization_id = $1 and domain_id = $2 and id = $3";
}
