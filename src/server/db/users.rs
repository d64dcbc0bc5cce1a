//! SQL for users who sign in to the dashboard.

use super::queries;

/// A user to store; `password_hash` is the PHC string of an argon2id hash.
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    /// `None` only for platform admins.
    pub organization_id: Option<i64>,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
}

queries! {
    /// Stores a user; returns its id. An email already in use is a unique violation.
    pub fn insert(user: &NewUser<'_>, now: i64) -> scalar<i64>
        "insert into users (organization_id, email, password_hash, role, created_at)
         values ($1, $2, $3, $4, $5) returning id"
        with [user.organization_id, user.email, user.password_hash, user.role, now];

    /// The stored password hash of the user with this email, if any.
    pub fn password_hash(email: &str) -> scalar_optional<String>
        "select password_hash from users where email = $1";

    /// The email of the user with this id, if any.
    pub fn email_of(user_id: i64) -> scalar_optional<String>
        "select email from users where id = $1";

    /// The id of the user with this email, if any.
    pub fn id_of(email: &str) -> scalar_optional<i64>
        "select id from users where email = $1";

    /// Replaces the password hash of `user_id`.
    pub fn set_password_hash(user_id: i64, password_hash: &str) -> execute
        "update users set password_hash = $2 where id = $1";

    /// Disables `user_id` at `at`, or enables them again with `None`; false when there is no
    /// such user or they already were so.
    pub fn set_disabled(user_id: i64, at: Option<i64>) -> changed_one
        "update users set disabled_at = $2
         where id = $1 and (disabled_at is null) <> ($2 is null)";
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

queries! {
    /// Users whose email contains `search` (any case), by email, at most `limit`.
    pub fn list(search: &str, limit: i64) -> all<UserRow>
        "select u.id, u.email, u.role, u.created_at, u.disabled_at,
                (select max(s.last_seen_at) from sessions s where s.user_id = u.id)
                    as last_seen_at
         from users u
         where u.email like $1 escape '\\'
         order by u.email
         limit $2"
        with [super::contains_pattern(search), limit];
}
