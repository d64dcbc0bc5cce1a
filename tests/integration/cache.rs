//! The read cache: what pages and read endpoints show is current the moment a change is
//! stored through the server, even when reads are kept for a minute; a change nobody
//! announced shows once the kept read is older than `read-cache-ms`.

use std::time::Duration;

use leptos::server_fn::ServerFn;

use quotaboard::{
    api::usage::{GetAccountUsage, GetUsageHistory, GetUsageSummary},
    domain::{aggregation::PeriodDelta, quantity::Quantity},
    model::usage::{AccountUsage, UsageHistory, UsageSummary},
    server::{
        access::principal::Role,
        db::{unix_seconds, usage},
        process::demo,
    },
};
use serde_json::json;

use crate::helpers::{spawn_app_with, Backend, TestApp, LONG_READ_CACHE};

/// The signed-in user's summary, through its server function.
async fn summary(app: &TestApp, cookie: &str) -> UsageSummary {
    let response = app
        .call_server_fn(GetUsageSummary::PATH, "from=&to=", Some(cookie))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("summary")
}

/// What `summary` shows that does not move with the clock: each metric's use and the cost.
fn settled(summary: &UsageSummary) -> (Vec<(String, Quantity)>, String) {
    let used = summary
        .metrics
        .iter()
        .map(|metric| (metric.code.clone(), metric.used))
        .collect();
    (used, format!("{:?}", summary.estimated_cost))
}

/// `code`'s use in `summary`; zero when it is not shown.
fn used(summary: &UsageSummary, code: &str) -> Quantity {
    summary
        .metrics
        .iter()
        .find(|metric| metric.code == code)
        .map_or(Quantity::ZERO, |metric| metric.used)
}

/// `code`'s total in the history's current month.
async fn this_month(app: &TestApp, cookie: &str, code: &str) -> Quantity {
    let response = app
        .call_server_fn(GetUsageHistory::PATH, "", Some(cookie))
        .await;
    assert_eq!(response.status(), 200);
    let history: UsageHistory = response.json().await.expect("history");
    let metric = history.metric(code).expect("a metric of the plan");
    assert_eq!(metric.totals.len(), history.months.len());
    *metric.totals.last().expect("the current month")
}

/// `code`'s use in seed 002's `GET /api/billing/usage`; zero when it is not shown.
async fn billed(app: &TestApp, key: &str, code: &str) -> f64 {
    let (status, body) = app.get_json("/api/billing/usage", Some(key)).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["metrics"][code]["used"]
        .as_f64()
        .unwrap_or(0.0)
}

async fn accounts(app: &TestApp, cookie: &str) -> Vec<String> {
    let response = app
        .call_server_fn(GetAccountUsage::PATH, "", Some(cookie))
        .await;
    assert_eq!(response.status(), 200);
    let accounts: Vec<AccountUsage> = response.json().await.expect("accounts");
    accounts
        .into_iter()
        .map(|account| account.account)
        .collect()
}

fn plus(quantity: Quantity, whole: i64) -> Quantity {
    quantity
        .checked_add(Quantity::from_micros(whole * 1_000_000).expect("quantity"))
        .expect("no overflow")
}

async fn announced_changes_outdate_cached_reads_at_once(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &[LONG_READ_CACHE]).await else {
        eprintln!("TEST_DATABASE_URL not set: Postgres variant not run");
        return;
    };
    let (_, key) = app.demo_key("acme", Role::Admin).await;
    let cookie = app
        .session_cookie("admin@acme.example", demo::DEMO_PASSWORD)
        .await;
    let before = summary(&app, &cookie).await;
    let month_before = this_month(&app, &cookie, "emails").await;
    let accounts_before = accounts(&app, &cookie).await;
    let billed_before = billed(&app, &key, "emails").await;
    // Read twice: the same figures. (Projections are left out: they follow the clock, and
    // the relay may rightly drop every cached read between the two, e.g. after it lost its
    // connection to a busy PostgreSQL.)
    assert_eq!(settled(&summary(&app, &cookie).await), settled(&before));
    assert_eq!(billed(&app, &key, "emails").await, billed_before);

    let events: Vec<_> = (0..3)
        .map(|n| json!({ "id": format!("cached-{n}"), "metric": "emails" }))
        .collect();
    let ingested = app
        .client
        .post(app.url("/api/v1/events"))
        .header("x-api-key", &key)
        .json(&json!({ "events": events }))
        .send()
        .await
        .expect("ingest");
    assert_eq!(ingested.status(), 200);
    let after = summary(&app, &cookie).await;
    assert_eq!(used(&after, "emails"), plus(used(&before, "emails"), 3));
    assert_eq!(billed(&app, &key, "emails").await, billed_before + 3.0);
    assert_eq!(
        this_month(&app, &cookie, "emails").await,
        plus(month_before, 3)
    );

    // A new account is listed at once.
    let domain = app
        .client
        .post(app.url("/api/v1/domains"))
        .header("x-api-key", &key)
        .json(&json!({ "name": "cached.example" }))
        .send()
        .await
        .expect("domain");
    assert_eq!(domain.status(), 201);
    let domain: serde_json::Value = domain.json().await.expect("json");
    let account = app
        .client
        .post(app.url(&format!(
            "/api/v1/domains/{}/accounts",
            domain["id"].as_str().expect("id")
        )))
        .header("x-api-key", &key)
        .json(&json!({ "account": "kept@cached.example", "relay": false }))
        .send()
        .await
        .expect("account");
    assert_eq!(account.status(), 201);
    let listed = accounts(&app, &cookie).await;
    assert_eq!(listed.len(), accounts_before.len() + 1, "{listed:?}");
    assert!(listed
        .iter()
        .any(|account| account == "kept@cached.example"));
}

async fn unannounced_changes_show_once_the_cached_read_is_old_enough(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &[("QUOTABOARD_READ_CACHE_MS", "300")]).await else {
        eprintln!("TEST_DATABASE_URL not set: Postgres variant not run");
        return;
    };
    let (organization, _) = app.demo_key("acme", Role::Admin).await;
    let cookie = app
        .session_cookie("admin@acme.example", demo::DEMO_PASSWORD)
        .await;
    let before = used(&summary(&app, &cookie).await, "emails");
    // Written behind the server's back, as another process would.
    let metric = usage::metric_id(app.db.pool(), "emails")
        .await
        .expect("query")
        .expect("emails");
    let today = unix_seconds(chrono::Utc::now()) / 86_400 * 86_400;
    let five = Quantity::parse(5.into()).expect("quantity");
    app.add_usage(organization, metric, today, PeriodDelta::Add(five))
        .await
        .expect("usage written directly");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        used(&summary(&app, &cookie).await, "emails"),
        plus(before, 5)
    );
}

macro_rules! on_both_backends_with_cache {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$test($crate::helpers::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$test($crate::helpers::Backend::Postgres).await;
            }
        }
    )+};
}

on_both_backends_with_cache!(
    announced_changes_outdate_cached_reads_at_once,
    unannounced_changes_show_once_the_cached_read_is_old_enough,
);
