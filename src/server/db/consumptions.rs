//! SQL for taking capacity: the answers of consumes by idempotency key, a metric's usage in
//! a span read inside the writing transaction, and the lock that orders consumes of one
//! metric across servers.

use sqlx::{Any, AnyConnection, FromRow};

use crate::{
    domain::{aggregation::Aggregation, quantity::Quantity},
    error::AppError,
};

use super::{usage::parameter_rows, Backend};

/// A consume's first answer.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct ConsumptionRow {
    pub consume_id: String,
    pub metric_id: i64,
    /// 1 when the usage was recorded, 0 when refused (`Any` reads no SQLite booleans).
    pub allowed: i64,
    /// JSON of the entitlement answered.
    pub entitlement: String,
}

/// The organization's answers among `ids`.
pub async fn find(
    connection: &mut AnyConnection,
    organization_id: i64,
    ids: &[&str],
) -> Result<Vec<ConsumptionRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = in_list(2, ids.len());
    let sql = format!(
        "select consume_id, metric_id, cast(case when allowed then 1 else 0 end as bigint) as allowed,
                entitlement
         from consumptions where organization_id = $1 and consume_id in ({list})"
    );
    let mut query =
        sqlx::query_as_with::<Any, ConsumptionRow, _>(&sql, super::params![organization_id]);
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(&mut *connection).await
}

/// Stores answers; run in the transaction that records (or refuses) their usage.
pub async fn insert(
    connection: &mut AnyConnection,
    organization_id: i64,
    rows: &[ConsumptionRow],
    created_at: i64,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(super::usage::rows_per_statement(6)) {
        let values = parameter_rows(connection, chunk.len(), 6);
        let sql = format!(
            "insert into consumptions
                 (organization_id, consume_id, metric_id, allowed, entitlement, created_at)
             values {values}"
        );
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = query
                .bind(organization_id)
                .bind(row.consume_id.as_str())
                .bind(row.metric_id)
                .bind(row.allowed != 0)
                .bind(row.entitlement.as_str())
                .bind(created_at);
        }
        query.execute(&mut *connection).await?;
    }
    Ok(())
}

/// A metric's usage over days starting in `[from, to)`, read in the caller's transaction:
/// the values a unique count saw, else the sum of its day totals.
pub async fn metric_usage(
    connection: &mut AnyConnection,
    organization_id: i64,
    metric_id: i64,
    aggregation: Aggregation,
    span: (i64, i64),
) -> Result<Quantity, AppError> {
    let micros = match aggregation {
        Aggregation::UniqueCount => distinct_total(connection, organization_id, metric_id, span)
            .await?
            .saturating_mul(Quantity::ONE.micros()),
        _ => day_total(connection, organization_id, metric_id, span).await?,
    };
    Quantity::from_micros(micros).map_err(|_| AppError::Internal)
}

/// The sum of a metric's day totals over days starting in `[from, to)`, in micro-units: the
/// usage of a sum or a count.
async fn day_total(
    connection: &mut AnyConnection,
    organization_id: i64,
    metric_id: i64,
    (from, to): (i64, i64),
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar_with(
        "select cast(coalesce(sum(used_micros), 0) as bigint) from usage_daily
         where organization_id = $1 and metric_id = $2 and day_start >= $3 and day_start < $4",
        super::params![organization_id, metric_id, from, to],
    )
    .fetch_one(&mut *connection)
    .await
}

/// How many distinct values a unique-count metric saw over days starting in `[from, to)`.
async fn distinct_total(
    connection: &mut AnyConnection,
    organization_id: i64,
    metric_id: i64,
    (from, to): (i64, i64),
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar_with(
        "select cast(count(distinct value) as bigint) from usage_distinct_values
         where organization_id = $1 and metric_id = $2 and day_start >= $3 and day_start < $4",
        super::params![organization_id, metric_id, from, to],
    )
    .fetch_one(&mut *connection)
    .await
}

/// Whether a unique-count metric already counted `value` on a day starting in `[from, to)`.
pub async fn has_distinct_value(
    connection: &mut AnyConnection,
    organization_id: i64,
    metric_id: i64,
    value: &str,
    (from, to): (i64, i64),
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar_with(
        "select cast(1 as bigint) from usage_distinct_values
         where organization_id = $1 and metric_id = $2 and value = $3
           and day_start >= $4 and day_start < $5
         limit 1",
        super::params![organization_id, metric_id, value, from, to],
    )
    .fetch_optional(&mut *connection)
    .await?;
    Ok(found.is_some())
}

/// On PostgreSQL, waits for and holds until the transaction ends the lock of each
/// `(organization, metric)` of `keys` (take them sorted, so two transactions never wait on
/// each other): consumes of one metric on every server take turns. SQLite's writers take
/// turns anyway (`BEGIN IMMEDIATE`).
pub async fn lock_metrics(
    connection: &mut AnyConnection,
    backend: Backend,
    keys: &[(i64, i64)],
) -> Result<(), sqlx::Error> {
    if backend != Backend::Postgres {
        return Ok(());
    }
    for &(organization_id, metric_id) in keys {
        // One 64-bit key: the organization in the high half, the metric in the low half. Two
        // pairs that share a key only wait for each other needlessly.
        let key = (organization_id << 32) ^ (metric_id & 0xffff_ffff);
        sqlx::query_with("select pg_advisory_xact_lock($1)", super::params![key])
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

/// `$first, $first+1, …` for `count` values.
pub(super) fn in_list(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
