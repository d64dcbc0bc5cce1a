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
    sqlx::query_with(
        "insert into sessions
             (token_hash, user_id, organization_id, created_at, last_seen_at, expires_at)
         values ($1, $2, $3, $4, $4, $5)",
        crate::params![
            session.token_hash,
            session.user_id,
            session.organization_id,
            now,
            session.expires_at
        ],
    )
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
/// the organization it acts for; none once the user no longer belongs to that organization
/// or was disabled.
pub async fn find<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    token_hash: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as_with(
        "select s.user_id, u.email,
                case when s.organization_id is null then u.role else m.role end as role,
                s.organization_id, s.last_seen_at, s.expires_at, s.revoked_at
         from sessions s
         join users u on u.id = s.user_id
         left join memberships m
             on m.user_id = s.user_id and m.organization_id = s.organization_id
         where s.token_hash = $1 and (s.organization_id is null or m.role is not null)
             and u.disabled_at is null",
        crate::params![token_hash],
    )
    .fetch_optional(executor)
    .await
}

/// Records activity, which pushes the idle expiry back.
pub async fn touch<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    token_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query_with(
        "update sessions set last_seen_at = $2 where token_hash = $1",
        crate::params![token_hash, now],
    )
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
    super::changed_one(
        executor,
        "update sessions set revoked_at = $2 where token_hash = $1 and revoked_at is null",
        crate::params![token_hash, now],
    )
    .await
}

/// Ends every live session of `user_id` but the one `keep` names (if any); returns how
/// many ended.
pub async fn revoke_all_of_user<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user_id: i64,
    keep: Option<&str>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query_with(
        "update sessions set revoked_at = $2
         where user_id = $1 and revoked_at is null and token_hash <> coalesce($3, '')",
        crate::params![user_id, now, keep],
    )
    .execute(executor)
    .await?;
    Ok(result.rows_affected())
}

/// Deletes sessions that can never be used again at `now`: ended (signed out), past their
/// absolute end, or idle since `idle_before`. Returns how many went.
pub async fn purge_ended<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    now: i64,
    idle_before: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query_with(
        "delete from sessions
         where revoked_at is not null or expires_at <= $1 or last_seen_at <= $2",
        crate::params![now, idle_before],
    )
    .execute(executor)
    .await?;
    Ok(result.rows_affected())
}

/// Moves a session to another organization; the caller has checked the membership.
pub async fn switch_organization<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    token_hash: &str,
    organization_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query_with(
        "update sessions set organization_id = $2 where token_hash = $1",
        crate::params![token_hash, organization_id],
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// A user as sign-in needs them.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Credentials {
    pub id: i64,
    pub email: String,
    pub organization_id: Option<i64>,
    pub role: String,
    pub password_hash: String,
    pub disabled_at: Option<i64>,
}

/// The user with this email, if any.
pub async fn credentials<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    email: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as_with(
        "select id, email, organization_id, role, password_hash, disabled_at
         from users where email = $1",
        crate::params![email],
    )
    .fetch_optional(executor)
    .await
}

/// The user with this id, as a password change needs them.
pub async fn credentials_of<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    user_id: i64,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as_with(
        "select id, email, organization_id, role, password_hash, disabled_at
         from users where id = $1",
        crate::params![user_id],
    )
    .fetch_optional(executor)
    .await
}
