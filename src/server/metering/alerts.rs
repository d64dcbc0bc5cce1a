//! Threshold alerts: when usage changes, each webhook threshold a metric has reached in a
//! billing period is queued for delivery, once per webhook, metric, period and threshold.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::{
    domain::{
        period::BillingPeriod,
        quantity::Quantity,
        usage_level::{thresholds_reached, Allowance, UsageLevel},
    },
    error::AppError,
};

use crate::model::wire;
use crate::server::{
    db::{
        deliveries::{self, NewDelivery},
        scoped,
        webhooks::{thresholds_of, WebhookRow},
    },
    metering::ledger::{span_of, Ledger},
    platform::Platform,
};

/// The `type` of a threshold alert's payload.
pub const EVENT_TYPE: &str = "usage.threshold_crossed";

/// Where usage changed: metric ids, each with the days (unix seconds of their start) it
/// changed on. `None` checks every metric in the current period (after a plan change).
pub type Touched = Option<BTreeMap<i64, BTreeSet<i64>>>;

/// Queues an alert for every threshold of every active webhook of the organization that a
/// touched metric has reached in a touched period and that was not queued before; returns
/// how many were queued. Safe to run concurrently and on several servers: the queue's
/// unique key keeps each alert to one delivery.
pub async fn check(
    state: &Platform,
    organization_id: i64,
    touched: &Touched,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let pool = state.db.pool();
    let hooks: Vec<WebhookRow> = scoped::list::<WebhookRow, _>(pool, organization_id)
        .await?
        .into_iter()
        .filter(|hook| hook.active != 0)
        .collect();
    if hooks.is_empty() {
        return Ok(0);
    }
    let ledger = Ledger::load(state, organization_id).await?;
    let mut periods: BTreeMap<i64, (BillingPeriod, BTreeSet<i64>)> = BTreeMap::new();
    let current = ledger.period_at(now);
    let checked = |metric_id: i64| {
        ledger
            .resources
            .iter()
            .any(|r| r.metric.id == metric_id && r.in_plan())
    };
    match touched {
        Some(touched) => {
            for (metric_id, days) in touched.iter().filter(|(id, _)| checked(**id)) {
                for day in days {
                    let Some(instant) = DateTime::from_timestamp(*day, 0) else {
                        continue;
                    };
                    let period = ledger.period_at(instant);
                    periods
                        .entry(span_of(&period).0)
                        .or_insert_with(|| (period, BTreeSet::new()))
                        .1
                        .insert(*metric_id);
                }
            }
        }
        None => {
            let all = ledger
                .resources
                .iter()
                .filter(|r| r.in_plan())
                .map(|r| r.metric.id)
                .collect();
            periods.insert(span_of(&current).0, (current, all));
        }
    }
    // `now` picks the current period; the alert itself is made, and due, at the real time.
    let created = Utc::now();
    let mut queued = 0;
    for (period, metric_ids) in periods.values() {
        let totals = ledger.totals(state, period).await?;
        let (start, end) = span_of(period);
        for resource in ledger
            .resources
            .iter()
            .filter(|r| metric_ids.contains(&r.metric.id))
        {
            let Allowance::Included(included) = resource.allowance else {
                continue;
            };
            let used = totals
                .get(&resource.metric.id)
                .copied()
                .unwrap_or(Quantity::ZERO);
            let percentage =
                UsageLevel::assess(used, resource.allowance, &state.settings.thresholds).percentage;
            for hook in &hooks {
                for threshold in thresholds_reached(used, resource.allowance, &thresholds_of(hook))
                {
                    let event_id = new_event_id()?;
                    let payload = json!({
                        "id": event_id,
                        "type": EVENT_TYPE,
                        "createdAt": wire::timestamp_seconds(created),
                        "data": {
                            "organizationId": wire::id(organization_id),
                            "metric": resource.metric.code,
                            "threshold": wire::decimal(threshold),
                            "percentage": percentage.map(wire::decimal),
                            "used": wire::quantity(used),
                            "included": wire::quantity(included),
                            "periodStart": wire::timestamp_seconds(period.start),
                            "periodEnd": wire::timestamp_seconds(period.end),
                        }
                    })
                    .to_string();
                    let threshold_text = threshold.normalize().to_string();
                    let delivery = NewDelivery {
                        webhook_id: hook.id,
                        organization_id,
                        event_id: &event_id,
                        metric_id: resource.metric.id,
                        period_start: start,
                        threshold: &threshold_text,
                        payload: &payload,
                    };
                    if deliveries::enqueue(pool, &delivery, created.timestamp_millis()).await? {
                        queued += 1;
                        tracing::info!(
                            organization = organization_id,
                            webhook = hook.id,
                            metric = resource.metric.code,
                            %threshold,
                            period_end = end,
                            "threshold alert queued"
                        );
                    }
                }
            }
        }
    }
    if queued > 0 {
        state.deliveries.notify_one();
    }
    Ok(queued)
}

/// Runs [`check`] and logs a failure instead of returning it: the change that triggered it
/// is already stored. True when the check ran.
pub async fn check_logged(state: &Platform, organization_id: i64, touched: &Touched) -> bool {
    match check(state, organization_id, touched, Utc::now()).await {
        Ok(_) => true,
        Err(error) => {
            tracing::error!(organization = organization_id, %error, "threshold alerts not checked");
            false
        }
    }
}

/// Checks the changes ingestion noted at `noted_at` (unix ms) and, once checked, clears
/// their notes; a failure leaves them to [`sweep`].
pub async fn check_and_clear(
    state: &Platform,
    organization_id: i64,
    touched: BTreeMap<i64, BTreeSet<i64>>,
    noted_at: i64,
) {
    let keys: Vec<(i64, i64)> = touched
        .iter()
        .flat_map(|(metric, days)| days.iter().map(move |day| (*metric, *day)))
        .collect();
    if check_logged(state, organization_id, &Some(touched)).await {
        // In turn with the batches, which it would otherwise keep polling for SQLite's lock.
        let _turn = state.db.write_turn().await;
        if let Err(error) =
            deliveries::mark_checked(state.db.pool(), organization_id, &keys, noted_at).await
        {
            tracing::error!(organization = organization_id, %error, "alert checks not cleared");
        }
    }
}

/// How long a noted change may wait for the check after its batch before the sweep takes
/// it over (the batch's own check normally clears it within milliseconds).
const SWEEP_AFTER_MS: i64 = 10_000;

/// Checks the changes that ingestion noted but no check cleared (the server died between
/// the two, or the check failed); returns how many were checked.
pub async fn sweep(state: &Platform) -> Result<usize, AppError> {
    let pool = state.db.pool();
    let before = Utc::now().timestamp_millis() - SWEEP_AFTER_MS;
    let rows = deliveries::unchecked(pool, before, 500).await?;
    let mut by_organization: BTreeMap<i64, Vec<(i64, i64, i64)>> = BTreeMap::new();
    for row in &rows {
        by_organization
            .entry(row.organization_id)
            .or_default()
            .push((row.metric_id, row.day_start, row.touched_at));
    }
    for (organization_id, notes) in by_organization {
        let mut touched: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        for (metric, day, _) in &notes {
            touched.entry(*metric).or_default().insert(*day);
        }
        let seen = notes.iter().map(|(_, _, at)| *at).max().unwrap_or(before);
        check(state, organization_id, &Some(touched), Utc::now()).await?;
        let keys: Vec<(i64, i64)> = notes.iter().map(|(m, d, _)| (*m, *d)).collect();
        deliveries::mark_checked(pool, organization_id, &keys, seen).await?;
    }
    Ok(rows.len())
}

/// `evt_` and 128 random bits in hex.
fn new_event_id() -> Result<String, AppError> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| {
        tracing::error!(%error, "no randomness for an alert id");
        AppError::Internal
    })?;
    Ok(format!("evt_{}", hex::encode(bytes)))
}
