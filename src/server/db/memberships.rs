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
    sqlx::query_with(
        "insert into memberships (user_id, organization_id, role, created_at)
         values ($1, $2, $3, $4)
         on conflict (user_id, organization_id) do update set role = excluded.role",
        crate::params![user_id, organization_id, role, now],
    )
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
    sqlx::query_as_with(
        "select o.id as organization_id, o.slug, o.name, m.role
         from memberships m join organizations o on o.id = m.organization_id
         where m.user_id = $1
         order by o.name, o.id",
        crate::params![user_id],
    )
    .fetch_all(executor)
    .await
}

/// A user's membership, for lists of many users.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct UserMembership {
    pub user_id: i64,
    pub name: String,
    pub role: String,
}

/// The memberships of the first `limit` users by email whose email contains `search` (any
/// case), as [`super::users::list`] lists them; by organization name.
pub async fn of_users_matching<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    search: &str,
    limit: i64,
) -> Result<Vec<UserMembership>, sqlx::Error> {
    sqlx::query_as_with(
        "select m.user_id, o.name, m.role
         from memberships m
         join organizations o on o.id = m.organization_id
         where m.user_id in (
             select id from users where email like $1 escape '\\' order by email limit $2
         )
         order by o.name, o.id",
        crate::params![super::contains_pattern(search), limit],
    )
    .fetch_all(executor)
    .await
}
