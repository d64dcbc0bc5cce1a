//! Portal sessions and the embeddable usage view: a session's token reads its own
//! organization's usage (only its metrics) and changes nothing; the view's address opens
//! once, in the session's language, framed only by the organization's origins; an expired
//! or revoked session shows a message; creation, revocation and origins are audited.

use quotaboard::server::access::principal::Role;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// `POST /api/v1/portal/sessions` with `key`; the status and the body.
async fn create_session(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/api/v1/portal/sessions"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("POST /api/v1/portal/sessions");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// A new session of organization `slug` as `body` asks; the answer.
async fn session_of(app: &TestApp, slug: &str, body: Value) -> Value {
    let (_, admin) = app.demo_key(slug, Role::Admin).await;
    let (status, session) = create_session(app, &admin, body).await;
    assert_eq!(status, 201, "{session}");
    session
}

/// `method path` with `Authorization: Bearer token`; the status and the body as JSON.
async fn with_bearer(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// The path and query of the session's embed view.
fn embed_path(session: &Value) -> String {
    let url = session["url"].as_str().expect("url");
    let at = url.find("/embed/usage").expect("the embed view's address");
    url[at..].to_string()
}

/// The credential the page was handed in `<main data-access>`.
fn page_credential(html: &str) -> Option<String> {
    let start = html.find("data-access=\"")? + "data-access=\"".len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

async fn a_portal_token_reads_its_organizations_usage_as_a_key_does(app: TestApp) {
    for slug in ["acme", "globex", "initech"] {
        let (_, key) = app.demo_key(slug, Role::Member).await;
        let session = session_of(&app, slug, json!({})).await;
        let token = session["token"].as_str().expect("token");
        assert!(token.starts_with("qbp_"), "{session}");
        // On the request's host, with the deployment's scheme (secure cookies: https).
        let host = app.address.split("://").nth(1).expect("host");
        let url = session["url"].as_str().expect("url");
        assert!(
            url.starts_with(&format!("https://{host}/embed/usage?launch=qbl_")),
            "{url}"
        );

        let (_, by_key) = app.get_json("/api/billing/usage", Some(&key)).await;
        let (status, by_token) = with_bearer(
            &app,
            reqwest::Method::GET,
            "/api/billing/usage",
            token,
            None,
        )
        .await;

        assert_eq!(status, 200, "{slug}: {by_token}");
        // The same numbers with the same types (projections move with the clock: their
        // metrics and types only).
        for part in ["period", "metrics", "estimatedCost"] {
            assert_eq!(
                by_token["data"][part], by_key["data"][part],
                "{slug}: {part}"
            );
        }
        let projected = |body: &Value| -> Vec<(String, bool)> {
            body["data"]["projectedUsage"]
                .as_object()
                .expect("projectedUsage")
                .iter()
                .map(|(code, p)| {
                    (
                        code.clone(),
                        p["projected"].is_number() && p["percentage"].is_number(),
                    )
                })
                .collect()
        };
        assert_eq!(projected(&by_token), projected(&by_key), "{slug}");
        assert!(projected(&by_token).iter().all(|(_, numbers)| *numbers));
    }
}

async fn a_portal_token_changes_nothing_and_reads_no_other_organization(app: TestApp) {
    let session = session_of(&app, "acme", json!({})).await;
    let token = session["token"].as_str().expect("token");
    let (globex, _) = app.demo_key("globex", Role::Member).await;
    let range = "startDate=1700000000&endDate=1700086400";
    use reqwest::Method;

    let refused = [
        (
            Method::GET,
            format!("/organizations/{globex}/usage?{range}"),
            None,
        ),
        (Method::GET, "/api/v1/api-keys".to_string(), None),
        (Method::GET, "/api/v1/portal/sessions".to_string(), None),
        (
            Method::POST,
            "/api/v1/events".to_string(),
            Some(json!({"events": []})),
        ),
        (
            Method::POST,
            "/api/v1/portal/sessions".to_string(),
            Some(json!({})),
        ),
        (
            Method::POST,
            "/api/v1/embed-origins".to_string(),
            Some(json!({"origin": "https://evil.example"})),
        ),
        (
            Method::POST,
            "/api/v1/api-keys".to_string(),
            Some(json!({"name": "mine"})),
        ),
        (
            Method::POST,
            "/api/v1/entitlements/apiCalls/consume".to_string(),
            Some(json!({"quantity": 1})),
        ),
    ];
    for (method, path, body) in refused {
        let (status, answer) = with_bearer(&app, method.clone(), &path, token, body).await;
        assert_eq!(status, 403, "{method} {path}: {answer}");
    }
    let (status, _) = with_bearer(
        &app,
        Method::GET,
        &format!("/organizations/acme/usage?{range}"),
        token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let origins: i64 = sqlx::query_scalar("select count(*) from embed_origins")
        .fetch_one(app.db.pool())
        .await
        .expect("count");
    assert_eq!(origins, 0, "nothing was stored");
}

async fn a_session_limited_to_metrics_reads_only_them(app: TestApp) {
    let session = session_of(
        &app,
        "acme",
        json!({"metrics": ["api_calls", "apiCalls", "storage"]}),
    )
    .await;
    assert_eq!(session["metrics"], json!(["apiCalls", "storage"]));
    let token = session["token"].as_str().expect("token");
    use reqwest::Method;

    let (status, usage) = with_bearer(&app, Method::GET, "/api/billing/usage", token, None).await;
    assert_eq!(status, 200);
    let codes: Vec<&String> = usage["data"]["metrics"]
        .as_object()
        .expect("metrics")
        .keys()
        .collect();
    assert_eq!(codes, ["apiCalls", "storage"]);
    let (status, _) = with_bearer(
        &app,
        Method::GET,
        "/api/billing/usage?metrics=seats",
        token,
        None,
    )
    .await;
    assert_eq!(status, 403, "a metric outside the session");
    let (status, _) = with_bearer(
        &app,
        Method::GET,
        "/organizations/acme/usage?startDate=1700000000&endDate=1700086400",
        token,
        None,
    )
    .await;
    assert_eq!(status, 403, "the channels are outside the session");
}

async fn creating_a_session_takes_an_admin_and_a_sound_request(app: TestApp) {
    let (_, member) = app.demo_key("acme", Role::Member).await;
    let (_, admin) = app.demo_key("acme", Role::Admin).await;

    let (status, body) = create_session(&app, &member, json!({})).await;
    assert_eq!(status, 403, "{body}");
    for bad in [
        json!({"expiresInMinutes": 0}),
        json!({"expiresInMinutes": 1441}),
        json!({"expiresInMinutes": "60"}),
        json!({"metrics": []}),
        json!({"metrics": ["nope"]}),
        json!({"locale": "<b>"}),
        json!({"theme": "sepia"}),
        json!({"colour": "red"}),
    ] {
        let (status, body) = create_session(&app, &admin, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "BAD_REQUEST", "{body}");
    }
    let sessions: i64 = sqlx::query_scalar("select count(*) from portal_sessions")
        .fetch_one(app.db.pool())
        .await
        .expect("count");
    assert_eq!(sessions, 0);

    let before = chrono::Utc::now();
    let (status, session) = create_session(
        &app,
        &admin,
        json!({"expiresInMinutes": 1440, "locale": "fr-FR", "theme": "dark"}),
    )
    .await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(
        (session["locale"].as_str(), session["theme"].as_str()),
        (Some("en"), Some("dark"))
    );
    let expires =
        chrono::DateTime::parse_from_rfc3339(session["expiresAt"].as_str().expect("expiresAt"))
            .expect("a timestamp");
    let lifetime = expires.with_timezone(&chrono::Utc) - before;
    assert!(
        (1439..=1441).contains(&lifetime.num_minutes()),
        "{lifetime}"
    );
    // The secrets are stored only as hashes.
    let stored: (String, String) =
        sqlx::query_as("select token_hash, launch_hash from portal_sessions")
            .fetch_one(app.db.pool())
            .await
            .expect("row");
    let token = session["token"].as_str().expect("token");
    let url = session["url"].as_str().expect("url");
    assert!(
        !stored.0.contains(&token[17..]) && !url.contains(&stored.1),
        "{stored:?}"
    );
}

async fn a_revoked_session_reads_nothing_and_is_audited(app: TestApp) {
    let (_, admin) = app.demo_key("acme", Role::Admin).await;
    let (_, globex_admin) = app.demo_key("globex", Role::Admin).await;
    let (_, session) = create_session(&app, &admin, json!({"expiresInMinutes": 5})).await;
    let token = session["token"].as_str().expect("token");
    let id = session["id"].as_str().expect("id");
    let path = format!("/api/v1/portal/sessions/{id}");
    use reqwest::Method;

    let (status, _) = with_bearer(&app, Method::DELETE, &path, &globex_admin, None).await;
    assert_eq!(status, 404, "another organization's session");
    let (status, _) = with_bearer(&app, Method::GET, "/api/billing/usage", token, None).await;
    assert_eq!(status, 200);

    let (status, _) = with_bearer(&app, Method::DELETE, &path, &admin, None).await;
    assert_eq!(status, 204);

    let (status, body) = with_bearer(&app, Method::GET, "/api/billing/usage", token, None).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = with_bearer(&app, Method::DELETE, &path, &admin, None).await;
    assert_eq!(status, 404, "revoked already");
    let (status, list) =
        with_bearer(&app, Method::GET, "/api/v1/portal/sessions", &admin, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["status"], "revoked", "{list}");
    assert!(list["items"][0].get("token").is_none());
    let audited: Vec<(String, String)> = sqlx::query_as(
        "select action, label from audit_events where entity = 'portal_session' order by id",
    )
    .fetch_all(app.db.pool())
    .await
    .expect("audit");
    let actions: Vec<&str> = audited.iter().map(|(action, _)| action.as_str()).collect();
    assert_eq!(actions, ["created", "revoked"], "{audited:?}");
}

async fn the_embed_view_opens_once_and_then_with_its_credential(app: TestApp) {
    let session = session_of(
        &app,
        "acme",
        json!({"locale": "pt-BR", "metrics": ["apiCalls"]}),
    )
    .await;
    let path = embed_path(&session);

    let first = app.get(&path).await;
    assert_eq!(first.status(), 200);
    let policy = first.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        policy.contains("frame-ancestors 'none'"),
        "no origins listed: {policy}"
    );
    assert_eq!(first.headers()["referrer-policy"], "no-referrer");
    let html = first.text().await.expect("html");
    assert!(html.contains("lang=\"pt-BR\""), "the session's language");
    assert!(html.contains("data-metric=\"apiCalls\""), "its metric");
    assert!(!html.contains("data-metric=\"storage\""), "not another");
    let credential = page_credential(&html).expect("the page's credential");
    assert!(credential.starts_with("qba_"));

    let again = app.get(&path).await.text().await.expect("html");
    assert!(
        again.contains("data-ended=\"used\""),
        "a launch token works once"
    );
    assert!(page_credential(&again).is_none());

    let refreshed = app
        .client
        .get(app.url("/embed/usage"))
        .bearer_auth(&credential)
        .send()
        .await
        .expect("refresh");
    assert_eq!(refreshed.status(), 200);
    let refreshed = refreshed.text().await.expect("html");
    assert!(
        refreshed.contains("data-metric=\"apiCalls\"") && page_credential(&refreshed).is_none()
    );

    let (status, usage) = with_bearer(
        &app,
        reqwest::Method::GET,
        "/api/billing/usage",
        &credential,
        None,
    )
    .await;
    assert_eq!(status, 200, "{usage}");
    let stream = app
        .client
        .get(app.url(&format!("/api/v1/usage/stream?access={credential}")))
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"]
        .to_str()
        .is_ok_and(|t| t.starts_with("text/event-stream")));
    // Only a portal secret is taken from the address, never a key.
    let (_, key) = app.demo_key("acme", Role::Member).await;
    let with_key = app.get(&format!("/api/v1/usage/stream?access={key}")).await;
    assert_eq!(with_key.status(), 401);
}

async fn an_ended_session_shows_its_message_in_its_frame(app: TestApp) {
    let (_, admin) = app.demo_key("acme", Role::Admin).await;
    let (status, _) = with_bearer(
        &app,
        reqwest::Method::POST,
        "/api/v1/embed-origins",
        &admin,
        Some(json!({"origin": "http://localhost:5000"})),
    )
    .await;
    assert_eq!(status, 201);
    let (_, expired) = create_session(&app, &admin, json!({})).await;
    let (_, revoked) = create_session(&app, &admin, json!({})).await;
    sqlx::query("update portal_sessions set expires_at = 1 where id = $1")
        .bind(
            expired["id"]
                .as_str()
                .expect("id")
                .parse::<i64>()
                .expect("digits"),
        )
        .execute(app.db.pool())
        .await
        .expect("expire");
    let id = revoked["id"].as_str().expect("id");
    let (status, _) = with_bearer(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/v1/portal/sessions/{id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 204);

    for (session, ended) in [(&expired, "expired"), (&revoked, "revoked")] {
        let response = app.get(&embed_path(session)).await;
        assert_eq!(response.status(), 200);
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(
            policy.contains("frame-ancestors http://localhost:5000"),
            "{policy}"
        );
        assert!(response.headers().get("x-frame-options").is_none());
        let html = response.text().await.expect("html");
        assert!(html.contains(&format!("data-ended=\"{ended}\"")), "{ended}");
        assert!(!html.contains("data-metric"), "no usage once {ended}");
    }
    let unknown = app.get("/embed/usage?launch=qbl_000000000000_00").await;
    let policy = unknown.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(unknown
        .text()
        .await
        .expect("html")
        .contains("data-ended=\"unknown\""));
}

async fn embedding_origins_are_exact_audited_and_frame_only_their_organization(app: TestApp) {
    let (_, admin) = app.demo_key("acme", Role::Admin).await;
    let (_, member) = app.demo_key("acme", Role::Member).await;
    use reqwest::Method;
    let add = |key: String, origin: &'static str| {
        let app = &app;
        async move {
            with_bearer(
                app,
                Method::POST,
                "/api/v1/embed-origins",
                &key,
                Some(json!({"origin": origin})),
            )
            .await
        }
    };

    assert_eq!(add(member.clone(), "https://app.example.com").await.0, 403);
    assert_eq!(
        add(admin.clone(), "https://app.example.com/page").await.0,
        400
    );
    assert_eq!(add(admin.clone(), "https://*.example.com").await.0, 400);
    let (status, origin) = add(admin.clone(), "https://App.Example.com:443/").await;
    assert_eq!(
        (status, origin["origin"].as_str()),
        (201, Some("https://app.example.com"))
    );
    assert_eq!(add(admin.clone(), "https://app.example.com").await.0, 409);
    let (status, list) =
        with_bearer(&app, Method::GET, "/api/v1/embed-origins", &member, None).await;
    assert_eq!((status, list["total"].as_u64()), (200, Some(1)));

    // Another organization's view is framed by its own origins only.
    let globex = session_of(&app, "globex", json!({})).await;
    let response = app.get(&embed_path(&globex)).await;
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(response.headers()["x-frame-options"], "DENY");

    let id = origin["id"].as_str().expect("id");
    let path = format!("/api/v1/embed-origins/{id}");
    assert_eq!(
        with_bearer(&app, Method::DELETE, &path, &member, None)
            .await
            .0,
        403
    );
    assert_eq!(
        with_bearer(&app, Method::DELETE, &path, &admin, None)
            .await
            .0,
        204
    );
    assert_eq!(
        with_bearer(&app, Method::DELETE, &path, &admin, None)
            .await
            .0,
        404
    );
    let audited: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where entity = 'embed_origin' order by id",
    )
    .fetch_all(app.db.pool())
    .await
    .expect("audit");
    assert_eq!(audited, ["created", "revoked"]);
}

crate::on_both_backends!(
    a_portal_token_reads_its_organizations_usage_as_a_key_does,
    a_portal_token_changes_nothing_and_reads_no_other_organization,
    a_session_limited_to_metrics_reads_only_them,
    creating_a_session_takes_an_admin_and_a_sound_request,
    a_revoked_session_reads_nothing_and_is_audited,
    the_embed_view_opens_once_and_then_with_its_credential,
    an_ended_session_shows_its_message_in_its_frame,
    embedding_origins_are_exact_audited_and_frame_only_their_organization,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_portal_token_over_its_rate_gets_429_as_a_key_does() {
    let app = crate::helpers::spawn_app_with(
        crate::helpers::Backend::Sqlite,
        &[("QUOTABOARD_RATE_LIMIT_PER_KEY", "3")],
    )
    .await
    .expect("SQLite app");
    let session = session_of(&app, "acme", json!({})).await;
    let token = session["token"].as_str().expect("token");
    let mut passed = 0;
    let refused = loop {
        let response = app
            .client
            .get(app.url("/api/billing/usage"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        if response.status() == 429 {
            break response;
        }
        assert_eq!(response.status(), 200);
        passed += 1;
        assert!(passed < 100, "never refused");
    };
    // A burst of twice the rate passes first, as for a key.
    assert!((6..=8).contains(&passed), "{passed} passed");
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.expect("json");
    assert_eq!(
        body["error"]["code"], "TOO_MANY_REQUESTS",
        "seed 002's shape"
    );
}
