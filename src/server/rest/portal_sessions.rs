//! Portal sessions: `POST /api/v1/portal/sessions`, `GET /api/v1/portal/sessions?search=`,
//! `DELETE /api/v1/portal/sessions/{id}`.

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    routing::{delete, get},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::metric_scope::MetricScope,
    error::AppError,
    server::{
        access::audit::Actor,
        access::portal::{self, SessionOptions},
        db::portal::PortalSessionRow,
        metering::ledger::Ledger,
        rest::extract::{Admin, Body, Ids, List},
        rest::shape::{id, timestamp_millis, Created, ListQuery, Page},
        state::AppState,
    },
};

/// The portal-session routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/portal/sessions",
            get(search_sessions).post(create_session),
        )
        .route("/api/v1/portal/sessions/{id}", delete(revoke_session))
}

/// A session to create; every field optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPortalSession {
    /// 1 to 1440 (24 hours); 60 when not given.
    #[schema(minimum = 1, maximum = 1440)]
    pub expires_in_minutes: Option<i64>,
    /// Only these metrics (codes, as `GET /api/billing/usage` keys them); every metric
    /// when not given.
    #[schema(min_items = 1)]
    pub metrics: Option<Vec<String>>,
    /// A BCP 47 tag; languages the view does not speak (it speaks `en` and `pt-BR`) show
    /// in English. `en` when not given.
    #[schema(
        example = "pt-BR",
        max_length = 35,
        pattern = "^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$"
    )]
    pub locale: Option<String>,
    /// `auto` (the viewer's system setting) when not given.
    #[schema(pattern = "^(light|dark|auto)$")]
    pub theme: Option<String>,
}

/// A session just created: its secrets, shown this once.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortalSessionCreated {
    /// For `DELETE /api/v1/portal/sessions/{id}`.
    pub id: String,
    /// Read-only, for `Authorization: Bearer` on `GET /api/billing/usage`,
    /// `GET /organizations/{organizationId}/usage` and the usage stream.
    #[schema(example = "qbp_3f2a9c1b7d4e_…")]
    pub token: String,
    /// The embed view, for an `<iframe src>`: opens once.
    #[schema(example = "http://127.0.0.1:3000/embed/usage?launch=qbl_3f2a9c1b7d4e_…")]
    pub url: String,
    pub expires_at: String,
    pub created_at: String,
    /// The metrics the session may read; null for every metric.
    #[schema(required = true)]
    pub metrics: Option<Vec<String>>,
    /// The language the view shows: `en` or `pt-BR`.
    pub locale: String,
    pub theme: String,
}

/// 201 `{id, token, url, expiresAt, …}`: a read-only session of the organization, its
/// secrets stored only as hashes and shown this once. Needs an admin key. 400 for a
/// lifetime outside 1–1440 minutes, an empty or unknown metric, a malformed locale or an
/// unknown theme, 401 without a valid key, 403 for a member key.
#[utoipa::path(
    post, path = "/api/v1/portal/sessions", tag = "portal", request_body = NewPortalSession,
    responses(
        (status = 201, description = "The session, its token and the embed view's address", body = PortalSessionCreated),
        (status = 400, description = "A lifetime outside 1–1440 minutes, an empty or unknown metric, a malformed locale, an unknown theme", body = crate::server::rest::shape::ErrorBody),
    )
)]
pub(crate) async fn create_session(
    State(state): State<AppState>,
    Admin(principal): Admin,
    headers: HeaderMap,
    Body(request): Body<NewPortalSession>,
) -> Result<Created<PortalSessionCreated>, AppError> {
    let organization_id = principal.organization_id;
    let options = SessionOptions {
        lifetime_minutes: portal::parse_lifetime(request.expires_in_minutes)?,
        metrics: scope_of(&state, organization_id, request.metrics).await?,
        locale: portal::parse_locale(request.locale.as_deref())?,
        theme: portal::parse_theme(request.theme.as_deref())?,
    };
    let base = public_base(&state, &headers)?;
    let created =
        portal::create_by(&state, Actor::from(&principal), organization_id, &options).await?;
    Ok(Created(PortalSessionCreated {
        id: id(created.id),
        token: created.token,
        url: format!("{base}/embed/usage?launch={}", created.launch),
        expires_at: timestamp_millis(created.expires_at),
        created_at: timestamp_millis(created.created_at),
        metrics: options.metrics.codes().map(<[String]>::to_vec),
        locale: options.locale.tag().to_string(),
        theme: options.theme.as_str().to_string(),
    }))
}

/// The metrics `codes` name in the organization's catalogue (any spelling
/// `GET /api/billing/usage` takes), each once; every metric for `None`. 400 for an empty
/// list or a code the catalogue lacks.
async fn scope_of(
    state: &AppState,
    organization_id: i64,
    codes: Option<Vec<String>>,
) -> Result<MetricScope, AppError> {
    let Some(codes) = codes else {
        return Ok(MetricScope::all());
    };
    if codes.is_empty() {
        return Err(AppError::BadRequest(
            "metrics must name at least one metric (leave it out for every metric)".into(),
        ));
    }
    let ledger = Ledger::cached(state, organization_id).await?;
    let mut found: Vec<String> = Vec::new();
    for code in &codes {
        let resource = ledger
            .resource_named(code.trim())
            .ok_or_else(|| AppError::BadRequest(format!("unknown metric {code:?}")))?;
        if !found.contains(&resource.metric.code) {
            found.push(resource.metric.code.clone());
        }
    }
    Ok(MetricScope::only(found))
}

/// Where browsers reach this server: `public-url`, else the request's `Host` with the
/// scheme the deployment serves (`https` when session cookies are secure). 400 without a
/// usable `Host`.
fn public_base(state: &AppState, headers: &HeaderMap) -> Result<String, AppError> {
    if let Some(base) = &state.settings.public_url {
        return Ok(base.clone());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .ok_or_else(|| {
            AppError::BadRequest("the Host header is needed to make the session's address".into())
        })?;
    let scheme = if state.settings.session.cookie_secure {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

/// 200 `{total, items}`: the organization's portal sessions, newest first, never with
/// their secrets (ended ones for a week), whose prefix or status holds `search`, paged by
/// `limit` and `offset`. 400 for a bad limit or offset, 401 without a valid key.
#[utoipa::path(
    get, path = "/api/v1/portal/sessions", tag = "portal", params(ListQuery),
    responses(Page::<PortalSessionBody>)
)]
pub(crate) async fn search_sessions(list: List) -> Result<Json<Page<PortalSessionBody>>, AppError> {
    let now = crate::server::db::unix_seconds(chrono::Utc::now());
    list.search(
        |row: &PortalSessionRow| session_body(row, now),
        |session| vec![session.prefix.as_str(), session.status.as_str()],
    )
    .await
}

/// 204: the session's token, its view's credential and its open view's stream stop at
/// once. Needs an admin key. 400 for an id that is not digits, 401 without a valid key,
/// 403 for a member key, 404 for a session the organization does not have or that ended
/// already.
#[utoipa::path(
    delete, path = "/api/v1/portal/sessions/{id}", tag = "portal",
    params(("id" = String, Path, description = "The session's id")),
    responses((status = 204, description = "Revoked"))
)]
pub(crate) async fn revoke_session(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Ids([session_id]): Ids<1>,
) -> Result<StatusCode, AppError> {
    let actor = Actor::from(&principal);
    portal::revoke_by(&state, actor, principal.organization_id, session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A portal session, never with its secrets.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortalSessionBody {
    pub id: String,
    /// The public part of its token (`qbp_<prefix>_…`).
    pub prefix: String,
    /// `live`, `expired` or `revoked`.
    #[schema(pattern = "^(live|expired|revoked)$")]
    pub status: String,
    pub created_at: String,
    pub expires_at: String,
    /// When its embed view's address was opened (it opens once).
    #[schema(required = true)]
    pub launched_at: Option<String>,
    #[schema(required = true)]
    pub revoked_at: Option<String>,
    /// The metrics it may read; null for every metric.
    #[schema(required = true)]
    pub metrics: Option<Vec<String>>,
    pub locale: String,
    pub theme: String,
}

fn session_body(row: &PortalSessionRow, now: i64) -> PortalSessionBody {
    let status = match (row.revoked_at, row.expires_at <= now) {
        (Some(_), _) => "revoked",
        (None, true) => "expired",
        (None, false) => "live",
    };
    PortalSessionBody {
        id: id(row.id),
        prefix: row.prefix.clone(),
        status: status.to_string(),
        created_at: timestamp_millis(row.created_at),
        expires_at: timestamp_millis(row.expires_at),
        launched_at: row.launched_at.map(timestamp_millis),
        revoked_at: row.revoked_at.map(timestamp_millis),
        metrics: row
            .metrics
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok()),
        locale: row.locale.clone(),
        theme: row.theme.clone(),
    }
}
