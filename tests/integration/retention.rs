//! Raw events over time, on both engines: an id remembered past the backdating window,
//! and on PostgreSQL raw events stored by month, made ready ahead and dropped whole.

use chrono::{Duration, Utc};
use quotaboard::{
    domain::retention::{self, Month},
    server::{
        access::principal::Role,
        db::{self, Backend as Engine, Database},
        metering::{ingest, purge},
    },
};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::helpers::{on_backend, Backend, TestApp};

/// The organization's stored events and total of `code`, in micro-units.
async fn stored_and_total(app: &TestApp, org: i64, code: &str) -> (i64, i64) {
    let events: i64 = sqlx::query_scalar(
        "select count(*) from usage_events e join metrics m on m.id = e.metric_id
         where e.organization_id = $1 and m.code = $2",
    )
    .bind(org)
    .bind(code)
    .fetch_one(app.db.pool())
    .await
    .expect("events");
    let total: i64 = sqlx::query_scalar(
        "select cast(coalesce(sum(u.used_micros), 0) as bigint) from usage_daily u
         join metrics m on m.id = u.metric_id where u.organization_id = $1 and m.code = $2",
    )
    .bind(org)
    .bind(code)
    .fetch_one(app.db.pool())
    .await
    .expect("rollups");
    (events, total)
}

async fn post(app: &TestApp, key: &str, events: Value) -> Value {
    let response = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(key)
        .json(&json!({ "events": events }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    response.json().await.expect("report")
}

async fn an_event_resent_36_days_after_it_was_accepted_is_a_duplicate(app: TestApp) {
    let (org, key) = app.demo_key("acme", Role::Admin).await;
    app.metric("late_sum", "sum").await;
    let now = Utc::now();
    let accepted_at = now - Duration::days(36);
    let occurred = (accepted_at - Duration::hours(1)).to_rfc3339();
    let event =
        json!({"id": "sent-long-ago", "metric": "late_sum", "quantity": 3, "timestamp": occurred});
    // Accepted 36 days ago, as the server then answered it.
    let raw: Box<RawValue> = serde_json::from_value(event.clone()).expect("raw");
    let first = ingest::ingest(&app.state.platform, org, &[raw], accepted_at)
        .await
        .expect("first send");
    assert_eq!((first.accepted, first.duplicates), (1, 0));
    // The server's hourly chore today keeps the id: it is within its memory.
    purge::forget_ids(&app.db, now, app.state.settings.backdating_days)
        .await
        .expect("forget");

    // The client never saw the answer and resends the same event today.
    let report = post(&app, &key, json!([event])).await;
    assert_eq!(
        report,
        json!({"accepted": 0, "duplicates": 1, "rejected": []}),
        "a resend of an accepted event is acknowledged, not refused or counted"
    );
    // The same id with a timestamp inside the window is a duplicate too.
    let report = post(
        &app,
        &key,
        json!([{"id": "sent-long-ago", "metric": "late_sum", "quantity": 3}]),
    )
    .await;
    assert_eq!(
        (report["accepted"].as_u64(), report["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(
        stored_and_total(&app, org, "late_sum").await,
        (1, 3_000_000)
    );

    // An old event never accepted is still refused as too old, not acknowledged.
    let report = post(
        &app,
        &key,
        json!([{"id": "never-sent", "metric": "late_sum", "quantity": 3, "timestamp": occurred}]),
    )
    .await;
    assert_eq!(report["duplicates"], 0);
    let reason = report["rejected"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("days in the past"), "{report}");

    // Once past the id's memory (PostgreSQL forgets it; SQLite keeps it with the event),
    // the resend is at most refused as too old: never counted again.
    let later = now + Duration::days(i64::from(retention::ID_MARGIN_DAYS));
    purge::forget_ids(&app.db, later, app.state.settings.backdating_days)
        .await
        .expect("forget later");
    let raw: Box<RawValue> = serde_json::from_value(event).expect("raw");
    let report = ingest::ingest(&app.state.platform, org, &[raw], later)
        .await
        .expect("resend later");
    assert_eq!(report.accepted, 0);
    assert_eq!(report.duplicates + report.rejected.len(), 1);
    assert_eq!(
        stored_and_total(&app, org, "late_sum").await,
        (1, 3_000_000)
    );
}

async fn ids_are_remembered_for_the_backdating_window_and_a_margin(app: TestApp) {
    let (org, _) = app.demo_key("globex", Role::Admin).await;
    app.metric("kept_sum", "sum").await;
    let now = Utc::now();
    let backdating = app.state.settings.backdating_days;
    let memory = i64::from(retention::id_memory_days(backdating));
    for (id, days_ago) in [("recent", 1), ("at-36", 36), ("past-memory", memory + 1)] {
        let at = now - Duration::days(days_ago);
        let raw: Box<RawValue> = serde_json::from_value(
            json!({"id": id, "metric": "kept_sum", "timestamp": (at - Duration::hours(1)).to_rfc3339()}),
        )
        .expect("raw");
        let report = ingest::ingest(&app.state.platform, org, &[raw], at)
            .await
            .expect("ingest");
        assert_eq!(report.accepted, 1, "{id}");
    }

    let forgotten = purge::forget_ids(&app.db, now, backdating)
        .await
        .expect("forget");
    let again = purge::forget_ids(&app.db, now, backdating)
        .await
        .expect("forget again");

    let mut connection = app.db.pool().acquire().await.expect("connection");
    let mut remembered =
        db::events::ids_taken(&mut connection, org, &["recent", "at-36", "past-memory"])
            .await
            .expect("ids");
    remembered.sort();
    match app.db.backend() {
        Engine::Postgres => {
            assert_eq!((forgotten, again), (1, 0));
            assert_eq!(remembered, ["at-36", "recent"]);
        }
        // SQLite's index on the events is the key: kept as long as the events.
        Engine::Sqlite => {
            assert_eq!((forgotten, again), (0, 0));
            assert_eq!(remembered, ["at-36", "past-memory", "recent"]);
        }
    }
    // Whichever engine, the events and their totals are all there.
    assert_eq!(
        stored_and_total(&app, org, "kept_sum").await,
        (3, 3_000_000)
    );
}

crate::on_both_backends!(
    an_event_resent_36_days_after_it_was_accepted_is_a_duplicate,
    ids_are_remembered_for_the_backdating_window_and_a_margin,
);

async fn partitions(db: &Database) -> Vec<String> {
    db::events::stored_months(db)
        .await
        .expect("months")
        .into_iter()
        .map(Month::name)
        .collect()
}

/// PostgreSQL: `usage_events` is partitioned by month, partitions are made ahead, and
/// retention drops whole months at once, keeping every month with an event inside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stores_raw_events_by_month_and_drops_whole_months() {
    on_backend(Backend::Postgres, |app| async move {
        let kind: String = sqlx::query_scalar(
            "select cast(relkind as text) from pg_class where oid = 'usage_events'::regclass",
        )
        .fetch_one(app.db.pool())
        .await
        .expect("relkind");
        assert_eq!(kind, "p", "usage_events is a partitioned table");
        let unique_over_all: i64 = sqlx::query_scalar(
            "select count(*) from pg_index where indrelid = 'usage_events'::regclass
             and indisunique and not indisprimary",
        )
        .fetch_one(app.db.pool())
        .await
        .expect("indexes");
        assert_eq!(unique_over_all, 0, "no unique index spans the months");

        // The server's start makes the coming months ready.
        let now = Utc::now();
        purge::prepare(&app.db, now, app.state.settings.backdating_days)
            .await
            .expect("prepare");
        let ready = partitions(&app.db).await;
        for month in retention::months_to_prepare(now, app.state.settings.backdating_days) {
            assert!(
                ready.contains(&month.name()),
                "{} missing: {ready:?}",
                month.name()
            );
        }

        // Two servers making the same new month ready at once both succeed.
        let other = Database::connect(&app.database_url)
            .await
            .expect("second pool");
        let far = (now + Duration::days(400)).timestamp();
        let (a, b) = tokio::join!(
            db::events::prepare(&app.db, far, far),
            db::events::prepare(&other, far, far)
        );
        a.expect("first server");
        b.expect("second server");
        let far_month = Month::of(far).expect("month").name();
        assert!(partitions(&app.db).await.contains(&far_month));

        // Events 15 months old, 12 months old and of today, through ingestion's own write.
        let (org, _) = app.demo_key("acme", Role::Admin).await;
        app.metric("aged_sum", "sum").await;
        for (id, at) in [
            ("old-1", now - Duration::days(460)),
            ("old-2", now - Duration::days(455)),
            ("kept", now - Duration::days(365)),
            ("today", now),
        ] {
            let raw: Box<RawValue> =
                serde_json::from_value(json!({"id": id, "metric": "aged_sum"})).expect("raw");
            let report = ingest::ingest(&app.state.platform, org, &[raw], at)
                .await
                .expect("ingest");
            assert_eq!(report.accepted, 1, "{id}");
        }
        let old_month = Month::of((now - Duration::days(460)).timestamp()).expect("month");
        assert!(partitions(&app.db).await.contains(&old_month.name()));

        let started = std::time::Instant::now();
        let purged = purge::purge(&app.db, now, 13, app.state.settings.backdating_days)
            .await
            .expect("purge");
        let took = started.elapsed();
        assert!(purged.months.contains(&old_month), "{purged:?}");
        assert_eq!(purged.events, 0, "no row deleted one by one");
        assert!(
            took < std::time::Duration::from_secs(5),
            "dropping took {took:?}"
        );
        let cutoff = retention::cutoff(now, 13);
        let left = partitions(&app.db).await;
        for month in &purged.months {
            assert!(
                month.ends_by(cutoff),
                "{} held events past the cutoff",
                month.name()
            );
            assert!(!left.contains(&month.name()));
        }
        let ids: Vec<String> = sqlx::query_scalar(
            "select event_id from usage_events where organization_id = $1 order by event_id",
        )
        .bind(org)
        .fetch_all(app.db.pool())
        .await
        .expect("ids");
        assert!(!ids.iter().any(|id| id.starts_with("old-")), "{ids:?}");
        assert!(ids.contains(&"kept".to_string()) && ids.contains(&"today".to_string()));
        // The rollups of the dropped month stay.
        assert_eq!(stored_and_total(&app, org, "aged_sum").await.1, 4_000_000);

        // A second run finds nothing more to drop, and ingestion into a dropped month's
        // time makes its partition again instead of failing.
        let again = purge::purge(&app.db, now, 13, app.state.settings.backdating_days)
            .await
            .expect("purge again");
        assert!(again.months.is_empty(), "{again:?}");
        let raw: Box<RawValue> =
            serde_json::from_value(json!({"id": "old-3", "metric": "aged_sum"})).expect("raw");
        let report = ingest::ingest(&app.state.platform, org, &[raw], now - Duration::days(460))
            .await
            .expect("ingest into a dropped month");
        assert_eq!(report.accepted, 1);
        other.close().await;
    })
    .await;
}
