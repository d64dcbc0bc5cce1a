//! SQL for threshold alerts: the queue of webhook deliveries, which is also their log.

use sqlx::{Any, Executor, FromRow};

use super::queries;

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

queries! {
    /// Queues a delivery due at once; false when this webhook was already told of this
    /// threshold of this metric in this period (by this or any other server).
    pub fn enqueue(delivery: &NewDelivery<'_>, now_ms: i64) -> changed_one
        "insert into webhook_deliveries
             (webhook_id, organization_id, event_id, metric_id, period_start, threshold, payload,
              next_attempt_ms, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict do nothing"
        with [
            delivery.webhook_id,
            delivery.organization_id,
            delivery.event_id,
            delivery.metric_id,
            delivery.period_start,
            delivery.threshold,
            delivery.payload,
            now_ms,
            now_ms / 1000,
        ];
}

/// A queued delivery that is due, with what is needed to send it.
#[derive(Clone, Debug, FromRow)]
pub struct DueDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub organization_id: i64,
    pub url: String,
    /// Sealed (see `sealing`).
    pub secret: String,
    pub payload: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
}

queries! {
    /// Up to `limit` pending deliveries due by `now_ms` to active webhooks, taken in turns:
    /// each organization's oldest due first, then each one's second, and so on, at most
    /// `per_organization` of each. So one organization's long queue never comes before
    /// another's first delivery.
    pub fn due(now_ms: i64, per_organization: i64, limit: i64) -> all<DueDelivery>
        "select id, webhook_id, organization_id, url, secret, payload, attempts,
                next_attempt_ms
         from (select d.id, d.webhook_id, d.organization_id, w.url, w.secret, d.payload,
                      cast(d.attempts as bigint) as attempts, d.next_attempt_ms,
                      row_number() over (partition by d.organization_id
                                         order by d.next_attempt_ms, d.id) as turn
               from webhook_deliveries d
               join webhooks w on w.organization_id = d.organization_id and w.id = d.webhook_id
               where d.status = 'pending' and d.next_attempt_ms <= $1 and w.active) due
         where turn <= $2
         order by turn, next_attempt_ms, id
         limit $3";

    /// Marks failed the pending deliveries due by `now_ms` that have had `max_attempts` tries
    /// already: a server died during their last one. Returns how many.
    pub fn give_up_exhausted(now_ms: i64, max_attempts: i64) -> affected
        "update webhook_deliveries
         set status = 'failed',
             last_error = coalesce(last_error, 'no answer recorded for the last try')
         where status = 'pending' and next_attempt_ms <= $1 and attempts >= $2";

    /// Gives up the pending deliveries of a webhook that was turned off: they would otherwise
    /// go out, stale, whenever it is turned on again.
    pub fn cancel_pending(organization_id: i64, webhook_id: i64) -> affected
        "update webhook_deliveries set status = 'failed', last_error = 'webhook turned off'
         where organization_id = $1 and webhook_id = $2 and status = 'pending'";
}

/// When the next pending delivery to an active webhook falls due (unix milliseconds).
pub async fn next_due<'e, E: Executor<'e, Database = Any>>(
    executor: E,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select min(d.next_attempt_ms)
         from webhook_deliveries d
         join webhooks w on w.organization_id = d.organization_id and w.id = d.webhook_id
         where d.status = 'pending' and w.active",
    )
    .fetch_one(executor)
    .await
}

queries! {
    /// Takes a due delivery for one attempt at `now_ms`: counts the attempt and moves its next
    /// try to `lease_until_ms`, so a server that dies mid-attempt leaves it to be retried then.
    /// False when another server took it first (its `next_attempt_ms` is no longer
    /// `seen_next_ms`) or it has had `max_attempts` tries.
    pub fn claim(
        (organization_id, id): (i64, i64),
        seen_next_ms: i64,
        (now_ms, lease_until_ms): (i64, i64),
        max_attempts: i64,
    ) -> changed_one
        "update webhook_deliveries
         set attempts = attempts + 1, next_attempt_ms = $1, last_attempt_at = $2
         where organization_id = $3 and id = $4 and status = 'pending' and next_attempt_ms = $5
           and attempts < $6"
        with [lease_until_ms, now_ms / 1000, organization_id, id, seen_next_ms, max_attempts];
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptResult<'a> {
    /// The `lease_until_ms` the attempt was claimed with: the result is recorded only while
    /// the claim still holds.
    pub lease_until_ms: i64,
    pub attempted_at: i64,
    /// The receiver's HTTP status; `None` when it could not be reached.
    pub status_code: Option<i64>,
    /// Why the attempt failed; `None` when it succeeded.
    pub error: Option<&'a str>,
    /// `Some(next try, unix ms)` to retry, `None` when delivered or given up.
    pub retry_at_ms: Option<i64>,
}

/// Records an attempt: delivered (no error), pending again (an error and a retry time) or
/// failed for good (an error and no retry). False, and nothing written, when the claim ran
/// out and another try took the delivery over.
pub async fn record<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    (organization_id, id): (i64, i64),
    result: &AttemptResult<'_>,
) -> Result<bool, sqlx::Error> {
    let status = match (result.error, result.retry_at_ms) {
        (None, _) => "delivered",
        (Some(_), Some(_)) => "pending",
        (Some(_), None) => "failed",
    };
    let updated = sqlx::query_with(
        "update webhook_deliveries
         set status = $1, last_attempt_at = $2, last_status = $3, last_error = $4,
             next_attempt_ms = coalesce($5, next_attempt_ms),
             delivered_at = case when $1 = 'delivered' then $2 else delivered_at end
         where organization_id = $6 and id = $7 and status = 'pending' and next_attempt_ms = $8",
        super::params![
            status,
            result.attempted_at,
            result.status_code,
            result.error,
            result.retry_at_ms,
            organization_id,
            id,
            result.lease_until_ms
        ],
    )
    .execute(executor)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// A delivery as its webhook's log shows it.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    /// The alert's id, which every attempt of it carries (receivers deduplicate by it).
    pub event_id: String,
    pub metric_code: String,
    /// The percentage of the allowance crossed, as a decimal string.
    pub threshold: String,
    pub period_start: i64,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    /// When the next attempt is due, in unix milliseconds.
    pub next_attempt_ms: i64,
    pub last_attempt_at: Option<i64>,
    /// The HTTP status of the last attempt's answer, if one came.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
}

queries! {
    /// The organization's latest `limit` deliveries per webhook, newest first.
    pub fn recent(organization_id: i64, limit: i64) -> all<DeliveryRow>
        "select d.id, d.webhook_id, d.event_id, m.code as metric_code, d.threshold,
                d.period_start, d.status, cast(d.attempts as bigint) as attempts,
                d.next_attempt_ms, d.last_attempt_at,
                cast(d.last_status as bigint) as last_status, d.last_error, d.delivered_at,
                d.created_at
         from webhook_deliveries d join metrics m on m.id = d.metric_id
         where d.organization_id = $1
           and (select count(*) from webhook_deliveries newer
                where newer.organization_id = d.organization_id
                  and newer.webhook_id = d.webhook_id and newer.id > d.id) < $2
         order by d.webhook_id, d.id desc";
}

/// Notes, in the caller's transaction, that the organization's usage of each
/// `(metric id, day start)` changed at `now_ms` and its alerts are still to be checked.
pub async fn mark_unchecked(
    connection: &mut sqlx::AnyConnection,
    organization_id: i64,
    touched: &[(i64, i64)],
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    for (metric_id, day_start) in touched {
        sqlx::query_with(
            "insert into pending_alert_checks (organization_id, metric_id, day_start, touched_at)
             values ($1, $2, $3, $4)
             on conflict (organization_id, metric_id, day_start)
             do update set touched_at = excluded.touched_at",
            super::params![organization_id, metric_id, day_start, now_ms],
        )
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// A change still to be checked.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct UncheckedRow {
    pub organization_id: i64,
    pub metric_id: i64,
    pub day_start: i64,
    pub touched_at: i64,
}

queries! {
    /// Up to `limit` changes noted before `before_ms` and not checked since.
    pub fn unchecked(before_ms: i64, limit: i64) -> all<UncheckedRow>
        "select organization_id, metric_id, day_start, touched_at from pending_alert_checks
         where touched_at < $1 order by touched_at limit $2";
}

/// Removes the organization's notes of `(metric id, day start)` last touched at or before
/// `checked_ms`: a change noted later is kept for its own check.
pub async fn mark_checked<'e, E: Executor<'e, Database = Any> + Copy>(
    executor: E,
    organization_id: i64,
    touched: &[(i64, i64)],
    checked_ms: i64,
) -> Result<(), sqlx::Error> {
    for (metric_id, day_start) in touched {
        sqlx::query_with(
            "delete from pending_alert_checks
             where organization_id = $1 and metric_id = $2 and day_start = $3
               and touched_at <= $4",
            super::params![organization_id, metric_id, day_start, checked_ms],
        )
        .execute(executor)
        .await?;
    }
    Ok(())
}
