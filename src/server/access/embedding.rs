//! The origins whose pages may frame an organization's embed view: listed by its admins,
//! audited, and sent as `Content-Security-Policy: frame-ancestors` with the view.

use crate::error::AppError;

use crate::server::{
    access::audit::{self, Action, Actor, Change, Entity},
    db::{self, portal::EmbedOriginRow, scoped},
    platform::Platform,
};

/// The most origins one organization may list.
pub const MAX_ORIGINS: i64 = 20;

/// Longest origin text taken.
const MAX_ORIGIN_CHARS: usize = 300;

/// An origin as browsers compare it: `scheme://host[:port]`, lower case, without the
/// scheme's default port. `BadRequest` for anything but an `http` or `https` address with
/// a host and nothing after it (no path, query, fragment, user or wildcard).
pub fn parse_origin(raw: &str) -> Result<String, AppError> {
    let refused = || {
        AppError::BadRequest(
            "origin must be scheme://host[:port], such as https://app.example.com, with \
             nothing after the host or port"
                .into(),
        )
    };
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_ORIGIN_CHARS || raw.contains('*') {
        return Err(refused());
    }
    let url = url::Url::parse(raw).map_err(|_| refused())?;
    let bare = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    if !bare {
        return Err(refused());
    }
    let origin = url.origin().ascii_serialization();
    // What goes into the policy header: nothing that could end or add a directive.
    if !origin
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ":/.-[]".contains(c))
    {
        return Err(refused());
    }
    Ok(origin)
}

/// The organization's origins, in the order they were added.
pub async fn list(state: &Platform, organization_id: i64) -> Result<Vec<EmbedOriginRow>, AppError> {
    Ok(scoped::list(state.db.pool(), organization_id).await?)
}

/// The `frame-ancestors` sources of the organization's embed view: its origins, or
/// `'none'` when it lists none.
pub async fn frame_ancestors(state: &Platform, organization_id: i64) -> Result<String, AppError> {
    let origins = list(state, organization_id).await?;
    Ok(ancestors_of(origins.iter().map(|row| row.origin.as_str())))
}

/// `'none'`, or the origins separated by spaces.
pub fn ancestors_of<'a>(origins: impl Iterator<Item = &'a str>) -> String {
    let sources: Vec<&str> = origins.collect();
    if sources.is_empty() {
        "'none'".to_string()
    } else {
        sources.join(" ")
    }
}

/// Adds `raw` (checked by [`parse_origin`]) to the organization's origins on behalf of
/// `actor`, recorded in the audit log. `Conflict` when it is listed already or the
/// organization lists [`MAX_ORIGINS`].
pub async fn add_by(
    state: &Platform,
    actor: Actor,
    organization_id: i64,
    raw: &str,
) -> Result<EmbedOriginRow, AppError> {
    let origin = parse_origin(raw)?;
    let pool = state.db.pool();
    if db::portal::count_origins(pool, organization_id).await? >= MAX_ORIGINS {
        return Err(AppError::Conflict(format!(
            "An organization lists at most {MAX_ORIGINS} origins; remove one first"
        )));
    }
    let now = db::unix_seconds(chrono::Utc::now());
    let id = match db::portal::insert_origin(pool, organization_id, &origin, now).await {
        Ok(id) => id,
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            return Err(AppError::Conflict(format!("{origin} is listed already")))
        }
        Err(error) => return Err(error.into()),
    };
    tracing::info!(origin, "embedding origin added");
    let change = Change {
        organization_id: Some(organization_id),
        entity: Entity::EmbedOrigin,
        entity_id: id,
        label: origin.clone(),
        action: Action::Created,
        before: None,
        after: Some(serde_json::json!({ "origin": origin })),
    };
    audit::record_logged(&state.db, actor, change).await;
    Ok(EmbedOriginRow {
        id,
        organization_id,
        origin,
        created_at: now,
    })
}

/// Removes the organization's origin `id` on behalf of `actor`, recorded in the audit log:
/// pages there may not frame the view from its next load. `NotFound` for an origin the
/// organization does not list.
pub async fn remove_by(
    state: &Platform,
    actor: Actor,
    organization_id: i64,
    id: i64,
) -> Result<(), AppError> {
    let pool = state.db.pool();
    let row: Option<EmbedOriginRow> = scoped::find(pool, organization_id, id).await?;
    let row = row.ok_or_else(|| AppError::NotFound("Origin".into()))?;
    if !db::portal::delete_origin(pool, organization_id, id).await? {
        return Err(AppError::NotFound("Origin".into()));
    }
    tracing::info!(origin = row.origin, "embedding origin removed");
    let change = Change {
        organization_id: Some(organization_id),
        entity: Entity::EmbedOrigin,
        entity_id: id,
        label: row.origin.clone(),
        action: Action::Revoked,
        before: Some(serde_json::json!({ "origin": row.origin })),
        after: None,
    };
    audit::record_logged(&state.db, actor, change).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_as_browsers_compare_them() {
        let cases = [
            ("https://app.example.com", "https://app.example.com"),
            ("https://App.Example.COM/", "https://app.example.com"),
            ("https://app.example.com:443", "https://app.example.com"),
            ("http://localhost:8080", "http://localhost:8080"),
            ("http://127.0.0.2:5000/", "http://127.0.0.2:5000"),
            ("  https://example.com  ", "https://example.com"),
            ("http://[::1]:3000", "http://[::1]:3000"),
        ];
        for (raw, origin) in cases {
            assert_eq!(parse_origin(raw).ok().as_deref(), Some(origin), "{raw}");
        }
    }

    #[test]
    fn anything_but_a_bare_origin_is_refused() {
        for raw in [
            "",
            "example.com",
            "ftp://example.com",
            "https://*.example.com",
            "https://example.com/page",
            "https://example.com/?x=1",
            "https://example.com/#top",
            "https://user:pw@example.com",
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://example.com; script-src *",
            "https://exa mple.com",
            "*",
            "'self'",
        ] {
            assert!(parse_origin(raw).is_err(), "{raw:?} taken");
        }
    }

    #[test]
    fn no_origins_means_none_may_frame() {
        assert_eq!(ancestors_of([].into_iter()), "'none'");
        assert_eq!(
            ancestors_of(["https://a.example", "http://localhost:5000"].into_iter()),
            "https://a.example http://localhost:5000"
        );
    }
}
