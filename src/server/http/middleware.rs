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
    http::embed::EMBED_PATH,
    platform::limits::{counted_address, is_exempt, Counted, MAX_BODY_BYTES},
    rest::shape,
    state::AppState,
};

/// The span a request's logs carry: its method, the route it matched, its URI (without the
/// secrets a query may hold) and, once a key or session proved it, the organization
/// (recorded by the principal's extractor).
pub fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        uri = %redacted(request.uri()),
        organization = tracing::field::Empty,
    )
}

/// Query parameters that carry a secret: a portal session's launch token and its page's
/// credential.
const SECRET_PARAMETERS: [&str; 2] = ["launch", "access"];

/// `uri` with the values of [`SECRET_PARAMETERS`] replaced by `***`.
fn redacted(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if SECRET_PARAMETERS.contains(&name) => format!("{name}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{}?{}", uri.path(), query.join("&"))
}

/// Counts the request against what it proves and answers 429 with `Retry-After` (whole
/// seconds, at least 1) when that is over its rate. A presented key is checked first: a
/// valid one is counted against the key and its organization and handed on to the
/// endpoint (which then needs no second look-up), a live portal session's token likewise
/// against the session and its organization; any other is counted against the address
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
        Ok(Presented::Portal(grant)) => {
            let counted = Counted::Portal {
                session: grant.session_id,
                organization: grant.organization_id,
            };
            parts.extensions.insert(grant);
            (counted, None)
        }
        // The embed view says itself that its session ended, in the frame it is shown in.
        Ok(Presented::Refused) if parts.uri.path() == EMBED_PATH => (by_address, None),
        Ok(Presented::Refused) => (by_address, Some(AppError::Unauthorized)),
        Err(error) => (by_address, Some(error)),
    };
    if let Err(wait) = state.limits.check(counted) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        tracing::warn!(
            path = parts.uri.path(),
            by_credential = matches!(counted, Counted::Key { .. } | Counted::Portal { .. }),
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
    if request.uri().path() == auth::STREAM_PATH {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_addresses_hold_no_portal_secrets() {
        let cases = [
            ("/usage", "/usage"),
            ("/usage?from=2026-01-01", "/usage?from=2026-01-01"),
            ("/embed/usage?launch=qbl_abc_def", "/embed/usage?launch=***"),
            (
                "/api/v1/usage/stream?x=1&access=qba_abc_def",
                "/api/v1/usage/stream?x=1&access=***",
            ),
        ];
        for (uri, logged) in cases {
            let uri: axum::http::Uri = uri.parse().expect("uri");
            assert_eq!(redacted(&uri), logged);
        }
    }
}
