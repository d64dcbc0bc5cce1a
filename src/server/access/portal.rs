//! Portal sessions: a customer's read-only, time-limited view of one organization's usage,
//! created by the operator's server for its own product.
//!
//! A session has three secrets sharing its public prefix, each stored only as a hash:
//! - the portal token (`qbp_…`): `Authorization: Bearer` on the usage reads (seeds 002 and
//!   003, the usage stream) until the session ends;
//! - the launch token (`qbl_…`) in the embed view's address: exchanged once, when the page
//!   is first opened, for
//! - the page's credential (`qba_…`), which the page keeps in memory for its own requests
//!   (a cross-site frame may have no cookies) and which reads what the portal token reads.
//!
//! A session lasts at most [`MAX_MINUTES`], may be limited to some metrics, can be revoked,
//! and is audited when created and revoked.

use crate::{
    domain::metric_scope::MetricScope,
    error::AppError,
    i18n::Locale,
    model::embed::{Ended, Theme},
};

use crate::server::{
    access::audit::{self, Action, Actor, Change, Entity},
    access::tokens,
    db::{
        self,
        portal::{NewPortalSession, PortalSessionRow},
    },
    platform::Platform,
};

/// What a portal token starts with.
pub const TOKEN_TAG: &str = "qbp";
/// What the launch token in the embed view's address starts with.
pub const LAUNCH_TAG: &str = "qbl";
/// What the embed page's credential starts with.
pub const ACCESS_TAG: &str = "qba";

/// A session's lifetime when none is asked for.
pub const DEFAULT_MINUTES: i64 = 60;
/// The longest lifetime a session may have: one day.
pub const MAX_MINUTES: i64 = 24 * 60;

/// Longest language tag taken (BCP 47 tags in practice are far shorter).
const MAX_LOCALE_CHARS: usize = 35;

/// What a live portal token or page credential lets its bearer read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalGrant {
    pub session_id: i64,
    pub organization_id: i64,
    pub metrics: MetricScope,
    pub locale: Locale,
    pub theme: Theme,
    /// Unix seconds.
    pub expires_at: i64,
}

/// What presenting a portal secret came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    /// A live session.
    Granted(PortalGrant),
    /// Nothing to show, and why; with the session's organization when the secret named one.
    Ended {
        ended: Ended,
        organization_id: Option<i64>,
    },
}

/// What a new session is for, checked by the `parse_*` functions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionOptions {
    pub lifetime_minutes: i64,
    pub metrics: MetricScope,
    pub locale: Locale,
    pub theme: Theme,
}

/// The lifetime in minutes: [`DEFAULT_MINUTES`] when not given, else 1 to [`MAX_MINUTES`];
/// `BadRequest` outside that.
pub fn parse_lifetime(minutes: Option<i64>) -> Result<i64, AppError> {
    match minutes {
        None => Ok(DEFAULT_MINUTES),
        Some(minutes) if (1..=MAX_MINUTES).contains(&minutes) => Ok(minutes),
        Some(_) => Err(AppError::BadRequest(format!(
            "expiresInMinutes must be 1 to {MAX_MINUTES} (24 hours)"
        ))),
    }
}

/// The language of a BCP 47 tag (`pt-BR`, `en-US`): a language the view does not speak
/// falls back to English; `BadRequest` for text that is not a language tag.
pub fn parse_locale(tag: Option<&str>) -> Result<Locale, AppError> {
    let Some(tag) = tag else {
        return Ok(Locale::En);
    };
    let well_formed = !tag.is_empty()
        && tag.len() <= MAX_LOCALE_CHARS
        && tag.split('-').all(|part| {
            (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        && tag
            .bytes()
            .take_while(|b| *b != b'-')
            .all(|b| b.is_ascii_alphabetic());
    if !well_formed {
        return Err(AppError::BadRequest(
            "locale must be a language tag such as en or pt-BR".into(),
        ));
    }
    Ok(Locale::from_tag(tag).unwrap_or(Locale::En))
}

/// `light`, `dark` or `auto` (the default); `BadRequest` for anything else.
pub fn parse_theme(text: Option<&str>) -> Result<Theme, AppError> {
    text.map_or(Ok(Theme::Auto), |text| {
        Theme::parse(text)
            .ok_or_else(|| AppError::BadRequest("theme must be light, dark or auto".into()))
    })
}

/// A session just made: its secrets, this once.
#[derive(Debug)]
pub struct CreatedSession {
    pub id: i64,
    /// The portal token, for `Authorization: Bearer`.
    pub token: String,
    /// The launch token for the embed view's address.
    pub launch: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Creates a session for the organization on behalf of `actor`, recorded in the audit log.
pub async fn create_by(
    state: &Platform,
    actor: Actor,
    organization_id: i64,
    options: &SessionOptions,
) -> Result<CreatedSession, AppError> {
    let now = db::unix_seconds(chrono::Utc::now());
    let expires_at = now + options.lifetime_minutes * 60;
    let metrics = match options.metrics.codes() {
        Some(codes) => Some(serde_json::to_string(codes).map_err(|_| AppError::Internal)?),
        None => None,
    };
    // A prefix collision (48 random bits) is astronomically rare; draw again if it happens.
    for _ in 0..3 {
        let prefix = tokens::draw_prefix()?;
        let token = tokens::draw(TOKEN_TAG, &prefix)?;
        let launch = tokens::draw(LAUNCH_TAG, &prefix)?;
        let session = NewPortalSession {
            organization_id,
            prefix: &prefix,
            token_hash: &tokens::hash(&token),
            launch_hash: &tokens::hash(&launch),
            metrics: metrics.as_deref(),
            locale: options.locale.tag(),
            theme: options.theme.as_str(),
            created_at: now,
            expires_at,
        };
        let id = match db::portal::insert(state.db.pool(), &session).await {
            Ok(id) => id,
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => continue,
            Err(error) => return Err(error.into()),
        };
        tracing::info!(session = prefix, "portal session created");
        let change = Change {
            organization_id: Some(organization_id),
            entity: Entity::PortalSession,
            entity_id: id,
            label: format!("{TOKEN_TAG}_{prefix}"),
            action: Action::Created,
            before: None,
            after: Some(serde_json::json!({
                "expiresAt": expires_at,
                "metrics": options.metrics.codes(),
                "locale": options.locale.tag(),
                "theme": options.theme.as_str(),
            })),
        };
        audit::record_logged(&state.db, actor, change).await;
        return Ok(CreatedSession {
            id,
            token,
            launch,
            created_at: now,
            expires_at,
        });
    }
    Err(AppError::Internal)
}

/// Revokes the organization's session `id` on behalf of `actor`, recorded in the audit log:
/// its token, its page's credential and its embed view's stream stop at once. `NotFound`
/// for a session the organization does not have, or one revoked or expired already.
pub async fn revoke_by(
    state: &Platform,
    actor: Actor,
    organization_id: i64,
    id: i64,
) -> Result<(), AppError> {
    let now = db::unix_seconds(chrono::Utc::now());
    if !db::portal::revoke(state.db.pool(), organization_id, id, now).await? {
        return Err(AppError::NotFound("Portal session".into()));
    }
    state.live.credentials_changed().await;
    tracing::info!(session = id, "portal session revoked");
    let label = format!("portal session {id}");
    let change = Change::revoked(organization_id, Entity::PortalSession, id, label);
    audit::record_logged(&state.db, actor, change).await;
    Ok(())
}

/// True for text shaped as a portal token or a page credential (not whether it is valid).
pub fn is_portal_secret(text: &str) -> bool {
    tokens::prefix_of(TOKEN_TAG, text).is_some() || tokens::prefix_of(ACCESS_TAG, text).is_some()
}

/// What a portal token or page credential grants at `now`.
pub async fn open(state: &Platform, secret: &str, now: i64) -> Result<Opened, AppError> {
    let (prefix, is_token) = match (
        tokens::prefix_of(TOKEN_TAG, secret),
        tokens::prefix_of(ACCESS_TAG, secret),
    ) {
        (Some(prefix), _) => (prefix, true),
        (None, Some(prefix)) => (prefix, false),
        (None, None) => return Ok(unknown()),
    };
    let Some(row) = db::portal::find_by_prefix(state.db.pool(), prefix).await? else {
        return Ok(unknown());
    };
    let hash = tokens::hash(secret);
    let matches = if is_token {
        row.token_hash == hash
    } else {
        row.access_hash.as_deref() == Some(hash.as_str())
    };
    if !matches {
        return Ok(unknown());
    }
    Ok(opened(row, now))
}

/// Exchanges the launch token of an embed view's address for the page's credential, once:
/// the session's grant and the credential (shown this once), or why there is none
/// (`Used` when the address was opened before).
pub async fn launch(
    state: &Platform,
    launch: &str,
    now: i64,
) -> Result<(Opened, Option<String>), AppError> {
    let Some(prefix) = tokens::prefix_of(LAUNCH_TAG, launch) else {
        return Ok((unknown(), None));
    };
    let pool = state.db.pool();
    let Some(row) = db::portal::find_by_prefix(pool, prefix).await? else {
        return Ok((unknown(), None));
    };
    if row.launch_hash != tokens::hash(launch) {
        return Ok((unknown(), None));
    }
    let grant = match opened(row.clone(), now) {
        Opened::Granted(grant) if row.launched_at.is_none() => grant,
        Opened::Granted(grant) => {
            return Ok((
                Opened::Ended {
                    ended: Ended::Used,
                    organization_id: Some(grant.organization_id),
                },
                None,
            ))
        }
        ended => return Ok((ended, None)),
    };
    let access = tokens::draw(ACCESS_TAG, &row.prefix)?;
    // Two loads of one address at once: only one exchange stores its credential.
    if !db::portal::launch(pool, row.id, &tokens::hash(&access), now).await? {
        return Ok((
            Opened::Ended {
                ended: Ended::Used,
                organization_id: Some(row.organization_id),
            },
            None,
        ));
    }
    Ok((Opened::Granted(grant), Some(access)))
}

/// True while the session `id` is neither revoked nor expired.
pub async fn is_live(state: &Platform, session_id: i64, now: i64) -> Result<bool, AppError> {
    Ok(db::portal::count_live(state.db.pool(), session_id, now).await? > 0)
}

fn unknown() -> Opened {
    Opened::Ended {
        ended: Ended::Unknown,
        organization_id: None,
    }
}

/// The session `row` at `now`: its grant while live, else why it ended.
fn opened(row: PortalSessionRow, now: i64) -> Opened {
    let ended = if row.revoked_at.is_some() {
        Some(Ended::Revoked)
    } else if row.expires_at <= now {
        Some(Ended::Expired)
    } else {
        None
    };
    if let Some(ended) = ended {
        return Opened::Ended {
            ended,
            organization_id: Some(row.organization_id),
        };
    }
    let metrics = match row
        .metrics
        .as_deref()
        .map(serde_json::from_str::<Vec<String>>)
    {
        None => MetricScope::all(),
        Some(Ok(codes)) => MetricScope::only(codes),
        Some(Err(error)) => {
            // Stored by us as JSON: unreadable means nothing may be shown, not everything.
            tracing::error!(session = row.id, %error, "stored portal metrics unreadable");
            MetricScope::only(Vec::new())
        }
    };
    Opened::Granted(PortalGrant {
        session_id: row.id,
        organization_id: row.organization_id,
        metrics,
        locale: Locale::from_tag(&row.locale).unwrap_or_default(),
        theme: Theme::parse(&row.theme).unwrap_or_default(),
        expires_at: row.expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_default_to_an_hour_and_stop_at_a_day() {
        assert_eq!(parse_lifetime(None).ok(), Some(60));
        assert_eq!(parse_lifetime(Some(1)).ok(), Some(1));
        assert_eq!(parse_lifetime(Some(1440)).ok(), Some(1440));
        for refused in [0, -5, 1441, i64::MAX] {
            assert!(parse_lifetime(Some(refused)).is_err(), "{refused}");
        }
    }

    #[test]
    fn language_tags_choose_a_spoken_language_or_english() {
        let cases = [
            (None, Some(Locale::En)),
            (Some("pt-BR"), Some(Locale::PtBr)),
            (Some("pt"), Some(Locale::PtBr)),
            (Some("en-GB"), Some(Locale::En)),
            (Some("fr-FR"), Some(Locale::En)),
            (Some("zh-Hant-TW"), Some(Locale::En)),
            (Some(""), None),
            (Some("pt_BR"), None),
            (Some("12-BR"), None),
            (Some("<script>"), None),
            (Some("en-toolongpart"), None),
        ];
        for (tag, expected) in cases {
            assert_eq!(parse_locale(tag).ok(), expected, "{tag:?}");
        }
    }

    #[test]
    fn themes_are_light_dark_or_auto() {
        assert_eq!(parse_theme(None).ok(), Some(Theme::Auto));
        assert_eq!(parse_theme(Some("dark")).ok(), Some(Theme::Dark));
        assert!(parse_theme(Some("Dark")).is_err());
        assert!(parse_theme(Some("sepia")).is_err());
    }

    fn row(now: i64) -> PortalSessionRow {
        PortalSessionRow {
            id: 7,
            organization_id: 3,
            prefix: "0123456789ab".into(),
            token_hash: String::new(),
            launch_hash: String::new(),
            access_hash: None,
            metrics: Some(r#"["apiCalls"]"#.into()),
            locale: "pt-BR".into(),
            theme: "dark".into(),
            created_at: now - 60,
            expires_at: now + 60,
            launched_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_session_grants_its_scope_until_it_expires_or_is_revoked() {
        let now = 1_000_000;
        let Opened::Granted(grant) = opened(row(now), now) else {
            panic!("a live session grants");
        };
        assert_eq!(grant.metrics, MetricScope::only(vec!["apiCalls".into()]));
        assert_eq!((grant.locale, grant.theme), (Locale::PtBr, Theme::Dark));
        let ended = |row, now| match opened(row, now) {
            Opened::Ended {
                ended,
                organization_id,
            } => Some((ended, organization_id)),
            Opened::Granted(_) => None,
        };
        assert_eq!(ended(row(now), now + 60), Some((Ended::Expired, Some(3))));
        let revoked = PortalSessionRow {
            revoked_at: Some(now),
            ..row(now)
        };
        assert_eq!(ended(revoked, now), Some((Ended::Revoked, Some(3))));
        let unreadable = PortalSessionRow {
            metrics: Some("not json".into()),
            ..row(now)
        };
        let Opened::Granted(grant) = opened(unreadable, now) else {
            panic!("still live");
        };
        assert!(!grant.metrics.allows("apiCalls"));
    }
}
