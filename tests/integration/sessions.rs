//! Signing in and out, and the session cookie as a REST credential; on both engines.

use quotaboard::server::{
    access::users::{self, UserRole},
    db::unix_seconds,
};
use serde_json::{json, Value};

use crate::helpers::{TestApp, TEST_PASSWORD};

const PASSWORD: &str = TEST_PASSWORD;

async fn user(app: &TestApp, email: &str, organization: Option<&str>, role: UserRole) -> i64 {
    users::create(&app.db, email, PASSWORD, organization, role, 0)
        .await
        .expect("user")
}

async fn sign_in(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/sessions"))
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// Signs in; the `Cookie` header value to send back.
async fn session_cookie(app: &TestApp, email: &str) -> String {
    app.session_cookie(email, PASSWORD).await
}

async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> (u16, Value) {
    let response = app.get_with_cookie(path, cookie).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn a_user_signs_in_uses_the_api_with_the_cookie_and_signs_out(app: TestApp) {
    let (acme, _) = app
        .demo_key("acme", quotaboard::server::access::principal::Role::Member)
        .await;
    let user_id = user(&app, "Ana@Acme.Example", Some("acme"), UserRole::Admin).await;

    let response = sign_in(
        &app,
        json!({"email": "ana@acme.example", "password": PASSWORD}),
    )
    .await;

    assert_eq!(response.status(), 201);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        set_cookie.starts_with("__Host-qb_session=qbs_"),
        "{set_cookie}"
    );
    assert!(
        set_cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200; Secure"),
        "{set_cookie}"
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"userId": user_id.to_string(), "role": "admin", "organizationId": acme.to_string()})
    );
    let cookie = set_cookie.split(';').next().expect("cookie").to_string();
    // Only a hash of the secret is stored.
    let stored: Vec<String> = sqlx::query_scalar("select token_hash from sessions")
        .fetch_all(app.db.pool())
        .await
        .expect("sessions");
    let secret = cookie.split_once('=').expect("name=value").1;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].len() == 64 && !stored[0].contains(secret));

    let (status, me) = get_with_cookie(&app, "/api/v1/user", &cookie).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (&me["email"], &me["role"]),
        (&json!("ana@acme.example"), &json!("admin"))
    );
    let (status, usage) = get_with_cookie(&app, "/api/billing/usage", &cookie).await;
    assert_eq!((status, &usage["success"]), (200, &json!(true)));
    // A key presented is never passed over for the cookie.
    let response = app
        .client
        .get(app.url("/api/v1/user"))
        .header("cookie", &cookie)
        .header("x-api-key", "qb_wrong")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);

    let response = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 204);
    let cleared = response.headers()["set-cookie"].to_str().expect("ascii");
    assert!(cleared.starts_with("__Host-qb_session=;") && cleared.contains("Max-Age=0"));
    assert_eq!(get_with_cookie(&app, "/api/v1/user", &cookie).await.0, 401);
    let again = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 401, "signed out already");
}

async fn wrong_credentials_are_refused_alike_and_each_sign_in_is_a_new_session(app: TestApp) {
    app.demo_key("acme", quotaboard::server::access::principal::Role::Member)
        .await;
    user(&app, "ana@acme.example", Some("acme"), UserRole::Member).await;

    for body in [
        json!({"email": "ana@acme.example", "password": "wrong password"}),
        json!({"email": "nobody@acme.example", "password": PASSWORD}),
        json!({"email": "not an email", "password": PASSWORD}),
    ] {
        let response = sign_in(&app, body.clone()).await;
        assert_eq!(response.status(), 401, "{body}");
        assert!(response.headers().get("set-cookie").is_none());
        let answer: Value = response.json().await.expect("json");
        assert_eq!(answer["error"]["code"], "UNAUTHORIZED");
    }
    let response = sign_in(&app, json!({"email": "ana@acme.example"})).await;
    assert_eq!(response.status(), 400);

    let first = session_cookie(&app, "ana@acme.example").await;
    let second = session_cookie(&app, "ana@acme.example").await;
    assert_ne!(first, second);
    assert_eq!(get_with_cookie(&app, "/api/v1/user", &first).await.0, 200);
}

async fn sessions_end_when_idle_or_too_old(app: TestApp) {
    app.demo_key("acme", quotaboard::server::access::principal::Role::Member)
        .await;
    user(&app, "ana@acme.example", Some("acme"), UserRole::Member).await;
    let now = unix_seconds(chrono::Utc::now());

    let idle = session_cookie(&app, "ana@acme.example").await;
    sqlx::query("update sessions set last_seen_at = $1")
        .bind(now - 61 * 60)
        .execute(app.db.pool())
        .await
        .expect("update");
    assert_eq!(
        get_with_cookie(&app, "/api/v1/user", &idle).await.0,
        401,
        "idle for 61 minutes"
    );

    let old = session_cookie(&app, "ana@acme.example").await;
    sqlx::query(
        "update sessions set expires_at = $1 where revoked_at is null and last_seen_at > $2",
    )
    .bind(now - 1)
    .bind(now - 60)
    .execute(app.db.pool())
    .await
    .expect("update");
    assert_eq!(
        get_with_cookie(&app, "/api/v1/user", &old).await.0,
        401,
        "past its absolute end"
    );
}

async fn a_platform_admin_session_acts_for_no_organization(app: TestApp) {
    user(
        &app,
        "ops@quotaboard.example",
        None,
        UserRole::PlatformAdmin,
    )
    .await;
    let cookie = session_cookie(&app, "ops@quotaboard.example").await;

    let (status, body) = get_with_cookie(&app, "/api/billing/usage", &cookie).await;

    assert_eq!((status, &body["error"]["code"]), (403, &json!("FORBIDDEN")));
}

crate::on_both_backends!(
    a_user_signs_in_uses_the_api_with_the_cookie_and_signs_out,
    wrong_credentials_are_refused_alike_and_each_sign_in_is_a_new_session,
    sessions_end_when_idle_or_too_old,
    a_platform_admin_session_acts_for_no_organization,
);
