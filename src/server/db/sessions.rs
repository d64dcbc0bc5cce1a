//! SQL for signed-in browser sessions.

use sqlx::FromRow;

use super::queries;

/// A session to store: the hash of its secret, whose it is and when it ends at the latest.
#[derive(Clone, Debug)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub organization_id: Option<i64>,
    pub expires_at: i64,
}

queries! {
    pub fn insert(session: &NewSession<'_>, now: i64) -> execute
        "insert into sessions
             (token_hash, user_id, organization_id, created_at, last_seen_at, expires_at)
         values ($1, $2, $3, $4, $4, $5)"
        with [
            session.token_hash,
            session.user_id,
            session.organization_id,
            now,
            session.expires_at,
        ];
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

queries! {
    /// The session whose secret hashes to `token_hash`, live or not, with the user's role in
    /// the organization it acts for; none once the user no longer belongs to that organization
    /// or was disabled.
    pub fn find(token_hash: &str) -> optional<SessionRow>
        "select s.user_id, u.email,
                case when s.organization_id is null then u.role else m.role end as role,
                s.organization_id, s.last_seen_at, s.expires_at, s.revoked_at
         from sessions s
         join users u on u.id = s.user_id
         left join memberships m
             on m.user_id = s.user_id and m.organization_id = s.organization_id
         where s.token_hash = $1 and (s.organization_id is null or m.role is not null)
             and u.disabled_at is null";

    /// Records activity, which pushes the idle expiry back.
    pub fn touch(token_hash: &str, now: i64) -> execute
        "update sessions set last_seen_at = $2 where token_hash = $1";

    /// Ends a session; false when there is no such live session.
    pub fn revoke(token_hash: &str, now: i64) -> changed_one
        "update sessions set revoked_at = $2 where token_hash = $1 and revoked_at is null";

    /// Ends every live session of `user_id` but the one `keep` names (if any); returns how
    /// many ended.
    pub fn revoke_all_of_user(user_id: i64, keep: Option<&str>, now: i64) -> affected
        "update sessions set revoked_at = $2
         where user_id = $1 and revoked_at is null and token_hash <> coalesce($3, '')"
        with [user_id, now, keep];

    /// Deletes sessions that can never be used again at `now`: ended (signed out), past their
    /// absolute end, or idle since `idle_before`. Returns how many went.
    pub fn purge_ended(now: i64, idle_before: i64) -> affected
        "delete from sessions
         where revoked_at is not null or expires_at <= $1 or last_seen_at <= $2";

    /// Moves a session to another organization; the caller has checked the membership.
    pub fn switch_organization(token_hash: &str, organization_id: i64) -> execute
        "update sessions set organization_id = $2 where token_hash = $1";
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

queries! {
    /// The user with this email, if any.
    pub fn credentials(email: &str) -> optional<Credentials>
        "select id, email, organization_id, role, password_hash, disabled_at
         from users where email = $1";

    /// The user with this id, as a password change needs them.
    pub fn credentials_of(user_id: i64) -> optional<Credentials>
        "select id, email, organization_id, role, password_hash, disabled_at
         from users where id = $1";
}
