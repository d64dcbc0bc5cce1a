//! What every request passes before its handler: its span, the request limits (counted
//! against what the request proves), the body size limit and the time-out.

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::Response,
};

use crate::error::AppError;
use crate::server::{
    access::{
        auth::{self, Presented},
        principal::Credential,
    },
    platform::limits::{counted_address, is_exempt, Counted, MAX_BODY_BYTES},
    rest::shape,
    state::AppState,
};

/// The span a request's logs carry: its method, the route it matched, its URI and, once
/// a key or session proved it, the organization (recorded by the principal's extractor).
pub fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        uri = %request.uri(),
        organization = tracing::field::Empty,
    )
}

/// Counts the request against what it proves and answers 429 with `Retry-After` (whole
/// seconds, at least 1) when that is over its rate. A presented key is checked first: a
/// valid one is counted against the key and its organization and handed on to the
/// endpoint (which then needs no second look-up); any other is counted against the address
/// and refused with 401. Bodies take the shape of the endpoint asked for.
pub async fn limit_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if is_exempt(path) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let address = state.limits.client_address(&parts).map(counted_address);
    let by_address = address.map_or(Counted::Nobody, Counted::Address);
    let (counted, refusal) = match auth::presented_principal(&state, &parts).await {
        Ok(Presented::Nothing) => (by_address, None),
        Ok(Presented::Key(principal)) => {
            parts.extensions.insert(principal);
            match principal.credential {
                Credential::ApiKey(key) => (
                    Counted::Key {
                        key,
                        organization: principal.organization_id,
                    },
                    None,
                ),
                Credential::Session(_) => (by_address, None),
            }
        }
        Ok(Presented::Refused) => (by_address, Some(AppError::Unauthorized)),
        Err(error) => (by_address, Some(error)),
    };
    if let Err(wait) = state.limits.check(counted) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        tracing::warn!(
            path = parts.uri.path(),
            by_key = matches!(counted, Counted::Key { .. }),
            "rate limit reached"
        );
        return shape::for_path(parts.uri.path(), AppError::TooManyRequests(seconds.max(1)));
    }
    if let Some(error) = refusal {
        return shape::for_path(parts.uri.path(), error);
    }
    next.run(Request::from_parts(parts, body)).await
}

/// 413 before reading a body whose declared length is over [`MAX_BODY_BYTES`]; a body
/// sent without a length is cut off there, and the endpoint reading it answers 413.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return shape::for_path(
            request.uri().path(),
            AppError::PayloadTooLarge(format!(
                "The request body is larger than {MAX_BODY_BYTES} bytes"
            )),
        );
    }
    let (parts, body) = request.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, MAX_BODY_BYTES));
    next.run(Request::from_parts(parts, body)).await
}

/// 503 for a request not answered within `request-timeout-seconds` (its work is dropped,
/// so a transaction under way rolls back); the live usage stream is meant to stay open.
pub async fn time_out(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/api/v1/usage/stream" {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();
    match tokio::time::timeout(state.settings.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(path, "request timed out");
            shape::for_path(&path, AppError::Unavailable)
        }
    }
}
