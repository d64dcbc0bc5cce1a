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
    sqlx::query_scalar(
        "insert into users (organization_id, email, password_hash, role, created_at)
         values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(user.organization_id)
    .bind(user.email)
    .bind(user.password_hash)
    .bind(user.role)
    .bind(now)
    .fetch_one(executor)
    .await
}

/// The stored password hash of the user with this email, if any.
pub async fn password_hash<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    email: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select password_hash from users where email = $1")
        .bind(email)
        .fetch_optional(executor)
        .await
}

/// The email of the user with this id, if any.
pub async fn email_of<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select email from users where id = $1")
        .bind(user_id)
        .fetch_optional(executor)
        .await
}

/// The id of the user with this email, if any.
pub async fn id_of<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    email: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("select id from users where email = $1")
        .bind(email)
        .fetch_optional(executor)
        .await
}
