//! The embedding settings: the origins allowed to frame the organization's usage view and
//! its portal sessions. Every member reads them; admins change them through the page's
//! forms (`server::http::embedding`), checked on the server.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// An origin allowed to frame the embed view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginView {
    pub id: i64,
    pub origin: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A portal session as listed: never its secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSessionView {
    pub id: i64,
    /// The public part of its token, e.g. `qbp_3f2a9c0d1b7e`.
    pub prefix: String,
    /// The metrics it may read; `None` for every metric.
    pub metrics: Option<Vec<String>>,
    /// Unix seconds.
    pub created_at: i64,
    pub expires_at: i64,
    pub launched_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// What the embedding page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingSettings {
    pub origins: Vec<OriginView>,
    /// Newest first, ended ones for a week.
    pub sessions: Vec<PortalSessionView>,
    /// Unix seconds when read: which sessions have expired.
    pub now: i64,
}

/// The organization's embedding origins and portal sessions. Errors: `Unauthorized` when
/// not signed in, `Forbidden` for a platform admin.
#[server(output = crate::codec::JsonText)]
pub async fn get_embedding_settings() -> Result<EmbeddingSettings, AppError> {
    use crate::server::{db, http::server_fn};

    server_fn::respond(
        async {
            let state = server_fn::state()?;
            let principal = server_fn::principal(&state).await?;
            let pool = state.db.pool();
            let organization_id = principal.organization_id;
            let origins =
                db::scoped::list::<db::portal::EmbedOriginRow, _>(pool, organization_id).await?;
            let sessions =
                db::scoped::list::<db::portal::PortalSessionRow, _>(pool, organization_id).await?;
            Ok(EmbeddingSettings {
                origins: origins
                    .into_iter()
                    .map(|row| OriginView {
                        id: row.id,
                        origin: row.origin,
                        created_at: row.created_at,
                    })
                    .collect(),
                sessions: sessions
                    .into_iter()
                    .map(|row| PortalSessionView {
                        id: row.id,
                        prefix: format!("qbp_{}", row.prefix),
                        metrics: row
                            .metrics
                            .as_deref()
                            .and_then(|json| serde_json::from_str(json).ok()),
                        created_at: row.created_at,
                        expires_at: row.expires_at,
                        launched_at: row.launched_at,
                        revoked_at: row.revoked_at,
                    })
                    .collect(),
                now: db::unix_seconds(chrono::Utc::now()),
            })
        }
        .await,
    )
}
