//! SQL for organizations (tenants).

use sqlx::{Any, Executor, FromRow};

use super::queries;

/// An organization as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct OrganizationRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
    pub currency: String,
    /// Decimal percentages, checked by `domain::pricing::Rate`.
    pub tax_rate: String,
    pub discount_rate: String,
}

const COLUMNS: &str = "id, slug, name, time_zone, currency, tax_rate, discount_rate";

impl super::Table for OrganizationRow {
    const TABLE: &'static str = "organizations";
    const COLUMNS: &'static str = COLUMNS;
}

/// What a new organization needs.
#[derive(Clone, Debug)]
pub struct NewOrganization<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub time_zone: &'a str,
    pub currency: &'a str,
    /// Decimal percentages.
    pub tax_rate: &'a str,
    pub discount_rate: &'a str,
}

queries! {
    /// Stores a new organization; returns its id. A duplicate `slug` is a unique violation.
    pub fn insert(organization: &NewOrganization<'_>, now: i64) -> scalar<i64>
        "insert into organizations
             (slug, name, time_zone, currency, tax_rate, discount_rate, created_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning id"
        with [
            organization.slug,
            organization.name,
            organization.time_zone,
            organization.currency,
            organization.tax_rate,
            organization.discount_rate,
            now,
        ];
}

/// The organization with this id, if any.
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: i64,
) -> Result<Option<OrganizationRow>, sqlx::Error> {
    super::row_by(executor, "id", id).await
}

/// The organization with this slug, if any.
pub async fn find_by_slug<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    slug: &str,
) -> Result<Option<OrganizationRow>, sqlx::Error> {
    super::row_by(executor, "slug", slug).await
}

/// Ids of every organization, oldest first.
pub async fn all_ids<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("select id from organizations order by id")
        .fetch_all(executor)
        .await
}
