//! Webhooks usage alerts are posted to: the rules for their fields, and creating and
//! changing them, shared by the REST API and the dashboard.

use chrono::Utc;
use rust_decimal::Decimal;

use crate::error::AppError;

use crate::server::{
    access::audit::{self, Action, Actor, Entity},
    access::principal::Role,
    alerting::destinations,
    db::{
        self, deliveries, scoped,
        webhooks::{self, WebhookFields, WebhookRow},
    },
    platform::sealing::{self, SealingKey},
    platform::Platform,
};

/// Most thresholds a webhook may have, and the highest (a percentage of an allowance).
pub const MAX_THRESHOLDS: usize = 10;
pub const MAX_THRESHOLD_PERCENT: u32 = 1000;
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// A webhook to create, as the caller typed it.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    pub url: String,
    pub description: String,
    /// `None`: the instance's warning and critical thresholds, and 100.
    pub thresholds: Option<Vec<Decimal>>,
}

/// The fields of a webhook to change; `None` keeps the stored value.
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub url: Option<String>,
    pub description: Option<String>,
    pub thresholds: Option<Vec<Decimal>>,
    pub active: Option<bool>,
}

/// Stores a new active webhook for the organization; returns it and its signing secret,
/// which is shown this once. `BadRequest` for a bad URL, description or thresholds;
/// `Conflict` when the organization has `webhooks-per-organization` already.
pub async fn create(
    state: &Platform,
    actor: Actor,
    organization_id: i64,
    draft: Draft,
) -> Result<(WebhookRow, String), AppError> {
    let url = parse_url(&draft.url)?;
    refuse_private(state, &url)?;
    let description = parse_description(&draft.description)?;
    let thresholds = match draft.thresholds {
        Some(thresholds) => parse_thresholds(thresholds)?,
        None => vec![
            state.settings.thresholds.warning(),
            state.settings.thresholds.critical(),
            Decimal::ONE_HUNDRED,
        ],
    };
    let thresholds = thresholds_text(&thresholds);
    let secret = new_secret()?;
    let sealed = seal(&state.sealing, organization_id, &secret)?;
    let now = db::unix_seconds(Utc::now());
    let fields = WebhookFields {
        url: &url,
        description: &description,
        thresholds: &thresholds,
        active: true,
    };
    let cap = state.settings.webhooks.per_organization;
    let id = webhooks::insert(
        state.db.pool(),
        organization_id,
        &fields,
        &sealed,
        (now, i64::from(cap)),
    )
    .await?
    .ok_or_else(|| {
        AppError::Conflict(format!(
            "An organization can have at most {cap} webhooks; delete one to add another"
        ))
    })?;
    tracing::info!(webhook = id, "webhook created");
    let change = audit::Change {
        organization_id: Some(organization_id),
        entity: Entity::Webhook,
        entity_id: id,
        label: without_secrets(&url),
        action: Action::Created,
        before: None,
        after: Some(audited(&fields)),
    };
    audit::record_logged(&state.db, actor, change).await;
    let row = WebhookRow {
        id,
        url,
        description,
        thresholds,
        active: 1,
        created_at: now,
        updated_at: now,
    };
    Ok((row, secret))
}

/// Changes the fields `change` gives of the organization's webhook `id`; returns it after
/// the change. `BadRequest` as for [`create`]; `NotFound` for a webhook the organization
/// does not have.
pub async fn update(
    state: &Platform,
    actor: Actor,
    organization_id: i64,
    id: i64,
    change: Change,
) -> Result<WebhookRow, AppError> {
    let pool = state.db.pool();
    let current = scoped::find::<WebhookRow, _>(pool, organization_id, id)
        .await?
        .ok_or_else(|| AppError::NotFound("Webhook".into()))?;
    let url = match change.url.as_deref() {
        Some(url) => parse_url(url)?,
        None => current.url.clone(),
    };
    refuse_private(state, &url)?;
    let description = match change.description.as_deref() {
        Some(description) => parse_description(description)?,
        None => current.description.clone(),
    };
    let thresholds = match change.thresholds {
        Some(thresholds) => thresholds_text(&parse_thresholds(thresholds)?),
        None => current.thresholds.clone(),
    };
    let active = change.active.unwrap_or(current.active != 0);
    let now = db::unix_seconds(Utc::now());
    let fields = WebhookFields {
        url: &url,
        description: &description,
        thresholds: &thresholds,
        active,
    };
    if !webhooks::update(pool, organization_id, id, &fields, now).await? {
        return Err(AppError::NotFound("Webhook".into()));
    }
    let before = WebhookFields {
        url: &current.url,
        description: &current.description,
        thresholds: &current.thresholds,
        active: current.active != 0,
    };
    let change = audit::Change {
        organization_id: Some(organization_id),
        entity: Entity::Webhook,
        entity_id: id,
        label: without_secrets(&url),
        action: Action::Updated,
        before: Some(audited(&before)),
        after: Some(audited(&fields)),
    };
    audit::record_logged(&state.db, actor, change).await;
    if current.active != 0 && !active {
        let cancelled = deliveries::cancel_pending(pool, organization_id, id).await?;
        if cancelled > 0 {
            tracing::info!(
                webhook = id,
                cancelled,
                "pending alerts of a turned-off webhook given up"
            );
        }
    }
    Ok(WebhookRow {
        id,
        url,
        description,
        thresholds,
        active: i64::from(active),
        created_at: current.created_at,
        updated_at: now,
    })
}

/// `BadRequest` for a URL naming a loopback, private or link-local address, unless the
/// operator allows them (`webhook-allow-private-addresses`).
fn refuse_private(state: &Platform, url: &str) -> Result<(), AppError> {
    if state.settings.webhooks.allow_private_addresses {
        return Ok(());
    }
    match url::Url::parse(url)
        .ok()
        .and_then(|u| destinations::refused_literal(&u))
    {
        Some(_) => Err(AppError::BadRequest(format!(
            "url must not name a loopback, private or link-local address (got {url:?})"
        ))),
        None => Ok(()),
    }
}

/// A URL without what may carry a token: its user, password, query and fragment.
fn without_secrets(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        Err(_) => String::new(),
    }
}

/// A webhook's URL as `role` may read it: whole for admins (who may change it); for
/// members only its scheme, host and port, `https://hooks.example.com/…`, since user info,
/// path and query often carry a credential.
pub fn url_for(role: Role, url: &str) -> String {
    if role >= Role::Admin {
        return url.to_string();
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return String::new();
    };
    let origin = parsed.origin().ascii_serialization();
    let more = !matches!(parsed.path(), "" | "/")
        || parsed.query().is_some()
        || parsed.fragment().is_some();
    if more {
        format!("{origin}/…")
    } else {
        format!("{origin}/")
    }
}

/// A webhook's fields as the audit log shows them: never its secret, nor what its URL may
/// carry of one.
fn audited(fields: &WebhookFields<'_>) -> serde_json::Value {
    serde_json::json!({
        "url": without_secrets(fields.url),
        "description": fields.description,
        "thresholds": serde_json::from_str::<serde_json::Value>(fields.thresholds)
            .unwrap_or_default(),
        "active": fields.active,
    })
}

/// An absolute `http` or `https` URL with a host, at most [`MAX_URL_CHARS`] characters as
/// sent. Kept as sent (trimmed): normalizing could lengthen it past the limit the client was
/// told (`http://0?…` reads as `http://0.0.0.0/?…`), and the client reads back what it wrote.
pub fn parse_url(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    let valid = text.chars().count() <= MAX_URL_CHARS
        && url::Url::parse(text)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some());
    if valid {
        Ok(text.to_string())
    } else {
        Err(AppError::BadRequest(format!(
            "url must be an absolute http or https URL of at most {MAX_URL_CHARS} characters (got {text:?})"
        )))
    }
}

/// The longest webhook URL, as the API documents it and the database holds it.
pub const MAX_URL_CHARS: usize = 2048;

pub fn parse_description(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::BadRequest(format!(
            "description must be at most {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

/// 1 to 10 percentages, each above 0 and at most 1000, kept ascending without repeats.
pub fn parse_thresholds(mut thresholds: Vec<Decimal>) -> Result<Vec<Decimal>, AppError> {
    let bad = || {
        AppError::BadRequest(format!(
            "thresholds must be 1 to {MAX_THRESHOLDS} percentages above 0 and at most \
             {MAX_THRESHOLD_PERCENT}, such as [75, 90, 100]"
        ))
    };
    if thresholds.is_empty()
        || thresholds.len() > MAX_THRESHOLDS
        || thresholds
            .iter()
            .any(|t| *t <= Decimal::ZERO || *t > Decimal::from(MAX_THRESHOLD_PERCENT))
    {
        return Err(bad());
    }
    thresholds.iter_mut().for_each(|t| *t = t.normalize());
    thresholds.sort();
    thresholds.dedup();
    Ok(thresholds)
}

pub fn thresholds_text(thresholds: &[Decimal]) -> String {
    serde_json::to_string(thresholds).unwrap_or_else(|_| "[]".into())
}

/// Seals every webhook secret stored in the clear (before secrets were sealed); returns how
/// many. Safe with several servers starting at once: a secret is replaced only as it was read.
pub async fn seal_stored_secrets(db: &db::Database, key: &SealingKey) -> Result<usize, AppError> {
    let mut sealed = 0;
    for stored in webhooks::unsealed_secrets(db.pool(), sealing::PREFIX).await? {
        let after = seal(key, stored.organization_id, &stored.secret)?;
        if webhooks::replace_secret(
            db.pool(),
            (stored.organization_id, stored.id),
            &stored.secret,
            &after,
        )
        .await?
        {
            sealed += 1;
        }
    }
    if sealed > 0 {
        tracing::info!(webhooks = sealed, "stored webhook secrets sealed");
    }
    Ok(sealed)
}

fn seal(key: &SealingKey, organization_id: i64, secret: &str) -> Result<String, AppError> {
    key.seal(organization_id, secret).map_err(|error| {
        tracing::error!(%error, "cannot seal a webhook secret");
        AppError::Internal
    })
}

/// `whsec_` and 256 random bits in hex.
fn new_secret() -> Result<String, AppError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| {
        tracing::error!(%error, "no randomness for a webhook secret");
        AppError::Internal
    })?;
    Ok(format!("whsec_{}", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().expect("decimal")
    }

    #[test]
    fn a_url_of_2048_characters_is_kept_as_sent_and_a_longer_one_refused() {
        // Longer once normalized (`http://0.0.0.0/?…`), but 2 048 characters as sent.
        let sent = format!("http://0?{}", "0".repeat(MAX_URL_CHARS - 9));
        assert_eq!(sent.len(), MAX_URL_CHARS);
        assert_eq!(parse_url(&sent).as_deref(), Ok(sent.as_str()));
        let longer = format!("{sent}0");
        assert!(matches!(parse_url(&longer), Err(AppError::BadRequest(_))));
    }

    #[test]
    fn thresholds_are_sorted_percentages_without_repeats() {
        assert_eq!(
            parse_thresholds(vec![dec("100"), dec("75"), dec("90.0"), dec("75")]),
            Ok(vec![dec("75"), dec("90"), dec("100")])
        );
        for bad in [
            vec![],
            vec![dec("0")],
            vec![dec("1001")],
            vec![dec("-5")],
            vec![dec("1"); 11],
        ] {
            assert!(parse_thresholds(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn webhook_urls_are_absolute_http_or_https() {
        assert_eq!(
            parse_url(" https://hooks.example.com/quota ").as_deref(),
            Ok("https://hooks.example.com/quota")
        );
        // A host whose last label is a number reads as an IPv4 address, and this one is not.
        assert!(parse_url("https://rwiAcq2Oz2h.7:3703?8;u:").is_err());
        assert!(parse_url("https://4.0.00MhG3.DGSqSW.k:9555").is_ok());
        for bad in [
            "ftp://x.example",
            "/relative",
            "https://",
            "not a url",
            "mailto:a@b.c",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn members_read_only_a_webhooks_origin() {
        let url = "https://user:pa55@hooks.example.com:8443/T0K3N/path?token=s3cret#x";
        assert_eq!(url_for(Role::Admin, url), url);
        assert_eq!(
            url_for(Role::Member, url),
            "https://hooks.example.com:8443/…"
        );
        assert_eq!(
            url_for(Role::Member, "https://hooks.example.com"),
            "https://hooks.example.com/"
        );
    }
}
