//! Who is asking: the principal every query is scoped by.
//!
//! REST clients present an API key (`Authorization: Bearer KEY` or `x-api-key: KEY`) or a
//! session cookie; the dashboard's pages and server functions take the session cookie only.

use std::str::FromStr;

use axum::{
    extract::FromRequestParts,
    http::{request::Parts, HeaderMap},
};

use crate::error::AppError;

use super::{api_keys, db, sessions, state::AppState};

/// What a key (and later a user) may do inside its organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Role {
    /// Reads usage.
    Member,
    /// Also sends usage events and manages the organization.
    Admin,
}

impl Role {
    /// As stored and typed on the command line: `member`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "member" => Ok(Role::Member),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role {other:?}: use member or admin")),
        }
    }
}

/// How a REST request proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// An API key, by id.
    ApiKey(i64),
    /// A signed-in user's session cookie, by user id.
    Session(i64),
}

/// The organization and role a REST request acts with: an API key's (`x-api-key` or
/// `Authorization: Bearer`), else a signed-in user's (the session cookie).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiPrincipal {
    pub organization_id: i64,
    pub role: Role,
    pub credential: Credential,
}

impl ApiPrincipal {
    /// `Forbidden` unless the key's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

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
        match presented_keys(parts) {
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

async fn key_principal(state: &AppState, key: &str) -> Result<ApiPrincipal, AppError> {
    let prefix = api_keys::prefix_of(key).ok_or(AppError::Unauthorized)?;
    let row = db::api_keys::find_by_prefix(state.db.pool(), prefix)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if row.revoked_at.is_some() || row.secret_hash != api_keys::hash(key) {
        return Err(AppError::Unauthorized);
    }
    let role = Role::from_str(&row.role).map_err(|error| {
        tracing::error!(key = row.prefix, error, "stored key has an unknown role");
        AppError::Internal
    })?;
    Ok(ApiPrincipal {
        organization_id: row.organization_id,
        role,
        credential: Credential::ApiKey(row.id),
    })
}

/// What the key headers of a request prove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presented {
    /// No key was presented.
    Nothing,
    /// A valid key: whom it acts for.
    Key(ApiPrincipal),
    /// A malformed, unknown or revoked key, or two different keys.
    Refused,
}

/// Checks the key a request presents, if any (see [`ApiPrincipal`]).
pub async fn presented_principal(state: &AppState, parts: &Parts) -> Result<Presented, AppError> {
    match presented_keys(parts) {
        (Some(bearer), Some(header)) if bearer != header => Ok(Presented::Refused),
        (Some(key), _) | (None, Some(key)) => match key_principal(state, key).await {
            Ok(principal) => Ok(Presented::Key(principal)),
            Err(AppError::Unauthorized) => Ok(Presented::Refused),
            Err(error) => Err(error),
        },
        (None, None) => Ok(Presented::Nothing),
    }
}

/// The keys in `Authorization: Bearer …` and in `x-api-key`.
fn presented_keys(parts: &Parts) -> (Option<&str>, Option<&str>) {
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let bearer = header("authorization").and_then(|value| {
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    });
    (bearer, header("x-api-key").map(str::trim))
}

/// A signed-in dashboard user and the organization their session acts for: whom server
/// functions and pages answer, taken from the session cookie, never from a parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub organization_id: i64,
    pub user_id: i64,
    pub role: Role,
}

impl Principal {
    /// The principal of the session cookie on `headers`.
    ///
    /// Errors: `Unauthorized` without a live session; `Forbidden` for a platform admin's
    /// session, which acts for no organization.
    pub async fn from_session(state: &AppState, headers: &HeaderMap) -> Result<Self, AppError> {
        Self::of(session_user(state, headers).await?)
    }

    /// The principal a session's user acts as: `Unauthorized` without one, `Forbidden` for
    /// a user acting for no organization.
    pub fn of(user: Option<sessions::SessionUser>) -> Result<Self, AppError> {
        let user = user.ok_or(AppError::Unauthorized)?;
        let organization_id = user.organization_id.ok_or(AppError::Forbidden)?;
        let role = Role::from_str(&user.role).map_err(|_| AppError::Forbidden)?;
        Ok(Principal {
            organization_id,
            user_id: user.user_id,
            role,
        })
    }

    /// `Forbidden` unless the user's role in the organization is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// The user of the live session the cookie on `headers` names, if any.
pub async fn session_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<sessions::SessionUser>, AppError> {
    let Some(token) = sessions::token_from(headers, &state.settings.session) else {
        return Ok(None);
    };
    let now = db::unix_seconds(chrono::Utc::now());
    sessions::authenticate(state, token, now).await
}
