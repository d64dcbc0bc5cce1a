//! SQL for the raw usage-event log.

use std::collections::HashSet;

use sqlx::{Any, AnyConnection};

use crate::domain::quantity::Quantity;

use super::usage::{parameter_rows, rows_per_statement};

/// One event to store.
#[derive(Clone, Debug)]
pub struct NewEvent<'a> {
    pub event_id: &'a str,
    pub metric_id: i64,
    pub quantity: Quantity,
    /// Unix seconds.
    pub occurred_at: i64,
    pub account: Option<&'a str>,
    pub domain_id: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub properties: Option<&'a str>,
}

/// Stores the events whose ids the organization does not have yet and returns exactly those
/// ids; the others are left untouched. Run it inside the batch's transaction.
pub async fn insert_new(
    connection: &mut AnyConnection,
    organization_id: i64,
    events: &[NewEvent<'_>],
    received_at: i64,
) -> Result<HashSet<String>, sqlx::Error> {
    let mut inserted = HashSet::with_capacity(events.len());
    for chunk in events.chunks(rows_per_statement(10)) {
        let rows = parameter_rows(connection, chunk.len(), 10);
        let sql = format!(
            "insert into usage_events
                 (organization_id, event_id, metric_id, quantity_micros, occurred_at,
                  received_at, account, domain_id, channel, properties)
             values {rows}
             on conflict (organization_id, event_id) do nothing
             returning event_id"
        );
        let mut query = sqlx::query_scalar::<Any, String>(&sql);
        for event in chunk {
            query = query
                .bind(organization_id)
                .bind(event.event_id)
                .bind(event.metric_id)
                .bind(event.quantity.micros())
                .bind(event.occurred_at)
                .bind(received_at)
                .bind(event.account)
                .bind(event.domain_id)
                .bind(event.channel)
                .bind(event.properties);
        }
        inserted.extend(query.fetch_all(&mut *connection).await?);
    }
    Ok(inserted)
}

/// Deletes the organization's raw events that occurred before `cutoff` (unix seconds), in
/// slices of `slice` rows so no statement holds its locks for long; returns how many went.
/// Rollups are kept.
pub async fn purge_before<'e, E: sqlx::Executor<'e, Database = Any> + Copy>(
    executor: E,
    organization_id: i64,
    cutoff: i64,
    slice: i64,
) -> Result<u64, sqlx::Error> {
    let mut purged = 0;
    loop {
        let deleted = sqlx::query_with(
            "delete from usage_events where id in
                 (select id from usage_events
                  where organization_id = $1 and occurred_at < $2 limit $3)",
            super::params![organization_id, cutoff, slice],
        )
        .execute(executor)
        .await?
        .rows_affected();
        purged += deleted;
        if deleted == 0 {
            return Ok(purged);
        }
    }
}
