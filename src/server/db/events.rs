//! SQL for the raw usage-event log and the ids it has accepted.
//!
//! On SQLite `usage_events` is one table whose unique index on the organization and event
//! id is the idempotency key, kept as long as the events. On PostgreSQL it is partitioned
//! by calendar month of occurrence (`usage_events_YYYY_MM`), which a unique index cannot
//! span, so accepted ids live in `usage_event_keys`, pruned by age.

use std::collections::HashSet;

use sqlx::{Any, AnyConnection};

use crate::domain::{quantity::Quantity, retention::Month};

use super::{
    params,
    usage::{parameter_rows, rows_per_statement},
    Backend, Database,
};

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

fn is_sqlite(connection: &AnyConnection) -> bool {
    connection.backend_name() == "SQLite"
}

/// Stores the events whose ids the organization does not have yet and returns exactly those
/// ids; the others are left untouched. Run it inside the batch's transaction, with `events`
/// sorted by id (concurrent batches then take the ids' locks in one order), after
/// [`prepare`] made room for their months.
pub async fn insert_new(
    connection: &mut AnyConnection,
    organization_id: i64,
    events: &[NewEvent<'_>],
    received_at: i64,
) -> Result<HashSet<String>, sqlx::Error> {
    if is_sqlite(connection) {
        return insert_rows(connection, organization_id, events, received_at, true).await;
    }
    let inserted = insert_keys(connection, organization_id, events, received_at).await?;
    let fresh: Vec<NewEvent<'_>> = events
        .iter()
        .filter(|event| inserted.contains(event.event_id))
        .cloned()
        .collect();
    insert_rows(connection, organization_id, &fresh, received_at, false).await?;
    Ok(inserted)
}

/// Records the ids of `events` the organization has not used; returns those.
async fn insert_keys(
    connection: &mut AnyConnection,
    organization_id: i64,
    events: &[NewEvent<'_>],
    accepted_at: i64,
) -> Result<HashSet<String>, sqlx::Error> {
    let columns = "organization_id, event_id, accepted_at";
    let on_conflict = "on conflict (organization_id, event_id) do nothing";
    insert_returning_ids(
        connection,
        ("usage_event_keys", columns, 3),
        on_conflict,
        events,
        |query, event| {
            query
                .bind(organization_id)
                .bind(event.event_id)
                .bind(accepted_at)
        },
    )
    .await
}

/// Inserts `events` into the log; with `skip_repeats` (SQLite, whose index is the key)
/// leaves out ids the organization has, and returns the ids inserted.
async fn insert_rows(
    connection: &mut AnyConnection,
    organization_id: i64,
    events: &[NewEvent<'_>],
    received_at: i64,
    skip_repeats: bool,
) -> Result<HashSet<String>, sqlx::Error> {
    let columns = "organization_id, event_id, metric_id, quantity_micros, occurred_at, \
                   received_at, account, domain_id, channel, properties";
    let on_conflict = if skip_repeats {
        "on conflict (organization_id, event_id) do nothing"
    } else {
        ""
    };
    insert_returning_ids(
        connection,
        ("usage_events", columns, 10),
        on_conflict,
        events,
        |query, event| {
            query
                .bind(organization_id)
                .bind(event.event_id)
                .bind(event.metric_id)
                .bind(event.quantity.micros())
                .bind(event.occurred_at)
                .bind(received_at)
                .bind(event.account)
                .bind(event.domain_id)
                .bind(event.channel)
                .bind(event.properties)
        },
    )
    .await
}

/// A statement's values for one event: `bind` adds them in `columns`' order.
type ScalarQuery<'q> = sqlx::query::QueryScalar<'q, Any, String, sqlx::any::AnyArguments<'q>>;

/// Inserts one row per event into `table`'s `columns` (`width` of them), as many rows a
/// statement as the parameter limit allows, `on_conflict` after the values; returns the
/// event ids of the rows inserted.
async fn insert_returning_ids<'e>(
    connection: &mut AnyConnection,
    (table, columns, width): (&str, &str, usize),
    on_conflict: &str,
    events: &'e [NewEvent<'e>],
    bind: impl for<'q> Fn(ScalarQuery<'q>, &'q NewEvent<'e>) -> ScalarQuery<'q>,
) -> Result<HashSet<String>, sqlx::Error> {
    let mut inserted = HashSet::with_capacity(events.len());
    for chunk in events.chunks(rows_per_statement(width)) {
        let rows = parameter_rows(connection, chunk.len(), width);
        let sql = format!(
            "insert into {table} ({columns}) values {rows} {on_conflict} returning event_id"
        );
        let mut query = sqlx::query_scalar::<Any, String>(&sql);
        for event in chunk {
            query = bind(query, event);
        }
        inserted.extend(query.fetch_all(&mut *connection).await?);
    }
    Ok(inserted)
}

/// The ids among `ids` the organization has accepted events under (and still remembers).
pub async fn ids_taken(
    connection: &mut AnyConnection,
    organization_id: i64,
    ids: &[&str],
) -> Result<Vec<String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let table = if is_sqlite(connection) {
        "usage_events"
    } else {
        "usage_event_keys"
    };
    let list = super::consumptions::in_list(2, ids.len());
    let sql =
        format!("select event_id from {table} where organization_id = $1 and event_id in ({list})");
    let mut query = sqlx::query_scalar_with::<Any, String, _>(&sql, params![organization_id]);
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(&mut *connection).await
}

/// Makes sure raw events that occurred from `first` to `last` (unix seconds) can be stored:
/// on PostgreSQL, creates the partitions of their months that this process has not seen
/// yet. Run it before the transaction that inserts them: creating a partition locks the
/// whole log, which must not be held for a transaction's length.
pub async fn prepare(database: &Database, first: i64, last: i64) -> Result<(), sqlx::Error> {
    if database.backend() != Backend::Postgres {
        return Ok(());
    }
    let missing: Vec<Month> = {
        let known = database.event_months().lock().map_err(|_| poisoned())?;
        Month::spanning(first, last)
            .into_iter()
            .filter(|month| !known.contains(month))
            .collect()
    };
    for month in missing {
        create_partition(database, month).await?;
        database
            .event_months()
            .lock()
            .map_err(|_| poisoned())?
            .insert(month);
    }
    Ok(())
}

fn poisoned() -> sqlx::Error {
    sqlx::Error::Protocol("the months cache was poisoned by a panic".into())
}

fn partition_name(month: Month) -> String {
    format!("usage_events_{}", month.name())
}

/// Creates `month`'s partition unless it exists (another server may create it at once).
async fn create_partition(database: &Database, month: Month) -> Result<(), sqlx::Error> {
    let name = partition_name(month);
    let sql = format!(
        "create table if not exists {name} partition of usage_events
         for values from ({}) to ({})",
        month.start(),
        month.end()
    );
    match sqlx::query(&sql).execute(database.pool()).await {
        Ok(_) => Ok(()),
        // Two servers creating it at once: one of them meets the other's catalogue row.
        Err(error) if partition_exists(database, &name).await? => {
            tracing::debug!(%error, partition = name, "created concurrently");
            Ok(())
        }
        Err(error) => Err(error),
    }
}

async fn partition_exists(database: &Database, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar::<Any, bool>("select to_regclass($1) is not null")
        .bind(name)
        .fetch_one(database.pool())
        .await
}

/// The months raw events are stored in on PostgreSQL, oldest first.
pub async fn stored_months(database: &Database) -> Result<Vec<Month>, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar(
        "select cast(c.relname as text) from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = 'usage_events'::regclass",
    )
    .fetch_all(database.pool())
    .await?;
    let mut months: Vec<Month> = names
        .iter()
        .filter_map(|name| Month::from_name(name.strip_prefix("usage_events_")?))
        .collect();
    months.sort_unstable();
    Ok(months)
}

/// Drops `month`'s raw events on PostgreSQL, all at once: the partition is detached
/// without blocking inserts into the others (finishing a detach an earlier run began), then
/// dropped.
pub async fn drop_month(database: &Database, month: Month) -> Result<(), sqlx::Error> {
    let name = partition_name(month);
    let pending: bool = sqlx::query_scalar(
        "select i.inhdetachpending from pg_inherits i
         where i.inhparent = 'usage_events'::regclass and i.inhrelid = to_regclass($1)",
    )
    .bind(name.as_str())
    .fetch_optional(database.pool())
    .await?
    .unwrap_or(false);
    let detach = if pending { "finalize" } else { "concurrently" };
    sqlx::query(&format!(
        "alter table usage_events detach partition {name} {detach}"
    ))
    .execute(database.pool())
    .await?;
    sqlx::query(&format!("drop table {name}"))
        .execute(database.pool())
        .await?;
    if let Ok(mut known) = database.event_months().lock() {
        known.remove(&month);
    }
    Ok(())
}

/// Deletes the organization's raw events that occurred before `cutoff` (unix seconds), in
/// slices of `slice` rows so no statement holds its locks for long; returns how many went.
/// Rollups are kept. SQLite's retention; PostgreSQL drops whole months ([`drop_month`]).
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
            params![organization_id, cutoff, slice],
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

/// Forgets, on PostgreSQL, the ids of events accepted before `before` (unix seconds), in
/// slices of `slice`; returns how many went.
pub async fn forget_ids_before(
    database: &Database,
    before: i64,
    slice: i64,
) -> Result<u64, sqlx::Error> {
    if database.backend() != Backend::Postgres {
        return Ok(0);
    }
    let mut forgotten = 0;
    loop {
        let deleted = sqlx::query_with(
            "delete from usage_event_keys where ctid = any(array(
                 select ctid from usage_event_keys where accepted_at < $1 limit $2))",
            params![before, slice],
        )
        .execute(database.pool())
        .await?
        .rows_affected();
        forgotten += deleted;
        if deleted == 0 {
            return Ok(forgotten);
        }
    }
}
