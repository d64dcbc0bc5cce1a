//! SQL for the metric catalogue and the usage rollups: per organization, metric and local
//! day; per account, channel and domain; and the distinct values of unique-count metrics.

use sqlx::{Any, AnyConnection, Executor, FromRow};

use super::queries;

use crate::domain::aggregation::PeriodDelta;

/// Parameters per multi-row statement: a 1 000-event batch takes two inserts.
const PARAMETERS_PER_STATEMENT: usize = 5_000;

/// How many rows of `width` parameters a multi-row statement carries.
pub fn rows_per_statement(width: usize) -> usize {
    (PARAMETERS_PER_STATEMENT / width).max(1)
}

/// A metric of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct MetricRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub aggregation: String,
    /// For `unique_count`: the event field whose distinct values are counted.
    pub distinct_by: Option<String>,
    pub position: i64,
    /// Unix seconds when the metric joined the catalogue.
    pub created_at: i64,
}

/// Every metric of the catalogue, in display order.
pub async fn catalogue<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Vec<MetricRow>, sqlx::Error> {
    sqlx::query_as(
        "select id, code, name, unit, aggregation, distinct_by,
                cast(position as bigint) as position, created_at
         from metrics order by position, id",
    )
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
    pub distinct_by: Option<&'a str>,
    pub position: i64,
}

queries! {
    /// Adds a metric to the catalogue; returns its id. A duplicate `code` is a unique violation.
    pub fn insert_metric(metric: &NewMetric<'_>, now: i64) -> scalar<i64>
        "insert into metrics (code, name, unit, aggregation, distinct_by, position, created_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning id"
        with [
            metric.code,
            metric.name,
            metric.unit,
            metric.aggregation,
            metric.distinct_by,
            metric.position,
            now,
        ];

    /// The id of the metric with this code, if any.
    pub fn metric_id(code: &str) -> scalar_optional<i64>
        "select id from metrics where code = $1";
}

/// One stored day's total of one metric (or of one metric for one breakdown value).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct DayRow {
    pub metric_id: i64,
    pub day_start: i64,
    pub used_micros: i64,
    pub latest_at: Option<i64>,
}

queries! {
    /// The organization's day totals for days starting in `[from, to)`, by metric and day.
    ///
    /// The span queries name the metrics (`metric_id in …`) so both engines seek the key
    /// `(organization, metric, day)` to each metric's span, instead of reading every day of the
    /// organization's history and keeping the span's: reads stay flat as history grows.
    pub fn days_between(organization_id: i64, (from, to): (i64, i64)) -> all<DayRow>
        "select metric_id, day_start, used_micros, latest_at from usage_daily
         where organization_id = $1 and metric_id in (select id from metrics)
           and day_start >= $2 and day_start < $3
         order by metric_id, day_start"
        with [organization_id, from, to];
}

/// When a metric was first and last used in a span: the first day with usage and the last
/// time any of its days changed (Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromRow)]
pub struct Activity {
    pub metric_id: i64,
    pub first_day: i64,
    pub last_updated: i64,
}

queries! {
    /// The [`Activity`] of each metric the organization used on days starting in `[from, to)`.
    pub fn activity_between(organization_id: i64, (from, to): (i64, i64)) -> all<Activity>
        "select metric_id, min(day_start) as first_day, max(updated_at) as last_updated
         from usage_daily
         where organization_id = $1 and metric_id in (select id from metrics)
           and day_start >= $2 and day_start < $3
         group by metric_id"
        with [organization_id, from, to];

    /// Number of distinct values each unique-count metric saw over days starting in `[from, to)`.
    pub fn distinct_counts_between(organization_id: i64, (from, to): (i64, i64)) -> all<(i64, i64)>
        "select metric_id, cast(count(distinct value) as bigint) from usage_distinct_values
         where organization_id = $1 and metric_id in (select id from metrics)
           and day_start >= $2 and day_start < $3
         group by metric_id"
        with [organization_id, from, to];
}

/// One breakdown value's day total.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct BreakdownRow {
    pub value: String,
    pub metric_id: i64,
    pub day_start: i64,
    pub used_micros: i64,
    pub latest_at: Option<i64>,
}

queries! {
    /// The organization's day totals by `dimension` (`account`, `channel` or `domain`) for days
    /// starting in `[from, to)`.
    pub fn breakdown_between(
        organization_id: i64,
        dimension: Dimension,
        (from, to): (i64, i64),
    ) -> all<BreakdownRow>
        "select value, metric_id, day_start, used_micros, latest_at from usage_daily_breakdown
         where organization_id = $1 and dimension = $2 and day_start >= $3 and day_start < $4
         order by value, metric_id, day_start"
        with [organization_id, dimension.as_str(), from, to];
}

/// An event field usage is broken down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Account,
    Channel,
    Domain,
}

impl Dimension {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Account => "account",
            Dimension::Channel => "channel",
            Dimension::Domain => "domain",
        }
    }
}

/// Where a delta goes: a metric's day, or one breakdown value of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub metric_id: i64,
    pub day_start: i64,
    pub breakdown: Option<(Dimension, String)>,
}

/// Applies each delta to its rollup row, creating rows as needed, in as few statements as
/// possible. Keys must be distinct (merge deltas first) and should come sorted, so that
/// concurrent batches lock rows in the same order. A total that would pass the 64-bit limit
/// fails the statement on both engines.
pub async fn apply_deltas(
    connection: &mut AnyConnection,
    organization_id: i64,
    deltas: &[(RollupKey, PeriodDelta)],
    now: i64,
) -> Result<(), sqlx::Error> {
    for breakdown in [false, true] {
        for kind in [DeltaKind::Add, DeltaKind::AtLeast, DeltaKind::Latest] {
            let rows: Vec<&(RollupKey, PeriodDelta)> = deltas
                .iter()
                .filter(|(key, delta)| {
                    key.breakdown.is_some() == breakdown && DeltaKind::of(delta) == kind
                })
                .collect();
            let width = rollup_width(breakdown);
            for chunk in rows.chunks(rows_per_statement(width)) {
                upsert(connection, organization_id, chunk, breakdown, kind, now).await?;
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DeltaKind {
    Add,
    AtLeast,
    Latest,
}

impl DeltaKind {
    fn of(delta: &PeriodDelta) -> Self {
        match delta {
            PeriodDelta::Add(_) => DeltaKind::Add,
            PeriodDelta::AtLeast(_) => DeltaKind::AtLeast,
            PeriodDelta::Latest { .. } => DeltaKind::Latest,
        }
    }

    /// How a stored row takes the delta; `max` and `latest` use only standard SQL (`case`),
    /// so both engines run the same statement.
    fn update(self, table: &str) -> String {
        match self {
            DeltaKind::Add => format!("used_micros = {table}.used_micros + excluded.used_micros"),
            DeltaKind::AtLeast => format!(
                "used_micros = case when excluded.used_micros > {table}.used_micros
                                    then excluded.used_micros else {table}.used_micros end"
            ),
            DeltaKind::Latest => format!(
                "used_micros = case when {table}.latest_at is null
                                      or excluded.latest_at >= {table}.latest_at
                                    then excluded.used_micros else {table}.used_micros end,
                 latest_at = case when {table}.latest_at is null
                                    or excluded.latest_at >= {table}.latest_at
                                  then excluded.latest_at else {table}.latest_at end"
            ),
        }
    }
}

/// Parameters a rollup row takes: a breakdown row adds its dimension and value.
fn rollup_width(breakdown: bool) -> usize {
    if breakdown {
        8
    } else {
        6
    }
}

async fn upsert(
    connection: &mut AnyConnection,
    organization_id: i64,
    rows: &[&(RollupKey, PeriodDelta)],
    breakdown: bool,
    kind: DeltaKind,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (table, columns, conflict) = if breakdown {
        (
            "usage_daily_breakdown",
            "organization_id, metric_id, day_start, used_micros, latest_at, updated_at, dimension, value",
            "organization_id, dimension, day_start, metric_id, value",
        )
    } else {
        (
            "usage_daily",
            "organization_id, metric_id, day_start, used_micros, latest_at, updated_at",
            "organization_id, metric_id, day_start",
        )
    };
    let width = rollup_width(breakdown);
    let sql = format!(
        "insert into {table} ({columns}) values {values}
         on conflict ({conflict}) do update set {update}, updated_at = excluded.updated_at",
        values = parameter_rows(connection, rows.len(), width),
        update = kind.update(table),
    );
    let mut query = sqlx::query(&sql);
    for (key, delta) in rows {
        let (used, latest_at) = match *delta {
            PeriodDelta::Add(quantity) | PeriodDelta::AtLeast(quantity) => (quantity, None),
            PeriodDelta::Latest { value, at } => (value, Some(at.timestamp())),
        };
        query = query
            .bind(organization_id)
            .bind(key.metric_id)
            .bind(key.day_start)
            .bind(used.micros())
            .bind(latest_at)
            .bind(now);
        if let Some((dimension, value)) = &key.breakdown {
            query = query.bind(dimension.as_str()).bind(value.clone());
        }
    }
    query.execute(&mut *connection).await?;
    Ok(())
}

/// The `values` of a multi-row statement on `connection`: `rows` rows of `width`
/// parameters, bound in order. PostgreSQL numbers them, `($1, $2), ($3, $4)`; SQLite takes
/// them anonymous, `(?, ?), (?, ?)`, because sqlx looks up each numbered parameter's name
/// with `sqlite3_bind_parameter_name`, which walks the statement's list of names: binding a
/// statement's numbered parameters costs the square of their count (5 000 of them took
/// 76 % of a 1 000-event batch's time), anonymous ones nothing.
pub fn parameter_rows(connection: &AnyConnection, rows: usize, width: usize) -> String {
    let numbered = connection.backend_name() != "SQLite";
    (0..rows)
        .map(|row| {
            let parameters: Vec<String> = (row * width + 1..=row * width + width)
                .map(|n| {
                    if numbered {
                        format!("${n}")
                    } else {
                        "?".into()
                    }
                })
                .collect();
            format!("({})", parameters.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One distinct value of a unique-count metric on one day.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, FromRow)]
pub struct DistinctValue {
    pub metric_id: i64,
    pub day_start: i64,
    pub value: String,
}

/// Records the values; returns those the day had not seen before. Values must be distinct
/// and should come sorted (lock order, as in [`apply_deltas`]).
pub async fn insert_distinct_values(
    connection: &mut AnyConnection,
    organization_id: i64,
    values: &[DistinctValue],
) -> Result<Vec<DistinctValue>, sqlx::Error> {
    let mut new = Vec::new();
    for chunk in values.chunks(rows_per_statement(4)) {
        let sql = format!(
            "insert into usage_distinct_values (organization_id, metric_id, day_start, value)
             values {}
             on conflict (organization_id, metric_id, day_start, value) do nothing
             returning metric_id, day_start, value",
            parameter_rows(connection, chunk.len(), 4)
        );
        let mut query = sqlx::query_as::<Any, DistinctValue>(&sql);
        for value in chunk {
            query = query
                .bind(organization_id)
                .bind(value.metric_id)
                .bind(value.day_start)
                .bind(value.value.clone());
        }
        new.extend(query.fetch_all(&mut *connection).await?);
    }
    Ok(new)
}
