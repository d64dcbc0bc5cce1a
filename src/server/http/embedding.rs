//! The embedding settings page's forms (`/settings/embedding`): add and remove an origin,
//! revoke a portal session. Plain posts answered with a 303 back to the page (with
//! `?error=invalid|conflict|failed` when the change was refused), so they work without
//! WASM. Needs an admin's session; changes are audited by `access`.

use axum::{
    extract::{rejection::FormRejection, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Form, Router,
};
use serde::Deserialize;

use crate::{
    error::AppError,
    model::embed::{ADD_ORIGIN, REMOVE_ORIGIN, REVOKE_SESSION, SETTINGS_PAGE as PAGE},
};

use crate::server::{
    access::{
        audit::Actor,
        embedding, portal,
        principal::{Principal, Role},
    },
    state::AppState,
};

/// The form routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(ADD_ORIGIN, post(add_origin))
        .route(REMOVE_ORIGIN, post(remove_origin))
        .route(REVOKE_SESSION, post(revoke_session))
}

#[derive(Deserialize)]
struct OriginForm {
    origin: String,
}

#[derive(Deserialize)]
struct IdForm {
    id: i64,
}

/// `POST /settings/embedding/origins`.
#[tracing::instrument(skip_all)]
async fn add_origin(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<OriginForm>, FormRejection>,
) -> Response {
    let state = &state;
    as_admin(
        state,
        &headers,
        form,
        |actor, organization_id, form| async move {
            embedding::add_by(state, actor, organization_id, &form.origin)
                .await
                .map(|_| ())
        },
    )
    .await
}

/// `POST /settings/embedding/origins/remove`.
#[tracing::instrument(skip_all)]
async fn remove_origin(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<IdForm>, FormRejection>,
) -> Response {
    let state = &state;
    as_admin(state, &headers, form, |actor, organization_id, form| {
        embedding::remove_by(state, actor, organization_id, form.id)
    })
    .await
}

/// `POST /settings/embedding/sessions/revoke`.
#[tracing::instrument(skip_all)]
async fn revoke_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<IdForm>, FormRejection>,
) -> Response {
    let state = &state;
    as_admin(state, &headers, form, |actor, organization_id, form| {
        portal::revoke_by(state, actor, organization_id, form.id)
    })
    .await
}

/// Makes `change` with the form, on behalf of the signed-in admin of the organization, and
/// answers with [`back`]: 401 without a session, 403 for a member.
async fn as_admin<T, F, Fut>(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<Form<T>, FormRejection>,
    change: F,
) -> Response
where
    F: FnOnce(Actor, i64, T) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let changed = async {
        let principal = Principal::from_session(state, headers).await?;
        principal.require(Role::Admin)?;
        let Form(form) = form.map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
        change(
            Actor::User(principal.user_id),
            principal.organization_id,
            form,
        )
        .await
    };
    back(changed.await)
}

/// 303 back to the page, saying why a refused change was refused; 401 and 403 as such.
fn back(result: Result<(), AppError>) -> Response {
    let location = match result {
        Ok(()) => PAGE.to_string(),
        Err(error @ (AppError::Unauthorized | AppError::Forbidden)) => {
            return error.into_response()
        }
        Err(AppError::BadRequest(_)) => format!("{PAGE}?error=invalid"),
        Err(AppError::Conflict(_)) => format!("{PAGE}?error=conflict"),
        Err(_) => format!("{PAGE}?error=failed"),
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}
