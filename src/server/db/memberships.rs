//! SQL for memberships: which organizations a user belongs to, and their role in each.

use sqlx::{Any, Executor, FromRow};

/// Adds `user_id` to an organization with `role`, or gives an existing membership `role`.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user_id: i64,
    organization_id: i64,
    role: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into memberships (user_id, organization_id, role, created_at)
         values ($1, $2, $3, $4)
         on conflict (user_id, organization_id) do update set role = excluded.role",
    )
    .bind(user_id)
    .bind(organization_id)
    .bind(role)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// One organization a user belongs to.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct MembershipRow {
    pub organization_id: i64,
    pub slug: String,
    pub name: String,
    pub role: String,
}

/// The organizations `user_id` belongs to, by name.
pub async fn of_user<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user_id: i64,
) -> Result<Vec<MembershipRow>, sqlx::Error> {
    sqlx::query_as(
        "select o.id as organization_id, o.slug, o.name, m.role
         from memberships m join organizations o on o.id = m.organization_id
         where m.user_id = $1
         order by o.name, o.id",
    )
    .bind(user_id)
    .fetch_all(executor)
    .await
}
