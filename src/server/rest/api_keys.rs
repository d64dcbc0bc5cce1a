//! API keys: `POST /api/v1/api-keys`, `GET /api/v1/api-keys?search=`,
//! `DELETE /api/v1/api-keys/{id}`.

use std::str::FromStr;

use axum::{
    extract::{
        rejection::{JsonRejection, QueryRejection},
        Path, Query, State,
    },
    http::StatusCode,
    routing::{delete, get},
    Json, Router,
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    error::AppError,
    server::{
        api_keys,
        auth::{ApiPrincipal, Role},
        db::{self, api_keys::ApiKeyRow},
        rest::shape::{self, id, parse_id, timestamp_millis, ListQuery},
        state::AppState,
    },
};

/// The API-key routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/api-keys", get(search_keys).post(create_key))
        .route("/api/v1/api-keys/{id}", delete(revoke_key))
}

/// Longest key name.
const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    /// `member` (the default) or `admin`.
    role: Option<String>,
}

/// 201 `{id, name, role, prefix, createdAt, revokedAt, key}`: `key` is the secret, shown
/// this once and stored only as a hash. Needs an admin key. 400 for a missing or over-long
/// name or an unknown role, 401 without a valid key, 403 for a member key.
#[tracing::instrument(skip_all, fields(organization = principal.organization_id))]
async fn create_key(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    request: Result<Json<NewKey>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    principal.require(Role::Admin)?;
    let request = shape::body(request)?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::BadRequest(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let role = match request.role.as_deref() {
        None => Role::Member,
        Some(role) => Role::from_str(role).map_err(AppError::BadRequest)?,
    };
    let now = db::unix_seconds(Utc::now());
    let issued = api_keys::issue(&state.db, principal.organization_id, role, name, now).await?;
    tracing::info!(key = issued.prefix, role = role.as_str(), "API key created");
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
    let mut body = key_json(&row);
    body["key"] = json!(issued.plaintext);
    Ok((StatusCode::CREATED, Json(body)))
}

/// 200 `{total, items}`: the organization's keys whose name or prefix holds `search`,
/// newest first, never with their secrets, paged by `limit` and `offset`. 400 for a bad
/// limit or offset, 401 without a valid key.
#[tracing::instrument(skip_all, fields(organization = principal.organization_id))]
async fn search_keys(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let query = shape::query(query)?;
    let items: Vec<Value> = db::api_keys::list(state.db.pool(), principal.organization_id)
        .await?
        .iter()
        .filter(|key| query.matches([key.name.as_str(), key.prefix.as_str()]))
        .map(key_json)
        .collect();
    Ok(Json(query.page(items)?))
}

/// 204: the key is revoked from the next request on (a key may revoke itself). Needs an
/// admin key. 400 for an id that is not digits, 401 without a valid key, 403 for a member
/// key, 404 for a key the organization does not have or that is revoked already.
#[tracing::instrument(skip(state, principal))]
async fn revoke_key(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Path(key_id): Path<String>,
) -> Result<StatusCode, AppError> {
    principal.require(Role::Admin)?;
    let key_id = parse_id("id", &key_id)?;
    let now = db::unix_seconds(Utc::now());
    if db::api_keys::revoke_by_id(state.db.pool(), principal.organization_id, key_id, now).await? {
        tracing::info!(key = key_id, "API key revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound("API key".into()))
    }
}

fn key_json(key: &ApiKeyRow) -> Value {
    json!({
        "id": id(key.id),
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "createdAt": timestamp_millis(key.created_at),
        "revokedAt": key.revoked_at.map(timestamp_millis),
    })
}
