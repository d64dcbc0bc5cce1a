//! `POST /api/v1/events`: every event counted exactly once, refusals explained, on both engines.

use chrono::{Duration, Utc};
use quotaboard::{
    domain::{period::BillingPeriod, quantity::Quantity},
    server::{
        access::api_keys,
        access::principal::Role,
        db::{self, organizations},
        metering::ledger::Ledger,
    },
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// The demo organization plus a key of `role` for it.
async fn demo_with_key(app: &TestApp, role: Role) -> (i64, String) {
    app.load_demo().await;
    let org = organizations::find_by_slug(app.db.pool(), "acme")
        .await
        .expect("query")
        .expect("acme");
    let key = api_keys::create(&app.db, org.id, role, "test", 0)
        .await
        .expect("key");
    (org.id, key)
}

async fn post_events(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/events"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .expect("request")
}

/// The events stored besides the demo's own (its ids start with `demo-`).
async fn stored_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from usage_events where event_id not like 'demo-%'")
        .fetch_one(app.db.pool())
        .await
        .expect("count")
}

/// The organization's total of `code` in the period containing `at`, in units, as the
/// ledger computes it from the rollups.
async fn used_in(app: &TestApp, org: i64, code: &str, at: chrono::DateTime<Utc>) -> Decimal {
    let ledger = Ledger::load(&app.state, org).await.expect("ledger");
    let metric = ledger
        .resources
        .iter()
        .find(|r| r.metric.code == code)
        .expect("metric")
        .metric
        .id;
    let period = ledger.period_at(at);
    let totals = ledger.totals(&app.state, &period).await.expect("totals");
    totals
        .get(&metric)
        .copied()
        .unwrap_or(Quantity::ZERO)
        .to_decimal()
}

/// This period's total of `code` for the organization, in units.
async fn used_now(app: &TestApp, org: i64, code: &str) -> Decimal {
    used_in(app, org, code, Utc::now()).await
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

async fn events_are_counted_into_their_period_total(app: TestApp) {
    let (org, key) = demo_with_key(&app, Role::Admin).await;
    let before = used_now(&app, org, "apiCalls").await;

    let response = post_events(
        &app,
        &key,
        &json!({"events": [
            {"id": "e1", "metric": "apiCalls", "quantity": 3},
            {"id": "e2", "metric": "apiCalls", "quantity": "4.5", "account": "ops@acme.test"},
            {"id": "e3", "metric": "apiCalls", "properties": {"route": "/v1/items"}},
        ]}),
    )
    .await;

    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.expect("report");
    assert_eq!(
        report,
        json!({"accepted": 3, "duplicates": 0, "rejected": []})
    );
    assert_eq!(used_now(&app, org, "apiCalls").await, before + dec("8.5"));
}

async fn a_batch_sent_twice_is_counted_once(app: TestApp) {
    let (org, key) = demo_with_key(&app, Role::Admin).await;
    let before = used_now(&app, org, "emails").await;
    let batch = json!({"events": [
        {"id": "m-1", "metric": "emails", "quantity": 10},
        {"id": "m-2", "metric": "emails", "quantity": 20},
    ]});

    let first: Value = post_events(&app, &key, &batch)
        .await
        .json()
        .await
        .expect("first");
    let second: Value = post_events(&app, &key, &batch)
        .await
        .json()
        .await
        .expect("second");

    assert_eq!(
        first,
        json!({"accepted": 2, "duplicates": 0, "rejected": []})
    );
    assert_eq!(
        second,
        json!({"accepted": 0, "duplicates": 2, "rejected": []})
    );
    assert_eq!(used_now(&app, org, "emails").await, before + dec("30"));
    assert_eq!(stored_events(&app).await, 2);
}

async fn the_same_batch_raced_by_8_clients_is_counted_once(app: TestApp) {
    let (org, key) = demo_with_key(&app, Role::Admin).await;
    let before = used_now(&app, org, "bandwidth").await;
    // Every client sends the same 1 000 ids, each in its own rotation, so their transactions
    // meet the shared ids in different orders.
    let batch_for = |client: usize| {
        json!({"events": (0..1000)
            .map(|i| (i + client * 125) % 1000)
            .map(|i| json!({"id": format!("race-{i}"), "metric": "bandwidth", "quantity": "0.5"}))
            .collect::<Vec<_>>()})
    };
    let clients = (0..8).map(|n| {
        let (client, url, key, batch) = (
            app.client.clone(),
            app.url("/api/v1/events"),
            key.clone(),
            batch_for(n),
        );
        tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(key)
                .json(&batch)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("report")
        })
    });
    let mut accepted = 0;
    let mut duplicates = 0;
    for client in clients.collect::<Vec<_>>() {
        let report = client.await.expect("client");
        accepted += report["accepted"].as_u64().expect("accepted");
        duplicates += report["duplicates"].as_u64().expect("duplicates");
    }

    assert_eq!(accepted, 1000);
    assert_eq!(duplicates, 7 * 1000);
    assert_eq!(used_now(&app, org, "bandwidth").await, before + dec("500"));
    assert_eq!(stored_events(&app).await, 1000);
}

async fn refused_events_are_reported_with_their_index_and_stored_nowhere(app: TestApp) {
    let (org, key) = demo_with_key(&app, Role::Admin).await;
    let before = used_now(&app, org, "apiCalls").await;
    let too_old = (Utc::now() - Duration::days(40)).to_rfc3339();

    let response = post_events(
        &app,
        &key,
        &json!({"events": [
            {"id": "ok-1", "metric": "apiCalls", "quantity": 2},
            {"id": "bad-metric", "metric": "teleports"},
            {"id": "bad-quantity", "metric": "apiCalls", "quantity": -1},
            {"id": "too-old", "metric": "apiCalls", "timestamp": too_old},
            {"id": "ok-1", "metric": "apiCalls", "quantity": 2},
            {"metric": "apiCalls"},
            "not an object",
        ]}),
    )
    .await;

    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.expect("report");
    assert_eq!(report["accepted"], 1);
    assert_eq!(report["duplicates"], 1);
    let rejected: Vec<(u64, Value)> = report["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| (r["index"].as_u64().expect("index"), r["id"].clone()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (1, json!("bad-metric")),
            (2, json!("bad-quantity")),
            (3, json!("too-old")),
            (5, Value::Null),
            (6, Value::Null),
        ]
    );
    assert!(report["rejected"][0]["reason"]
        .as_str()
        .expect("reason")
        .contains("unknown metric"));
    assert_eq!(stored_events(&app).await, 1);
    assert_eq!(used_now(&app, org, "apiCalls").await, before + dec("2"));
}

async fn a_body_that_is_not_a_batch_is_400_and_stores_nothing(app: TestApp) {
    let (_, key) = demo_with_key(&app, Role::Admin).await;
    let too_many = json!({"events": (0..1001)
        .map(|i| json!({"id": format!("e{i}"), "metric": "apiCalls"}))
        .collect::<Vec<_>>()});
    let bodies = [
        "not json".to_string(),
        json!({"events": 5}).to_string(),
        json!({"evts": []}).to_string(),
        json!([{"id": "e", "metric": "apiCalls"}]).to_string(),
        too_many.to_string(),
    ];

    for body in bodies {
        let response = app
            .client
            .post(app.url("/api/v1/events"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("request");

        assert_eq!(response.status(), 400, "{body:.60}");
        let error: Value = response.json().await.expect("error body");
        assert_eq!(error["error"]["code"], "BAD_REQUEST", "{body:.60}");
    }
    assert_eq!(stored_events(&app).await, 0);
}

async fn a_body_over_the_limit_is_413(app: TestApp) {
    let (_, key) = demo_with_key(&app, Role::Admin).await;
    let padding = "x".repeat(5 * 1024 * 1024);

    let response = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(format!(r#"{{"events": [], "padding": "{padding}"}}"#))
        .send()
        .await
        .expect("request");

    assert_eq!(response.status(), 413);
    let error: Value = response.json().await.expect("error body");
    assert_eq!(error["error"]["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(stored_events(&app).await, 0);
}

async fn only_a_valid_admin_key_may_send_events(app: TestApp) {
    let (org, admin) = demo_with_key(&app, Role::Admin).await;
    let member = api_keys::create(&app.db, org, Role::Member, "reader", 0)
        .await
        .expect("member key");
    let revoked = api_keys::create(&app.db, org, Role::Admin, "old", 0)
        .await
        .expect("key to revoke");
    let prefix = api_keys::prefix_of(&revoked).expect("prefix");
    assert!(db::api_keys::revoke(app.db.pool(), prefix, 1)
        .await
        .expect("revoke"));
    let forged = format!("{}{}", &admin[..admin.len() - 4], "0000");
    let batch = json!({"events": [{"id": "k1", "metric": "apiCalls"}]});

    let no_key = app
        .client
        .post(app.url("/api/v1/events"))
        .json(&batch)
        .send()
        .await
        .expect("request");
    assert_eq!(no_key.status(), 401);
    assert_eq!(no_key.headers()["www-authenticate"], "Bearer");
    for key in ["qb_nonsense", forged.as_str(), revoked.as_str()] {
        assert_eq!(post_events(&app, key, &batch).await.status(), 401, "{key}");
    }
    assert_eq!(post_events(&app, &member, &batch).await.status(), 403);
    assert_eq!(stored_events(&app).await, 0);

    let via_header = app
        .client
        .post(app.url("/api/v1/events"))
        .header("x-api-key", &admin)
        .json(&batch)
        .send()
        .await
        .expect("request");
    assert_eq!(via_header.status(), 200);
    assert_eq!(stored_events(&app).await, 1);

    // Two different keys in one request: refused, whichever is valid. The same key in both
    // headers is one key.
    for (bearer, header) in [
        (admin.as_str(), "qb_nonsense"),
        ("qb_nonsense", admin.as_str()),
    ] {
        let both = app
            .client
            .post(app.url("/api/v1/events"))
            .bearer_auth(bearer)
            .header("x-api-key", header)
            .json(&batch)
            .send()
            .await
            .expect("request");
        assert_eq!(both.status(), 401, "bearer {bearer}, header {header}");
    }
    let same = app
        .client
        .get(app.url("/api/v1/user"))
        .bearer_auth(&admin)
        .header("x-api-key", &admin)
        .send()
        .await
        .expect("request");
    assert_eq!(same.status(), 200);
    assert_eq!(stored_events(&app).await, 1);
}

async fn max_latest_count_and_unique_metrics_keep_their_own_kind_of_total(app: TestApp) {
    let (org, key) = demo_with_key(&app, Role::Admin).await;
    for (code, aggregation) in [
        ("peakSeats", "max"),
        ("diskNow", "latest"),
        ("logins", "count"),
        ("activeUsers", "unique_count"),
    ] {
        app.metric(code, aggregation).await;
    }
    let at = |minutes_ago: i64| (Utc::now() - Duration::minutes(minutes_ago)).to_rfc3339();

    // The newer disk reading arrives first; the older one, sent later, must not replace it.
    for batch in [
        json!({"events": [
            {"id": "s1", "metric": "peakSeats", "quantity": 4},
            {"id": "s2", "metric": "peakSeats", "quantity": 9},
            {"id": "d-new", "metric": "diskNow", "quantity": 70, "timestamp": at(1)},
            {"id": "l1", "metric": "logins", "quantity": 50},
            {"id": "l2", "metric": "logins", "quantity": 50},
            {"id": "u1", "metric": "activeUsers", "account": "ana@x"},
            {"id": "u2", "metric": "activeUsers", "account": "bo@x"},
            {"id": "u3", "metric": "activeUsers", "account": "ana@x"},
        ]}),
        json!({"events": [
            {"id": "s3", "metric": "peakSeats", "quantity": 6},
            {"id": "d-old", "metric": "diskNow", "quantity": 95, "timestamp": at(30)},
            {"id": "l3", "metric": "logins"},
            {"id": "u4", "metric": "activeUsers", "account": "bo@x", "timestamp": at(60 * 24)},
            {"id": "u5", "metric": "activeUsers", "account": "cy@x"},
        ]}),
    ] {
        let report: Value = post_events(&app, &key, &batch)
            .await
            .json()
            .await
            .expect("report");
        assert!(
            report["rejected"].as_array().expect("rejected").is_empty(),
            "{report}"
        );
    }
    let report: Value = post_events(
        &app,
        &key,
        &json!({"events": [{"id": "u6", "metric": "activeUsers"}]}),
    )
    .await
    .json()
    .await
    .expect("report");

    assert_eq!(used_now(&app, org, "peakSeats").await, dec("9"));
    assert_eq!(used_now(&app, org, "diskNow").await, dec("70"));
    assert_eq!(used_now(&app, org, "logins").await, dec("3"));
    // ana, bo and cy, each counted once however many events and days they appear in
    // (unless yesterday fell in the previous period).
    let yesterday_in_period = Ledger::load(&app.state, org)
        .await
        .expect("ledger")
        .period_at(Utc::now())
        .start
        <= Utc::now() - Duration::days(1);
    if yesterday_in_period {
        assert_eq!(used_now(&app, org, "activeUsers").await, dec("3"));
    }
    assert_eq!(report["rejected"][0]["index"], 0);
    let reason = report["rejected"][0]["reason"].as_str().expect("reason");
    assert!(reason.contains("\"account\""), "{reason}");
}

/// Each metric's total per period recomputed from the raw events: sum, max and distinct
/// accounts, by brute force.
async fn recount(
    app: &TestApp,
    org: i64,
    period: &BillingPeriod,
) -> std::collections::BTreeMap<String, Decimal> {
    let rows: Vec<(String, i64, Option<String>)> = sqlx::query_as(
        "select m.code, e.quantity_micros, e.account from usage_events e
         join metrics m on m.id = e.metric_id
         where e.organization_id = $1 and e.occurred_at >= $2 and e.occurred_at < $3",
    )
    .bind(org)
    .bind(db::unix_seconds(period.start))
    .bind(db::unix_seconds(period.end))
    .fetch_all(app.db.pool())
    .await
    .expect("events");
    fn of<'a>(
        rows: &'a [(String, i64, Option<String>)],
        code: &'a str,
    ) -> impl Iterator<Item = &'a (String, i64, Option<String>)> + 'a {
        rows.iter().filter(move |(c, _, _)| c == code)
    }
    let units = |micros: i64| {
        Quantity::from_micros(micros)
            .expect("quantity")
            .to_decimal()
    };
    let accounts: std::collections::BTreeSet<&str> = of(&rows, "r_unique")
        .filter_map(|(_, _, a)| a.as_deref())
        .collect();
    [
        ("r_sum", units(of(&rows, "r_sum").map(|(_, q, _)| q).sum())),
        (
            "r_max",
            units(of(&rows, "r_max").map(|(_, q, _)| *q).max().unwrap_or(0)),
        ),
        ("r_unique", Decimal::from(accounts.len())),
    ]
    .into_iter()
    .map(|(code, total)| (code.to_string(), total))
    .collect()
}

async fn period_totals_equal_a_recount_of_the_stored_events(app: TestApp) {
    let (org, key) = demo_with_key(&app, Role::Admin).await;
    for (code, aggregation) in [
        ("r_sum", "sum"),
        ("r_max", "max"),
        ("r_unique", "unique_count"),
    ] {
        app.metric(code, aggregation).await;
    }
    let now = Utc::now();
    let ledger = Ledger::load(&app.state, org).await.expect("ledger");
    let current = ledger.period_at(now);
    let previous = current.previous(ledger.time_zone);

    // Deterministic pseudo-random batches: repeated ids, quantities with decimals, accounts
    // and timestamps spread over the last 34 days (so across the period boundary).
    let mut seed: u64 = 0x5eed;
    let mut next = move |bound: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % bound
    };
    for _ in 0..12 {
        let events: Vec<Value> = (0..60)
            .map(|_| {
                let minutes_ago = next(34 * 24 * 60) as i64;
                let metric = ["r_sum", "r_max", "r_unique"][next(3) as usize];
                json!({
                    "id": format!("r-{}", next(400)),
                    "metric": metric,
                    "quantity": format!("{}.{:03}", next(50), next(1000)),
                    "account": format!("user-{}@x", next(25)),
                    "timestamp": (now - Duration::minutes(minutes_ago)).to_rfc3339(),
                })
            })
            .collect();
        let response = post_events(&app, &key, &json!({ "events": events })).await;
        assert_eq!(response.status(), 200);
    }

    for period in [current, previous] {
        let expected = recount(&app, org, &period).await;
        for (code, total) in expected {
            assert_eq!(
                used_in(&app, org, &code, period.start).await,
                total,
                "{code} in {}",
                period.label()
            );
        }
    }
    let distinct = stored_events(&app).await;
    assert!(
        distinct <= 400 && distinct > 100,
        "{distinct} distinct events"
    );
}

crate::on_both_backends!(
    events_are_counted_into_their_period_total,
    a_batch_sent_twice_is_counted_once,
    the_same_batch_raced_by_8_clients_is_counted_once,
    refused_events_are_reported_with_their_index_and_stored_nowhere,
    a_body_that_is_not_a_batch_is_400_and_stores_nothing,
    a_body_over_the_limit_is_413,
    only_a_valid_admin_key_may_send_events,
    max_latest_count_and_unique_metrics_keep_their_own_kind_of_total,
    period_totals_equal_a_recount_of_the_stored_events,
);
