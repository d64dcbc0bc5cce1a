//! SQL for portal sessions and the origins allowed to frame an organization's embed view.

use sqlx::FromRow;

use super::{queries, scoped::Scoped, Table};

/// A stored portal session, with the hashes of its three secrets.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct PortalSessionRow {
    pub id: i64,
    pub organization_id: i64,
    pub prefix: String,
    pub token_hash: String,
    pub launch_hash: String,
    pub access_hash: Option<String>,
    /// JSON array of metric codes; `None` for every metric.
    pub metrics: Option<String>,
    pub locale: String,
    pub theme: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub launched_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Table for PortalSessionRow {
    const TABLE: &'static str = "portal_sessions";
    const COLUMNS: &'static str = "id, organization_id, prefix, token_hash, launch_hash, \
        access_hash, metrics, locale, theme, created_at, expires_at, launched_at, revoked_at";
}

/// Listed with [`super::scoped`]: newest first.
impl Scoped for PortalSessionRow {
    const ORDER: &'static str = "id desc";
}

/// What a new session stores.
pub struct NewPortalSession<'a> {
    pub organization_id: i64,
    pub prefix: &'a str,
    pub token_hash: &'a str,
    pub launch_hash: &'a str,
    pub metrics: Option<&'a str>,
    pub locale: &'a str,
    pub theme: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

queries! {
    /// Stores a session; a duplicate prefix is a unique violation (draw again and retry).
    pub fn insert(session: &NewPortalSession<'_>) -> scalar<i64>
        "insert into portal_sessions (organization_id, prefix, token_hash, launch_hash, metrics,
             locale, theme, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id"
        with [
            session.organization_id, session.prefix, session.token_hash, session.launch_hash,
            session.metrics, session.locale, session.theme, session.created_at,
            session.expires_at,
        ];

    /// Exchanges the launch token once: stores the page's credential if the session is
    /// live and was never launched; false otherwise.
    pub fn launch(id: i64, access_hash: &str, now: i64) -> changed_one
        "update portal_sessions set access_hash = $2, launched_at = $3
         where id = $1 and launched_at is null and revoked_at is null and expires_at > $3";

    /// Revokes the organization's session `id`; false when it has no such live session.
    pub fn revoke(organization_id: i64, id: i64, now: i64) -> changed_one
        "update portal_sessions set revoked_at = $3
         where organization_id = $1 and id = $2 and revoked_at is null and expires_at > $3";

    /// 1 while session `id` is neither revoked nor expired, else 0.
    pub fn count_live(id: i64, now: i64) -> scalar<i64>
        "select count(*) from portal_sessions
         where id = $1 and revoked_at is null and expires_at > $2";

    /// Forgets sessions that ended before `before`.
    pub fn purge_ended(before: i64) -> affected
        "delete from portal_sessions where expires_at < $1 or revoked_at < $1";
}

/// The session with this public prefix, whatever its state.
pub async fn find_by_prefix<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    prefix: &str,
) -> Result<Option<PortalSessionRow>, sqlx::Error> {
    super::row_by(executor, "prefix", prefix).await
}

/// An origin allowed to frame the organization's embed view.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct EmbedOriginRow {
    pub id: i64,
    pub organization_id: i64,
    pub origin: String,
    pub created_at: i64,
}

impl Table for EmbedOriginRow {
    const TABLE: &'static str = "embed_origins";
    const COLUMNS: &'static str = "id, organization_id, origin, created_at";
}

/// Listed with [`super::scoped`]: in the order they were added.
impl Scoped for EmbedOriginRow {
    const ORDER: &'static str = "id";
}

queries! {
    /// Adds an origin; an origin already listed is a unique violation.
    pub fn insert_origin(organization_id: i64, origin: &str, now: i64) -> scalar<i64>
        "insert into embed_origins (organization_id, origin, created_at)
         values ($1, $2, $3) returning id";

    /// Removes the organization's origin `id`; false when it has none such.
    pub fn delete_origin(organization_id: i64, id: i64) -> changed_one
        "delete from embed_origins where organization_id = $1 and id = $2";

    /// How many origins the organization lists.
    pub fn count_origins(organization_id: i64) -> scalar<i64>
        "select count(*) from embed_origins where organization_id = $1";
}
