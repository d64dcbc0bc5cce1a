//! Several servers on one PostgreSQL database: sessions and live updates work across them,
//! as behind a load balancer.

use std::time::Duration;

use quotaboard::server::{access::principal::Role, process::demo};

use serde_json::Value;

use crate::helpers::{spawn_app_with, Backend, TestApp, LONG_READ_CACHE};

/// Reads `stream` into `received` until it holds `needle` or `within` has passed.
async fn read_until(
    stream: &mut reqwest::Response,
    received: &mut String,
    needle: &str,
    within: Duration,
) -> bool {
    tokio::time::timeout(within, async {
        while !received.contains(needle) {
            let chunk = stream.chunk().await.expect("chunk").expect("open stream");
            received.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .is_ok()
}

/// The emails `server` counts for the key's organization this period (seed 002's endpoint).
async fn emails_used(app: &TestApp, server: &str, key: &str) -> Value {
    let response = app
        .client
        .get(format!("{server}/api/billing/usage?metrics=emails"))
        .header("x-api-key", key)
        .send()
        .await
        .expect("usage");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["data"]["metrics"]["emails"]["used"].clone()
}

/// Opens `server`'s live stream for the session `cookie`, once it says it is ready.
async fn open_stream(app: &TestApp, server: &str, cookie: &str) -> (reqwest::Response, String) {
    let mut stream = app
        .client
        .get(format!("{server}/api/v1/usage/stream"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("the stream");
    assert_eq!(stream.status(), 200);
    let mut received = String::new();
    assert!(
        read_until(
            &mut stream,
            &mut received,
            "event: ready",
            Duration::from_secs(5)
        )
        .await
    );
    (stream, received)
}

/// Ingests one email at a time through A until `stream`, open on another server, hears of
/// it: that server's relay may still be connecting. Gives up after 20 (10 s); how many it sent.
async fn ingest_until_heard(
    app: &TestApp,
    key: &str,
    organization: i64,
    stream: &mut reqwest::Response,
    received: &mut String,
) -> u64 {
    let announced = format!("event: usage\ndata: {{\"organizationId\":\"{organization}\"}}");
    let mut sent = 0;
    while !received.contains(&announced) && sent < 20 {
        sent += 1;
        let ingested = app
            .client
            .post(app.url("/api/v1/events"))
            .header("x-api-key", key)
            .json(&serde_json::json!({"events": [{"id": format!("two-servers-{sent}"), "metric": "emails"}]}))
            .send()
            .await
            .expect("ingest through A");
        assert_eq!(ingested.status(), 200);
        read_until(stream, received, &announced, Duration::from_millis(500)).await;
    }
    assert!(
        received.contains(&announced),
        "the other server's page heard nothing: {received}"
    );
    sent
}

/// Both servers keep reads for a minute: only the announcement can outdate B's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_ingested_through_one_server_reaches_a_page_open_on_another() {
    let Some(app) = spawn_app_with(Backend::Postgres, &[LONG_READ_CACHE]).await else {
        eprintln!("TEST_DATABASE_URL not set: Postgres variant not run");
        return;
    };
    {
        let (acme, key) = app.demo_key("acme", Role::Admin).await;
        let b = app.second_server(&[LONG_READ_CACHE]).await;
        // B reads (and caches) the usage before anything is ingested.
        let before = emails_used(&app, &b, &key).await;
        let before = before.as_u64().expect("a whole number of emails");
        assert_eq!(emails_used(&app, &b, &key).await, before);

        // Signed in through A, the session works on B: sessions live in the database.
        let cookie = app
            .session_cookie("admin@acme.example", demo::DEMO_PASSWORD)
            .await;
        let page = app
            .client
            .get(format!("{b}/usage"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("B's usage page");
        assert_eq!(page.status(), 200);

        let (mut stream, mut received) = open_stream(&app, &b, &cookie).await;

        let sent = ingest_until_heard(&app, &key, acme, &mut stream, &mut received).await;

        // What B had cached is outdated by the announcement: B counts every event sent.
        assert_eq!(emails_used(&app, &b, &key).await, before + sent);
        assert_eq!(
            emails_used(&app, app.address.as_str(), &key).await,
            before + sent
        );
    }
}

/// Both servers keep sessions for a minute: only the announcement can end B's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_signed_out_through_one_server_is_refused_by_another_at_once() {
    let Some(app) = spawn_app_with(Backend::Postgres, &[LONG_READ_CACHE]).await else {
        eprintln!("TEST_DATABASE_URL not set: Postgres variant not run");
        return;
    };
    {
        // Arrange: both servers have read (and kept) the session, and B's relay listens.
        let (acme, key) = app.demo_key("acme", Role::Admin).await;
        let b = app.second_server(&[LONG_READ_CACHE]).await;
        let cookie = app
            .session_cookie("member@acme.example", demo::DEMO_PASSWORD)
            .await;
        let page = |server: String| {
            let request = app
                .client
                .get(format!("{server}/usage"))
                .header("cookie", &cookie);
            async move { request.send().await.expect("a usage page").status() }
        };
        assert_eq!(page(app.address.clone()).await, 200);
        assert_eq!(page(b.clone()).await, 200);
        let (mut stream, mut received) = open_stream(&app, &b, &cookie).await;
        ingest_until_heard(&app, &key, acme, &mut stream, &mut received).await;

        // Act: sign out through A.
        let signed_out = app
            .client
            .delete(app.url("/api/v1/sessions/current"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("sign-out through A");
        assert_eq!(signed_out.status(), 204);

        // Assert: A refuses the session at once; B as soon as the notification arrives.
        assert_ne!(page(app.address.clone()).await, 200);
        let refused = tokio::time::timeout(Duration::from_secs(5), async {
            while page(b.clone()).await == 200 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(refused.is_ok(), "B still serves the signed-out session");
    }
}
