//! The extractors handlers take who is asking with: the principal a key or session proves,
//! and the client's address.

use std::net::IpAddr;

use axum::{extract::FromRequestParts, http::request::Parts};

use crate::error::AppError;
use crate::server::{
    access::{
        auth::{key_principal, presented_keys},
        principal::{ApiPrincipal, Credential, Principal},
    },
    state::AppState,
};

impl FromRequestParts<AppState> for ApiPrincipal {
    type Rejection = AppError;

    /// `Unauthorized` for a missing, malformed, unknown or revoked key, for two different
    /// keys in one request (which one was meant?), or without a key for a missing or ended
    /// session; a key presented is never passed over for a cookie. `Forbidden` for a
    /// platform admin's session, which belongs to no organization.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        // The rate limiter has checked the key already.
        if let Some(principal) = parts.extensions.get::<ApiPrincipal>() {
            return Ok(*principal);
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
