//! Who is asking: the principal a key or a session cookie proves, or the grant of a portal
//! session's token.
//!
//! REST clients present an API key (`Authorization: Bearer KEY` or `x-api-key: KEY`) or a
//! session cookie; the dashboard's pages and server functions take the session cookie only.
//! A portal session's token (or its embed page's credential) is taken as `Authorization:
//! Bearer` by the usage reads only ([`Reader`]); the usage stream also takes it as
//! `?access=`, since a browser's `EventSource` sends no headers.

use std::{str::FromStr, time::Duration};

use axum::http::{request::Parts, HeaderMap};

use crate::{domain::metric_scope::MetricScope, error::AppError};

use crate::server::{
    access::{
        api_keys,
        portal::{self, Opened, PortalGrant},
        principal::{ApiPrincipal, Credential, Principal, Role},
        sessions,
    },
    db,
    platform::Platform,
};

pub async fn key_principal(state: &Platform, key: &str) -> Result<ApiPrincipal, AppError> {
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

/// How often an open stream checks that its credential still stands when nothing was
/// announced: bounds how long it outlives a session's expiry, or a change made where no
/// announcement reaches this server (the command line).
const RECHECK_EVERY: Duration = Duration::from_secs(30);

/// Resolves once the credential `reader` was proved with (on `headers`) no longer
/// stands: the key was revoked, the session ended, expired or moved to another
/// organization, its user was disabled, or the portal session expired or was revoked.
/// Checked at every announced change of credentials and every [`RECHECK_EVERY`]; a failed
/// check (the database not answering) is tried again at the next.
pub async fn credential_ended(state: Platform, headers: HeaderMap, reader: Reader) {
    let mut changes = state.live.credentials_watch();
    loop {
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    // No more announcements: the periodic check remains.
                    changes = state.live.credentials_watch();
                    tokio::time::sleep(RECHECK_EVERY).await;
                }
            }
            () = tokio::time::sleep(RECHECK_EVERY) => {}
        }
        let stands = match &reader {
            Reader::Member(principal) => still_stands(&state, &headers, *principal).await,
            Reader::Portal(grant) => {
                let now = db::unix_seconds(chrono::Utc::now());
                portal::is_live(&state, grant.session_id, now).await
            }
        };
        match stands {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => tracing::warn!(%error, "cannot check a stream's credential"),
        }
    }
}

/// True while the credential `principal` was proved with still proves it.
async fn still_stands(
    state: &Platform,
    headers: &HeaderMap,
    principal: ApiPrincipal,
) -> Result<bool, AppError> {
    match principal.credential {
        Credential::ApiKey(_) => match presented_keys(headers) {
            (Some(key), _) | (None, Some(key)) => match key_principal(state, key).await {
                Ok(now) => Ok(now == principal),
                Err(AppError::Unauthorized) => Ok(false),
                Err(error) => Err(error),
            },
            (None, None) => Ok(false),
        },
        Credential::Session(user_id) => {
            let Some(token) = sessions::token_from(headers, &state.settings.session) else {
                return Ok(false);
            };
            let now = db::unix_seconds(chrono::Utc::now());
            Ok(sessions::peek(state, token, now)
                .await?
                .is_some_and(|user| {
                    user.user_id == user_id
                        && user.organization_id == Some(principal.organization_id)
                }))
        }
    }
}

/// What the key headers of a request prove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presented {
    /// No key was presented.
    Nothing,
    /// A valid key: whom it acts for.
    Key(ApiPrincipal),
    /// A live portal session's token or page credential: what it may read.
    Portal(PortalGrant),
    /// A malformed, unknown or revoked key, or two different keys.
    Refused,
}

/// Checks the key or portal secret a request presents, if any (see [`ApiPrincipal`],
/// [`Reader`]).
pub async fn presented_principal(state: &Platform, parts: &Parts) -> Result<Presented, AppError> {
    let key = match presented_keys(&parts.headers) {
        (Some(bearer), Some(header)) if bearer != header => return Ok(Presented::Refused),
        (Some(key), _) | (None, Some(key)) => key,
        (None, None) => match stream_access(parts) {
            Some(access) => access,
            None => return Ok(Presented::Nothing),
        },
    };
    if portal::is_portal_secret(key) {
        let now = db::unix_seconds(chrono::Utc::now());
        return Ok(match portal::open(state, key, now).await? {
            Opened::Granted(grant) => Presented::Portal(grant),
            Opened::Ended { .. } => Presented::Refused,
        });
    }
    match key_principal(state, key).await {
        Ok(principal) => Ok(Presented::Key(principal)),
        Err(AppError::Unauthorized) => Ok(Presented::Refused),
        Err(error) => Err(error),
    }
}

/// The path of the usage stream, which also takes a portal secret as `?access=`.
pub const STREAM_PATH: &str = "/api/v1/usage/stream";

/// The `access` parameter of a request for the usage stream, when it holds a portal secret
/// (an API key is never taken from an address).
fn stream_access(parts: &Parts) -> Option<&str> {
    if parts.uri.path() != STREAM_PATH {
        return None;
    }
    parts
        .uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("access="))
        .filter(|access| portal::is_portal_secret(access))
}

/// Who reads usage: an API key's or signed-in user's principal (every metric), or a portal
/// session's grant (its metrics only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reader {
    Member(ApiPrincipal),
    Portal(PortalGrant),
}

impl Reader {
    /// The organization whose usage is read.
    pub fn organization_id(&self) -> i64 {
        match self {
            Reader::Member(principal) => principal.organization_id,
            Reader::Portal(grant) => grant.organization_id,
        }
    }

    /// The metrics the reader may see.
    pub fn metrics(&self) -> MetricScope {
        match self {
            Reader::Member(_) => MetricScope::all(),
            Reader::Portal(grant) => grant.metrics.clone(),
        }
    }
}

/// The keys in `Authorization: Bearer …` and in `x-api-key`.
pub fn presented_keys(headers: &HeaderMap) -> (Option<&str>, Option<&str>) {
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    let bearer = header("authorization").and_then(|value| {
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    });
    (bearer, header("x-api-key").map(str::trim))
}

impl Principal {
    /// The principal of the session cookie on `headers`.
    ///
    /// Errors: `Unauthorized` without a live session; `Forbidden` for a platform admin's
    /// session, which acts for no organization.
    pub async fn from_session(state: &Platform, headers: &HeaderMap) -> Result<Self, AppError> {
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
}

/// The user of the live session the cookie on `headers` names, if any.
pub async fn session_user(
    state: &Platform,
    headers: &HeaderMap,
) -> Result<Option<sessions::SessionUser>, AppError> {
    let Some(token) = sessions::token_from(headers, &state.settings.session) else {
        return Ok(None);
    };
    let now = db::unix_seconds(chrono::Utc::now());
    sessions::authenticate(state, token, now).await
}
