//! What browsers do outside server functions: the sign-in, sign-out, organization and
//! language forms (plain posts answered with a redirect, so they work before and without
//! WASM), and the guard that sends signed-out visitors of a page to `/login`.

use std::{collections::HashSet, sync::Arc};

use axum::{
    extract::{rejection::FormRejection, Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::post,
    Form, Router,
};
use chrono::Utc;
use serde::Deserialize;

use crate::{
    error::AppError,
    i18n::{Locale, LANGUAGE_COOKIE},
    model::account::{safe_next, ADMIN_HOME, HOME},
};

use crate::server::{
    access::auth, access::sessions, db, http::server_fn::RequestMemo, rest::extract::ClientAddress,
    state::AppState,
};

/// The form routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(sign_in))
        .route("/logout", post(sign_out))
        .route("/logout-everywhere", post(sign_out_everywhere))
        .route("/switch-organization", post(switch_organization))
        .route("/language", post(choose_language))
}

/// 303 to `location` (to [`HOME`] when it is not a valid header value), with a cookie.
fn see_other(location: &str, cookie: Option<HeaderValue>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let location =
        HeaderValue::from_str(location).unwrap_or_else(|_| HeaderValue::from_static(HOME));
    response.headers_mut().insert(header::LOCATION, location);
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// True for a request a page of another site made the browser send: `Sec-Fetch-Site`
/// says `cross-site` or `same-site` (a sibling subdomain), or `Origin` names another host
/// or is `null` (a sandboxed frame, a redirect from elsewhere). Scripts and curl send
/// neither header and are not affected.
fn is_cross_site(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if matches!(text("sec-fetch-site"), Some("cross-site" | "same-site")) {
        return true;
    }
    match (text("origin"), text("host")) {
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            origin == "null" || origin_host != host
        }
        (Some(_), None) => true,
        _ => false,
    }
}

/// Refuses (403) every request that could change something (not `GET`, `HEAD` or
/// `OPTIONS`) when another site's page made the browser send it: the sign-in forms, the
/// server functions and the REST API alike, so a cookie never acts for another site.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && is_cross_site(request.headers()) {
        tracing::warn!(path = request.uri().path(), "cross-site request refused");
        return AppError::Forbidden.into_response();
    }
    next.run(request).await
}

fn percent_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `/login?next=…`, optionally with an error to show.
fn login_path(next: &str, error: Option<&str>) -> String {
    let mut path = format!("/login?next={}", percent_encode(safe_next(next)));
    if let Some(error) = error {
        path.push_str("&error=");
        path.push_str(error);
    }
    path
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: 303 to `next` with a new session cookie; 303 back to `/login` with
/// `error=credentials` for a wrong email or password, `error=throttled` after too many
/// failures, `error=unavailable` when the database does not answer. (Posts from other
/// sites never get here: [`refuse_cross_site`].)
#[tracing::instrument(skip_all)]
async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return see_other(&login_path(HOME, Some("credentials")), None);
    };
    let now = db::unix_seconds(Utc::now());
    match sessions::sign_in(&state, &form.email, &form.password, address, now).await {
        Ok(signed_in) => {
            let cookie = sessions::set_cookie(&state.settings.session, &signed_in.token);
            // The operator has no usage of their own: their home is the organization list.
            let next = match safe_next(&form.next) {
                HOME if signed_in.organization_id.is_none() => ADMIN_HOME,
                next => next,
            };
            see_other(next, Some(cookie))
        }
        Err(AppError::Unauthorized) => {
            see_other(&login_path(&form.next, Some("credentials")), None)
        }
        Err(AppError::TooManyRequests(_)) => {
            see_other(&login_path(&form.next, Some("throttled")), None)
        }
        Err(_) => see_other(&login_path(&form.next, Some("unavailable")), None),
    }
}

/// `POST /logout`: ends the session (if any), clears its cookie, 303 to `/login`.
#[tracing::instrument(skip_all)]
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let settings = &state.settings.session;
    if let Some(token) = sessions::token_from(&headers, settings) {
        let now = db::unix_seconds(Utc::now());
        if let Err(error) = sessions::sign_out(&state, token, now).await {
            return error.into_response();
        }
    }
    see_other("/login", Some(sessions::clear_cookie(settings)))
}

/// `POST /logout-everywhere`: ends every session of the user (this one included), clears
/// the cookie, 303 to `/login`; without a live session, only the latter two.
#[tracing::instrument(skip_all)]
async fn sign_out_everywhere(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let settings = &state.settings.session;
    if let Some(token) = sessions::token_from(&headers, settings) {
        let now = db::unix_seconds(Utc::now());
        match sessions::sign_out_everywhere(&state, token, now).await {
            Ok(_) | Err(AppError::Unauthorized) => {}
            Err(error) => return error.into_response(),
        }
    }
    see_other("/login", Some(sessions::clear_cookie(settings)))
}

#[derive(Deserialize)]
struct SwitchForm {
    organization: i64,
    #[serde(default)]
    next: String,
}

/// `POST /switch-organization`: the session acts for another organization the user belongs
/// to, then 303 back to `next`. 400 for a malformed form, 401 without a session, 404 for an
/// organization the user does not belong to.
#[tracing::instrument(skip_all)]
async fn switch_organization(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<SwitchForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return AppError::BadRequest("Choose an organization".into()).into_response();
    };
    let Some(token) = sessions::token_from(&headers, &state.settings.session) else {
        return see_other(&login_path(&form.next, None), None);
    };
    let now = db::unix_seconds(Utc::now());
    match sessions::switch_organization(&state, token, form.organization, now).await {
        Ok(()) => see_other(safe_next(&form.next), None),
        Err(AppError::Unauthorized) => see_other(&login_path(&form.next, None), None),
        Err(error) => error.into_response(),
    }
}

#[derive(Deserialize)]
struct LanguageForm {
    language: String,
    #[serde(default)]
    next: String,
}

/// `POST /language`: keeps the chosen language in the `qb_lang` cookie for a year, 303 back
/// to `next`. 400 for a language the dashboard does not speak.
#[tracing::instrument(skip_all)]
async fn choose_language(form: Result<Form<LanguageForm>, FormRejection>) -> Response {
    let Some((locale, next)) = form
        .ok()
        .and_then(|Form(form)| Locale::from_tag(&form.language).map(|l| (l, form.next)))
    else {
        return AppError::BadRequest("Choose English or Português (Brasil)".into()).into_response();
    };
    let cookie = format!(
        "{LANGUAGE_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
        locale.tag()
    );
    see_other(safe_next(&next), HeaderValue::from_str(&cookie).ok())
}

/// The dashboard's page paths, which need a signed-in user; `/login` is not among them.
#[derive(Clone)]
pub struct PageGuard {
    pub state: AppState,
    pub pages: Arc<HashSet<String>>,
}

/// Whether `path` is an address of the route `page`, whose `:name` or `{name}` segments
/// stand for any one non-empty segment.
pub fn page_matches(page: &str, path: &str) -> bool {
    let mut pattern = page.split('/');
    let mut segments = path.split('/');
    loop {
        match (pattern.next(), segments.next()) {
            (None, None) => return true,
            (Some(expected), Some(segment)) => {
                let is_parameter = expected.starts_with(':')
                    || (expected.starts_with('{') && expected.ends_with('}'));
                if !(expected == segment || (is_parameter && !segment.is_empty())) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// A `GET` of a page without a live session is sent to `/login?next=<the page>`; `/login`
/// with a live session goes on to `next`. Everything else passes untouched.
pub async fn require_sign_in(
    State(guard): State<PageGuard>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return next.run(request).await;
    }
    let path = request.uri().path();
    let is_login = path == "/login";
    if !is_login && !guard.pages.iter().any(|page| page_matches(page, path)) {
        return next.run(request).await;
    }
    let user = match auth::session_user(&guard.state, request.headers()).await {
        Ok(user) => user,
        Err(error) => return error.into_response(),
    };
    let signed_in = user.is_some();
    let target = request
        .uri()
        .path_and_query()
        .map_or(path, |value| value.as_str());
    match (is_login, signed_in) {
        (false, false) => see_other(&login_path(target, None), None),
        (true, true) => {
            let next = request
                .uri()
                .query()
                .and_then(|query| {
                    url::form_urlencoded::parse(query.as_bytes())
                        .find(|(key, _)| key == "next")
                        .map(|(_, value)| value.into_owned())
                })
                .unwrap_or_default();
            see_other(safe_next(&next), None)
        }
        _ => {
            // The page's server functions take the user from here rather than look it up again.
            request.extensions_mut().insert(RequestMemo(user));
            next.run(request).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_with_parameters_match_any_one_segment() {
        assert!(page_matches("/usage", "/usage"));
        assert!(page_matches("/admin/licenses/{id}", "/admin/licenses/12"));
        assert!(page_matches("/admin/licenses/:id", "/admin/licenses/new"));
        assert!(!page_matches("/admin/licenses/{id}", "/admin/licenses/"));
        assert!(!page_matches("/admin/licenses/{id}", "/admin/licenses/1/x"));
        assert!(!page_matches("/usage", "/usage/more"));
        assert!(!page_matches("/admin", "/api/admin"));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn posts_from_other_sites_are_told_apart_from_our_own() {
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "quota.example"),
        ])));
        assert!(!is_cross_site(&headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(is_cross_site(&headers(&[
            ("origin", "null"),
            ("host", "q.example")
        ])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!is_cross_site(&headers(&[])));
    }

    #[test]
    fn the_login_path_keeps_where_to_go_next_encoded() {
        assert_eq!(
            login_path("/billing?q=a b&sort=amount", Some("credentials")),
            "/login?next=%2Fbilling%3Fq%3Da+b%26sort%3Damount&error=credentials"
        );
        assert_eq!(login_path("//evil", None), "/login?next=%2Fusage");
    }
}
