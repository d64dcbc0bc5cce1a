//! `GET /api/v1/user`: who the caller is.

use axum::{extract::State, routing::get, Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    error::AppError,
    server::{
        access::principal::{ApiPrincipal, Credential},
        db::{self, organizations, users},
        rest::shape::id,
        state::AppState,
    },
};

/// `GET /api/v1/user`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/user", get(current_user))
}

/// The caller: a signed-in user, or for an API key the key's id and, as `email`, its name.
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

/// 200 with the caller; 401 without a valid key or session.
#[utoipa::path(
    get, path = "/api/v1/user", tag = "account",
    responses((status = 200, description = "The caller", body = UserBody))
)]
pub(crate) async fn current_user(
    State(state): State<AppState>,
    principal: ApiPrincipal,
) -> Result<Json<UserBody>, AppError> {
    let pool = state.db.pool();
    let (caller_id, email) = match principal.credential {
        Credential::ApiKey(key_id) => {
            let key = db::scoped::find::<db::api_keys::ApiKeyRow, _>(
                pool,
                principal.organization_id,
                key_id,
            )
            .await?
            .ok_or(AppError::Unauthorized)?;
            (key.id, key.name)
        }
        Credential::Session(user_id) => {
            let email = users::email_of(pool, user_id)
                .await?
                .ok_or(AppError::Unauthorized)?;
            (user_id, email)
        }
    };
    let organization = organizations::find(pool, principal.organization_id)
        .await?
        .ok_or_else(|| AppError::NotFound("Organization".into()))?;
    Ok(Json(UserBody {
        id: id(caller_id),
        email,
        role: principal.role.as_str().to_string(),
        organization_id: id(organization.id),
        organization: OrganizationRef {
            id: id(organization.id),
            slug: organization.slug,
            name: organization.name,
        },
    }))
}
