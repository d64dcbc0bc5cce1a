//! Storage guarantees, on both engines: migrations, rollups, the demo dataset, retention.

use chrono::{DateTime, Duration, Utc};
use quotaboard::{
    domain::{aggregation::PeriodDelta, quantity::Quantity},
    server::{
        db::{self, organizations},
        metering::ledger::Ledger,
        metering::purge,
        process::demo::{self, DemoOutcome},
    },
};

use crate::helpers::TestApp;

/// 1 Nov 2026, 00:00 UTC.
const DAY: i64 = 1_793_491_200;

fn micros(count: i64) -> Quantity {
    Quantity::from_micros(count).expect("non-negative")
}

async fn stored_micros(app: &TestApp, org: i64, metric: i64) -> i64 {
    sqlx::query_scalar(
        "select used_micros from usage_daily
         where organization_id = $1 and metric_id = $2 and day_start = $3",
    )
    .bind(org)
    .bind(metric)
    .bind(DAY)
    .fetch_one(app.db.pool())
    .await
    .expect("usage")
}

async fn migrations_run_again_without_changing_anything(app: TestApp) {
    let (org, metric) = app.organization_with_metric("acme", None).await;
    app.add_usage(org, metric, DAY, PeriodDelta::Add(micros(7)))
        .await
        .expect("usage");

    app.db.migrate().await.expect("second migration run");

    assert_eq!(stored_micros(&app, org, metric).await, 7);
}

async fn concurrent_additions_are_all_counted(app: TestApp) {
    let (org, metric) = app.organization_with_metric("acme", None).await;
    let app = std::sync::Arc::new(app);

    let writers = (0..40).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            app.add_usage(org, metric, DAY, PeriodDelta::Add(micros(1_500_000)))
                .await
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.expect("task").expect("addition");
    }

    assert_eq!(stored_micros(&app, org, metric).await, 40 * 1_500_000);
}

async fn a_total_that_would_overflow_is_refused_and_the_old_total_kept(app: TestApp) {
    let (org, metric) = app.organization_with_metric("acme", None).await;
    app.add_usage(org, metric, DAY, PeriodDelta::Add(micros(i64::MAX - 1)))
        .await
        .expect("usage");

    let refused = app
        .add_usage(org, metric, DAY, PeriodDelta::Add(micros(2)))
        .await;

    assert!(refused.is_err(), "an overflowing total was stored");
    assert_eq!(stored_micros(&app, org, metric).await, i64::MAX - 1);
}

async fn the_demo_dataset_loads_once_and_a_second_run_changes_nothing(app: TestApp) {
    // 30 Apr 23:30 UTC is already 1 May in acme's Berlin: a month end that once made
    // stepping back by calendar months visit March twice and skip April.
    let month_end: DateTime<Utc> = "2026-04-30T23:30:00Z".parse().expect("instant");
    let first = demo::load(&app.db, month_end).await.expect("first load");
    let count_rows = || async {
        let mut counts = Vec::new();
        for table in [
            "organizations",
            "metrics",
            "licenses",
            "license_resources",
            "subscriptions",
            "domains",
            "accounts",
            "usage_daily",
            "usage_daily_breakdown",
            "usage_distinct_values",
        ] {
            let count: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
                .fetch_one(app.db.pool())
                .await
                .expect("count");
            counts.push((table, count));
        }
        counts
    };
    let before = count_rows().await;

    let second = demo::load(&app.db, Utc::now()).await.expect("second load");

    assert_eq!(
        first,
        DemoOutcome::Loaded(vec!["acme".into(), "globex".into(), "initech".into()])
    );
    assert_eq!(second, DemoOutcome::AlreadyLoaded);
    assert_eq!(count_rows().await, before);
    assert!(before.iter().all(|(_, count)| *count > 0), "{before:?}");
    let acme = organizations::find_by_slug(app.db.pool(), "acme")
        .await
        .expect("query")
        .expect("acme");
    let ledger = Ledger::load(&app.state, acme.id).await.expect("ledger");
    let history = ledger
        .history(&app.state, month_end, 12)
        .await
        .expect("history");
    let months: Vec<&str> = history.iter().map(|m| m.month.as_str()).collect();
    assert_eq!(
        months,
        [
            "06/2025", "07/2025", "08/2025", "09/2025", "10/2025", "11/2025", "12/2025", "01/2026",
            "02/2026", "03/2026", "04/2026", "05/2026"
        ]
    );
    assert!(history.iter().all(|month| month
        .metrics
        .iter()
        .any(|m| m.code == "apiCalls" && m.total > Quantity::ZERO)));
}

async fn purge_removes_only_raw_events_past_retention_and_keeps_the_totals(app: TestApp) {
    let (org, metric) = app.organization_with_metric("acme", None).await;
    let now = Utc::now();
    let old = now - Duration::days(500);
    let recent = now - Duration::days(300);
    for at in [old, recent] {
        db::events::prepare(&app.db, db::unix_seconds(at), db::unix_seconds(at))
            .await
            .expect("room for the events");
    }
    for (id, at) in [("old-1", old), ("old-2", old), ("recent", recent)] {
        sqlx::query(
            "insert into usage_events
                 (organization_id, event_id, metric_id, quantity_micros, occurred_at, received_at)
             values ($1, $2, $3, 1000000, $4, $4)",
        )
        .bind(org)
        .bind(id)
        .bind(metric)
        .bind(db::unix_seconds(at))
        .execute(app.db.pool())
        .await
        .expect("event");
    }
    app.add_usage(
        org,
        metric,
        db::unix_seconds(old),
        PeriodDelta::Add(micros(2_000_000)),
    )
    .await
    .expect("rollup");

    let purged = purge::purge(&app.db, now, 13, 35).await.expect("purge");
    let again = purge::purge(&app.db, now, 13, 35)
        .await
        .expect("purge again");

    // SQLite deletes the two rows; PostgreSQL drops their month whole.
    match app.db.backend() {
        db::Backend::Sqlite => assert_eq!((purged.events, purged.months.len()), (2, 0)),
        db::Backend::Postgres => assert_eq!((purged.events, purged.months.len()), (0, 1)),
    }
    assert_eq!((again.events, again.months.len()), (0, 0));
    let left: Vec<String> = sqlx::query_scalar("select event_id from usage_events")
        .fetch_all(app.db.pool())
        .await
        .expect("events");
    assert_eq!(left, ["recent"]);
    let rollup: i64 =
        sqlx::query_scalar("select cast(sum(used_micros) as bigint) from usage_daily")
            .fetch_one(app.db.pool())
            .await
            .expect("rollups");
    assert_eq!(rollup, 2_000_000);
}

crate::on_both_backends!(
    migrations_run_again_without_changing_anything,
    concurrent_additions_are_all_counted,
    a_total_that_would_overflow_is_refused_and_the_old_total_kept,
    the_demo_dataset_loads_once_and_a_second_run_changes_nothing,
    purge_removes_only_raw_events_past_retention_and_keeps_the_totals,
);
