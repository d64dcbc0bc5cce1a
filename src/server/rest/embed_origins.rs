//! The origins allowed to frame the embed view: `GET /api/v1/embed-origins?search=`,
//! `POST /api/v1/embed-origins`, `DELETE /api/v1/embed-origins/{id}`.

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
        access::audit::Actor,
        access::embedding,
        db::portal::EmbedOriginRow,
        rest::extract::{Admin, Body, Ids, List},
        rest::shape::{id, timestamp_millis, Created, ErrorBody, ListQuery, Page},
        state::AppState,
    },
};

/// The embedding-origin routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/embed-origins",
            get(search_origins).post(add_origin),
        )
        .route("/api/v1/embed-origins/{id}", delete(remove_origin))
}

/// An origin to allow.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEmbedOrigin {
    /// `scheme://host[:port]` of the pages that frame the view.
    #[schema(example = "http://localhost:8080", min_length = 1, max_length = 300)]
    pub origin: String,
}

/// An origin whose pages may frame the organization's embed view.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbedOriginBody {
    pub id: String,
    /// As browsers compare it: lower case, without the scheme's default port.
    pub origin: String,
    pub created_at: String,
}

fn origin_body(row: &EmbedOriginRow) -> EmbedOriginBody {
    EmbedOriginBody {
        id: id(row.id),
        origin: row.origin.clone(),
        created_at: timestamp_millis(row.created_at),
    }
}

/// 201 `{id, origin, createdAt}`: pages on the origin may frame the embed view from its
/// next load. Needs an admin key. 400 for anything but `scheme://host[:port]` (http or
/// https, nothing after), 401 without a valid key, 403 for a member key, 409 for an origin
/// listed already or past 20 origins.
#[utoipa::path(
    post, path = "/api/v1/embed-origins", tag = "portal", request_body = NewEmbedOrigin,
    responses(
        (status = 201, description = "The origin, as browsers compare it", body = EmbedOriginBody),
        (status = 400, description = "Not scheme://host[:port] with http or https", body = ErrorBody),
        (status = 409, description = "Listed already, or 20 origins listed", body = ErrorBody),
    )
)]
pub(crate) async fn add_origin(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Body(request): Body<NewEmbedOrigin>,
) -> Result<Created<EmbedOriginBody>, AppError> {
    let actor = Actor::from(&principal);
    let row = embedding::add_by(&state, actor, principal.organization_id, &request.origin).await?;
    Ok(Created(origin_body(&row)))
}

/// 200 `{total, items}`: the organization's origins in the order they were added, those
/// holding `search`, paged by `limit` and `offset`. 400 for a bad limit or offset, 401
/// without a valid key.
#[utoipa::path(
    get, path = "/api/v1/embed-origins", tag = "portal", params(ListQuery),
    responses(Page::<EmbedOriginBody>)
)]
pub(crate) async fn search_origins(list: List) -> Result<Json<Page<EmbedOriginBody>>, AppError> {
    list.search(origin_body, |origin| vec![origin.origin.as_str()])
        .await
}

/// 204: pages on the origin may not frame the embed view from its next load. Needs an
/// admin key. 400 for an id that is not digits, 401 without a valid key, 403 for a member
/// key, 404 for an origin the organization does not list.
#[utoipa::path(
    delete, path = "/api/v1/embed-origins/{id}", tag = "portal",
    params(("id" = String, Path, description = "The origin's id")),
    responses((status = 204, description = "Removed"))
)]
pub(crate) async fn remove_origin(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Ids([origin_id]): Ids<1>,
) -> Result<StatusCode, AppError> {
    let actor = Actor::from(&principal);
    embedding::remove_by(&state, actor, principal.organization_id, origin_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
