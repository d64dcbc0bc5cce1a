//! Threshold alerts: queued once per webhook, metric, period and threshold however
//! ingestion races, signed as documented, retried until the receiver takes them, and kept
//! in the database across a restart. On both engines.

use std::{
    collections::BTreeSet,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post, Router};
use chrono::{Datelike, Utc};
use hmac::{Hmac, Mac};
use quotaboard::{
    domain::{aggregation::PeriodDelta, quantity::Quantity},
    server::{
        access::api_keys,
        access::audit::Actor,
        access::principal::Role,
        alerting::webhooks,
        db::{deliveries, organizations, usage},
        metering::alerts,
    },
};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::net::TcpListener;

use crate::helpers::TestApp;

/// What a webhook receiver got: each request's signature header and raw body.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<(String, String)>>>,
    /// Statuses to answer with, in order; 200 once they run out.
    script: Arc<Mutex<Vec<u16>>>,
    /// How long each answer takes, after the delivery is recorded as received.
    delay: Duration,
}

impl Receiver {
    /// Listens on a free port; returns the receiver and its URL.
    async fn start(script: &[u16]) -> (Receiver, String) {
        Receiver::start_answering_after(script, Duration::ZERO).await
    }

    /// [`Receiver::start`], answering each delivery `delay` after it arrives.
    async fn start_answering_after(script: &[u16], delay: Duration) -> (Receiver, String) {
        let receiver = Receiver {
            received: Arc::default(),
            script: Arc::new(Mutex::new(script.iter().rev().copied().collect())),
            delay,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "http://{}/hooks/quota",
            listener.local_addr().expect("address")
        );
        let app = Router::new()
            .route("/hooks/quota", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
        (receiver, url)
    }

    fn received(&self) -> Vec<(String, String)> {
        self.received.lock().expect("lock").clone()
    }

    /// The bodies received, as JSON.
    fn payloads(&self) -> Vec<Value> {
        self.received()
            .iter()
            .map(|(_, body)| serde_json::from_str(body).expect("JSON body"))
            .collect()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get("x-quotaboard-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    receiver
        .received
        .lock()
        .expect("lock")
        .push((signature, String::from_utf8_lossy(&body).into_owned()));
    let status = receiver.script.lock().expect("lock").pop().unwrap_or(200);
    tokio::time::sleep(receiver.delay).await;
    StatusCode::from_u16(status).expect("status")
}

/// Polls `condition` every 20 ms until it holds; fails after 15 s.
async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An organization whose plan includes 100 `apiCalls` a period, starting today (so
/// yesterday is in the previous period), with a webhook posting to `url` at the default
/// thresholds (75, 90, 100 %); returns an admin key and the webhook's secret.
async fn organization_with_webhook(app: &TestApp, url: &str) -> (String, String) {
    let organization = app.organization("acme").await;
    let metric = app.metric("apiCalls", "sum").await;
    let today = u8::try_from(Utc::now().day()).expect("day");
    let hundred = Quantity::parse(100.into()).expect("quantity");
    app.subscribe(
        organization,
        "acme",
        today,
        "0",
        &[(metric, Some(hundred), false, None)],
    )
    .await;
    let key = api_keys::create(&app.db, organization, Role::Admin, "test", 0)
        .await
        .expect("key");
    let draft = webhooks::Draft {
        url: url.into(),
        ..Default::default()
    };
    let (_, secret) = webhooks::create(&app.state, Actor::Cli, organization, draft)
        .await
        .expect("webhook");
    (key, secret)
}

/// Posts `count` events of 1 `apiCalls` at `at`, ids starting with `prefix`.
async fn ingest(app: &TestApp, key: &str, prefix: &str, count: usize, at: chrono::DateTime<Utc>) {
    let events: Vec<Value> = (0..count)
        .map(|i| json!({"id": format!("{prefix}-{i}"), "metric": "apiCalls", "quantity": 1, "timestamp": at.to_rfc3339()}))
        .collect();
    let response = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(key)
        .json(&json!({ "events": events }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

async fn queued(app: &TestApp) -> Vec<(String, String, i64)> {
    sqlx::query_as("select threshold, status, attempts from webhook_deliveries order by id")
        .fetch_all(app.db.pool())
        .await
        .expect("deliveries")
}

fn thresholds_of(payloads: &[Value]) -> BTreeSet<i64> {
    payloads
        .iter()
        .map(|p| p["data"]["threshold"].as_i64().expect("integer threshold"))
        .collect()
}

async fn each_threshold_fires_once_under_concurrent_ingestion_and_again_next_period(app: TestApp) {
    let (receiver, url) = Receiver::start(&[]).await;
    let (key, _) = organization_with_webhook(&app, &url).await;
    let now = Utc::now();

    // 16 clients race 10 events each: 160 % of the allowance, past all three thresholds.
    let clients: Vec<String> = (0..16).map(|client| format!("c{client}")).collect();
    let batches = clients
        .iter()
        .map(|client| ingest(&app, &key, client, 10, now));
    futures::future::join_all(batches).await;
    wait_until("three deliveries", || async {
        receiver.received().len() >= 3
    })
    .await;
    // Another batch in the same period reaches nothing new.
    ingest(&app, &key, "late", 5, now).await;
    wait_until("all delivered", || async {
        queued(&app)
            .await
            .iter()
            .all(|(_, status, _)| status == "delivered")
    })
    .await;

    let payloads = receiver.payloads();
    assert_eq!(payloads.len(), 3, "{payloads:#?}");
    assert_eq!(thresholds_of(&payloads), BTreeSet::from([75, 90, 100]));
    let ids: BTreeSet<&str> = payloads.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids.len(), 3, "each alert has its own id");

    // The previous period (yesterday) reaches 75 % on its own: one more alert, for it.
    ingest(&app, &key, "yesterday", 80, now - chrono::Duration::days(1)).await;
    wait_until("the previous period's alert", || async {
        receiver.received().len() >= 4
    })
    .await;
    let payloads = receiver.payloads();
    assert_eq!(payloads.len(), 4);
    let last = &payloads[3]["data"];
    assert_eq!(last["threshold"], 75);
    assert_eq!(last["used"], 80);
    assert_ne!(last["periodStart"], payloads[0]["data"]["periodStart"]);
    assert_eq!(last["periodEnd"], payloads[0]["data"]["periodStart"]);

    // The next period, as the server will see it once it has begun: 90 units reach 75 %
    // and 90 % again.
    let next_start = chrono::DateTime::parse_from_rfc3339(
        payloads[0]["data"]["periodEnd"]
            .as_str()
            .expect("periodEnd"),
    )
    .expect("RFC 3339")
    .with_timezone(&Utc);
    let organization = organizations::find_by_slug(app.db.pool(), "acme")
        .await
        .expect("query")
        .expect("acme")
        .id;
    let metric = usage::metric_id(app.db.pool(), "apiCalls")
        .await
        .expect("query")
        .expect("apiCalls");
    let ninety = Quantity::parse(90.into()).expect("quantity");
    app.add_usage(
        organization,
        metric,
        next_start.timestamp(),
        PeriodDelta::Add(ninety),
    )
    .await
    .expect("usage");
    let then = next_start + chrono::Duration::hours(1);
    let queued = alerts::check(&app.state, organization, &None, then)
        .await
        .expect("check");
    assert_eq!(queued, 2);
    wait_until("the next period's alerts", || async {
        receiver.received().len() >= 6
    })
    .await;
    let next: Vec<Value> = receiver.payloads().split_off(4);
    assert_eq!(thresholds_of(&next), BTreeSet::from([75, 90]));
    assert!(next
        .iter()
        .all(|p| p["data"]["periodStart"] == payloads[0]["data"]["periodEnd"]));
}

async fn deliveries_are_signed_with_the_documented_scheme(app: TestApp) {
    let (receiver, url) = Receiver::start(&[]).await;
    let (key, secret) = organization_with_webhook(&app, &url).await;

    ingest(&app, &key, "e", 76, Utc::now()).await;
    wait_until("a delivery", || async { !receiver.received().is_empty() }).await;

    let (header, body) = receiver.received()[0].clone();
    let (t, v1) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .expect("t=<seconds>,v1=<hex>");
    let t: i64 = t.parse().expect("unix seconds");
    assert!(
        (Utc::now().timestamp() - t).abs() < 60,
        "a current timestamp"
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&hex::decode(v1).expect("hex"))
        .expect("the signature verifies with the webhook's secret");

    let payload: Value = serde_json::from_str(&body).expect("JSON");
    assert!(payload["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(payload["type"], "usage.threshold_crossed");
    assert!(payload["createdAt"].as_str().is_some());
    let data = &payload["data"];
    assert_eq!(data["metric"], "apiCalls");
    assert_eq!(data["threshold"], 75);
    assert_eq!(data["percentage"], 76);
    assert_eq!(data["used"], 76);
    assert_eq!(data["included"], 100);
    assert!(data["organizationId"].as_str().is_some());
    for field in ["periodStart", "periodEnd"] {
        let text = data[field].as_str().expect(field);
        chrono::DateTime::parse_from_rfc3339(text).expect("RFC 3339");
    }
}

async fn a_receiver_failing_twice_gets_the_delivery_on_the_third_try(app: TestApp) {
    let (receiver, url) = Receiver::start(&[500, 503]).await;
    let (key, _) = organization_with_webhook(&app, &url).await;

    ingest(&app, &key, "e", 80, Utc::now()).await;
    wait_until("delivered", || async {
        queued(&app).await == vec![("75".to_string(), "delivered".to_string(), 3)]
    })
    .await;

    let received = receiver.received();
    assert_eq!(received.len(), 3, "two failures, then the delivery");
    assert!(
        received.iter().all(|(_, body)| *body == received[0].1),
        "every try sends the same body"
    );
}

async fn a_restart_loses_no_pending_delivery(mut app: TestApp) {
    let (receiver, url) = Receiver::start(&[500]).await;
    let (key, _) = organization_with_webhook(&app, &url).await;

    // The first try fails; the server dies before the retry.
    ingest(&app, &key, "e", 80, Utc::now()).await;
    wait_until("a failed try", || async { receiver.received().len() == 1 }).await;
    app.crash_deliveries();
    // And usage keeps arriving while no delivery task runs.
    ingest(&app, &key, "f", 15, Utc::now()).await;
    assert_eq!(
        queued(&app).await.len(),
        2,
        "75 % waits for a retry, 90 % is new"
    );
    assert_eq!(receiver.received().len(), 1);

    app.restart_deliveries().await;
    wait_until("both delivered", || async {
        queued(&app)
            .await
            .iter()
            .all(|(_, status, _)| status == "delivered")
    })
    .await;
    assert_eq!(
        thresholds_of(&receiver.payloads()),
        BTreeSet::from([75, 90])
    );
    assert_eq!(receiver.received().len(), 3);
}

/// What a server does at SIGTERM once its last request is answered: the delivery task is
/// told to stop, and a delivery under way is finished and recorded before it does.
async fn stopping_finishes_the_delivery_under_way(mut app: TestApp) {
    let (receiver, url) = Receiver::start_answering_after(&[], Duration::from_secs(1)).await;
    let (key, _) = organization_with_webhook(&app, &url).await;
    ingest(&app, &key, "e", 80, Utc::now()).await;
    wait_until("the delivery to arrive", || async {
        receiver.received().len() == 1
    })
    .await;

    app.stop_deliveries().await;
    assert_eq!(
        queued(&app).await,
        [("75".to_string(), "delivered".to_string(), 1)],
        "the answer that came after the stop was recorded"
    );
    assert_eq!(receiver.received().len(), 1);
}

async fn a_crash_between_storing_usage_and_checking_it_loses_no_alert(app: TestApp) {
    let (receiver, url) = Receiver::start(&[]).await;
    organization_with_webhook(&app, &url).await;
    let pool = app.db.pool();
    let organization = organizations::find_by_slug(pool, "acme")
        .await
        .expect("query")
        .expect("acme")
        .id;
    let metric = usage::metric_id(pool, "apiCalls")
        .await
        .expect("query")
        .expect("apiCalls");
    let today = Utc::now()
        .date_naive()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp();

    // What a batch's transaction leaves when the server dies right after it: the usage and
    // its note, and no check.
    let eighty = Quantity::parse(80.into()).expect("quantity");
    app.add_usage(organization, metric, today, PeriodDelta::Add(eighty))
        .await
        .expect("usage");
    let mut connection = pool.acquire().await.expect("connection");
    let a_minute_ago = Utc::now().timestamp_millis() - 60_000;
    deliveries::mark_unchecked(
        &mut connection,
        organization,
        &[(metric, today)],
        a_minute_ago,
    )
    .await
    .expect("note");
    drop(connection);

    wait_until("the swept alert", || async {
        !receiver.received().is_empty()
    })
    .await;
    assert_eq!(thresholds_of(&receiver.payloads()), BTreeSet::from([75]));
    let left: i64 = sqlx::query_scalar("select count(*) from pending_alert_checks")
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!(left, 0, "the note is cleared once checked");
}

crate::on_both_backends!(
    stopping_finishes_the_delivery_under_way,
    a_crash_between_storing_usage_and_checking_it_loses_no_alert,
    each_threshold_fires_once_under_concurrent_ingestion_and_again_next_period,
    deliveries_are_signed_with_the_documented_scheme,
    a_receiver_failing_twice_gets_the_delivery_on_the_third_try,
);

/// The restart test retries after 2 s, so the crash surely comes before the retry.
mod a_restart_loses_no_pending_delivery {
    use crate::helpers::{spawn_app_with, Backend};

    async fn run(backend: Backend) {
        let settings = [("QUOTABOARD_WEBHOOK_RETRY_INITIAL_MS", "2000")];
        match spawn_app_with(backend, &settings).await {
            Some(app) => super::a_restart_loses_no_pending_delivery(app).await,
            None => eprintln!("TEST_DATABASE_URL not set: Postgres variant not run"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        run(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        run(Backend::Postgres).await;
    }
}

async fn webhooks_may_not_reach_private_addresses_unless_allowed(app: TestApp) {
    let (receiver, url) = Receiver::start(&[]).await;
    let by_name = url.replace("127.0.0.1", "localhost");
    let (key, _) = organization_with_webhook(&app, &by_name).await;

    let literal = app
        .client
        .post(app.url("/api/v1/webhooks"))
        .bearer_auth(&key)
        .json(&json!({"url": url}))
        .send()
        .await
        .expect("request");
    ingest(&app, &key, "e", 80, Utc::now()).await;

    assert_eq!(
        literal.status(),
        400,
        "an address literal is refused at once"
    );
    wait_until("the refused delivery", || async {
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("select status, last_error from webhook_deliveries")
                .fetch_all(app.db.pool())
                .await
                .expect("deliveries");
        matches!(rows.as_slice(), [(status, Some(error))]
            if status == "failed" && error.starts_with("refused: localhost"))
    })
    .await;
    assert!(
        receiver.received().is_empty(),
        "nothing reached the loopback receiver"
    );
}

/// With the operator's default: no private addresses.
mod webhooks_may_not_reach_private_addresses_unless_allowed {
    use crate::helpers::{spawn_app_with, Backend};

    async fn run(backend: Backend) {
        let settings = [("QUOTABOARD_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "false")];
        match spawn_app_with(backend, &settings).await {
            Some(app) => super::webhooks_may_not_reach_private_addresses_unless_allowed(app).await,
            None => eprintln!("TEST_DATABASE_URL not set: Postgres variant not run"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        run(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        run(Backend::Postgres).await;
    }
}

/// One organization's receivers that never answer, with hundreds of deliveries due before
/// anyone else's, do not hold up another organization's first delivery: each organization
/// sends only its share at once.
async fn a_stuck_organization_does_not_delay_anothers_first_delivery(app: TestApp) {
    // Takes connections and never answers: each try waits out the webhook timeout.
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let silent_url = format!("http://{}/hooks", silent.local_addr().expect("address"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let stuck = app.organization("stuck").await;
    let metric = app.metric("apiCalls", "sum").await;
    let mut hooks = Vec::new();
    for _ in 0..3 {
        let draft = webhooks::Draft {
            url: silent_url.clone(),
            ..Default::default()
        };
        let (row, _) = webhooks::create(&app.state, Actor::Cli, stuck, draft)
            .await
            .expect("webhook");
        hooks.push(row.id);
    }
    let due_before = Utc::now().timestamp_millis() - 60_000;
    for n in 0..300_i64 {
        let event_id = format!("stuck-{n}");
        let delivery = deliveries::NewDelivery {
            webhook_id: hooks[usize::try_from(n).expect("index") % hooks.len()],
            organization_id: stuck,
            event_id: &event_id,
            metric_id: metric,
            period_start: n,
            threshold: "100",
            payload: "{}",
        };
        assert!(
            deliveries::enqueue(app.db.pool(), &delivery, due_before + n)
                .await
                .expect("enqueue")
        );
    }
    app.state.deliveries.notify_one();
    wait_until("the stuck organization's tries to start", || async {
        let started: i64 = sqlx::query_scalar(
            "select count(*) from webhook_deliveries where organization_id = $1 and attempts > 0",
        )
        .bind(stuck)
        .fetch_one(app.db.pool())
        .await
        .expect("count");
        started > 0
    })
    .await;

    let (receiver, url) = Receiver::start(&[]).await;
    let calm = app.organization("calm").await;
    let draft = webhooks::Draft {
        url,
        ..Default::default()
    };
    let (hook, _) = webhooks::create(&app.state, Actor::Cli, calm, draft)
        .await
        .expect("webhook");
    let delivery = deliveries::NewDelivery {
        webhook_id: hook.id,
        organization_id: calm,
        event_id: "calm-1",
        metric_id: metric,
        period_start: 0,
        threshold: "100",
        payload: "{}",
    };
    let queued_at = std::time::Instant::now();
    assert!(
        deliveries::enqueue(app.db.pool(), &delivery, Utc::now().timestamp_millis())
            .await
            .expect("enqueue")
    );
    app.state.deliveries.notify_one();
    wait_until("the calm organization's delivery", || async {
        !receiver.received().is_empty()
    })
    .await;
    let waited = queued_at.elapsed();
    assert!(
        waited < Duration::from_secs(3),
        "the calm organization waited {waited:?} behind the stuck one"
    );
    // The stuck organization never has more than its share under way.
    let under_way: i64 = sqlx::query_scalar(
        "select count(*) from webhook_deliveries
         where organization_id = $1 and status = 'pending' and attempts > 0",
    )
    .bind(stuck)
    .fetch_one(app.db.pool())
    .await
    .expect("count");
    assert!(
        under_way <= 4,
        "{under_way} of the stuck organization's tries under way"
    );
}

crate::on_both_backends!(a_stuck_organization_does_not_delay_anothers_first_delivery);

/// An organization has at most `webhooks-per-organization` webhooks.
mod an_organization_has_at_most_its_cap_of_webhooks {
    use quotaboard::{
        error::AppError,
        server::{access::audit::Actor, alerting::webhooks},
    };

    use crate::helpers::{spawn_app_with, Backend};

    async fn run(backend: Backend) {
        let settings = [("QUOTABOARD_WEBHOOKS_PER_ORGANIZATION", "2")];
        let Some(app) = spawn_app_with(backend, &settings).await else {
            return;
        };
        let organization = app.organization("acme").await;
        let other = app.organization("globex").await;
        let draft = || webhooks::Draft {
            url: "http://127.0.0.1:9/hooks".into(),
            ..Default::default()
        };
        for _ in 0..2 {
            webhooks::create(&app.state, Actor::Cli, organization, draft())
                .await
                .expect("under the cap");
        }
        let refused = webhooks::create(&app.state, Actor::Cli, organization, draft()).await;
        assert!(
            matches!(&refused, Err(AppError::Conflict(message)) if message.contains("at most 2")),
            "{refused:?}"
        );
        webhooks::create(&app.state, Actor::Cli, other, draft())
            .await
            .expect("another organization has its own cap");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        run(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        run(Backend::Postgres).await;
    }
}

/// Members read a webhook's URL as its origin only; admins read it whole.
async fn members_read_only_a_webhooks_origin(app: TestApp) {
    let (_, admin) = app.demo_key("acme", Role::Admin).await;
    let (_, member) = app.demo_key("acme", Role::Member).await;
    let url = "https://user:pa55@hooks.example.com/T0K3N?token=s3cret";
    let created = app
        .client
        .post(app.url("/api/v1/webhooks"))
        .bearer_auth(&admin)
        .json(&json!({ "url": url }))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), 201);
    let urls = |key: String| {
        let app = &app;
        async move {
            let (status, body) = app
                .get_json("/api/v1/webhooks?search=hooks", Some(&key))
                .await;
            assert_eq!(status, 200);
            body["items"]
                .as_array()
                .expect("page")
                .iter()
                .map(|hook| hook["url"].as_str().expect("url").to_string())
                .collect::<Vec<_>>()
        }
    };
    assert!(urls(admin.clone()).await.contains(&url.to_string()));
    let shown = urls(member.clone()).await;
    assert!(
        shown.contains(&"https://hooks.example.com/…".to_string()),
        "{shown:?}"
    );
    assert!(!shown
        .iter()
        .any(|u| u.contains("s3cret") || u.contains("T0K3N")));
    // Searching for the secret finds nothing for a member.
    let (_, body) = app
        .get_json("/api/v1/webhooks?search=s3cret", Some(&member))
        .await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(0));
}

crate::on_both_backends!(members_read_only_a_webhooks_origin);
