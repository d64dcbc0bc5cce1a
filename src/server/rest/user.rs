//! `GET /api/v1/user`: who the caller is.

use axum::{extract::State, routing::get, Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    error::AppError,
    server::{
        auth::ApiPrincipal,
        db::{api_keys, organizations},
        rest::shape::{id, ErrorBody},
        state::AppState,
    },
};

/// `GET /api/v1/user`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/user", get(current_user))
}

/// The caller. For an API key, `id` is the key's id and `email` its name.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserBody {
    #[schema(example = "100000000000000002")]
    pub id: String,
    pub email: String,
    /// `member` or `admin`.
    pub role: String,
    pub organization_id: String,
    pub organization: OrganizationRef,
}

/// An organization, briefly.
#[derive(Serialize, ToSchema)]
pub struct OrganizationRef {
    pub id: String,
    pub slug: String,
    pub name: String,
}

/// 200 with the caller; 401 without a valid key.
#[utoipa::path(
    get, path = "/api/v1/user", tag = "account",
    responses(
        (status = 200, description = "The caller", body = UserBody),
        (status = 401, description = "No valid key", body = ErrorBody),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(organization = principal.organization_id))]
pub(crate) async fn current_user(
    State(state): State<AppState>,
    principal: ApiPrincipal,
) -> Result<Json<UserBody>, AppError> {
    let pool = state.db.pool();
    let key = api_keys::find(pool, principal.organization_id, principal.key_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let organization = organizations::find(pool, principal.organization_id)
        .await?
        .ok_or_else(|| AppError::NotFound("Organization".into()))?;
    Ok(Json(UserBody {
        id: id(key.id),
        email: key.name,
        role: principal.role.as_str().to_string(),
        organization_id: id(organization.id),
        organization: OrganizationRef {
            id: id(organization.id),
            slug: organization.slug,
            name: organization.name,
        },
    }))
}
