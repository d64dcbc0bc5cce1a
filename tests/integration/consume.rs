//! `POST /api/v1/entitlements/{metric}/consume`: capacity taken in one step with the check,
//! never past a hard limit however many clients race for it, on one server or two, and an
//! idempotent retry answered the first answer, also after the server is killed.

use quotaboard::{
    domain::quantity::Quantity,
    server::{access::api_keys, access::principal::Role},
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::{
    free_port, spawn_app_with, start_server, wait_until_healthy, Backend, TestApp, NO_KEY_LIMITS,
};

fn units(count: i64) -> Quantity {
    Quantity::parse(Decimal::from(count)).expect("quantity")
}

/// `POST {base}/api/v1/entitlements/{metric}/consume` with `body`: the status, whether it
/// was a replay, and the body.
async fn consume_at(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    metric: &str,
    body: &Value,
) -> Option<(u16, bool, Value)> {
    let response = client
        .post(format!("{base}/api/v1/entitlements/{metric}/consume"))
        .header("x-api-key", key)
        .json(body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    let body = response.json().await.ok()?;
    Some((status, replayed, body))
}

async fn consume(app: &TestApp, key: &str, metric: &str, body: Value) -> (u16, bool, Value) {
    consume_at(&app.client, &app.address, key, metric, &body)
        .await
        .expect("answer")
}

/// An organization whose plan has `metric` (of `aggregation`) with a hard limit at
/// `limit`; an admin key of it.
async fn capped(app: &TestApp, metric: &str, aggregation: &str, limit: i64) -> (i64, String) {
    let org = app.organization("capped").await;
    let id = app.metric(metric, aggregation).await;
    app.subscribe(
        org,
        "capped",
        1,
        "0",
        &[(id, Some(units(limit)), true, None)],
    )
    .await;
    let key = api_keys::create(&app.db, org, Role::Admin, "t", 0)
        .await
        .expect("key");
    (org, key)
}

/// The events stored of `metric` and their total, in units.
async fn stored(app: &TestApp, metric: &str) -> (i64, Decimal) {
    let (events, micros): (i64, i64) = sqlx::query_as(
        "select count(*), cast(coalesce(sum(e.quantity_micros), 0) as bigint)
         from usage_events e join metrics m on m.id = e.metric_id where m.code = $1",
    )
    .bind(metric)
    .fetch_one(app.db.pool())
    .await
    .expect("events");
    (events, Decimal::new(micros, 6))
}

async fn capacity_is_taken_up_to_the_hard_limit_and_refused_past_it(app: TestApp) {
    let (_, key) = capped(&app, "seats", "sum", 10).await;

    for n in 1..=9 {
        let (status, _, body) = consume(&app, &key, "seats", json!({"id": format!("s{n}")})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["used"], n);
    }
    // 2 do not fit in the one left: refused, nothing recorded.
    let (status, _, refused) =
        consume(&app, &key, "seats", json!({"id": "two", "quantity": 2})).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "LIMIT_EXCEEDED");
    assert_eq!(
        (
            &refused["error"]["used"],
            &refused["error"]["limit"],
            &refused["error"]["remaining"]
        ),
        (&json!(9), &json!(10), &json!(1))
    );
    // The last unit fits, and the entitlement after it says so.
    let (status, _, last) = consume(&app, &key, "seats", json!({"id": "s10"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        last,
        json!({"metric": "seats", "allowed": false, "used": 10, "limit": 10, "remaining": 0,
               "included": 10, "limited": true})
    );
    let (status, _, full) = consume(&app, &key, "seats", json!({"id": "s11"})).await;
    assert_eq!(status, 409);
    assert_eq!(full["error"]["remaining"], 0);
    assert_eq!(stored(&app, "seats").await, (10, Decimal::from(10)));
    let (_, check) = app.get_json("/api/v1/entitlements/seats", Some(&key)).await;
    assert_eq!(
        (&check["allowed"], &check["used"]),
        (&json!(false), &json!(10))
    );
}

async fn the_same_id_again_gets_the_first_answer_and_counts_once(app: TestApp) {
    let (_, key) = capped(&app, "seats", "sum", 3).await;

    let first = consume(&app, &key, "seats", json!({"id": "a", "quantity": 2})).await;
    let again = consume(&app, &key, "seats", json!({"id": "a", "quantity": 2})).await;
    let other = consume(&app, &key, "seats", json!({"id": "b"})).await;
    let refused = consume(&app, &key, "seats", json!({"id": "c"})).await;
    let refused_again = consume(&app, &key, "seats", json!({"id": "c"})).await;

    assert_eq!((first.0, first.1), (200, false));
    assert_eq!((again.0, again.1), (200, true));
    assert_eq!(again.2, first.2, "the first answer, word for word");
    assert_eq!(other.2["used"], 3);
    assert_eq!(
        (refused.0, refused_again.0, refused_again.1),
        (409, 409, true)
    );
    assert_eq!(refused_again.2, refused.2);
    assert_eq!(stored(&app, "seats").await, (2, Decimal::from(3)));

    // An id an ingested event has is not a consume's to take.
    let events = app
        .client
        .post(app.url("/api/v1/events"))
        .header("x-api-key", &key)
        .json(&json!({"events": [{"id": "evt-1", "metric": "seats", "quantity": 0}]}))
        .send()
        .await
        .expect("events");
    assert_eq!(events.status(), 200);
    let (status, _, body) = consume(&app, &key, "seats", json!({"id": "evt-1"})).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("CONFLICT")),
        "{body}"
    );
}

async fn a_unique_count_takes_new_values_and_counted_ones_at_no_cost(app: TestApp) {
    // Test metrics count distinct `account`s.
    let (_, key) = capped(&app, "users", "unique_count", 2).await;
    let user = |id: &str, account: &str| json!({"id": id, "account": account});

    let ann = consume(&app, &key, "users", user("1", "ann")).await;
    let bob = consume(&app, &key, "users", user("2", "bob")).await;
    let cid = consume(&app, &key, "users", user("3", "cid")).await;
    let ann_again = consume(&app, &key, "users", user("4", "ann")).await;
    let missing = consume(&app, &key, "users", json!({"id": "5"})).await;

    assert_eq!((ann.0, bob.0, cid.0, ann_again.0), (200, 200, 409, 200));
    assert_eq!(bob.2["used"], 2);
    assert_eq!(
        ann_again.2["used"], 2,
        "a value already counted costs nothing"
    );
    assert_eq!(missing.0, 400, "{}", missing.2);
    let (_, check) = app.get_json("/api/v1/entitlements/users", Some(&key)).await;
    assert_eq!(check["used"], 2);
}

async fn counts_take_one_soft_limits_always_fit_and_the_rest_is_refused_with_a_reason(
    app: TestApp,
) {
    let org = app.organization("mixed").await;
    let count = app.metric("logins", "count").await;
    let soft = app.metric("calls", "sum").await;
    let gauge = app.metric("disk", "latest").await;
    app.subscribe(
        org,
        "mixed",
        1,
        "0",
        &[
            (count, Some(units(1)), true, None),
            (soft, Some(units(5)), false, None),
            (gauge, Some(units(5)), true, None),
        ],
    )
    .await;
    let admin = api_keys::create(&app.db, org, Role::Admin, "a", 0)
        .await
        .expect("key");
    let member = api_keys::create(&app.db, org, Role::Member, "m", 0)
        .await
        .expect("key");

    assert_eq!(
        consume(&app, &admin, "logins", json!({"id": "l1"})).await.0,
        200
    );
    assert_eq!(
        consume(&app, &admin, "logins", json!({"id": "l2"})).await.0,
        409
    );
    let (status, _, body) =
        consume(&app, &admin, "logins", json!({"id": "l3", "quantity": 2})).await;
    assert_eq!(status, 400, "{body}");
    // Past the included amount of a soft limit: overage, recorded.
    let (status, _, body) = consume(
        &app,
        &admin,
        "calls",
        json!({"id": "c1", "quantity": "7.5"}),
    )
    .await;
    assert_eq!((status, &body["used"]), (200, &json!(7.5)), "{body}");
    for (key, metric, body, expected) in [
        (&admin, "disk", json!({"id": "d1"}), 400),
        (&admin, "teleports", json!({"id": "t1"}), 404),
        (&member, "calls", json!({"id": "m1"}), 403),
        (
            &admin,
            "calls",
            json!({"id": "x", "timestamp": "2026-01-01T00:00:00Z"}),
            400,
        ),
        (&admin, "calls", json!({"quantity": 1}), 400),
        (&admin, "calls", json!({"id": "n", "quantity": -1}), 400),
        (&admin, "calls", json!([1, 2]), 400),
    ] {
        let (status, _, answer) = consume(&app, key, metric, body.clone()).await;
        assert_eq!(status, expected, "{metric} {body}: {answer}");
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
    assert_eq!(stored(&app, "calls").await, (1, Decimal::new(75, 1)));
}

/// 200 clients take one each of the 10 left, over `bases` (servers on one database) in turn.
async fn race_for_the_last_ten(app: &TestApp, bases: &[String], key: &str) {
    let answers: Vec<_> = (0..200)
        .map(|n| {
            let (client, base, key) = (
                app.client.clone(),
                bases[n % bases.len()].clone(),
                key.to_string(),
            );
            tokio::spawn(async move {
                consume_at(
                    &client,
                    &base,
                    &key,
                    "seats",
                    &json!({"id": format!("race-{n}")}),
                )
                .await
                .map(|(status, _, _)| status)
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for answer in answers {
        statuses.push(answer.await.expect("client").expect("answer"));
    }
    let taken = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((taken, refused), (10, 190), "{statuses:?}");
    assert_eq!(stored(app, "seats").await, (10, Decimal::from(10)));
}

async fn two_hundred_racing_for_ten_take_exactly_ten(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &NO_KEY_LIMITS).await else {
        return;
    };
    let (_, key) = capped(&app, "seats", "sum", 10).await;
    race_for_the_last_ten(&app, std::slice::from_ref(&app.address), &key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_racing_for_ten_take_exactly_ten_sqlite() {
    two_hundred_racing_for_ten_take_exactly_ten(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_racing_for_ten_take_exactly_ten_postgres() {
    two_hundred_racing_for_ten_take_exactly_ten(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgres_take_exactly_ten_between_them() {
    let settings = NO_KEY_LIMITS;
    let Some(app) = spawn_app_with(Backend::Postgres, &settings).await else {
        return;
    };
    let (_, key) = capped(&app, "seats", "sum", 10).await;
    let second = app.second_server(&settings).await;
    race_for_the_last_ten(&app, &[app.address.clone(), second], &key).await;
}

async fn a_retry_after_a_kill_gets_the_first_answer_and_counts_once(app: TestApp) {
    let (_, key) = capped(&app, "seats", "sum", 100_000).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_server(&app.database_url, port, &[]);
    wait_until_healthy(&app.client, &base).await;

    // One consume answered, then the server killed: its answer was committed with it.
    let first = consume_at(&app.client, &base, &key, "seats", &json!({"id": "kept"}))
        .await
        .expect("answer");
    assert_eq!(first.0, 200);
    // Eight clients take one at a time until the server dies under them.
    let clients: Vec<_> = (0..8)
        .map(|client| {
            let (http, base, key) = (app.client.clone(), base.clone(), key.clone());
            tokio::spawn(async move {
                let mut answered = Vec::new();
                for n in (client..2_000).step_by(8) {
                    let body = json!({"id": format!("k-{n}")});
                    match consume_at(&http, &base, &key, "seats", &body).await {
                        Some((200, false, answer)) => answered.push((n, answer)),
                        Some(other) => panic!("k-{n}: {other:?}"),
                        None => break,
                    }
                }
                answered
            })
        })
        .collect();
    while stored(&app, "seats").await.0 < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.start_kill().expect("SIGKILL");
    server.wait().await.expect("killed");
    let mut answered = Vec::new();
    for client in clients {
        answered.extend(client.await.expect("client"));
    }
    assert!(
        answered.len() < 2_000,
        "the kill came too late to test anything"
    );

    // Restarted: every id again, each answered as first (when its answer arrived) and every
    // one counted exactly once, those committed but unanswered included.
    let mut server = start_server(&app.database_url, port, &[]);
    wait_until_healthy(&app.client, &base).await;
    let again = consume_at(&app.client, &base, &key, "seats", &json!({"id": "kept"}))
        .await
        .expect("answer");
    assert_eq!((again.0, again.1, &again.2), (200, true, &first.2));
    let mut replays = 0;
    for n in 0..2_000 {
        let body = json!({"id": format!("k-{n}")});
        let (status, replayed, answer) = consume_at(&app.client, &base, &key, "seats", &body)
            .await
            .expect("answer");
        assert_eq!(status, 200, "k-{n}: {answer}");
        replays += usize::from(replayed);
        if let Some((_, first)) = answered.iter().find(|(m, _)| *m == n) {
            assert!(replayed, "k-{n} was answered before the kill");
            assert_eq!(&answer, first, "k-{n}");
        }
    }
    assert!(replays >= answered.len());
    assert_eq!(stored(&app, "seats").await, (2_001, Decimal::from(2_001)));
    server.start_kill().expect("stop");
}

/// `POST /api/v1/events` with `events`; the report.
async fn ingest(app: &TestApp, key: &str, events: Value) -> Value {
    let response = app
        .client
        .post(app.url("/api/v1/events"))
        .header("x-api-key", key)
        .json(&json!({ "events": events }))
        .send()
        .await
        .expect("events");
    assert_eq!(response.status(), 200);
    response.json().await.expect("report")
}

async fn ingestion_records_past_a_hard_limit_unless_the_license_refuses_events(app: TestApp) {
    let org = app.organization("capped").await;
    let seats = app.metric("seats", "sum").await;
    let desks = app.metric("desks", "sum").await;
    app.subscribe(
        org,
        "capped",
        1,
        "0",
        &[
            (seats, Some(units(10)), true, None),
            (desks, Some(units(10)), true, None),
        ],
    )
    .await;
    // Desks: "refuse events past the hard limit"; seats: the default.
    sqlx::query("update license_resources set refuse_events = true where metric_id = $1")
        .bind(desks)
        .execute(app.db.pool())
        .await
        .expect("refuse events");
    let key = api_keys::create(&app.db, org, Role::Admin, "t", 0)
        .await
        .expect("key");
    let batch = |metric: &str| {
        json!([
            {"id": format!("{metric}-1"), "metric": metric, "quantity": 4},
            {"id": format!("{metric}-2"), "metric": metric, "quantity": 4},
            {"id": format!("{metric}-3"), "metric": metric, "quantity": 4},
        ])
    };

    // By default metering records what happened, past the limit too.
    let recorded = ingest(&app, &key, batch("seats")).await;
    assert_eq!(recorded["accepted"], 3, "{recorded}");
    assert_eq!(stored(&app, "seats").await.1, Decimal::from(12));

    // Refusing events, what does not fit is rejected with a reason and stored nowhere.
    let report = ingest(&app, &key, batch("desks")).await;
    assert_eq!(
        (&report["accepted"], &report["duplicates"]),
        (&json!(2), &json!(0)),
        "{report}"
    );
    let rejected = &report["rejected"][0];
    assert_eq!(
        (&rejected["index"], &rejected["id"]),
        (&json!(2), &json!("desks-3"))
    );
    let reason = rejected["reason"].as_str().expect("reason");
    assert!(
        reason.contains("hard limit") && reason.contains("8 of 10"),
        "{reason}"
    );
    assert_eq!(stored(&app, "desks").await, (2, Decimal::from(8)));
    // A repeat is a duplicate, not a refusal; the last two units still fit.
    let again = ingest(
        &app,
        &key,
        json!([{"id": "desks-1", "metric": "desks", "quantity": 4},
               {"id": "desks-4", "metric": "desks", "quantity": 2}]),
    )
    .await;
    assert_eq!(
        (&again["accepted"], &again["duplicates"], &again["rejected"]),
        (&json!(1), &json!(1), &json!([]))
    );
    let (_, check) = app.get_json("/api/v1/entitlements/desks", Some(&key)).await;
    assert_eq!(
        (&check["used"], &check["allowed"]),
        (&json!(10), &json!(false))
    );
}

crate::on_both_backends!(
    ingestion_records_past_a_hard_limit_unless_the_license_refuses_events,
    capacity_is_taken_up_to_the_hard_limit_and_refused_past_it,
    the_same_id_again_gets_the_first_answer_and_counts_once,
    a_unique_count_takes_new_values_and_counted_ones_at_no_cost,
    counts_take_one_soft_limits_always_fit_and_the_rest_is_refused_with_a_reason,
    a_retry_after_a_kill_gets_the_first_answer_and_counts_once,
);
