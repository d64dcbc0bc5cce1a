//! No secret reaches the server's log, even at debug level: passwords, session cookies,
//! API keys (used, created or wrong) and webhook secrets. Webhook secrets are stored sealed.

use quotaboard::server::{
    access::principal::Role,
    db::webhooks::{self, WebhookFields},
    platform::sealing,
    process::demo::DEMO_PASSWORD,
    process::startup,
};
use serde_json::{json, Value};
use tokio::io::AsyncReadExt as _;

use crate::helpers::{free_port, start_server, wait_until_healthy, TestApp};

async fn no_secret_reaches_the_log_even_at_debug_level(app: TestApp) {
    let (_, key) = app.demo_key("acme", Role::Admin).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_server(
        &app.database_url,
        port,
        &[
            ("RUST_LOG", "debug"),
            ("QUOTABOARD_SESSION_COOKIE_SECURE", "false"),
        ],
    );
    let mut stderr = server.stderr.take().expect("piped stderr");
    let log = tokio::spawn(async move {
        let mut text = String::new();
        stderr.read_to_string(&mut text).await.map(|_| text)
    });
    wait_until_healthy(&app.client, &base).await;
    let http = &app.client;
    let url = |path: &str| format!("{base}{path}");

    // Sign-ins: through the API, the form, and with a wrong password.
    let wrong_password = "wrong-Pa55word-for-the-log-test";
    let refused = http
        .post(url("/api/v1/sessions"))
        .json(&json!({"email": "admin@acme.example", "password": wrong_password}))
        .send()
        .await
        .expect("sign-in");
    assert_eq!(refused.status(), 401);
    let signed_in = http
        .post(url("/api/v1/sessions"))
        .json(&json!({"email": "admin@acme.example", "password": DEMO_PASSWORD}))
        .send()
        .await
        .expect("sign-in");
    assert_eq!(signed_in.status(), 201);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    let token = cookie.split_once('=').expect("name=value").1.to_string();
    let form = http
        .post(url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "email=member%40acme.example&password={DEMO_PASSWORD}&next=%2Fusage"
        ))
        .send()
        .await
        .expect("form sign-in");
    assert_eq!(form.status(), 303);

    // The key in both headers, a wrong key, a page and a server function with the session.
    let wrong_key = "qb_deadbeef_0123456789abcdef0123456789abcdef";
    for (name, value) in [
        ("authorization", format!("Bearer {key}")),
        ("x-api-key", key.clone()),
        ("authorization", format!("Bearer {wrong_key}")),
    ] {
        http.get(url("/api/v1/user"))
            .header(name, value)
            .send()
            .await
            .expect("request");
    }
    let page = http
        .get(url("/usage"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);

    // Secrets the server makes: a new API key and a webhook's signing secret.
    let created: Value = http
        .post(url("/api/v1/api-keys"))
        .bearer_auth(&key)
        .json(&json!({"name": "made in the log test", "role": "member"}))
        .send()
        .await
        .expect("create key")
        .json()
        .await
        .expect("key body");
    let new_key = created["key"].as_str().expect("plaintext key").to_string();
    let webhook: Value = http
        .post(url("/api/v1/webhooks"))
        .bearer_auth(&key)
        .json(&json!({"url": "https://hooks.acme.example/usage"}))
        .send()
        .await
        .expect("create webhook")
        .json()
        .await
        .expect("webhook body");
    let webhook_secret = webhook["secret"].as_str().expect("secret").to_string();

    server.start_kill().expect("stop");
    server.wait().await.expect("stopped");
    let log = log.await.expect("reader").expect("log text");

    assert!(log.contains("DEBUG"), "the log was captured at debug level");
    for (what, secret) in [
        ("the password", DEMO_PASSWORD),
        ("a wrong password", wrong_password),
        ("the session token", token.as_str()),
        ("the API key", key.as_str()),
        ("a wrong API key", wrong_key),
        ("a created API key", new_key.as_str()),
        ("a webhook secret", webhook_secret.as_str()),
    ] {
        assert!(!log.contains(secret), "{what} is in the log");
    }
}

/// The stored secret of webhook `id`, as the database holds it.
async fn stored_secret(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("select secret from webhooks where id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .expect("stored secret")
}

async fn webhook_secrets_are_stored_sealed_and_old_ones_sealed_at_start(app: TestApp) {
    let (organization, key) = app.demo_key("acme", Role::Admin).await;
    let created: Value = app
        .client
        .post(app.url("/api/v1/webhooks"))
        .bearer_auth(&key)
        .json(&json!({"url": "https://hooks.acme.example/sealed"}))
        .send()
        .await
        .expect("create webhook")
        .json()
        .await
        .expect("webhook body");
    let secret = created["secret"].as_str().expect("secret shown once");
    let id: i64 = created["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("id");
    let stored = stored_secret(&app, id).await;
    assert!(stored.starts_with(sealing::PREFIX), "{stored}");
    assert!(
        !stored.contains(&secret[6..]),
        "the database holds the secret"
    );
    assert_eq!(
        app.state
            .sealing
            .open(organization, &stored)
            .expect("opens"),
        secret
    );

    // A secret stored in the clear by an older version is sealed when a server starts, and
    // still signs with the same value.
    let fields = WebhookFields {
        url: "https://hooks.acme.example/old",
        description: "",
        thresholds: "[100]",
        active: true,
    };
    let old_secret = format!("whsec_{}", "0a".repeat(32));
    let old = webhooks::insert(app.db.pool(), organization, &fields, &old_secret, (0, 0))
        .await
        .expect("old webhook")
        .expect("no cap");
    let config = crate::helpers::test_config(&app.database_url, &[]);
    let db = startup::open_database(&config).await.expect("open");
    let restarted = startup::build_state(&config, db).await.expect("state");
    let stored = stored_secret(&app, old).await;
    assert!(stored.starts_with(sealing::PREFIX), "{stored}");
    assert_eq!(
        restarted
            .sealing
            .open(organization, &stored)
            .expect("opens"),
        old_secret
    );
    // Sealed for its own organization only.
    assert!(restarted.sealing.open(organization + 1, &stored).is_err());
    // Starting again changes nothing.
    let db = startup::open_database(&config).await.expect("open");
    startup::build_state(&config, db).await.expect("state");
    assert_eq!(stored_secret(&app, old).await, stored);
}

crate::on_both_backends!(
    no_secret_reaches_the_log_even_at_debug_level,
    webhook_secrets_are_stored_sealed_and_old_ones_sealed_at_start,
);
