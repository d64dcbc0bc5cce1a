//! SQL for signed-in browser sessions.

use sqlx::{Any, Executor, FromRow};

/// A session to store: the hash of its secret, whose it is and when it ends at the latest.
#[derive(Clone, Debug)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub organization_id: Option<i64>,
    pub expires_at: i64,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    session: &NewSession<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into sessions
             (token_hash, user_id, organization_id, created_at, last_seen_at, expires_at)
         values ($1, $2, $3, $4, $4, $5)",
    )
    .bind(session.token_hash)
    .bind(session.user_id)
    .bind(session.organization_id)
    .bind(now)
    .bind(session.expires_at)
    .execute(executor)
    .await?;
    Ok(())
}

/// A stored session with its user.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    pub email: String,
    pub role: String,
    pub organization_id: Option<i64>,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// The session whose secret hashes to `token_hash`, live or not, with the user's role in
/// the organization it acts for; none once the user no longer belongs to that organization.
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    token_hash: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "select s.user_id, u.email,
                case when s.organization_id is null then u.role else m.role end as role,
                s.organization_id, s.last_seen_at, s.expires_at, s.revoked_at
         from sessions s
         join users u on u.id = s.user_id
         left join memberships m
             on m.user_id = s.user_id and m.organization_id = s.organization_id
         where s.token_hash = $1 and (s.organization_id is null or m.role is not null)",
    )
    .bind(token_hash)
    .fetch_optional(executor)
    .await
}

/// Records activity, which pushes the idle expiry back.
pub async fn touch<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    token_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("update sessions set last_seen_at = $2 where token_hash = $1")
        .bind(token_hash)
        .bind(now)
        .execute(executor)
        .await?;
    Ok(())
}

/// Ends a session; false when there is no such live session.
pub async fn revoke<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    token_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "update sessions set revoked_at = $2 where token_hash = $1 and revoked_at is null",
    )
    .bind(token_hash)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Moves a session to another organization; the caller has checked the membership.
pub async fn switch_organization<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    token_hash: &str,
    organization_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("update sessions set organization_id = $2 where token_hash = $1")
        .bind(token_hash)
        .bind(organization_id)
        .execute(executor)
        .await?;
    Ok(())
}

/// A user as sign-in needs them.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Credentials {
    pub id: i64,
    pub organization_id: Option<i64>,
    pub role: String,
    pub password_hash: String,
}

/// The user with this email, if any.
pub async fn credentials<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    email: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as("select id, organization_id, role, password_hash from users where email = $1")
        .bind(email)
        .fetch_optional(executor)
        .await
}
