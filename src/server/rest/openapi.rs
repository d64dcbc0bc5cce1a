//! The API's description: OpenAPI 3.1 at `GET /api/openapi.json`, and a reference for
//! people at `GET /api/docs`, rendered here from the same document (no script, no CDN).

use std::fmt::Write as _;

use axum::{
    extract::State,
    http::header,
    response::{Html, IntoResponse},
    routing::get,
    Json, Router,
};
use utoipa::{
    openapi::{
        header::HeaderBuilder,
        path::{Operation, ParameterIn, PathItem},
        response::ResponseBuilder,
        schema::{ObjectBuilder, Type},
        security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        },
        Content, OpenApi as Document, Ref, RefOr, Schema,
    },
    Modify, OpenApi,
};

use super::{
    api_keys, billing_usage, domain_usage, domains, embed_origins, entitlements, events, exports,
    health, licenses, organization_usage, portal_sessions, sessions, statements, subscription,
    usage_stream, user, webhooks,
};
use crate::server::{platform::assets, platform::limits, state::AppState};

/// `GET /api/openapi.json`, `GET /api/docs`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/docs", get(reference))
}

/// Every REST route of quotaboard.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "quotaboard",
        description = "Usage metering and license limits. Every endpoint takes an API key as \
            `x-api-key: KEY` or `Authorization: Bearer KEY`, or a signed-in user's session \
            cookie, and answers only about that organization. The usage reads also take a \
            portal session's read-only token (POST /api/v1/portal/sessions). Ids are strings \
            of digits.",
    ),
    paths(
        billing_usage::billing_usage,
        organization_usage::organization_usage,
        subscription::current_subscription,
        domain_usage::domain_usage,
        statements::list_statements,
        entitlements::entitlement,
        entitlements::consume,
        events::ingest_events,
        user::current_user,
        sessions::sign_in,
        sessions::sign_out,
        sessions::sign_out_everywhere,
        sessions::change_password,
        api_keys::create_key,
        api_keys::search_keys,
        api_keys::revoke_key,
        domains::search_domains,
        domains::create_domain,
        domains::delete_domain,
        domains::list_accounts,
        domains::create_account,
        domains::delete_account,
        licenses::search_licenses,
        licenses::get_license,
        webhooks::create_webhook,
        webhooks::update_webhook,
        webhooks::search_webhooks,
        portal_sessions::create_session,
        portal_sessions::search_sessions,
        portal_sessions::revoke_session,
        embed_origins::add_origin,
        embed_origins::search_origins,
        embed_origins::remove_origin,
        exports::usage_csv,
        exports::line_items_csv,
        usage_stream::usage_stream,
        health::health,
    ),
    // The bodies `responses(Created::<T>)` and `responses(Page::<T>)` name: answers given
    // by type are not collected on their own.
    components(schemas(
        api_keys::ApiKeyBody,
        domains::AccountBody,
        domains::DomainBody,
        webhooks::WebhookBody,
        portal_sessions::PortalSessionBody,
        embed_origins::EmbedOriginBody,
    )),
    modifiers(&Security, &ParameterAnswers, &KeyRequired, &EveryAnswer),
    tags(
        (name = "usage", description = "Usage, limits and cost, in the shapes of the documents quotaboard serves"),
        (name = "events", description = "Usage events in"),
        (name = ACCOUNT_TAG, description = "Who is asking"),
        (name = "api keys", description = "The organization's API keys"),
        (name = "domains", description = "Domains (apps) and their mailbox accounts"),
        (name = "licenses", description = "The plans organizations subscribe to"),
        (name = "webhooks", description = "Where usage alerts go"),
        (name = "portal", description = "Customers' read-only portal sessions and the embeddable usage view"),
        (name = "operations", description = "For load balancers and monitors"),
    )
)]
pub struct ApiDoc;

/// The two ways to present a key.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-api-key",
                "An API key, as `quotaboard keys create` prints it",
            ))),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::server::access::sessions::SECURE_COOKIE,
                "A signed-in user's session (POST /api/v1/sessions); `qb_session` when \
                 session-cookie-secure is off",
            ))),
        );
        components.add_security_scheme(
            "portal",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A portal session's token (`qbp_…`, POST /api/v1/portal/sessions): \
                         read-only, one organization, its metrics only",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The same API key as a bearer token"))
                    .build(),
            ),
        );
    }
}

/// What an operation answers because of its parameters, besides what else it answers 400
/// or 404 for: 400 for a path id that is not a string of digits (`extract::Ids`) and 404 for
/// one that names nothing the organization has; 400 for a bad `limit` or `offset` of a
/// list (`shape::ListQuery`).
struct ParameterAnswers;

impl Modify for ParameterAnswers {
    fn modify(&self, openapi: &mut Document) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (_, operation) in operations_mut(item) {
                let mut reasons = Vec::new();
                for parameter in operation.parameters.iter_mut().flatten() {
                    match (&parameter.parameter_in, parameter.name.as_str()) {
                        (ParameterIn::Path, "id" | "accountId" | "domainId") => {
                            if let Some(RefOr::T(Schema::Object(object))) = &mut parameter.schema {
                                object.pattern = Some(super::shape::ID_PATTERN.into());
                            }
                            reasons.push("an id that is not digits");
                        }
                        (ParameterIn::Query, "limit") => reasons.push("a bad limit or offset"),
                        _ => {}
                    }
                }
                reasons.dedup();
                if reasons.is_empty() {
                    continue;
                }
                if reasons.contains(&"an id that is not digits") {
                    let missing = "Nothing with that id that the caller may see";
                    operation
                        .responses
                        .responses
                        .entry("404".to_string())
                        .or_insert_with(|| RefOr::T(error_answer(path, missing).build()));
                }
                let reasons = reasons.join(", or ");
                let answer = operation.responses.responses.entry("400".to_string());
                match answer.or_insert_with(|| RefOr::T(error_answer(path, "").build())) {
                    RefOr::T(response) if response.description.is_empty() => {
                        response.description = capitalized(&reasons);
                    }
                    RefOr::T(response) => {
                        response.description = format!("{}; {reasons}", response.description);
                    }
                    RefOr::Ref(_) => {}
                }
            }
        }
    }
}

/// `text` with its first letter in upper case.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Every operation takes an API key (`x-api-key` or bearer) or a session unless it says
/// otherwise (`security(("session" = []))`; `security(())` for none), and then answers 401
/// without one, in the error shape of its family.
struct KeyRequired;

impl Modify for KeyRequired {
    fn modify(&self, openapi: &mut Document) {
        let key_or_session = || {
            ["api_key", "bearer", "session"]
                .map(|scheme| SecurityRequirement::new(scheme, Vec::<String>::new()))
                .to_vec()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (_, operation) in operations_mut(item) {
                let security = operation.security.get_or_insert_with(key_or_session);
                let public = security
                    .iter()
                    .all(|requirement| *requirement == SecurityRequirement::default());
                if public {
                    // `security(())` marks an operation open to anyone; it is written as none.
                    operation.security = None;
                } else {
                    let session_only = security.iter().all(|requirement| {
                        *requirement == SecurityRequirement::new("session", Vec::<String>::new())
                    });
                    let missing = if session_only {
                        "No live session"
                    } else {
                        "No valid key or session"
                    };
                    operation
                        .responses
                        .responses
                        .entry("401".to_string())
                        .or_insert_with(|| RefOr::T(error_answer(path, missing).build()));
                }
            }
        }
    }
}

/// The operations of `item` with their methods.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("GET", &mut item.get),
        ("PUT", &mut item.put),
        ("POST", &mut item.post),
        ("DELETE", &mut item.delete),
        ("PATCH", &mut item.patch),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation.as_mut()?)))
}

/// An error answer of the family `path` belongs to: the envelope of seed 000's billing
/// usage, the named error of seed 001's organization usage, else `{"error"}`.
fn error_answer(path: &str, description: &str) -> ResponseBuilder {
    let body = Ref::from_schema_name(match path {
        "/api/billing/usage" => "EnvelopeErrorBody",
        path if path.starts_with("/organizations/") => "NamedErrorBody",
        _ => "ErrorBody",
    });
    ResponseBuilder::new()
        .description(description)
        .content("application/json", Content::new(Some(body)))
}

/// The tag of the operations on the caller's own account (sign-in, password): the only
/// changes a member may make. Every other change takes an organization admin (`extract::Admin`).
const ACCOUNT_TAG: &str = "account";

/// The answers any operation can give besides its own, each in the error shape of the
/// operation's family: 413 for a body over the limit (every route), 429 with `Retry-After`
/// once a key or address is over its rate (every route but `/healthz`), 503 when the request
/// times out or the database is gone; for a change 403 for another site's page and, but on
/// the caller's own account, for a member key or a portal token; for a read that takes no
/// portal token, 403 for one.
struct EveryAnswer;

impl Modify for EveryAnswer {
    fn modify(&self, openapi: &mut Document) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let answer = |description: &str| error_answer(path, description);
            let changes = |method: &str| !matches!(method, "GET" | "HEAD" | "OPTIONS");
            for (method, operation) in operations_mut(item) {
                let mut extra = vec![(
                    "413",
                    answer(&format!(
                        "The request body is larger than {} bytes",
                        limits::MAX_BODY_BYTES
                    ))
                    .build(),
                )];
                if !limits::is_exempt(path) {
                    let retry_after = HeaderBuilder::new()
                        .schema(
                            ObjectBuilder::new()
                                .schema_type(Type::Integer)
                                .minimum(Some(1)),
                        )
                        .description(Some("Seconds to wait before trying again"))
                        .build();
                    extra.push((
                        "429",
                        answer("Over the rate limit of the key, its organization or the address")
                            .header("Retry-After", retry_after)
                            .build(),
                    ));
                }
                extra.push((
                    "503",
                    answer("Not answered within request-timeout-seconds, or the database is unavailable")
                        .build(),
                ));
                if changes(method) {
                    let forged = "a change sent by another site's page (Sec-Fetch-Site or Origin)";
                    let own_account = operation
                        .tags
                        .iter()
                        .flatten()
                        .any(|tag| tag == ACCOUNT_TAG);
                    let description = if own_account {
                        capitalized(forged)
                    } else {
                        format!("A member key (changes to the organization need an admin's), a portal session's token, or {forged}")
                    };
                    extra.push(("403", answer(&description).build()));
                } else if operation.security.is_some() && !takes_portal(operation) {
                    extra.push((
                        "403",
                        answer("A portal session's token: it reads only usage").build(),
                    ));
                }
                for (status, response) in extra {
                    let documented = operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert(RefOr::T(response.clone()));
                    // An operation's own 429 (sign-in's throttle) keeps its words and gains
                    // the header every 429 carries.
                    if let RefOr::T(documented) = documented {
                        for (name, header) in response.headers {
                            documented.headers.entry(name).or_insert(header);
                        }
                    }
                }
            }
        }
    }
}

/// True when the operation takes a portal session's token (the usage reads).
fn takes_portal(operation: &Operation) -> bool {
    let portal = SecurityRequirement::new("portal", Vec::<String>::new());
    operation.security.iter().flatten().any(|r| *r == portal)
}

/// The OpenAPI 3.1 document.
pub fn document() -> Document {
    ApiDoc::openapi()
}

async fn openapi_json() -> Json<Document> {
    Json(document())
}

/// The reference page: every operation with its parameters, body and answers.
async fn reference(State(state): State<AppState>) -> impl IntoResponse {
    let stylesheet = &assets::site_files(&state.leptos_options).stylesheet;
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Html(render(&document(), stylesheet)),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The name a `$ref` points at, or the inline schema's type.
fn schema_name<T>(schema: &RefOr<T>) -> String {
    match schema {
        RefOr::Ref(reference) => reference
            .ref_location
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string(),
        RefOr::T(_) => "inline".into(),
    }
}

fn operations(item: &PathItem) -> Vec<(&'static str, &Operation)> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("DELETE", &item.delete),
        ("PATCH", &item.patch),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation.as_ref()?)))
    .collect()
}

/// The document as one HTML page, styled by the site's `stylesheet`: a table of contents,
/// then each operation.
pub fn render(document: &Document, stylesheet: &str) -> String {
    let mut page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>quotaboard API reference</title>\
         <link rel=\"stylesheet\" href=\"{}\"></head>\
         <body class=\"api-docs\"><main>",
        escape(stylesheet)
    );
    let _ = write!(
        page,
        "<h1>{} API reference</h1><p>{}</p><p>Machine-readable: \
         <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI {}).</p><nav><ul>",
        escape(&document.info.title),
        escape(document.info.description.as_deref().unwrap_or_default()),
        serde_json::to_value(&document.openapi)
            .ok()
            .and_then(|version| version.as_str().map(str::to_string))
            .unwrap_or_default()
    );
    for (path, item) in &document.paths.paths {
        for (method, _) in operations(item) {
            let anchor = format!("{method}-{path}").replace(['/', '{', '}'], "_");
            let _ = write!(
                page,
                "<li><a href=\"#{anchor}\"><code>{method} {}</code></a></li>",
                escape(path)
            );
        }
    }
    page.push_str("</ul></nav>");
    for (path, item) in &document.paths.paths {
        for (method, operation) in operations(item) {
            let anchor = format!("{method}-{path}").replace(['/', '{', '}'], "_");
            let _ = write!(
                page,
                "<section id=\"{anchor}\"><h2><code>{method} {}</code></h2>",
                escape(path)
            );
            if let Some(description) = &operation.description {
                let _ = write!(page, "<p>{}</p>", escape(description));
            }
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            if !parameters.is_empty() {
                page.push_str("<h3>Parameters</h3><ul>");
                for parameter in parameters {
                    let _ = write!(
                        page,
                        "<li><code>{}</code> ({}{}){}</li>",
                        escape(&parameter.name),
                        match parameter.parameter_in {
                            ParameterIn::Path => "path",
                            ParameterIn::Query => "query",
                            ParameterIn::Header => "header",
                            ParameterIn::Cookie => "cookie",
                        },
                        if matches!(parameter.required, utoipa::openapi::Required::True) {
                            ", required"
                        } else {
                            ""
                        },
                        parameter
                            .description
                            .as_deref()
                            .map(|d| format!(": {}", escape(d)))
                            .unwrap_or_default()
                    );
                }
                page.push_str("</ul>");
            }
            if let Some(body) = &operation.request_body {
                page.push_str("<h3>Body</h3><ul>");
                for (media, content) in &body.content {
                    let name = content.schema.as_ref().map(schema_name).unwrap_or_default();
                    let _ = write!(
                        page,
                        "<li>{}: <a href=\"#schema-{name}\">{name}</a></li>",
                        escape(media)
                    );
                }
                page.push_str("</ul>");
            }
            page.push_str("<h3>Answers</h3><ul>");
            for (status, response) in &operation.responses.responses {
                let RefOr::T(response) = response else {
                    continue;
                };
                let schema = response
                    .content
                    .values()
                    .find_map(|content| content.schema.as_ref())
                    .map(|schema| {
                        let name = schema_name(schema);
                        format!(" <a href=\"#schema-{name}\">{name}</a>")
                    })
                    .unwrap_or_default();
                let _ = write!(
                    page,
                    "<li><strong>{status}</strong> {}{schema}</li>",
                    escape(&response.description)
                );
            }
            page.push_str("</ul></section>");
        }
    }
    if let Some(components) = &document.components {
        page.push_str("<h2>Schemas</h2>");
        for (name, schema) in &components.schemas {
            let json = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = write!(
                page,
                "<section id=\"schema-{name}\"><h3>{name}</h3><pre><code>{}</code></pre></section>",
                escape(&json)
            );
        }
    }
    page.push_str("</main></body></html>");
    page
}
