//! The operator's list of dashboard users: find one, disable them (which signs them out
//! everywhere) or enable them again. Only a platform admin may call these.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Users listed at most; the search narrows the rest.
pub const USERS_LIMIT: usize = 200;

/// A dashboard user as the operator's list shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    /// `member`, `admin` or `platform-admin` (their role at sign-up).
    pub role: String,
    /// The organizations they belong to, by name, each with their role there.
    pub organizations: Vec<(String, String)>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of their latest activity in a session still stored.
    pub last_seen_at: Option<i64>,
    pub disabled: bool,
}

/// The users whose email contains `search`, by email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserView>,
    /// True when more match than [`USERS_LIMIT`].
    pub more: bool,
}

/// The users whose email contains `search` (any case), by email, at most [`USERS_LIMIT`].
///
/// Errors: `Unauthorized` when not signed in; `Forbidden` for anyone but a platform admin.
#[server(output = crate::codec::JsonText)]
pub async fn list_users(search: String) -> Result<UserList, AppError> {
    use crate::server::{db, http::server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            server_fn::platform_admin(&state).await?;
            let pool = state.db.pool();
            let search = search.trim();
            let limit = i64::try_from(USERS_LIMIT + 1).unwrap_or(i64::MAX);
            let mut rows = db::users::list(pool, search, limit).await?;
            let more = rows.len() > USERS_LIMIT;
            rows.truncate(USERS_LIMIT);
            let memberships = db::memberships::of_users_matching(pool, search, limit).await?;
            let users = rows
                .into_iter()
                .map(|row| UserView {
                    organizations: memberships
                        .iter()
                        .filter(|m| m.user_id == row.id)
                        .map(|m| (m.name.clone(), m.role.clone()))
                        .collect(),
                    id: row.id,
                    email: row.email,
                    role: row.role,
                    created_at: row.created_at,
                    last_seen_at: row.last_seen_at,
                    disabled: row.disabled_at.is_some(),
                })
                .collect();
            Ok(UserList { users, more })
        }
        .await,
    )
}

/// Disables the user `id` (`disabled: true`), which ends every session of theirs at once
/// and refuses their sign-ins, or enables them again. Recorded in the audit log.
///
/// Errors: `Unauthorized` when not signed in; `Forbidden` for anyone but a platform admin;
/// `NotFound` for no such user; `BadRequest` for disabling oneself.
#[server(output = crate::codec::JsonText)]
pub async fn set_user_disabled(id: i64, disabled: bool) -> Result<(), AppError> {
    use crate::server::{access::audit::Actor, access::users, db, http::server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let operator = server_fn::platform_admin(&state).await?;
            let now = db::unix_seconds(chrono::Utc::now());
            users::set_disabled(&state.db, Actor::User(operator.user_id), id, disabled, now)
                .await?;
            state.live.credentials_changed().await;
            Ok(())
        }
        .await,
    )
}
