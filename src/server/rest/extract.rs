//! The extractors handlers take their request with: who is asking (the principal a key or
//! session proves, an admin, a usage reader, the client's address), the ids in the path, a
//! JSON body or query string that answers 400 (413) in our error shape when it cannot be
//! read, and a [`List`] request. A handler names what it needs in its arguments and starts
//! from values it can use.

use std::net::IpAddr;

use axum::{
    extract::{
        rejection::{JsonRejection, QueryRejection},
        FromRequest, FromRequestParts, RawPathParams,
    },
    http::{request::Parts, StatusCode},
    Json,
};

use crate::error::AppError;
use crate::server::{
    access::{
        auth::{key_principal, presented_keys, Reader},
        portal::PortalGrant,
        principal::{ApiPrincipal, Credential, Principal, Role},
        sessions,
    },
    db::scoped::{self, Scoped},
    rest::shape::{parse_id, ListQuery, Page},
    state::AppState,
};

impl FromRequestParts<AppState> for ApiPrincipal {
    type Rejection = AppError;

    /// `Unauthorized` for a missing, malformed, unknown or revoked key, for two different
    /// keys in one request (which one was meant?), or without a key for a missing or ended
    /// session; a key presented is never passed over for a cookie. `Forbidden` for a
    /// platform admin's session, which belongs to no organization, and for a portal
    /// session's token, which only [`Reader`]s take.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let principal = proven(parts, state).await?;
        tracing::Span::current().record("organization", principal.organization_id);
        Ok(principal)
    }
}

/// The principal the request's key (checked by the rate limiter already, or now) or else
/// its session proves.
async fn proven(parts: &Parts, state: &AppState) -> Result<ApiPrincipal, AppError> {
    if let Some(principal) = parts.extensions.get::<ApiPrincipal>() {
        return Ok(*principal);
    }
    if parts.extensions.get::<PortalGrant>().is_some() {
        return Err(AppError::Forbidden);
    }
    match presented_keys(&parts.headers) {
        (Some(bearer), Some(header)) if bearer != header => return Err(AppError::Unauthorized),
        (Some(key), _) | (None, Some(key)) => return key_principal(state, key).await,
        (None, None) => {}
    }
    let user = Principal::from_session(state, &parts.headers).await?;
    Ok(ApiPrincipal {
        organization_id: user.organization_id,
        role: user.role,
        credential: Credential::Session(user.user_id),
    })
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = AppError;

    /// A live portal session's token or page credential (found by the request limits),
    /// else an [`ApiPrincipal`] with its answers.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(grant) = parts.extensions.get::<PortalGrant>() {
            tracing::Span::current().record("organization", grant.organization_id);
            return Ok(Reader::Portal(grant.clone()));
        }
        ApiPrincipal::from_request_parts(parts, state)
            .await
            .map(Reader::Member)
    }
}

/// The token of the session cookie the request carries; 401 without one. Whether the
/// session is live is for the operation to find out.
pub struct SessionToken(pub String);

impl FromRequestParts<AppState> for SessionToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        sessions::token_from(&parts.headers, &state.settings.session)
            .map(|token| SessionToken(token.to_owned()))
            .ok_or(AppError::Unauthorized)
    }
}

/// The client's address, as [`Limits::client_address`](crate::server::platform::limits::Limits::client_address) finds it.
pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(state.limits.client_address(parts)))
    }
}

/// An organization's admin: the [`ApiPrincipal`] of an admin key or session. 401 without a
/// valid key or session, 403 for a member's, before anything else of the request is read.
pub struct Admin(pub ApiPrincipal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let principal = ApiPrincipal::from_request_parts(parts, state).await?;
        principal.require(Role::Admin)?;
        Ok(Admin(principal))
    }
}

/// The ids in the request's path, in their order (`/domains/{id}/accounts/{accountId}`:
/// `Ids([domain, account])`): each a string of digits, else 400 naming its parameter; digits
/// that can name no row are 404 ([`parse_id`]).
pub struct Ids<const N: usize>(pub [i64; N]);

impl<const N: usize, S: Send + Sync> FromRequestParts<S> for Ids<N> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
        let ids = params
            .iter()
            .map(|(name, text)| parse_id(name, text))
            .collect::<Result<Vec<i64>, AppError>>()?;
        // The route and the handler disagree on how many ids there are: a bug of ours.
        let ids = <[i64; N]>::try_from(ids).map_err(|_| AppError::Internal)?;
        Ok(Ids(ids))
    }
}

/// A JSON body of `T`; 400 saying what is wrong with it, 413 when it is too large.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Body<T>(pub T);

/// A query string of `T`; 400 saying what is wrong with it.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Params<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge(rejection.body_text())
        } else {
            AppError::BadRequest(rejection.body_text())
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

/// A list request (`GET /api/v1/api-keys`, `/domains`, `/webhooks`): who asks and
/// `?search=&limit=&offset=`. 401 without a valid key or session, 400 for a bad query.
pub struct List {
    pub state: AppState,
    pub principal: ApiPrincipal,
    pub query: ListQuery,
}

impl FromRequestParts<AppState> for List {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let principal = ApiPrincipal::from_request_parts(parts, state).await?;
        let Params(query) = Params::from_request_parts(parts, state).await?;
        Ok(List {
            state: state.clone(),
            principal,
            query,
        })
    }
}

impl List {
    /// The organization's rows of `T` as `body` makes them, those whose `texts` hold
    /// `search`, one page of them. 400 for a bad limit or offset.
    pub async fn search<T: Scoped, B>(
        self,
        body: impl Fn(&T) -> B,
        texts: impl Fn(&B) -> Vec<&str>,
    ) -> Result<Json<Page<B>>, AppError> {
        let organization_id = self.principal.organization_id;
        let rows: Vec<T> = scoped::list(self.state.db.pool(), organization_id).await?;
        let items: Vec<B> = rows
            .iter()
            .map(body)
            .filter(|item| self.query.matches(texts(item)))
            .collect();
        Ok(Json(self.query.page(items)?))
    }
}
