//! SQL for the metric catalogue, allowances and per-period usage totals.

use sqlx::{Any, Executor, FromRow};

use crate::domain::{aggregation::PeriodDelta, quantity::Quantity};

/// One metric of an organization's plan with its usage in one period.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct MetricUsageRow {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub used_micros: i64,
    /// `None`: unlimited.
    pub included_micros: Option<i64>,
}

/// Every metric the organization has an allowance for, in display order, with its usage in
/// the period starting at `period_start` (zero when nothing was recorded).
pub async fn for_period<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    period_start: i64,
) -> Result<Vec<MetricUsageRow>, sqlx::Error> {
    sqlx::query_as(
        "select m.code, m.name, m.unit,
                coalesce(u.used_micros, 0) as used_micros,
                a.included_micros
         from metric_allowances a
         join metrics m on m.id = a.metric_id
         left join period_usage u
           on u.organization_id = a.organization_id
          and u.metric_id = a.metric_id
          and u.period_start = $2
         where a.organization_id = $1
         order by m.position, m.id",
    )
    .bind(organization_id)
    .bind(period_start)
    .fetch_all(executor)
    .await
}

/// A metric to add to the catalogue.
#[derive(Clone, Debug)]
pub struct NewMetric<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub unit: &'a str,
    pub aggregation: &'a str,
    pub position: i64,
}

/// Adds a metric to the catalogue; returns its id. A duplicate `code` is a unique violation.
pub async fn insert_metric<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    metric: &NewMetric<'_>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into metrics (code, name, unit, aggregation, position, created_at)
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(metric.code)
    .bind(metric.name)
    .bind(metric.unit)
    .bind(metric.aggregation)
    .bind(metric.position)
    .bind(now)
    .fetch_one(executor)
    .await
}

/// Sets what the organization's plan includes of a metric (`None`: unlimited).
pub async fn set_allowance<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    metric_id: i64,
    included: Option<Quantity>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into metric_allowances (organization_id, metric_id, included_micros)
         values ($1, $2, $3)
         on conflict (organization_id, metric_id)
         do update set included_micros = excluded.included_micros",
    )
    .bind(organization_id)
    .bind(metric_id)
    .bind(included.map(Quantity::micros))
    .execute(executor)
    .await?;
    Ok(())
}

/// Adds `quantity` to the organization's total for the metric in the period `[start, end)`,
/// creating the total first if needed. A total that would pass the 64-bit limit is refused
/// with an error on both engines and the stored total stays as it was.
pub async fn add_to_period<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    metric_id: i64,
    (period_start, period_end): (i64, i64),
    quantity: Quantity,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into period_usage
             (organization_id, metric_id, period_start, period_end, used_micros, updated_at)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (organization_id, metric_id, period_start)
         do update set used_micros = period_usage.used_micros + excluded.used_micros,
                       updated_at = excluded.updated_at",
    )
    .bind(organization_id)
    .bind(metric_id)
    .bind(period_start)
    .bind(period_end)
    .bind(quantity.micros())
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// A metric of the catalogue as ingestion needs it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct MetricRow {
    pub id: i64,
    pub code: String,
    pub aggregation: String,
}

/// Every metric of the catalogue.
pub async fn catalogue<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Vec<MetricRow>, sqlx::Error> {
    sqlx::query_as("select id, code, aggregation from metrics")
        .fetch_all(executor)
        .await
}

/// Applies one batch's change to the organization's total for the metric in the period
/// `[start, end)`, creating the total if needed. `max` and `latest` use only standard SQL
/// (`case`), so both engines run the same statement.
pub async fn apply_delta<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    metric_id: i64,
    period: (i64, i64),
    delta: PeriodDelta,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (quantity, latest_at, update) = match delta {
        PeriodDelta::Add(quantity) => {
            return add_to_period(executor, organization_id, metric_id, period, quantity, now).await
        }
        PeriodDelta::AtLeast(quantity) => (
            quantity,
            None,
            "used_micros = case when excluded.used_micros > period_usage.used_micros
                                then excluded.used_micros else period_usage.used_micros end",
        ),
        PeriodDelta::Latest { value, at } => (
            value,
            Some(at.timestamp()),
            "used_micros = case when period_usage.latest_at is null
                                  or excluded.latest_at >= period_usage.latest_at
                                then excluded.used_micros else period_usage.used_micros end,
             latest_at = case when period_usage.latest_at is null
                                or excluded.latest_at >= period_usage.latest_at
                              then excluded.latest_at else period_usage.latest_at end",
        ),
    };
    sqlx::query(&format!(
        "insert into period_usage
             (organization_id, metric_id, period_start, period_end, used_micros, latest_at,
              updated_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (organization_id, metric_id, period_start)
         do update set {update}, updated_at = excluded.updated_at"
    ))
    .bind(organization_id)
    .bind(metric_id)
    .bind(period.0)
    .bind(period.1)
    .bind(quantity.micros())
    .bind(latest_at)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}
