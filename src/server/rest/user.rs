//! `GET /api/v1/user`: who the caller is.

use axum::{extract::State, routing::get, Json, Router};
use serde_json::{json, Value};

use crate::{
    error::AppError,
    server::{
        auth::ApiPrincipal,
        db::{api_keys, organizations},
        rest::shape::id,
        state::AppState,
    },
};

/// `GET /api/v1/user`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/user", get(current_user))
}

/// 200 `{id, email, role, organizationId, organization: {id, slug, name}}` for any key:
/// for a key, `id` is the key's id and `email` its name. 401 without a valid key.
#[tracing::instrument(skip_all, fields(organization = principal.organization_id))]
async fn current_user(
    State(state): State<AppState>,
    principal: ApiPrincipal,
) -> Result<Json<Value>, AppError> {
    let pool = state.db.pool();
    let key = api_keys::find(pool, principal.organization_id, principal.key_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let organization = organizations::find(pool, principal.organization_id)
        .await?
        .ok_or_else(|| AppError::NotFound("Organization".into()))?;
    Ok(Json(json!({
        "id": id(key.id),
        "email": key.name,
        "role": principal.role.as_str(),
        "organizationId": id(organization.id),
        "organization": {
            "id": id(organization.id),
            "slug": organization.slug,
            "name": organization.name,
        },
    })))
}
