//! What `GET /embed/usage` shows: the embeddable usage view of a portal session, for an
//! `<iframe>` in the operator's own product, and who may frame it (rendered by
//! `process::site`). Needs no cookie: opened with the launch token of the session's
//! address (`?launch=qbl_…`, exchanged once for the credential the page keeps in memory),
//! or asked again by the page's script with that credential as `Authorization: Bearer`.
//! Framed only by the organization's origins (`Content-Security-Policy: frame-ancestors`).
//! An expired, revoked, used or unknown session shows a message saying so, in place of
//! its usage.

use axum::http::request::Parts;

use crate::{
    error::AppError,
    i18n::Locale,
    model::embed::{EmbedContent, EmbedView, Ended, Theme},
};

use crate::server::{
    access::{
        auth::presented_keys,
        embedding,
        portal::{self, Opened, PortalGrant},
    },
    db,
    metering::ledger::Ledger,
    state::AppState,
};

/// Where the view is served.
pub const EMBED_PATH: &str = "/embed/usage";

/// What the request opens, and who may frame it (`frame-ancestors` sources).
pub async fn view_of(state: &AppState, request: &Parts) -> Result<(EmbedView, String), AppError> {
    let now = chrono::Utc::now();
    let seconds = db::unix_seconds(now);
    // A live credential was found by the request limits already.
    let opened = match request.extensions.get::<PortalGrant>() {
        Some(grant) => (Opened::Granted(grant.clone()), None),
        None => match (presented_keys(&request.headers).0, launch_of(request)) {
            (Some(secret), _) => (portal::open(state, secret, seconds).await?, None),
            (None, Some(launch)) => portal::launch(state, launch, seconds).await?,
            (None, None) => (
                Opened::Ended {
                    ended: Ended::Unknown,
                    organization_id: None,
                },
                None,
            ),
        },
    };
    let request_locale = || {
        request
            .headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .map_or(Locale::En, Locale::negotiate)
    };
    let (view, organization_id) = match opened {
        (Opened::Granted(grant), access) => {
            let content = usage_of(state, &grant, access, now).await?;
            let view = EmbedView {
                locale: grant.locale,
                theme: grant.theme,
                content,
            };
            (view, Some(grant.organization_id))
        }
        (
            Opened::Ended {
                ended,
                organization_id,
            },
            _,
        ) => {
            tracing::info!(ended = ended.as_str(), "embed view shows its session ended");
            let view = EmbedView {
                locale: request_locale(),
                theme: Theme::Auto,
                content: EmbedContent::Ended(ended),
            };
            (view, organization_id)
        }
    };
    let ancestors = match organization_id {
        Some(organization_id) => embedding::frame_ancestors(state, organization_id).await?,
        None => embedding::ancestors_of(std::iter::empty()),
    };
    Ok((view, ancestors))
}

/// The `launch` parameter of the address.
fn launch_of(request: &Parts) -> Option<&str> {
    request
        .uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("launch="))
        .filter(|launch| !launch.is_empty())
}

/// This period's usage and the last 12 periods, only the session's metrics, in its language.
async fn usage_of(
    state: &AppState,
    grant: &PortalGrant,
    access: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<EmbedContent, AppError> {
    let ledger = Ledger::cached(state, grant.organization_id).await?;
    let mut summary = ledger.summary_of(state, ledger.period_at(now), now).await?;
    grant.metrics.retain(&mut summary.metrics, |m| &m.code);
    let mut history = ledger.usage_history(state, now).await?;
    grant.metrics.retain(&mut history.metrics, |m| &m.code);
    Ok(EmbedContent::Usage {
        summary: Box::new(summary),
        history: Box::new(history.charted(grant.locale)),
        access,
    })
}
