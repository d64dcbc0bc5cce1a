//! Abuse limits: request rates per key and per address, failed sign-ins, body sizes and
//! slow requests each get a clear refusal, and nothing else is slowed down.

use std::time::Duration;

use futures::StreamExt as _;
use leptos::server_fn::ServerFn;

use quotaboard::{
    api::usage::GetUsageSummary,
    server::{access::principal::Role, access::users::UserRole, process::demo},
};
use serde_json::{json, Value};

use crate::helpers::{on_backend, spawn_app_with, Backend, TestApp, TEST_PASSWORD};

/// Runs `test` on SQLite with these settings: the limits live in the server, not the
/// database, so one engine shows them.
async fn with_settings<F, Fut>(overrides: &[(&str, &str)], test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let app = spawn_app_with(Backend::Sqlite, overrides)
        .await
        .expect("SQLite app");
    test(app).await;
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds")
}

/// Sends `GET path` with `key` until the server answers 429; the 429 and how many passed.
async fn until_refused(app: &TestApp, path: &str, key: Option<&str>) -> (reqwest::Response, usize) {
    for passed in 0..100 {
        let mut request = app.client.get(app.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("request");
        if response.status() == 429 {
            return (response, passed);
        }
        assert_eq!(response.status(), 200, "{path}");
    }
    panic!("{path}: never refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_over_its_rate_gets_429_with_retry_after_in_the_endpoints_shape() {
    with_settings(
        &[("QUOTABOARD_RATE_LIMIT_PER_KEY", "3")],
        |app| async move {
            let (org, key) = app.demo_key("acme", Role::Member).await;
            let other = quotaboard::server::access::api_keys::create(
                &app.db,
                org,
                Role::Member,
                "other",
                0,
            )
            .await
            .expect("key");

            let (refused, passed) = until_refused(&app, "/api/v1/user", Some(&key)).await;
            // A burst of twice the rate passes first.
            assert!((6..=8).contains(&passed), "{passed} passed");
            let wait = retry_after(&refused);
            assert!((1..=2).contains(&wait));
            let body: Value = refused.json().await.expect("json");
            assert_eq!(body["error"]["code"], "TOO_MANY_REQUESTS");

            // Seed 002's endpoint answers in its envelope.
            let response = app
                .client
                .get(app.url("/api/billing/usage"))
                .bearer_auth(&key)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 429);
            let body: Value = response.json().await.expect("json");
            assert_eq!(body["success"], false);
            assert_eq!(body["error"]["code"], "TOO_MANY_REQUESTS");

            // Another key of the same organization is not slowed down, and the key recovers.
            let (status, _) = app.get_json("/api/v1/user", Some(&other)).await;
            assert_eq!(status, 200);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            let (status, _) = app.get_json("/api/v1/user", Some(&key)).await;
            assert_eq!(status, 200);
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_address_over_its_rate_gets_429_but_static_files_and_healthz_stay_free() {
    with_settings(
        &[("QUOTABOARD_RATE_LIMIT_PER_ADDRESS", "2")],
        |app| async move {
            let (refused, passed) = until_refused(&app, "/login", None).await;
            assert!((4..=6).contains(&passed), "{passed} passed");
            assert!(retry_after(&refused) >= 1);

            // (The test server has no built site: static files answer 404, but never 429.)
            for path in ["/healthz", "/favicon.svg", "/pkg/quotaboard.js"] {
                for _ in 0..10 {
                    assert_ne!(app.get(path).await.status(), 429, "{path}");
                }
            }
        },
    )
    .await;
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("sign-in request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_account_that_failed_too_often_must_wait_even_with_the_right_password() {
    with_settings(
        &[("QUOTABOARD_SIGN_IN_FAILURES_PER_ACCOUNT", "3")],
        |app| async move {
            app.organization("acme").await;
            app.signed_in("acme", UserRole::Member).await;
            let email = "member.acme@test.example";
            for _ in 0..3 {
                assert_eq!(sign_in(&app, email, "wrong password").await.status(), 401);
            }

            let refused = sign_in(&app, email, TEST_PASSWORD).await;
            assert_eq!(refused.status(), 429);
            assert!(
                retry_after(&refused) > 14 * 60,
                "the failures age out in 15 minutes"
            );
            assert!(refused.headers().get("set-cookie").is_none());

            // The form says why instead of "wrong password".
            let form = app
                .post_form(
                    "/login",
                    &format!("email={email}&password=x&next=%2Fusage"),
                    &[],
                )
                .await;
            assert_eq!(form.status(), 303);
            assert_eq!(
                form.headers()["location"],
                "/login?next=%2Fusage&error=throttled"
            );

            // Other accounts are not locked out with it.
            app.signed_in("acme", UserRole::Admin).await;
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_address_that_fails_across_accounts_is_stopped() {
    with_settings(
        &[("QUOTABOARD_SIGN_IN_FAILURES_PER_ADDRESS", "4")],
        |app| async move {
            app.organization("acme").await;
            app.signed_in("acme", UserRole::Member).await;
            for n in 0..4 {
                let email = format!("guess{n}@test.example");
                assert_eq!(sign_in(&app, &email, "guess").await.status(), 401);
            }
            let refused = sign_in(&app, "member.acme@test.example", TEST_PASSWORD).await;
            assert_eq!(refused.status(), 429);
        },
    )
    .await;
}

/// A 50 MB body is refused before it is read, in each family's shape.
async fn a_50_mb_body_is_413_everywhere(app: TestApp) {
    let (_, key) = app.demo_key("acme", Role::Admin).await;
    let cookie = app
        .session_cookie("admin@acme.example", demo::DEMO_PASSWORD)
        .await;
    let body = vec![b' '; 50 * 1024 * 1024];
    for path in [
        "/api/v1/events",
        "/api/v1/domains",
        GetUsageSummary::PATH,
        "/login",
    ] {
        let response = app
            .client
            .post(app.url(path))
            .bearer_auth(&key)
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        // The server may close the connection while the client is still sending.
        if let Ok(response) = response {
            assert_eq!(response.status(), 413, "{path}");
            let error: Value = response.json().await.expect("error body");
            assert_eq!(error["error"]["code"], "PAYLOAD_TOO_LARGE", "{path}");
        }
    }
    let (status, _) = app.get_json("/api/v1/user", Some(&key)).await;
    assert_eq!(status, 200, "the server goes on serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_50_mb_body_is_413_everywhere_sqlite() {
    on_backend(Backend::Sqlite, a_50_mb_body_is_413_everywhere).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_that_stalls_past_the_timeout_gets_503() {
    with_settings(
        &[("QUOTABOARD_REQUEST_TIMEOUT_SECONDS", "1")],
        |app| async move {
            let (_, key) = app.demo_key("acme", Role::Admin).await;
            // A body that sends its first bytes, then nothing for 3 s.
            let stalled =
                futures::stream::once(async { Ok::<_, std::io::Error>("{\"events\": [") }).chain(
                    futures::stream::once(async {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        Ok("]}")
                    }),
                );
            let started = std::time::Instant::now();
            let response = app
                .client
                .post(app.url("/api/v1/events"))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(stalled))
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 503);
            assert!(started.elapsed() < Duration::from_secs(3));

            // The live stream is meant to outlast the timeout.
            let mut stream = app
                .client
                .get(app.url("/api/v1/usage/stream"))
                .bearer_auth(&key)
                .send()
                .await
                .expect("stream");
            assert_eq!(stream.status(), 200);
            let opened = stream.chunk().await.expect("chunk").expect("ready event");
            assert!(String::from_utf8_lossy(&opened).contains("ready"));
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            app.client
                .post(app.url("/api/v1/events"))
                .bearer_auth(&key)
                .json(&json!({"events": [{"id": "late", "metric": "apiCalls"}]}))
                .send()
                .await
                .expect("ingest");
            let told = stream.chunk().await.expect("chunk").expect("still open");
            assert!(String::from_utf8_lossy(&told).contains("usage"));
        },
    )
    .await;
}

/// `GET path` with a made-up `x-api-key` each time until 429: how many were answered 401
/// first.
async fn made_up_keys_until_refused(app: &TestApp, path: &str) -> usize {
    for passed in 0..100 {
        let response = app
            .client
            .get(app.url(path))
            .header("x-api-key", format!("qb_madeup{passed}_{}", "x".repeat(40)))
            .send()
            .await
            .expect("request");
        match response.status().as_u16() {
            429 => return passed,
            401 => {}
            other => panic!("{path}: {other}"),
        }
    }
    panic!("{path}: made-up keys were never refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn made_up_keys_are_answered_401_and_counted_against_the_address() {
    with_settings(
        &[("QUOTABOARD_RATE_LIMIT_PER_ADDRESS", "2")],
        |app| async move {
            // In the endpoint's shape, before any work.
            let (status, body) = app.get_json("/api/v1/user", Some("qb_nosuchkey")).await;
            assert_eq!(status, 401);
            assert_eq!(body["error"]["code"], "UNAUTHORIZED");
            // The flood of made-up keys meets the address's limit like a keyless one.
            let passed = made_up_keys_until_refused(&app, "/login").await;
            assert!(passed <= 5, "{passed} made-up keys answered before 429");
            let keyless = app.get("/login").await;
            assert_eq!(keyless.status(), 429, "the address is out of requests");
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn more_keys_do_not_mean_more_capacity() {
    with_settings(
        &[
            ("QUOTABOARD_RATE_LIMIT_PER_KEY", "100"),
            ("QUOTABOARD_RATE_LIMIT_PER_ORGANIZATION", "2"),
        ],
        |app| async move {
            let (org, first) = app.demo_key("acme", Role::Member).await;
            let mut keys = vec![first];
            for n in 0..4 {
                let key = quotaboard::server::access::api_keys::create(
                    &app.db,
                    org,
                    Role::Member,
                    &format!("minted {n}"),
                    0,
                )
                .await
                .expect("key");
                keys.push(key);
            }
            let mut answered = 0;
            for n in 0..100 {
                let (status, _) = app
                    .get_json("/api/v1/user", Some(&keys[n % keys.len()]))
                    .await;
                if status == 429 {
                    break;
                }
                assert_eq!(status, 200);
                answered += 1;
            }
            assert!(
                (4..=6).contains(&answered),
                "{answered} answered over five keys of one organization"
            );
            // Another organization has its own budget.
            let (_, other) = app.demo_key("initech", Role::Member).await;
            let (status, _) = app.get_json("/api/v1/user", Some(&other)).await;
            assert_eq!(status, 200);
        },
    )
    .await;
}

async fn sign_in_from(
    app: &TestApp,
    address: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/sessions"))
        .header("x-forwarded-for", address)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("sign-in request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_strangers_wrong_passwords_do_not_stop_the_owner_signing_in_from_a_clean_address() {
    with_settings(
        &[
            ("QUOTABOARD_CLIENT_IP_HEADER", "x-forwarded-for"),
            ("QUOTABOARD_SIGN_IN_FAILURES_PER_ACCOUNT", "3"),
            ("QUOTABOARD_SIGN_IN_FAILURES_PER_ACCOUNT_TOTAL", "6"),
        ],
        |app| async move {
            app.organization("acme").await;
            app.signed_in("acme", UserRole::Admin).await;
            let email = "admin.acme@test.example";
            // A stranger guesses from one address until refused there ...
            for _ in 0..3 {
                let guess = sign_in_from(&app, "203.0.113.1", email, "guess").await;
                assert_eq!(guess.status(), 401);
            }
            let refused = sign_in_from(&app, "203.0.113.1", email, TEST_PASSWORD).await;
            assert_eq!(refused.status(), 429, "the stranger's address is stopped");
            // ... then from more addresses, past the account's ceiling.
            for host in 2..=4 {
                let address = format!("203.0.113.{host}");
                sign_in_from(&app, &address, email, "guess").await;
            }
            let refused = sign_in_from(&app, "203.0.113.2", email, TEST_PASSWORD).await;
            assert_eq!(refused.status(), 429, "addresses that failed are stopped");
            // The owner, from an address that has not failed, signs in.
            let owner = sign_in_from(&app, "198.51.100.7", email, TEST_PASSWORD).await;
            assert_eq!(owner.status(), 201, "{:?}", owner.text().await);
        },
    )
    .await;
}

/// Peak resident memory (`VmHWM`) of process `pid`, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_run_only_the_allowed_checks_in_bounded_memory() {
    let app = spawn_app_with(Backend::Sqlite, &[])
        .await
        .expect("SQLite app");
    app.organization("acme").await;
    app.signed_in("acme", UserRole::Member).await;
    let port = crate::helpers::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = crate::helpers::start_server(
        &app.database_url,
        port,
        &[("QUOTABOARD_CLIENT_IP_HEADER", "x-forwarded-for")],
    );
    crate::helpers::wait_until_healthy(&app.client, &base).await;
    let pid = server.id().expect("pid");

    let attempt = |email: String, address: String| {
        let (client, base) = (app.client.clone(), base.clone());
        tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/sessions"))
                .header("x-forwarded-for", address)
                .json(&json!({"email": email, "password": "wrong password"}))
                .send()
                .await
                .expect("answer")
                .status()
                .as_u16()
        })
    };
    // 50 at once for one account from one address: ten are checked, forty refused first.
    let wave: Vec<_> = (0..50)
        .map(|_| attempt("member.acme@test.example".into(), "203.0.113.9".into()))
        .collect();
    let mut statuses = Vec::new();
    for answer in wave {
        statuses.push(answer.await.expect("join"));
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (10, 40), "{statuses:?}");

    // 50 at once for 50 accounts from 50 addresses: each is allowed, but the checks run a
    // few at a time and the rest wait or are refused, never all at once.
    let wave: Vec<_> = (0..50)
        .map(|n| attempt(format!("guess{n}@test.example"), format!("198.51.100.{n}")))
        .collect();
    for answer in wave {
        let status = answer.await.expect("join");
        assert!(status == 401 || status == 429, "{status}");
    }
    let peak = peak_rss_mib(pid);
    assert!(peak < 300, "peak RSS {peak} MiB");
    server.kill().await.expect("kill");
}
