//! Storage guarantees, on both engines: migrations, running totals, the demo dataset.

use chrono::{DateTime, Utc};
use quotaboard::{
    domain::quantity::Quantity,
    server::{
        db::{organizations, usage},
        demo::{self, DemoOutcome},
    },
};

use crate::helpers::TestApp;

const PERIOD: (i64, i64) = (1_793_491_200, 1_796_083_200);

fn micros(count: i64) -> Quantity {
    Quantity::from_micros(count).expect("non-negative")
}

async fn used_micros(app: &TestApp, org: i64) -> i64 {
    usage::for_period(app.db.pool(), org, PERIOD.0)
        .await
        .expect("usage")[0]
        .used_micros
}

async fn migrations_run_again_without_changing_anything(app: TestApp) {
    let (org, metric) = app.organization_with_metric("acme", None).await;
    usage::add_to_period(app.db.pool(), org, metric, PERIOD, micros(7), 0)
        .await
        .expect("usage");

    app.db.migrate().await.expect("second migration run");

    assert_eq!(used_micros(&app, org).await, 7);
}

async fn concurrent_additions_are_all_counted(app: TestApp) {
    let (org, metric) = app.organization_with_metric("acme", None).await;

    let writers = (0..40).map(|_| {
        let pool = app.db.pool().clone();
        tokio::spawn(async move {
            usage::add_to_period(&pool, org, metric, PERIOD, micros(1_500_000), 0).await
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.expect("task").expect("addition");
    }

    assert_eq!(used_micros(&app, org).await, 40 * 1_500_000);
}

async fn a_total_that_would_overflow_is_refused_and_the_old_total_kept(app: TestApp) {
    let (org, metric) = app.organization_with_metric("acme", None).await;
    usage::add_to_period(app.db.pool(), org, metric, PERIOD, micros(i64::MAX - 1), 0)
        .await
        .expect("usage");

    let refused = usage::add_to_period(app.db.pool(), org, metric, PERIOD, micros(2), 0).await;

    assert!(refused.is_err(), "an overflowing total was stored");
    assert_eq!(used_micros(&app, org).await, i64::MAX - 1);
}

async fn an_unlimited_allowance_is_stored_as_no_limit(app: TestApp) {
    let (org, _metric) = app.organization_with_metric("acme", None).await;

    let rows = usage::for_period(app.db.pool(), org, PERIOD.0)
        .await
        .expect("usage");

    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].included_micros, None);
    assert_eq!(rows[0].used_micros, 0);
}

async fn the_demo_dataset_loads_only_into_an_empty_database(app: TestApp) {
    // 30 Apr 23:30 UTC is already 1 May in the demo's Berlin: a month end that once made
    // stepping back by calendar months visit March twice and skip April.
    let month_end: DateTime<Utc> = "2026-04-30T23:30:00Z".parse().expect("instant");
    let first = demo::load(&app.db, month_end).await.expect("first load");
    let second = demo::load(&app.db, Utc::now()).await.expect("second load");

    assert_eq!(first, DemoOutcome::Loaded);
    assert_eq!(second, DemoOutcome::SkippedNotEmpty);
    let ids = organizations::first_ids(app.db.pool(), 10)
        .await
        .expect("organizations");
    assert_eq!(ids.len(), 1);
    let months: i64 = sqlx::query_scalar(
        "select count(distinct period_start) from period_usage where organization_id = $1",
    )
    .bind(ids[0])
    .fetch_one(app.db.pool())
    .await
    .expect("count");
    assert_eq!(months, 12);
}

crate::on_both_backends!(
    migrations_run_again_without_changing_anything,
    concurrent_additions_are_all_counted,
    a_total_that_would_overflow_is_refused_and_the_old_total_kept,
    an_unlimited_allowance_is_stored_as_no_limit,
    the_demo_dataset_loads_only_into_an_empty_database,
);
