//! Rows that belong to one organization, found and listed only within it: the one
//! organization-scoped fetch every resource uses (keys, webhooks, domains), so no query of
//! a resource can forget the organization.

use sqlx::{Any, Executor};

use super::Table;

/// A table whose rows each belong to one organization (an `organization_id` column).
pub trait Scoped: Table {
    /// How [`list`] orders the rows.
    const ORDER: &'static str;
}

/// The organization's row with this id; `None` when there is none or it is another
/// organization's.
pub async fn find<'e, T: Scoped, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    id: i64,
) -> Result<Option<T>, sqlx::Error> {
    let sql = format!(
        "select {} from {} where organization_id = $1 and id = $2",
        T::COLUMNS,
        T::TABLE
    );
    sqlx::query_as_with(&sql, super::params![organization_id, id])
        .fetch_optional(executor)
        .await
}

/// Every row of the organization, in the table's order.
pub async fn list<'e, T: Scoped, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
) -> Result<Vec<T>, sqlx::Error> {
    let sql = format!(
        "select {} from {} where organization_id = $1 order by {}",
        T::COLUMNS,
        T::TABLE,
        T::ORDER
    );
    sqlx::query_as_with(&sql, super::params![organization_id])
        .fetch_all(executor)
        .await
}
