//! `GET /api/v1/entitlements/{metric}` and the ledger's plan rules (anchor, limits, cost),
//! on both engines.

use chrono::{Duration, Utc};
use quotaboard::{
    domain::{aggregation::PeriodDelta, quantity::Quantity},
    server::{access::api_keys, access::principal::Role, db, metering::ledger::Ledger},
};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::helpers::TestApp;

fn units(count: i64) -> Quantity {
    Quantity::parse(Decimal::from(count)).expect("quantity")
}

async fn entitlement(app: &TestApp, key: &str, metric: &str) -> (u16, Value) {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/entitlements/{metric}")))
        .header("x-api-key", key)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn a_hard_limit_stops_entitlement_once_used_up(app: TestApp) {
    let org = app.organization("acme").await;
    let mailbox = app.metric("mailbox", "latest").await;
    let calls = app.metric("apiCalls", "sum").await;
    app.metric("sms", "sum").await;
    app.subscribe(
        org,
        "acme",
        1,
        "0",
        &[
            (mailbox, Some(units(2)), true, None),
            (calls, None, false, None),
        ],
    )
    .await;
    let key = api_keys::create(&app.db, org, Role::Member, "t", 0)
        .await
        .expect("key");
    let today = db::unix_seconds(Utc::now());

    let (status, fresh) = entitlement(&app, &key, "mailbox").await;
    assert_eq!(status, 200);
    assert_eq!(fresh["allowed"], true);
    assert_eq!(fresh["remaining"], 2);
    app.add_usage(
        org,
        mailbox,
        today - today % 86_400,
        PeriodDelta::Latest {
            value: units(2),
            at: Utc::now(),
        },
    )
    .await
    .expect("usage");
    let (_, used_up) = entitlement(&app, &key, "mailbox").await;
    let (_, unlimited) = entitlement(&app, &key, "apiCalls").await;
    let (_, not_in_plan) = entitlement(&app, &key, "sms").await;
    let (missing, _) = entitlement(&app, &key, "nope").await;
    let (anonymous, _) = entitlement(&app, "qb_bad", "mailbox").await;

    assert_eq!(used_up["allowed"], false, "{used_up}");
    assert_eq!(used_up["remaining"], 0);
    assert_eq!(used_up["used"], 2);
    assert_eq!(used_up["limited"], true);
    assert_eq!(unlimited["allowed"], true);
    assert_eq!(unlimited["limit"], Value::Null);
    assert_eq!(not_in_plan["allowed"], false);
    assert_eq!((missing, anonymous), (404, 401));
}

async fn an_anchored_plan_with_tiers_discount_and_tax_costs_what_the_statement_says(app: TestApp) {
    let org = app.organization("initech").await;
    sqlx::query("update organizations set tax_rate = '20', discount_rate = '10' where id = $1")
        .bind(org)
        .execute(app.db.pool())
        .await
        .expect("rates");
    let calls = app.metric("apiCalls", "sum").await;
    app.subscribe(
        org,
        "initech",
        10,
        "100",
        &[(
            calls,
            Some(units(1_000)),
            false,
            Some(r#"{"model":"graduated","tiers":[{"up_to":"500","unit_price":"0.1"},{"up_to":null,"unit_price":"0.05"}]}"#),
        )],
    )
    .await;
    let ledger = Ledger::load(&app.state, org).await.expect("ledger");
    let now = Utc::now();
    let period = ledger.period_at(now);
    // 2 000 used: 1 000 over, 500 at 0.1 and 500 at 0.05 = 75; with the plan 175,
    // less 10 % = 157.5, plus 20 % tax = 189.
    app.add_usage(
        org,
        calls,
        db::unix_seconds(period.start),
        PeriodDelta::Add(units(1_500)),
    )
    .await
    .expect("usage");
    app.add_usage(
        org,
        calls,
        db::unix_seconds(period.start - Duration::days(1)),
        PeriodDelta::Add(units(999)),
    )
    .await
    .expect("usage before the period");
    app.add_usage(
        org,
        calls,
        db::unix_seconds(period.end - Duration::days(1)),
        PeriodDelta::Add(units(500)),
    )
    .await
    .expect("usage on the last day");

    let summary = ledger.summary(&app.state, now).await.expect("summary");

    assert_eq!(period.first_day.format("%d").to_string(), "10");
    assert_eq!(summary.metrics[0].used, units(2_000));
    let cost = summary.estimated_cost.totals;
    let dec = |s: &str| s.parse::<Decimal>().expect("decimal");
    assert_eq!(
        (cost.base, cost.overage, cost.discount, cost.tax, cost.total),
        (dec("100"), dec("75"), dec("17.5"), dec("31.5"), dec("189"))
    );
}

crate::on_both_backends!(
    a_hard_limit_stops_entitlement_once_used_up,
    an_anchored_plan_with_tiers_discount_and_tax_costs_what_the_statement_says,
);
