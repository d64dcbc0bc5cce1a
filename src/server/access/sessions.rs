//! Browser sessions: a 256-bit random secret in an HttpOnly cookie, stored only as its
//! SHA-256 hash; a session ends after `session-idle-timeout-minutes` without activity,
//! `session-absolute-timeout-hours` after sign-in, or at sign-out.

use std::{
    net::IpAddr,
    sync::{Arc, OnceLock},
    time::Instant,
};

use axum::http::{header, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use crate::error::AppError;

use crate::server::{
    access::users::{check_password_length, hash_password, parse_email, verify_password},
    db::{
        memberships::{self, MembershipRow},
        sessions::{self, NewSession, SessionRow},
        users as user_rows,
    },
    platform::config::SessionSettings,
    platform::Platform,
};

/// The cookie's name over HTTPS: `__Host-` binds it to this host, path `/`, secure only.
pub const SECURE_COOKIE: &str = "__Host-qb_session";
/// The cookie's name when `session-cookie-secure` is off (plain HTTP on localhost), where
/// browsers refuse `__Host-` cookies.
pub const PLAIN_COOKIE: &str = "qb_session";

/// Activity is written back at most this often, so reads do not each cost a write.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// The session cookie's name under these settings.
pub fn cookie_name(settings: &SessionSettings) -> &'static str {
    if settings.cookie_secure {
        SECURE_COOKIE
    } else {
        PLAIN_COOKIE
    }
}

/// A new session: the secret for the cookie, and whose it is.
#[derive(Debug)]
pub struct SignedIn {
    pub token: String,
    pub user_id: i64,
    pub organization_id: Option<i64>,
    pub role: String,
}

/// The user behind a live session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionUser {
    pub user_id: i64,
    pub email: String,
    pub role: String,
    pub organization_id: Option<i64>,
}

impl From<SessionRow> for SessionUser {
    fn from(session: SessionRow) -> Self {
        SessionUser {
            user_id: session.user_id,
            email: session.email,
            role: session.role,
            organization_id: session.organization_id,
        }
    }
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A hash to verify against when the email is unknown, so a wrong email takes as long as
/// a wrong password and does not tell which accounts exist.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("quotaboard decoy password").unwrap_or_default())
}

/// Signs a user in with email and password: a fresh session each time (never one the
/// browser brought along). `Unauthorized` for an unknown email or a wrong password alike,
/// and for a user who belongs to no organization any more. `TooManyRequests` while the
/// account, the client's `address` or the pair has failed too often (see
/// [`SignInThrottle`]), before the password is even checked, and when too many password
/// checks already wait their turn (see [`PasswordChecks`]).
///
/// [`SignInThrottle`]: crate::server::platform::limits::SignInThrottle
/// [`PasswordChecks`]: crate::server::platform::limits::PasswordChecks
pub async fn sign_in(
    state: &Platform,
    email: &str,
    password: &str,
    address: Option<IpAddr>,
    now: i64,
) -> Result<SignedIn, AppError> {
    let throttle = state.limits.sign_ins();
    // Counted now, before the check: parallel guesses cannot all pass while the first run.
    let attempt = throttle.reserve(email, address).map_err(|wait| {
        tracing::warn!("sign-in refused: too many failures");
        AppError::TooManyRequests(wait.as_secs().max(1))
    })?;
    let pool = state.db.pool();
    let user = match parse_email(email) {
        Ok(email) => match sessions::credentials(pool, &email).await {
            Ok(user) => user,
            Err(error) => {
                throttle.withdraw(attempt);
                return Err(error.into());
            }
        },
        Err(_) => None,
    };
    let stored = user
        .as_ref()
        .map_or_else(|| decoy_hash().to_string(), |u| u.password_hash.clone());
    // Argon2 takes tens of milliseconds of CPU and ~19 MiB: a few at a time, off the
    // threads that answer requests.
    let password = password.to_string();
    let matches = match state
        .limits
        .password_checks()
        .run(move || verify_password(&password, &stored))
        .await
    {
        Ok(matches) => matches,
        Err(error) => {
            // Not checked: not a failure.
            throttle.withdraw(attempt);
            return Err(error);
        }
    };
    let Some(user) = user.filter(|_| matches) else {
        tracing::info!("sign-in refused");
        return Err(AppError::Unauthorized);
    };
    if user.disabled_at.is_some() {
        // The right password, so not a guess to count; answered as a wrong one all the same.
        throttle.withdraw(attempt);
        tracing::info!(user = user.id, "sign-in refused: user disabled");
        return Err(AppError::Unauthorized);
    }
    throttle.succeeded(attempt);
    // The session starts in the user's home organization while they still belong to it,
    // else in the first they belong to, with the role of that membership. A platform admin
    // acts for none; a user left with no organization cannot sign in.
    let (organization_id, role) = if user.organization_id.is_none() {
        (None, user.role.clone())
    } else {
        let belongs = memberships::of_user(pool, user.id).await?;
        let chosen = belongs
            .iter()
            .find(|m| Some(m.organization_id) == user.organization_id)
            .or_else(|| belongs.first())
            .ok_or_else(|| {
                tracing::info!(user = user.id, "sign-in refused: no organization left");
                AppError::Unauthorized
            })?;
        (Some(chosen.organization_id), chosen.role.clone())
    };
    let mut secret = [0_u8; 32];
    getrandom::fill(&mut secret).map_err(|error| {
        tracing::error!(%error, "no randomness for a session");
        AppError::Internal
    })?;
    let token = format!("qbs_{}", hex::encode(secret));
    let lifetime = i64::from(state.settings.session.absolute_timeout_hours) * 3600;
    sessions::insert(
        pool,
        &NewSession {
            token_hash: &hash(&token),
            user_id: user.id,
            organization_id,
            expires_at: now + lifetime,
        },
        now,
    )
    .await?;
    tracing::info!(user = user.id, "signed in");
    Ok(SignedIn {
        token,
        user_id: user.id,
        organization_id,
        role,
    })
}

/// The user of the session `token` names, if it is live at `now`; records the activity.
/// The session is read through [`crate::server::platform::cache::SessionCache`].
pub async fn authenticate(
    state: &Platform,
    token: &str,
    now: i64,
) -> Result<Option<SessionUser>, AppError> {
    let token_hash = hash(token);
    let Some(session) = live_session(state, &token_hash, now).await? else {
        return Ok(None);
    };
    if now - session.last_seen_at >= TOUCH_EVERY_SECONDS {
        sessions::touch(state.db.pool(), &token_hash, now).await?;
        state.sessions.touched(&token_hash, now);
    }
    Ok(Some(SessionUser::from(session)))
}

/// The user of the session `token` names, if it is live at `now`, without counting this
/// as activity (an open page's stream does not keep its session from going idle).
pub async fn peek(
    state: &Platform,
    token: &str,
    now: i64,
) -> Result<Option<SessionUser>, AppError> {
    Ok(live_session(state, &hash(token), now)
        .await?
        .map(SessionUser::from))
}

/// The session stored under `token_hash` when it is live at `now`: not ended, not past its
/// absolute end, not idle too long, its user not disabled and still in its organization.
async fn live_session(
    state: &Platform,
    token_hash: &str,
    now: i64,
) -> Result<Option<SessionRow>, AppError> {
    // Taken before the read: a change stored during it outdates what is read.
    let (generation, read_at) = (state.live.sessions_generation(), Instant::now());
    let session = match state.sessions.session(token_hash, generation, read_at) {
        Some(session) => session,
        None => {
            let Some(session) = sessions::find(state.db.pool(), token_hash).await? else {
                return Ok(None);
            };
            state
                .sessions
                .keep_session(token_hash, generation, read_at, session.clone());
            session
        }
    };
    let idle = i64::from(state.settings.session.idle_timeout_minutes) * 60;
    let live = session.revoked_at.is_none()
        && now < session.expires_at
        && now < session.last_seen_at + idle;
    Ok(live.then_some(session))
}

/// The organizations `user_id` belongs to, by name, as the navigation bar lists them; read
/// through [`crate::server::platform::cache::SessionCache`].
pub async fn memberships_of(
    state: &Platform,
    user_id: i64,
) -> Result<Arc<Vec<MembershipRow>>, AppError> {
    let (generation, read_at) = (state.live.sessions_generation(), Instant::now());
    if let Some(kept) = state.sessions.memberships(user_id, generation, read_at) {
        return Ok(kept);
    }
    let read = Arc::new(memberships::of_user(state.db.pool(), user_id).await?);
    state
        .sessions
        .keep_memberships(user_id, generation, read_at, read.clone());
    Ok(read)
}

/// Moves the live session `token` names to another organization its user belongs to.
///
/// Errors: `Unauthorized` without a live session; `NotFound` for an organization the user
/// does not belong to (whether or not it exists).
pub async fn switch_organization(
    state: &Platform,
    token: &str,
    organization_id: i64,
    now: i64,
) -> Result<(), AppError> {
    let user = authenticate(state, token, now)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let pool = state.db.pool();
    let belongs = memberships::of_user(pool, user.user_id)
        .await?
        .iter()
        .any(|membership| membership.organization_id == organization_id);
    if !belongs {
        return Err(AppError::NotFound("Organization".into()));
    }
    sessions::switch_organization(pool, &hash(token), organization_id).await?;
    state.live.credentials_changed().await;
    tracing::info!(
        user = user.user_id,
        organization_id,
        "switched organization"
    );
    Ok(())
}

/// Ends the session `token` names; false when it was not live.
pub async fn sign_out(state: &Platform, token: &str, now: i64) -> Result<bool, AppError> {
    let revoked = sessions::revoke(state.db.pool(), &hash(token), now).await?;
    if revoked {
        state.live.credentials_changed().await;
    }
    Ok(revoked)
}

/// Ends every session of the user whose session `token` names, that one included; returns
/// how many ended. `Unauthorized` without a live session.
pub async fn sign_out_everywhere(state: &Platform, token: &str, now: i64) -> Result<u64, AppError> {
    let user = authenticate(state, token, now)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let ended = sessions::revoke_all_of_user(state.db.pool(), user.user_id, None, now).await?;
    state.live.credentials_changed().await;
    tracing::info!(user = user.user_id, ended, "signed out everywhere");
    Ok(ended)
}

/// Changes the password of the user whose session `token` names, once `current` proves it
/// is them, and ends every other session of theirs in the same transaction; the session
/// `token` names stays. A wrong `current` counts as a failed sign-in of the account from
/// `address` (see [`SignInThrottle`]), so a borrowed session cannot guess it faster.
///
/// Errors: `Unauthorized` without a live session; `BadRequest` for a wrong `current` or a
/// `new` password of the wrong length; `TooManyRequests` as for a sign-in.
///
/// [`SignInThrottle`]: crate::server::platform::limits::SignInThrottle
pub async fn change_password(
    state: &Platform,
    token: &str,
    current: &str,
    new: &str,
    address: Option<IpAddr>,
    now: i64,
) -> Result<(), AppError> {
    let user = authenticate(state, token, now)
        .await?
        .ok_or(AppError::Unauthorized)?;
    check_password_length(new).map_err(AppError::BadRequest)?;
    let throttle = state.limits.sign_ins();
    let attempt = throttle
        .reserve(&user.email, address)
        .map_err(|wait| AppError::TooManyRequests(wait.as_secs().max(1)))?;
    let pool = state.db.pool();
    let stored = match sessions::credentials_of(pool, user.user_id).await {
        Ok(Some(stored)) => stored.password_hash,
        Ok(None) => {
            throttle.withdraw(attempt);
            return Err(AppError::Unauthorized);
        }
        Err(error) => {
            throttle.withdraw(attempt);
            return Err(error.into());
        }
    };
    let (current, new) = (current.to_string(), new.to_string());
    let checked = state
        .limits
        .password_checks()
        .run(move || verify_password(&current, &stored).then(|| hash_password(&new)))
        .await;
    let new_hash = match checked {
        Ok(Some(Ok(new_hash))) => new_hash,
        Ok(None) => {
            tracing::info!(user = user.user_id, "password change refused");
            return Err(AppError::BadRequest(
                "The current password is not right".into(),
            ));
        }
        Ok(Some(Err(message))) => {
            throttle.withdraw(attempt);
            tracing::error!(message, "cannot hash a new password");
            return Err(AppError::Internal);
        }
        Err(error) => {
            throttle.withdraw(attempt);
            return Err(error);
        }
    };
    throttle.succeeded(attempt);
    let mut transaction = state.db.begin_write().await?;
    user_rows::set_password_hash(&mut *transaction, user.user_id, &new_hash).await?;
    let ended =
        sessions::revoke_all_of_user(&mut *transaction, user.user_id, Some(&hash(token)), now)
            .await?;
    transaction.commit().await?;
    state.live.credentials_changed().await;
    tracing::info!(user = user.user_id, ended, "password changed");
    Ok(())
}

/// Deletes the sessions that can never be used again at `now` (signed out, past their
/// absolute end, idle too long) and portal sessions ended a week ago; returns how many
/// went. The server runs it every hour and `quotaboard purge` too.
pub async fn purge_ended(
    db: &crate::server::db::Database,
    settings: &SessionSettings,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let idle = i64::from(settings.idle_timeout_minutes) * 60;
    let signed_in = sessions::purge_ended(db.pool(), now, now - idle).await?;
    let portal =
        crate::server::db::portal::purge_ended(db.pool(), now - PORTAL_KEPT_SECONDS).await?;
    Ok(signed_in + portal)
}

/// How long an ended portal session stays listed (`GET /api/v1/portal/sessions`) before
/// it is purged; the audit log keeps its creation and revocation.
const PORTAL_KEPT_SECONDS: i64 = 7 * 24 * 3600;

/// The session secret the request's cookies carry, if any.
pub fn token_from<'h>(headers: &'h HeaderMap, settings: &SessionSettings) -> Option<&'h str> {
    let name = cookie_name(settings);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Lax, path `/`, for the absolute
/// lifetime, and Secure unless turned off.
pub fn set_cookie(settings: &SessionSettings, token: &str) -> HeaderValue {
    let max_age = i64::from(settings.absolute_timeout_hours) * 3600;
    cookie(settings, token, max_age)
}

/// `Set-Cookie` that deletes the session cookie.
pub fn clear_cookie(settings: &SessionSettings) -> HeaderValue {
    cookie(settings, "", 0)
}

fn cookie(settings: &SessionSettings, value: &str, max_age: i64) -> HeaderValue {
    let secure = if settings.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        cookie_name(settings)
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(secure: bool) -> SessionSettings {
        SessionSettings {
            cookie_secure: secure,
            idle_timeout_minutes: 60,
            absolute_timeout_hours: 12,
        }
    }

    #[test]
    fn the_cookie_is_host_bound_http_only_and_lax() {
        let cookie = set_cookie(&settings(true), "qbs_abc");
        assert_eq!(
            cookie.to_str().expect("ascii"),
            "__Host-qb_session=qbs_abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200; Secure"
        );
        let plain = clear_cookie(&settings(false));
        assert_eq!(
            plain.to_str().expect("ascii"),
            "qb_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
    }

    #[test]
    fn the_token_is_read_from_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; qb_session=x"),
        );
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("__Host-qb_session=qbs_1; lang=pt"),
        );
        assert_eq!(token_from(&headers, &settings(true)), Some("qbs_1"));
        assert_eq!(token_from(&headers, &settings(false)), Some("x"));
        assert_eq!(token_from(&HeaderMap::new(), &settings(true)), None);
    }
}
