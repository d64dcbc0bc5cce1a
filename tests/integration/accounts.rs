//! A user's account over its life: changing the password, signing out everywhere, the
//! operator disabling and enabling a user, ended sessions purged, and open usage streams
//! closed when their key or session ends; on both engines.

use std::time::Duration;

use leptos::server_fn::ServerFn;
use quotaboard::{
    api::{
        account::ChangePassword,
        users::{ListUsers, SetUserDisabled},
    },
    server::{
        access::principal::Role,
        access::sessions,
        access::users::{self, UserRole},
        db::unix_seconds,
    },
};
use serde_json::{json, Value};

use crate::helpers::{TestApp, TEST_PASSWORD};

const NEW_PASSWORD: &str = "a new and longer password";

async fn user(app: &TestApp, email: &str, organization: Option<&str>, role: UserRole) -> i64 {
    app.load_demo().await;
    users::create(&app.db, email, TEST_PASSWORD, organization, role, 0)
        .await
        .expect("user")
}

async fn sign_in_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.client
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("sign-in")
        .status()
        .as_u16()
}

async fn whoami(app: &TestApp, cookie: &str) -> u16 {
    app.get_with_cookie("/api/v1/user", cookie)
        .await
        .status()
        .as_u16()
}

async fn change_password(app: &TestApp, cookie: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = app.client.put(app.url("/api/v1/user/password")).json(&body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("PUT password");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn a_password_change_ends_the_users_other_sessions_and_keeps_this_one(app: TestApp) {
    user(&app, "ana@acme.example", Some("acme"), UserRole::Admin).await;
    user(&app, "bea@acme.example", Some("acme"), UserRole::Member).await;
    let this = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let other = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let someone_else = app.session_cookie("bea@acme.example", TEST_PASSWORD).await;

    let wrong = change_password(
        &app,
        Some(&this),
        json!({"currentPassword": "not the password", "newPassword": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(
        (wrong.0, &wrong.1["error"]["code"]),
        (400, &json!("BAD_REQUEST"))
    );
    let short = change_password(
        &app,
        Some(&this),
        json!({"currentPassword": TEST_PASSWORD, "newPassword": "short"}),
    )
    .await;
    assert_eq!(short.0, 400, "{}", short.1);
    let (_, key) = app.demo_key("acme", Role::Admin).await;
    let by_key = app
        .client
        .put(app.url("/api/v1/user/password"))
        .header("x-api-key", key)
        .json(&json!({"currentPassword": TEST_PASSWORD, "newPassword": NEW_PASSWORD}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(by_key.status(), 401, "a key has no password");
    assert_eq!(
        whoami(&app, &other).await,
        200,
        "refused changes end nothing"
    );

    let changed = change_password(
        &app,
        Some(&this),
        json!({"currentPassword": TEST_PASSWORD, "newPassword": NEW_PASSWORD}),
    )
    .await;

    assert_eq!(changed.0, 204, "{}", changed.1);
    assert_eq!(
        whoami(&app, &this).await,
        200,
        "the session that changed it stays"
    );
    assert_eq!(whoami(&app, &other).await, 401, "every other session ends");
    assert_eq!(whoami(&app, &someone_else).await, 200, "other users' stay");
    assert_eq!(
        sign_in_status(&app, "ana@acme.example", TEST_PASSWORD).await,
        401
    );
    assert_eq!(
        sign_in_status(&app, "ana@acme.example", NEW_PASSWORD).await,
        201
    );

    // The dashboard's form: the repetition must match, then the same rule applies.
    let form = |current: &str, new: &str, repeat: &str| {
        format!(
            "current_password={}&new_password={}&repeat_password={}",
            urlencode(current),
            urlencode(new),
            urlencode(repeat)
        )
    };
    let fresh = app.session_cookie("ana@acme.example", NEW_PASSWORD).await;
    let mismatch = app
        .call_server_fn(
            ChangePassword::PATH,
            &form(NEW_PASSWORD, TEST_PASSWORD, "something else"),
            Some(&this),
        )
        .await;
    assert_eq!(mismatch.status(), 400);
    assert_eq!(whoami(&app, &fresh).await, 200);
    let back = app
        .call_server_fn(
            ChangePassword::PATH,
            &form(NEW_PASSWORD, TEST_PASSWORD, TEST_PASSWORD),
            Some(&this),
        )
        .await;
    assert_eq!(
        back.status(),
        200,
        "{}",
        back.text().await.unwrap_or_default()
    );
    assert_eq!(whoami(&app, &fresh).await, 401);
    assert_eq!(whoami(&app, &this).await, 200);
    assert_eq!(
        sign_in_status(&app, "ana@acme.example", TEST_PASSWORD).await,
        201
    );
}

/// Wrong current passwords count as failed sign-ins of the account: a stolen session
/// cannot try passwords faster than the sign-in form allows.
async fn wrong_current_passwords_are_throttled_like_sign_ins(app: TestApp) {
    user(&app, "ana@acme.example", Some("acme"), UserRole::Admin).await;
    let cookie = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let mut statuses = Vec::new();
    for attempt in 0..12 {
        let (status, _) = change_password(
            &app,
            Some(&cookie),
            json!({"currentPassword": format!("guess {attempt}"), "newPassword": NEW_PASSWORD}),
        )
        .await;
        statuses.push(status);
    }
    assert_eq!(statuses[..10], [400; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 2], "{statuses:?}");
}

async fn signing_out_everywhere_ends_every_session_of_the_user_only(app: TestApp) {
    user(&app, "ana@acme.example", Some("acme"), UserRole::Admin).await;
    user(&app, "bea@acme.example", Some("acme"), UserRole::Member).await;
    let laptop = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let phone = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let someone_else = app.session_cookie("bea@acme.example", TEST_PASSWORD).await;

    let response = app
        .client
        .delete(app.url("/api/v1/sessions"))
        .header("cookie", &laptop)
        .send()
        .await
        .expect("DELETE");

    assert_eq!(response.status(), 204);
    let cleared = response.headers()["set-cookie"].to_str().expect("ascii");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(whoami(&app, &laptop).await, 401);
    assert_eq!(whoami(&app, &phone).await, 401);
    assert_eq!(whoami(&app, &someone_else).await, 200);
    let again = app
        .client
        .delete(app.url("/api/v1/sessions"))
        .header("cookie", &laptop)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(again.status(), 401);

    // The account page's button: a plain form post, then the sign-in page.
    let tablet = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let desk = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let form = app
        .post_form("/logout-everywhere", "", &[("cookie", &tablet)])
        .await;
    assert_eq!(form.status(), 303);
    assert_eq!(form.headers()["location"], "/login");
    assert_eq!(whoami(&app, &tablet).await, 401);
    assert_eq!(whoami(&app, &desk).await, 401);
    assert_eq!(whoami(&app, &someone_else).await, 200);
}

fn disable_body(id: i64, disabled: bool) -> String {
    format!("id={id}&disabled={disabled}")
}

async fn the_operator_disables_a_user_who_is_signed_out_at_once_until_enabled(app: TestApp) {
    let operator_id = user(
        &app,
        "ops@quotaboard.example",
        None,
        UserRole::PlatformAdmin,
    )
    .await;
    let ana = user(&app, "ana@acme.example", Some("acme"), UserRole::Admin).await;
    let operator = app
        .session_cookie("ops@quotaboard.example", TEST_PASSWORD)
        .await;
    let session = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let (_, key) = app.demo_key("acme", Role::Admin).await;

    let by_ana = app
        .call_server_fn(
            SetUserDisabled::PATH,
            &disable_body(ana, true),
            Some(&session),
        )
        .await;
    assert_eq!(by_ana.status(), 403, "only the operator disables users");
    let themselves = app
        .call_server_fn(
            SetUserDisabled::PATH,
            &disable_body(operator_id, true),
            Some(&operator),
        )
        .await;
    assert_eq!(
        themselves.status(),
        400,
        "the operator cannot lock themselves out"
    );
    let nobody = app
        .call_server_fn(
            SetUserDisabled::PATH,
            &disable_body(999_999, true),
            Some(&operator),
        )
        .await;
    assert_eq!(nobody.status(), 404);

    let disabled = app
        .call_server_fn(
            SetUserDisabled::PATH,
            &disable_body(ana, true),
            Some(&operator),
        )
        .await;

    assert_eq!(disabled.status(), 200);
    assert_eq!(
        whoami(&app, &session).await,
        401,
        "their session ended at once"
    );
    assert_eq!(
        sign_in_status(&app, "ana@acme.example", TEST_PASSWORD).await,
        401,
        "answered as a wrong password"
    );
    let (status, _) = app.get_json("/api/v1/user", Some(&key)).await;
    assert_eq!(status, 200, "the organization's keys keep working");
    let listed = app
        .call_server_fn(ListUsers::PATH, "search=ana%40", Some(&operator))
        .await;
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.expect("json");
    assert_eq!(
        listed["users"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    assert_eq!(listed["users"][0]["email"], "ana@acme.example");
    assert_eq!(listed["users"][0]["disabled"], true);
    assert_eq!(
        listed["users"][0]["organizations"],
        json!([["Acme Cloud", "admin"]]),
        "{listed}"
    );
    let audited: Vec<(String, String)> =
        sqlx::query_as("select entity, after from audit_events where entity = 'user' order by id")
            .fetch_all(app.db.pool())
            .await
            .expect("audit");
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert!(audited[0].1.contains("true"), "{audited:?}");

    let enabled = app
        .call_server_fn(
            SetUserDisabled::PATH,
            &disable_body(ana, false),
            Some(&operator),
        )
        .await;
    assert_eq!(enabled.status(), 200);
    assert_eq!(
        sign_in_status(&app, "ana@acme.example", TEST_PASSWORD).await,
        201
    );
    let members_list = app
        .call_server_fn(ListUsers::PATH, "search=", Some(&session))
        .await;
    assert_eq!(members_list.status(), 401, "the ended session stays ended");
}

async fn ended_sessions_are_purged_and_live_ones_kept(app: TestApp) {
    user(&app, "ana@acme.example", Some("acme"), UserRole::Admin).await;
    let live = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let signed_out = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let expired = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let idle = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let response = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .header("cookie", &signed_out)
        .send()
        .await
        .expect("sign out");
    assert_eq!(response.status(), 204);
    let now = unix_seconds(chrono::Utc::now());
    let hash_of = |cookie: &str| {
        use sha2::Digest;
        let token = cookie.split_once('=').map(|(_, t)| t).unwrap_or_default();
        hex::encode(sha2::Sha256::digest(token.as_bytes()))
    };
    sqlx::query("update sessions set expires_at = $1 where token_hash = $2")
        .bind(now - 1)
        .bind(hash_of(&expired))
        .execute(app.db.pool())
        .await
        .expect("expire");
    sqlx::query("update sessions set last_seen_at = $1 where token_hash = $2")
        .bind(now - 24 * 3600)
        .bind(hash_of(&idle))
        .execute(app.db.pool())
        .await
        .expect("idle");

    let purged = sessions::purge_ended(&app.db, &app.state.settings.session, now)
        .await
        .expect("purge");

    assert_eq!(purged, 3);
    let left: Vec<String> = sqlx::query_scalar("select token_hash from sessions")
        .fetch_all(app.db.pool())
        .await
        .expect("sessions");
    assert_eq!(left, [hash_of(&live)]);
    assert_eq!(whoami(&app, &live).await, 200);
}

/// Reads the stream until `needle` arrives (true) or 5 s pass.
async fn read_until(stream: &mut reqwest::Response, needle: &str) -> bool {
    let mut received = String::new();
    tokio::time::timeout(Duration::from_secs(5), async {
        while !received.contains(needle) {
            match stream.chunk().await {
                Ok(Some(chunk)) => received.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return false,
            }
        }
        true
    })
    .await
    .unwrap_or(false)
}

/// True when the server ends the stream within `within`.
async fn ends_within(stream: &mut reqwest::Response, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        loop {
            match stream.chunk().await {
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => return,
            }
        }
    })
    .await
    .is_ok()
}

async fn open_stream(app: &TestApp, header: (&str, &str)) -> reqwest::Response {
    let mut stream = app
        .client
        .get(app.url("/api/v1/usage/stream"))
        .header(header.0, header.1)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    assert!(read_until(&mut stream, "event: ready").await);
    stream
}

async fn an_open_stream_ends_when_its_key_is_revoked_or_its_session_ends(app: TestApp) {
    let (_, admin) = app.demo_key("acme", Role::Admin).await;
    let created: Value = app
        .client
        .post(app.url("/api/v1/api-keys"))
        .header("x-api-key", &admin)
        .json(&json!({"name": "dashboard on the wall"}))
        .send()
        .await
        .expect("create key")
        .json()
        .await
        .expect("json");
    let key = created["key"].as_str().expect("secret").to_string();
    let mut by_key = open_stream(&app, ("x-api-key", &key)).await;
    let mut by_other_key = open_stream(&app, ("x-api-key", &admin)).await;

    let revoked = app
        .client
        .delete(app.url(&format!(
            "/api/v1/api-keys/{}",
            created["id"].as_str().expect("id")
        )))
        .header("x-api-key", &admin)
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 204);

    assert!(
        ends_within(&mut by_key, Duration::from_secs(3)).await,
        "revoked key's stream"
    );
    assert!(
        !ends_within(&mut by_other_key, Duration::from_millis(500)).await,
        "another key's stream stays open"
    );

    user(&app, "ana@acme.example", Some("acme"), UserRole::Admin).await;
    let signing_out = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let disabled_later = app.session_cookie("ana@acme.example", TEST_PASSWORD).await;
    let mut by_session = open_stream(&app, ("cookie", &signing_out)).await;
    let mut by_other_session = open_stream(&app, ("cookie", &disabled_later)).await;
    let signed_out = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .header("cookie", &signing_out)
        .send()
        .await
        .expect("sign out");
    assert_eq!(signed_out.status(), 204);
    assert!(
        ends_within(&mut by_session, Duration::from_secs(3)).await,
        "signed-out stream"
    );
    assert!(
        !ends_within(&mut by_other_session, Duration::from_millis(500)).await,
        "the user's other session still streams"
    );

    user(
        &app,
        "ops@quotaboard.example",
        None,
        UserRole::PlatformAdmin,
    )
    .await;
    let operator = app
        .session_cookie("ops@quotaboard.example", TEST_PASSWORD)
        .await;
    let ana: i64 = sqlx::query_scalar("select id from users where email = 'ana@acme.example'")
        .fetch_one(app.db.pool())
        .await
        .expect("ana");
    let disabled = app
        .call_server_fn(
            SetUserDisabled::PATH,
            &disable_body(ana, true),
            Some(&operator),
        )
        .await;
    assert_eq!(disabled.status(), 200);
    assert!(
        ends_within(&mut by_other_session, Duration::from_secs(3)).await,
        "a disabled user's stream"
    );
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

crate::on_both_backends!(
    a_password_change_ends_the_users_other_sessions_and_keeps_this_one,
    wrong_current_passwords_are_throttled_like_sign_ins,
    signing_out_everywhere_ends_every_session_of_the_user_only,
    the_operator_disables_a_user_who_is_signed_out_at_once_until_enabled,
    ended_sessions_are_purged_and_live_ones_kept,
    an_open_stream_ends_when_its_key_is_revoked_or_its_session_ends,
);
