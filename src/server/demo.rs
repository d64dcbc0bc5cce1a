//! The demo dataset `make run` loads into an empty database: one organization whose metrics
//! sit in all three bands, with twelve months of usage history.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::domain::{period::BillingPeriod, quantity::Quantity};

use super::db::{
    self,
    organizations::{self, NewOrganization},
    usage::{self, NewMetric},
    Database,
};

/// What [`load`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoOutcome {
    Loaded,
    /// The database already holds an organization; nothing was written.
    SkippedNotEmpty,
}

struct DemoMetric {
    code: &'static str,
    name: &'static str,
    unit: &'static str,
    /// Whole units; `None`: unlimited.
    included: Option<i64>,
    /// Usage in the current period, in whole units (decimal string).
    used_now: &'static str,
}

/// Seed 002's metric types, chosen so the bars land in every band: 45 % green, 82.5 %
/// yellow, exactly 90 % yellow, 96.2 % red, 130 % red (over the limit) and unlimited.
const METRICS: [DemoMetric; 6] = [
    DemoMetric {
        code: "apiCalls",
        name: "API Calls",
        unit: "requests",
        included: Some(100_000),
        used_now: "45230",
    },
    DemoMetric {
        code: "storage",
        name: "Storage",
        unit: "GB",
        included: Some(100),
        used_now: "82.5",
    },
    DemoMetric {
        code: "seats",
        name: "Team Seats",
        unit: "users",
        included: Some(10),
        used_now: "9",
    },
    DemoMetric {
        code: "bandwidth",
        name: "Bandwidth",
        unit: "GB",
        included: Some(1000),
        used_now: "962.4",
    },
    DemoMetric {
        code: "emails",
        name: "Emails",
        unit: "emails",
        included: Some(10_000),
        used_now: "13000",
    },
    DemoMetric {
        code: "webhooks",
        name: "Webhook Events",
        unit: "events",
        included: None,
        used_now: "5210",
    },
];

const DEMO_TIME_ZONE: Tz = Tz::Europe__Berlin;

/// Loads the demo dataset in one transaction when no organization exists yet.
pub async fn load(database: &Database, now: DateTime<Utc>) -> Result<DemoOutcome, sqlx::Error> {
    let mut tx = database.pool().begin().await?;
    if !organizations::first_ids(&mut *tx, 1).await?.is_empty() {
        return Ok(DemoOutcome::SkippedNotEmpty);
    }
    let created = db::unix_seconds(now);
    let organization_id = organizations::insert(
        &mut *tx,
        &NewOrganization {
            slug: "acme",
            name: "Acme Cloud",
            time_zone: DEMO_TIME_ZONE.name(),
            currency: "USD",
        },
        created,
    )
    .await?;
    for (position, metric) in (0_i64..).zip(METRICS.iter()) {
        let metric_id = usage::insert_metric(
            &mut *tx,
            &NewMetric {
                code: metric.code,
                name: metric.name,
                unit: metric.unit,
                aggregation: if metric.code == "seats" { "max" } else { "sum" },
                position,
            },
            created,
        )
        .await?;
        let included = metric
            .included
            .and_then(|units| Quantity::parse(Decimal::from(units)).ok());
        usage::set_allowance(&mut *tx, organization_id, metric_id, included).await?;
        let used_now = Decimal::from_str_exact(metric.used_now)
            .ok()
            .and_then(|value| Quantity::parse(value).ok())
            .unwrap_or_default();
        let mut period = BillingPeriod::calendar_month_containing(now, DEMO_TIME_ZONE);
        for months_back in 0..12_u32 {
            // A year of steady growth: 45 % of this month's usage eleven months ago, +5 % a month.
            let percent = 100 - 5 * i64::from(months_back);
            let micros = used_now.micros() / 100 * percent;
            usage::add_to_period(
                &mut *tx,
                organization_id,
                metric_id,
                (db::unix_seconds(period.start), db::unix_seconds(period.end)),
                Quantity::from_micros(micros).unwrap_or_default(),
                created,
            )
            .await?;
            period = period.previous(DEMO_TIME_ZONE);
        }
    }
    tx.commit().await?;
    Ok(DemoOutcome::Loaded)
}
