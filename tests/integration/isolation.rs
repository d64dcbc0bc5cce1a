//! Tenant isolation: every REST route, server function, page and form that takes an id,
//! called by another organization's admin with the victim's ids, answers 403 or 404 with
//! none of the victim's data and changes nothing of it; on both engines.

use leptos::server_fn::ServerFn;
use quotaboard::{
    api::{
        admin::{GetOrganizationUsage, ListOrganizations},
        audit::ListAudit,
        licenses::{AssignLicense, GetLicenseEditor, ListLicenses, SaveLicense},
        settings::{RevokeApiKey, UpdateWebhook},
        users::{ListUsers, SetUserDisabled},
    },
    server::{access::principal::Role, access::users::UserRole, db::licenses},
};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Who sends a request: an API key, or a signed-in user's session cookie.
#[derive(Clone, Copy)]
enum Caller<'a> {
    Key(&'a str),
    Session(&'a str),
}

impl Caller<'_> {
    fn name(self) -> &'static str {
        match self {
            Caller::Key(_) => "an admin key of acme",
            Caller::Session(_) => "an admin session of acme",
        }
    }
}

/// What a request carries.
enum Body {
    Empty,
    Json(Value),
    /// Form-encoded, as server functions and the dashboard's forms take it.
    Form(String),
}

/// One request of the table, and the status its handler documents for it.
struct Row {
    /// How a failure names the row.
    label: String,
    method: Method,
    path: String,
    body: Body,
    expected: u16,
}

impl Row {
    fn rest(method: Method, path: String, body: Option<Value>, expected: u16) -> Row {
        Row {
            label: format!("{method} {path}"),
            method,
            path,
            body: body.map_or(Body::Empty, Body::Json),
            expected,
        }
    }

    /// A server function, posted form-encoded as the browser does.
    fn server_fn(name: &str, path: &str, form: String, expected: u16) -> Row {
        Row {
            label: format!("server fn {name} (POST {path} {form})"),
            method: Method::POST,
            path: path.to_string(),
            body: Body::Form(form),
            expected,
        }
    }

    /// One of the dashboard's plain form posts.
    fn form(path: &str, form: String, expected: u16) -> Row {
        Row {
            label: format!("form POST {path} {form}"),
            method: Method::POST,
            path: path.to_string(),
            body: Body::Form(form),
            expected,
        }
    }

    /// A dashboard page.
    fn page(path: String, expected: u16) -> Row {
        Row {
            label: format!("page GET {path}"),
            method: Method::GET,
            path,
            body: Body::Empty,
            expected,
        }
    }

    /// What the caller sent, in lower case: an echo of it in the answer is no leak.
    fn sent(&self) -> String {
        let body = match &self.body {
            Body::Empty => String::new(),
            Body::Json(json) => json.to_string(),
            Body::Form(form) => form.clone(),
        };
        format!("{} {body}", self.path).to_lowercase()
    }
}

/// Sends `row` as `caller`; the status and the body as text.
async fn send(app: &TestApp, row: &Row, caller: Caller<'_>) -> (u16, String) {
    let mut request = app.client.request(row.method.clone(), app.url(&row.path));
    request = match caller {
        Caller::Key(key) => request.header("x-api-key", key),
        Caller::Session(cookie) => request.header("cookie", cookie),
    };
    request = match &row.body {
        Body::Empty => request,
        Body::Json(json) => request.json(json),
        Body::Form(form) => request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone()),
    };
    let response = request
        .send()
        .await
        .unwrap_or_else(|error| panic!("{} as {}: {error}", row.label, caller.name()));
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .unwrap_or_else(|error| panic!("{} as {}: body: {error}", row.label, caller.name()));
    (status, text)
}

/// Sends `row` as `caller`; what is wrong with the answer, if anything: a status other
/// than the row's, or any of `needles` (ignoring case) that the request did not carry.
async fn check(app: &TestApp, row: &Row, caller: Caller<'_>, needles: &[String]) -> Option<String> {
    let (status, text) = send(app, row, caller).await;
    let sent = row.sent();
    let lower = text.to_lowercase();
    let leaked: Vec<&str> = needles
        .iter()
        .map(String::as_str)
        .filter(|needle| {
            let needle = needle.to_lowercase();
            !sent.contains(&needle) && lower.contains(&needle)
        })
        .collect();
    if status == row.expected && leaked.is_empty() {
        return None;
    }
    let excerpt: String = text.chars().take(300).collect();
    Some(format!(
        "{} as {}: expected {} and none of initech's data, got {status} with {leaked:?}: {excerpt}",
        row.label,
        caller.name(),
        row.expected,
    ))
}

/// `POST path` of `body` with `key`, which must answer 201; the answer.
async fn created(app: &TestApp, key: &str, path: &str, body: Value) -> Value {
    let response = app
        .client
        .post(app.url(path))
        .header("x-api-key", key)
        .json(&body)
        .send()
        .await
        .expect("create request");
    let status = response.status().as_u16();
    let answer: Value = response.json().await.expect("JSON answer");
    assert_eq!(status, 201, "POST {path} {body}: {answer}");
    answer
}

/// The string field `field` of `value`.
fn text_of(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string {field} in {value}"))
        .to_string()
}

/// The id of the demo license `name`.
async fn license_id(app: &TestApp, name: &str) -> i64 {
    licenses::find_by_name(app.db.pool(), name)
        .await
        .expect("license query")
        .expect("demo license")
}

/// Everything of the victim the attacker aims at, as the victim's own admin key reads it:
/// `(path, status, body)`.
async fn victim_view(
    app: &TestApp,
    key: &str,
    domain_id: &str,
    license: i64,
) -> Vec<(String, u16, Value)> {
    let paths = [
        "/api/v1/api-keys".to_string(),
        "/api/v1/webhooks".to_string(),
        "/api/v1/domains".to_string(),
        format!("/api/v1/domains/{domain_id}/accounts"),
        format!("/api/v1/billing/{domain_id}/civil/usage"),
        "/api/v1/billing/subscription".to_string(),
        format!("/api/v1/billing/licenses/{license}"),
    ];
    let mut view = Vec::with_capacity(paths.len());
    for path in paths {
        let (status, body) = app.get_json(&path, Some(key)).await;
        view.push((path, status, body));
    }
    view
}

async fn another_organizations_ids_get_403_or_404_and_none_of_its_data(app: TestApp) {
    // The victim, initech, with one of everything that has an id.
    let (victim_id, victim_key) = app.demo_key("initech", Role::Admin).await;
    let key = created(
        &app,
        &victim_key,
        "/api/v1/api-keys",
        json!({"name": "Milton stapler bot", "role": "admin"}),
    )
    .await;
    let (key_id, key_secret, key_prefix) = (
        text_of(&key, "id"),
        text_of(&key, "key"),
        text_of(&key, "prefix"),
    );
    let hook = created(
        &app,
        &victim_key,
        "/api/v1/webhooks",
        json!({"url": "https://hooks.initech.example/tps-reports", "description": "Lumbergh alerts"}),
    )
    .await;
    let (hook_id, hook_secret) = (text_of(&hook, "id"), text_of(&hook, "secret"));
    let domain = created(
        &app,
        &victim_key,
        "/api/v1/domains",
        json!({"name": "swingline.initech.example"}),
    )
    .await;
    let domain_id = text_of(&domain, "id");
    let account = created(
        &app,
        &victim_key,
        &format!("/api/v1/domains/{domain_id}/accounts"),
        json!({"account": "milton@swingline.initech.example"}),
    )
    .await;
    let account_id = text_of(&account, "id");
    let enterprise = license_id(&app, "Enterprise").await;
    let pro = license_id(&app, "Pro").await;
    let victim_user: i64 =
        sqlx::query_scalar("select id from users where email = 'owner@initech.example'")
            .fetch_one(app.db.pool())
            .await
            .expect("initech's owner");

    // The attacker, acme's admin, by key and by session, with a domain of its own.
    let (attacker_id, attacker_key) = app.demo_key("acme", Role::Admin).await;
    let attacker_session = app.signed_in("acme", UserRole::Admin).await;
    let (status, own) = app
        .get_json("/api/v1/domains?search=acme.example", Some(&attacker_key))
        .await;
    assert_eq!(status, 200, "{own}");
    let own_domain = own["items"][0]["id"]
        .as_str()
        .expect("acme's demo domain")
        .to_string();

    // Initech's name, slug, domains and accounts all hold "initech".
    let needles: Vec<String> = vec![
        "initech".into(),
        "milton".into(),
        "stapler".into(),
        "lumbergh".into(),
        "tps-reports".into(),
        "swingline".into(),
        key_secret.clone(),
        key_prefix,
        hook_secret,
    ];
    let before = victim_view(&app, &victim_key, &domain_id, enterprise).await;
    for (path, status, body) in &before {
        assert_eq!(*status, 200, "initech reads its own {path}: {body}");
    }

    // Every REST route that takes an id, by key and by session.
    let range = "startDate=1704067200&endDate=1706659200";
    let rest_rows = [
        Row::rest(
            Method::DELETE,
            format!("/api/v1/api-keys/{key_id}"),
            None,
            404,
        ),
        Row::rest(
            Method::PUT,
            format!("/api/v1/webhooks/{hook_id}"),
            Some(
                json!({"url": "https://evil.example/steal", "description": "mine now", "active": false}),
            ),
            404,
        ),
        Row::rest(
            Method::GET,
            format!("/api/v1/domains/{domain_id}/accounts"),
            None,
            404,
        ),
        Row::rest(
            Method::POST,
            format!("/api/v1/domains/{domain_id}/accounts"),
            Some(json!({"account": "mallory@swingline.initech.example"})),
            404,
        ),
        Row::rest(
            Method::DELETE,
            format!("/api/v1/domains/{domain_id}/accounts/{account_id}"),
            None,
            404,
        ),
        // Initech's account under acme's own domain.
        Row::rest(
            Method::DELETE,
            format!("/api/v1/domains/{own_domain}/accounts/{account_id}"),
            None,
            404,
        ),
        Row::rest(
            Method::DELETE,
            format!("/api/v1/domains/{domain_id}"),
            None,
            404,
        ),
        Row::rest(
            Method::GET,
            format!("/api/v1/billing/{domain_id}/civil/usage"),
            None,
            404,
        ),
        // Seed 003 names the organization by id or by slug, and answers 403 for another's.
        Row::rest(
            Method::GET,
            format!("/organizations/{victim_id}/usage?{range}"),
            None,
            403,
        ),
        Row::rest(
            Method::GET,
            format!("/organizations/initech/usage?{range}"),
            None,
            403,
        ),
    ];
    // Server functions, pages and forms act with the session only.
    let session_rows = [
        Row::server_fn("RevokeApiKey", RevokeApiKey::PATH, format!("id={key_id}"), 404),
        Row::server_fn(
            "UpdateWebhook",
            UpdateWebhook::PATH,
            format!(
                "id={hook_id}&url=https%3A%2F%2Fevil.example%2Fsteal&description=mine+now&thresholds="
            ),
            404,
        ),
        Row::form(
            "/switch-organization",
            format!("organization={victim_id}&next=%2Fusage"),
            404,
        ),
        // The operator's functions and pages act across organizations by design: an
        // organization's admin is refused them.
        Row::server_fn(
            "GetOrganizationUsage",
            GetOrganizationUsage::PATH,
            "slug=initech".into(),
            403,
        ),
        Row::server_fn(
            "AssignLicense",
            AssignLicense::PATH,
            format!("organization=initech&license={pro}"),
            403,
        ),
        Row::server_fn(
            "GetLicenseEditor",
            GetLicenseEditor::PATH,
            format!("id={enterprise}"),
            403,
        ),
        Row::server_fn(
            "SaveLicense",
            SaveLicense::PATH,
            format!("form[id]={enterprise}&form[name]=Mine&form[price]=0&form[currency]=USD"),
            403,
        ),
        Row::server_fn(
            "ListOrganizations",
            ListOrganizations::PATH,
            "search=initech&at_risk=false&sort=".into(),
            403,
        ),
        Row::server_fn(
            "ListAudit",
            ListAudit::PATH,
            "entity=&search=initech&from=&to=".into(),
            403,
        ),
        Row::server_fn("ListLicenses", ListLicenses::PATH, String::new(), 403),
        Row::server_fn("ListUsers", ListUsers::PATH, "search=initech".into(), 403),
        Row::server_fn(
            "SetUserDisabled",
            SetUserDisabled::PATH,
            format!("id={victim_user}&disabled=true"),
            403,
        ),
        Row::page("/admin/organizations/initech".into(), 403),
        Row::page("/admin/users?q=initech".into(), 403),
        Row::page(format!("/admin/licenses/{enterprise}"), 403),
    ];
    // Ids the routes do not take are ignored: the answer is the caller's own.
    let smuggled = format!(
        "organizationId={victim_id}&organization_id={victim_id}&companyId={victim_id}\
         &company_id={victim_id}&userId={victim_id}&domainId={domain_id}&domain_id={domain_id}"
    );
    let own_rows: Vec<Row> = [
        "/api/v1/user",
        "/api/v1/api-keys",
        "/api/v1/webhooks",
        "/api/v1/domains",
        "/api/v1/billing/subscription",
        "/api/billing/usage",
        "/v2/ocamba/usage",
        "/api/v1/entitlements/apiCalls",
        "/api/v1/exports/usage.csv",
        "/api/v1/exports/line-items.csv",
    ]
    .iter()
    .map(|path| Row::rest(Method::GET, format!("{path}?{smuggled}"), None, 200))
    // Licenses are the instance's catalogue, which any key reads: initech's is no secret,
    // its usage is.
    .chain([Row::rest(
        Method::GET,
        format!("/api/v1/billing/licenses/{enterprise}"),
        None,
        200,
    )])
    .collect();

    let mut failures = Vec::new();
    for caller in [
        Caller::Key(&attacker_key),
        Caller::Session(&attacker_session),
    ] {
        for row in &rest_rows {
            failures.extend(check(&app, row, caller, &needles).await);
        }
    }
    for row in &session_rows {
        failures.extend(check(&app, row, Caller::Session(&attacker_session), &needles).await);
    }
    for row in &own_rows {
        failures.extend(check(&app, row, Caller::Key(&attacker_key), &needles).await);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The answers that are 200 are acme's own.
    let acme = attacker_id.to_string();
    let smuggling = |path: &str| format!("{path}?{smuggled}");
    let (_, me) = app
        .get_json(&smuggling("/api/v1/user"), Some(&attacker_key))
        .await;
    assert_eq!(me["organizationId"], acme, "/api/v1/user: {me}");
    let (_, subscription) = app
        .get_json(
            &smuggling("/api/v1/billing/subscription"),
            Some(&attacker_key),
        )
        .await;
    assert_eq!(subscription["userId"], acme, "subscription: {subscription}");
    let (_, statements) = app
        .get_json(&smuggling("/v2/ocamba/usage"), Some(&attacker_key))
        .await;
    let items = statements["items"].as_array().expect("statements");
    assert!(
        !items.is_empty() && items.iter().all(|s| s["company_id"] == acme.as_str()),
        "statements: {statements}"
    );
    let (_, license) = app
        .get_json(
            &format!("/api/v1/billing/licenses/{enterprise}"),
            Some(&attacker_key),
        )
        .await;
    assert!(
        !license.to_string().contains("resourceUsage"),
        "a catalogue license carries no organization's usage: {license}"
    );
    // The session still acts for acme after trying to switch to initech.
    let response = app.get_with_cookie("/api/v1/user", &attacker_session).await;
    let user: Value = response.json().await.expect("user");
    assert_eq!(user["organization"]["slug"], "acme", "{user}");

    // An event naming initech's domain is acme's usage, labelled with that text.
    let (status, report) = {
        let response = app
            .client
            .post(app.url("/api/v1/events"))
            .header("x-api-key", &attacker_key)
            .json(&json!({"events": [{
                "id": "isolation-1",
                "metric": "apiCalls",
                "quantity": 1,
                "domainId": domain_id,
            }]}))
            .send()
            .await
            .expect("events request");
        let status = response.status().as_u16();
        let report: Value = response.json().await.expect("ingest report");
        (status, report)
    };
    assert_eq!((status, &report["accepted"]), (200, &json!(1)), "{report}");

    // Nothing of initech changed, and its key still works.
    let after = victim_view(&app, &victim_key, &domain_id, enterprise).await;
    for ((path, status, body), (_, status_after, body_after)) in before.iter().zip(&after) {
        assert_eq!(
            (status, body),
            (status_after, body_after),
            "initech's {path} changed"
        );
    }
    let (status, me) = app.get_json("/api/v1/user", Some(&key_secret)).await;
    assert_eq!(
        (status, &me["organization"]["slug"]),
        (200, &json!("initech")),
        "initech's key is still live: {me}"
    );
}

crate::on_both_backends!(another_organizations_ids_get_403_or_404_and_none_of_its_data);
