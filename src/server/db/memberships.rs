//! SQL for memberships: which organizations a user belongs to, and their role in each.

use sqlx::FromRow;

use super::queries;

queries! {
    /// Adds `user_id` to an organization with `role`, or gives an existing membership `role`.
    pub fn insert(user_id: i64, organization_id: i64, role: &str, now: i64) -> execute
        "insert into memberships (user_id, organization_id, role, created_at)
         values ($1, $2, $3, $4)
         on conflict (user_id, organization_id) do update set role = excluded.role";
}

/// One organization a user belongs to.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct MembershipRow {
    pub organization_id: i64,
    pub slug: String,
    pub name: String,
    pub role: String,
}

queries! {
    /// The organizations `user_id` belongs to, by name.
    pub fn of_user(user_id: i64) -> all<MembershipRow>
        "select o.id as organization_id, o.slug, o.name, m.role
         from memberships m join organizations o on o.id = m.organization_id
         where m.user_id = $1
         order by o.name, o.id";
}

/// A user's membership, for lists of many users.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct UserMembership {
    pub user_id: i64,
    pub name: String,
    pub role: String,
}

queries! {
    /// The memberships of the first `limit` users by email whose email contains `search` (any
    /// case), as [`super::users::list`] lists them; by organization name.
    pub fn of_users_matching(search: &str, limit: i64) -> all<UserMembership>
        "select m.user_id, o.name, m.role
         from memberships m
         join organizations o on o.id = m.organization_id
         where m.user_id in (
             select id from users where email like $1 escape '\\' order by email limit $2
         )
         order by o.name, o.id"
        with [super::contains_pattern(search), limit];
}
