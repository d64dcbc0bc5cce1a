//! SQL for users who sign in to the dashboard.

use sqlx::{Any, Executor};

/// A user to store; `password_hash` is the PHC string of an argon2id hash.
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    /// `None` only for platform admins.
    pub organization_id: Option<i64>,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
}

/// Stores a user; returns its id. An email already in use is a unique violation.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user: &NewUser<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar_with(
        "insert into users (organization_id, email, password_hash, role, created_at)
         values ($1, $2, $3, $4, $5) returning id",
        crate::params![
            user.organization_id,
            user.email,
            user.password_hash,
            user.role,
            now
        ],
    )
    .fetch_one(executor)
    .await
}

/// The stored password hash of the user with this email, if any.
pub async fn password_hash<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    email: &str,
) -> Result<Option<String>, sqlx::Error> {
    super::value_by(
        executor,
        "select password_hash from users where email = $1",
        email,
    )
    .await
}

/// The email of the user with this id, if any.
pub async fn email_of<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    super::value_by(executor, "select email from users where id = $1", user_id).await
}

/// The id of the user with this email, if any.
pub async fn id_of<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    email: &str,
) -> Result<Option<i64>, sqlx::Error> {
    super::value_by(executor, "select id from users where email = $1", email).await
}

/// Replaces the password hash of `user_id`.
pub async fn set_password_hash<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user_id: i64,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query_with(
        "update users set password_hash = $2 where id = $1",
        crate::params![user_id, password_hash],
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Disables `user_id` at `at`, or enables them again with `None`; false when there is no
/// such user or they already were so.
pub async fn set_disabled<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user_id: i64,
    at: Option<i64>,
) -> Result<bool, sqlx::Error> {
    super::changed_one(
        executor,
        "update users set disabled_at = $2
         where id = $1 and (disabled_at is null) <> ($2 is null)",
        crate::params![user_id, at],
    )
    .await
}

/// A user as the operator's list shows them.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    /// Their latest activity in any session still stored.
    pub last_seen_at: Option<i64>,
}

/// Users whose email contains `search` (any case), by email, at most `limit`.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    search: &str,
    limit: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as_with(
        "select u.id, u.email, u.role, u.created_at, u.disabled_at,
                (select max(s.last_seen_at) from sessions s where s.user_id = u.id)
                    as last_seen_at
         from users u
         where u.email like $1 escape '\\'
         order by u.email
         limit $2",
        crate::params![super::contains_pattern(search), limit],
    )
    .fetch_all(executor)
    .await
}
