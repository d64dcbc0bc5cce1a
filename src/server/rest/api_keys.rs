//! API keys: `POST /api/v1/api-keys`, `GET /api/v1/api-keys?search=`,
//! `DELETE /api/v1/api-keys/{id}`.

use std::str::FromStr;

use axum::{
    extract::State,
    http::StatusCode,
    routing::{delete, get},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::AppError,
    server::{
        access::api_keys,
        access::audit::Actor,
        access::principal::Role,
        db::api_keys::ApiKeyRow,
        rest::extract::{Admin, Body, Ids, List},
        rest::shape::{id, timestamp_millis, Created, ErrorBody, ListQuery, Page},
        state::AppState,
    },
};

/// The API-key routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/api-keys", get(search_keys).post(create_key))
        .route("/api/v1/api-keys/{id}", delete(revoke_key))
}

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `member` (the default) or `admin`.
    #[schema(pattern = "^(member|admin)$")]
    pub role: Option<String>,
}

/// 201 `{id, name, role, prefix, createdAt, revokedAt, key}`: `key` is the secret, shown
/// this once and stored only as a hash. Needs an admin key. 400 for a missing or over-long
/// name or an unknown role, 401 without a valid key, 403 for a member key.
#[utoipa::path(
    post, path = "/api/v1/api-keys", tag = "api keys", request_body = NewKey,
    responses(
        (status = 201, description = "The key, with its secret shown this once", body = ApiKeyBody),
        (status = 400, description = "A missing or over-long name, an unknown role", body = ErrorBody),
    )
)]
pub(crate) async fn create_key(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Body(request): Body<NewKey>,
) -> Result<Created<ApiKeyBody>, AppError> {
    let role = match request.role.as_deref() {
        None => Role::Member,
        Some(role) => Role::from_str(role).map_err(AppError::BadRequest)?,
    };
    let actor = Actor::from(&principal);
    let (issued, now) = api_keys::issue_by(
        &state,
        actor,
        principal.organization_id,
        role,
        &request.name,
    )
    .await?;
    let name = request.name.trim();
    let row = ApiKeyRow {
        id: issued.id,
        organization_id: principal.organization_id,
        prefix: issued.prefix,
        secret_hash: String::new(),
        role: role.as_str().to_string(),
        name: name.to_string(),
        created_at: now,
        revoked_at: None,
    };
    let body = ApiKeyBody {
        key: Some(issued.plaintext),
        ..key_body(&row)
    };
    Ok(Created(body))
}

/// 200 `{total, items}`: the organization's keys whose name or prefix holds `search`,
/// newest first, never with their secrets, paged by `limit` and `offset`. 400 for a bad
/// limit or offset, 401 without a valid key.
#[utoipa::path(
    get, path = "/api/v1/api-keys", tag = "api keys", params(ListQuery),
    responses(Page::<ApiKeyBody>)
)]
pub(crate) async fn search_keys(list: List) -> Result<Json<Page<ApiKeyBody>>, AppError> {
    list.search(key_body, |key| vec![key.name.as_str(), key.prefix.as_str()])
        .await
}

/// 204: the key is revoked from the next request on (a key may revoke itself). Needs an
/// admin key. 400 for an id that is not digits, 401 without a valid key, 403 for a member
/// key, 404 for a key the organization does not have or that is revoked already.
#[utoipa::path(
    delete, path = "/api/v1/api-keys/{id}", tag = "api keys",
    params(("id" = String, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"))
)]
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Ids([key_id]): Ids<1>,
) -> Result<StatusCode, AppError> {
    let actor = Actor::from(&principal);
    api_keys::revoke_by(&state, actor, principal.organization_id, key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An API key, never with its secret except in the answer that creates it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyBody {
    pub id: String,
    pub name: String,
    /// `member` or `admin`.
    pub role: String,
    /// The public part of the key, which finds it.
    pub prefix: String,
    pub created_at: String,
    #[schema(required = true)]
    pub revoked_at: Option<String>,
    /// The whole key: only in the answer that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub key: Option<String>,
}

fn key_body(key: &ApiKeyRow) -> ApiKeyBody {
    ApiKeyBody {
        id: id(key.id),
        name: key.name.clone(),
        role: key.role.clone(),
        prefix: key.prefix.clone(),
        created_at: timestamp_millis(key.created_at),
        revoked_at: key.revoked_at.map(timestamp_millis),
        key: None,
    }
}
