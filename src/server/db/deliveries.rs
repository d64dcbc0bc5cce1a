//! SQL for threshold alerts: the queue of webhook deliveries, which is also their log.

use sqlx::{Any, Executor, FromRow};

/// A delivery to queue: one webhook told one threshold of one metric was reached in the
/// period starting at `period_start`.
#[derive(Clone, Debug)]
pub struct NewDelivery<'a> {
    pub webhook_id: i64,
    pub organization_id: i64,
    pub event_id: &'a str,
    pub metric_id: i64,
    pub period_start: i64,
    pub threshold: &'a str,
    pub payload: &'a str,
}

/// Queues a delivery due at once; false when this webhook was already told of this
/// threshold of this metric in this period (by this or any other server).
pub async fn enqueue<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    delivery: &NewDelivery<'_>,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "insert into webhook_deliveries
             (webhook_id, organization_id, event_id, metric_id, period_start, threshold, payload,
              next_attempt_ms, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict do nothing",
    )
    .bind(delivery.webhook_id)
    .bind(delivery.organization_id)
    .bind(delivery.event_id)
    .bind(delivery.metric_id)
    .bind(delivery.period_start)
    .bind(delivery.threshold)
    .bind(delivery.payload)
    .bind(now_ms)
    .bind(now_ms / 1000)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A queued delivery that is due, with what is needed to send it.
#[derive(Clone, Debug, FromRow)]
pub struct DueDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
    pub payload: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
}

/// Up to `limit` pending deliveries due by `now_ms` to active webhooks, oldest due first.
pub async fn due<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<DueDelivery>, sqlx::Error> {
    sqlx::query_as(
        "select d.id, d.webhook_id, w.url, w.secret, d.payload,
                cast(d.attempts as bigint) as attempts, d.next_attempt_ms
         from webhook_deliveries d join webhooks w on w.id = d.webhook_id
         where d.status = 'pending' and d.next_attempt_ms <= $1 and w.active
         order by d.next_attempt_ms, d.id
         limit $2",
    )
    .bind(now_ms)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// When the next pending delivery to an active webhook falls due (unix milliseconds).
pub async fn next_due<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select min(d.next_attempt_ms)
         from webhook_deliveries d join webhooks w on w.id = d.webhook_id
         where d.status = 'pending' and w.active",
    )
    .fetch_one(executor)
    .await
}

/// Takes a due delivery for one attempt: counts the attempt and moves its next try to
/// `lease_until_ms`, so a server that dies mid-attempt leaves it to be retried then. False
/// when another server took it first (its `next_attempt_ms` is no longer `seen_next_ms`).
pub async fn claim<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: i64,
    seen_next_ms: i64,
    lease_until_ms: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "update webhook_deliveries
         set attempts = attempts + 1, next_attempt_ms = $1, last_attempt_at = $2
         where id = $3 and status = 'pending' and next_attempt_ms = $4",
    )
    .bind(lease_until_ms)
    .bind(lease_until_ms / 1000)
    .bind(id)
    .bind(seen_next_ms)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptResult<'a> {
    pub attempted_at: i64,
    /// The receiver's HTTP status; `None` when it could not be reached.
    pub status_code: Option<i64>,
    /// Why the attempt failed; `None` when it succeeded.
    pub error: Option<&'a str>,
    /// `Some(next try, unix ms)` to retry, `None` when delivered or given up.
    pub retry_at_ms: Option<i64>,
}

/// Records an attempt: delivered (no error), pending again (an error and a retry time) or
/// failed for good (an error and no retry).
pub async fn record<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: i64,
    result: &AttemptResult<'_>,
) -> Result<(), sqlx::Error> {
    let status = match (result.error, result.retry_at_ms) {
        (None, _) => "delivered",
        (Some(_), Some(_)) => "pending",
        (Some(_), None) => "failed",
    };
    sqlx::query(
        "update webhook_deliveries
         set status = $1, last_attempt_at = $2, last_status = $3, last_error = $4,
             next_attempt_ms = coalesce($5, next_attempt_ms),
             delivered_at = case when $1 = 'delivered' then $2 else delivered_at end
         where id = $6",
    )
    .bind(status)
    .bind(result.attempted_at)
    .bind(result.status_code)
    .bind(result.error)
    .bind(result.retry_at_ms)
    .bind(id)
    .execute(executor)
    .await?;
    Ok(())
}

/// A delivery as its webhook's log shows it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: String,
    pub metric_code: String,
    pub threshold: String,
    pub period_start: i64,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
}

/// The organization's latest `limit` deliveries per webhook, newest first.
pub async fn recent<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    organization_id: i64,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(
        "select d.id, d.webhook_id, d.event_id, m.code as metric_code, d.threshold,
                d.period_start, d.status, cast(d.attempts as bigint) as attempts,
                d.next_attempt_ms, d.last_attempt_at,
                cast(d.last_status as bigint) as last_status, d.last_error, d.delivered_at,
                d.created_at
         from webhook_deliveries d join metrics m on m.id = d.metric_id
         where d.organization_id = $1
           and (select count(*) from webhook_deliveries newer
                where newer.webhook_id = d.webhook_id and newer.id > d.id) < $2
         order by d.webhook_id, d.id desc",
    )
    .bind(organization_id)
    .bind(limit)
    .fetch_all(executor)
    .await
}
