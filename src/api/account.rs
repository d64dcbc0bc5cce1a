//! The signed-in user: who they are, which organization their session acts for, and which
//! others they can switch to.

use leptos::prelude::*;

use crate::error::AppError;

use crate::model::account::SessionInfo;

/// The signed-in user, or `None` when the request has no live session.
#[server(output = crate::codec::JsonText)]
pub async fn get_session() -> Result<Option<SessionInfo>, AppError> {
    use crate::model::account::OrganizationChoice;
    use crate::server::{access::sessions, http::server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            if use_context::<axum::http::request::Parts>().is_none() {
                return Ok(None);
            }
            let Some(user) = server_fn::user(&state).await? else {
                return Ok(None);
            };
            let organizations: Vec<OrganizationChoice> =
                sessions::memberships_of(&state, user.user_id)
                    .await?
                    .iter()
                    .map(|m| OrganizationChoice {
                        id: m.organization_id,
                        slug: m.slug.clone(),
                        name: m.name.clone(),
                        role: m.role.clone(),
                    })
                    .collect();
            let organization = user
                .organization_id
                .and_then(|id| organizations.iter().find(|o| o.id == id).cloned());
            Ok(Some(SessionInfo {
                email: user.email,
                role: user.role,
                organization,
                organizations,
            }))
        }
        .await,
    )
}

/// Changes the signed-in user's password and signs out every other session of theirs (see
/// `sessions::change_password`). Errors: `BadRequest` when the two new passwords differ,
/// for a wrong current password or a new one of the wrong length; `Unauthorized` without
/// a session; `TooManyRequests` after too many wrong current passwords.
#[server(output = crate::codec::JsonText)]
pub async fn change_password(
    current_password: String,
    new_password: String,
    repeat_password: String,
) -> Result<(), AppError> {
    use crate::server::{access::sessions, db, http::server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let token = server_fn::session_token(&state)?.ok_or(AppError::Unauthorized)?;
            if new_password != repeat_password {
                return Err(AppError::BadRequest(
                    "The new password and its repetition differ".into(),
                ));
            }
            let address = server_fn::client_address(&state)?;
            let now = db::unix_seconds(chrono::Utc::now());
            sessions::change_password(
                &state,
                &token,
                &current_password,
                &new_password,
                address,
                now,
            )
            .await
        }
        .await,
    )
}
