//! Signing in and out of the dashboard: `POST /api/v1/sessions`,
//! `DELETE /api/v1/sessions/current`, `DELETE /api/v1/sessions` (everywhere), and
//! `PUT /api/v1/user/password`.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{AppendHeaders, IntoResponse},
    routing::{delete, post, put},
    Json, Router,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::AppError,
    server::{
        access::sessions,
        db,
        rest::extract::{Body, ClientAddress, SessionToken},
        rest::shape::{id, ErrorBody},
        state::AppState,
    },
};

/// The session routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/sessions",
            post(sign_in).delete(sign_out_everywhere),
        )
        .route("/api/v1/sessions/current", delete(sign_out))
        .route("/api/v1/user/password", put(change_password))
}

/// Who signs in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    #[schema(example = "admin@acme.example")]
    pub email: String,
    pub password: String,
}

/// The signed-in user.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionBody {
    pub user_id: String,
    /// `member`, `admin` or `platform-admin`.
    pub role: String,
    /// Null for a platform admin.
    #[schema(required = true)]
    pub organization_id: Option<String>,
}

/// 201 with the user and a `Set-Cookie` for a new session (HttpOnly, SameSite=Lax, Secure
/// unless turned off). 400 for a malformed body; 401 for an unknown email or a wrong
/// password alike.
#[utoipa::path(
    post, path = "/api/v1/sessions", tag = "account", request_body = SignIn,
    responses(
        (status = 201, description = "Signed in; the session cookie is set", body = SessionBody),
        (status = 400, description = "A malformed body", body = ErrorBody),
        (status = 401, description = "Unknown email or wrong password", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this account or address; \
            `Retry-After` says how many seconds to wait", body = ErrorBody),
    ),
    security(())
)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Body(request): Body<SignIn>,
) -> Result<impl IntoResponse, AppError> {
    let now = db::unix_seconds(Utc::now());
    let signed_in =
        sessions::sign_in(&state, &request.email, &request.password, address, now).await?;
    let cookie = sessions::set_cookie(&state.settings.session, &signed_in.token);
    Ok((
        StatusCode::CREATED,
        AppendHeaders([(header::SET_COOKIE, cookie)]),
        Json(SessionBody {
            user_id: id(signed_in.user_id),
            role: signed_in.role,
            organization_id: signed_in.organization_id.map(id),
        }),
    ))
}

/// 204: the session ends now and its cookie is cleared. 401 without a live session.
#[utoipa::path(
    delete, path = "/api/v1/sessions/current", tag = "account",
    responses((status = 204, description = "Signed out")),
    security(("session" = []))
)]
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
) -> Result<impl IntoResponse, AppError> {
    let now = db::unix_seconds(Utc::now());
    if !sessions::sign_out(&state, &token, now).await? {
        return Err(AppError::Unauthorized);
    }
    Ok(signed_out(&state))
}

/// 204: every session of the signed-in user ends now, this one included, and its cookie is
/// cleared. 401 without a live session.
#[utoipa::path(
    delete, path = "/api/v1/sessions", tag = "account",
    responses((status = 204, description = "Signed out everywhere")),
    security(("session" = []))
)]
pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    SessionToken(token): SessionToken,
) -> Result<impl IntoResponse, AppError> {
    let now = db::unix_seconds(Utc::now());
    sessions::sign_out_everywhere(&state, &token, now).await?;
    Ok(signed_out(&state))
}

/// 204 with the session cookie cleared.
fn signed_out(state: &AppState) -> impl IntoResponse {
    let cookie = sessions::clear_cookie(&state.settings.session);
    (
        StatusCode::NO_CONTENT,
        AppendHeaders([(header::SET_COOKIE, cookie)]),
    )
}

/// A new password, proved by the current one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordChange {
    pub current_password: String,
    /// 8 to 1024 characters.
    pub new_password: String,
}

/// 204: the signed-in user's password is changed and every other session of theirs ends;
/// this one stays. 400 for a malformed body, a wrong current password or a new one of the
/// wrong length; 401 without a live session (an API key has no password); 429 after too
/// many wrong current passwords, counted with failed sign-ins of the account.
#[utoipa::path(
    put, path = "/api/v1/user/password", tag = "account", request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; the user's other sessions have ended"),
        (status = 400, description = "A malformed body, a wrong current password or a new \
            password of the wrong length", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords for this account or address; \
            `Retry-After` says how many seconds to wait", body = ErrorBody),
    ),
    security(("session" = []))
)]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    SessionToken(token): SessionToken,
    Body(request): Body<PasswordChange>,
) -> Result<StatusCode, AppError> {
    let now = db::unix_seconds(Utc::now());
    sessions::change_password(
        &state,
        &token,
        &request.current_password,
        &request.new_password,
        address,
        now,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
