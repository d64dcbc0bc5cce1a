//! Helpers for `#[server]` bodies: reaching the shared state, answering errors with their status.

use leptos::prelude::use_context;

use crate::error::AppError;

use crate::server::{
    access::auth::{session_user, Reader},
    access::portal::PortalGrant,
    access::principal::{ApiPrincipal, Credential, Principal},
    access::sessions::{self, SessionUser},
    state::AppState,
};

/// The session's user as the sign-in guard found it, kept in a page request's extensions
/// so the server functions its render calls do not look it up again.
#[derive(Clone, Debug)]
pub struct RequestMemo(pub Option<SessionUser>);

/// The state the router provides to every server function as context.
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server-function context");
        AppError::Internal
    })
}

/// The request being answered (a page render or a server-function call).
fn request_parts() -> Result<axum::http::request::Parts, AppError> {
    use_context::<axum::http::request::Parts>().ok_or_else(|| {
        tracing::error!("request parts missing from the server-function context");
        AppError::Internal
    })
}

/// The signed-in user of the current request (a page render or a server-function call).
///
/// Errors: `Unauthorized` without a live session cookie, `Forbidden` for a platform admin.
pub async fn principal(state: &AppState) -> Result<Principal, AppError> {
    Principal::of(user(state).await?)
}

/// Who reads usage in the current request: the portal session whose page credential the
/// request limits found (the embed view's requests), else the signed-in user.
///
/// Errors as [`principal`].
pub async fn reader(state: &AppState) -> Result<Reader, AppError> {
    let parts = request_parts()?;
    if let Some(grant) = parts.extensions.get::<PortalGrant>() {
        return Ok(Reader::Portal(grant.clone()));
    }
    let principal = Principal::of(user_of(state, &parts).await?)?;
    Ok(Reader::Member(ApiPrincipal {
        organization_id: principal.organization_id,
        role: principal.role,
        credential: Credential::Session(principal.user_id),
    }))
}

/// The user of the current request's live session, if any: from the request's memo when
/// the sign-in guard looked it up, else from the database.
pub async fn user(state: &AppState) -> Result<Option<SessionUser>, AppError> {
    user_of(state, &request_parts()?).await
}

/// The user of the live session of the request `parts`, if any (see [`user`]).
async fn user_of(
    state: &AppState,
    parts: &axum::http::request::Parts,
) -> Result<Option<SessionUser>, AppError> {
    match parts.extensions.get::<RequestMemo>() {
        Some(RequestMemo(user)) => Ok(user.clone()),
        None => session_user(state, &parts.headers).await,
    }
}

/// The session secret of the current request's cookie, if any.
pub fn session_token(state: &AppState) -> Result<Option<String>, AppError> {
    let parts = request_parts()?;
    Ok(sessions::token_from(&parts.headers, &state.settings.session).map(str::to_string))
}

/// The address the current request came from, as the rate limits count it.
pub fn client_address(state: &AppState) -> Result<Option<std::net::IpAddr>, AppError> {
    Ok(state.limits.client_address(&request_parts()?))
}

/// The signed-in platform admin of the current request.
///
/// Errors: `Unauthorized` without a live session, `Forbidden` for anyone else.
pub async fn platform_admin(state: &AppState) -> Result<SessionUser, AppError> {
    let user = user(state).await?.ok_or(AppError::Unauthorized)?;
    if user.role == "platform-admin" {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Passes `result` through; on error, sets the response status to the error's status so
/// HTTP clients of the server function see 401, 404 … rather than a generic 500.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result {
        error.set_response_status();
    }
    result
}
