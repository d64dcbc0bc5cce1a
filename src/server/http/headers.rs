//! Security headers on every response, and the Content-Security-Policy of rendered pages.

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};
use leptos::prelude::use_context;

use crate::server::{platform::limits::is_exempt, state::AppState};

/// The policy of a page the app renders. Scripts: our own files, inline ones only with this
/// response's `nonce` (Leptos puts it on its hydration and resource scripts), and
/// `'wasm-unsafe-eval'` so the browser may compile the app's WASM. Styles may be inline:
/// usage bars are drawn with a `style="width: …"` in the server's HTML, and the charts
/// write their tooltips' styles. No form posts elsewhere. Only `frame_ancestors` may frame
/// the page: `'none'` for the dashboard, an organization's origins for its embed view.
pub fn page_policy(nonce: &str, frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors {frame_ancestors}"
    )
}

/// The sources that may frame the page being rendered (`'none'`, or origins separated by
/// spaces, as `access::embedding` makes them), put in context by the embed view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameAncestors(pub String);

/// The policy of every other HTML response (the API reference, static files): no scripts.
const STATIC_POLICY: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// During server rendering: sets the dashboard page's policy with the nonce Leptos made
/// for it; nothing may frame it.
pub fn set_page_policy() {
    set_policy("'none'");
}

/// During server rendering: sets the embed view's policy, framed only by the
/// [`FrameAncestors`] in context (none without), and sends no referrer from it (its first
/// address held a launch token).
pub fn set_embed_policy() {
    let ancestors = use_context::<FrameAncestors>()
        .map_or_else(|| "'none'".to_string(), |ancestors| ancestors.0);
    set_policy(&ancestors);
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
}

fn set_policy(frame_ancestors: &str) {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce, frame_ancestors)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Adds `nosniff`, a referrer policy that sends only the origin to other sites (unless the
/// response has its own) and `X-Frame-Options: DENY` (for browsers without
/// `frame-ancestors`) to every response but an embed view that origins may frame, the
/// static policy to HTML that has none, and HSTS when the deployment serves HTTPS
/// (`session-cookie-secure`; browsers ignore it over plain HTTP anyway). Pages and answers
/// that set no caching of their own (all but the static files and the API reference) get
/// `Cache-Control: no-store`: they show one organization's data, a session, or a secret
/// shown once, which no browser or proxy cache should keep.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let shared_file = is_exempt(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !shared_file && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
    }
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if is_html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(STATIC_POLICY),
        );
    }
    let framable = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|policy| {
            policy.contains("frame-ancestors ") && !policy.contains("frame-ancestors 'none'")
        });
    if !framable {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if state.settings.session.cookie_secure {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_policy_allows_only_this_responses_inline_scripts() {
        let policy = page_policy("abc123", "'none'");
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        for directive in [
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{directive} missing: {policy}");
        }
        assert!(!policy.contains("'unsafe-eval'"), "{policy}");
        assert!(!policy.contains("script-src 'self' 'unsafe-inline'"));
    }

    #[test]
    fn an_embed_policy_names_exactly_its_frame_ancestors() {
        let policy = page_policy("n", "https://app.example.com http://localhost:5000");
        assert!(
            policy.ends_with("frame-ancestors https://app.example.com http://localhost:5000"),
            "{policy}"
        );
    }
}
