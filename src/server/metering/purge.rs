//! Retention: raw usage events older than the retention window go, and event ids older
//! than their idempotency memory; the daily rollups built from the events stay, so history
//! and totals are unchanged.
//!
//! SQLite deletes the rows before the cutoff. PostgreSQL stores raw events by month and
//! drops each month whose every instant is before the cutoff, whole and at once: raw events
//! are kept at least `retention_months`, and less than a month longer.

use chrono::{DateTime, Utc};

use crate::{
    domain::retention::{self, Month},
    server::db::{self, Backend, Database},
};

/// Rows deleted per statement.
const SLICE: i64 = 10_000;

/// What a purge removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Raw events deleted row by row (SQLite).
    pub events: u64,
    /// Months of raw events dropped whole (PostgreSQL), oldest first.
    pub months: Vec<Month>,
    /// Event ids forgotten (PostgreSQL; SQLite remembers them as long as the events).
    pub ids: u64,
}

/// Removes every organization's raw events older than `retention_months` before `now`,
/// and the ids of events accepted longer than their idempotency memory ago.
pub async fn purge(
    database: &Database,
    now: DateTime<Utc>,
    retention_months: u32,
    backdating_days: u32,
) -> Result<Purged, sqlx::Error> {
    let cutoff = retention::cutoff(now, retention_months);
    let mut purged = Purged {
        ids: forget_ids(database, now, backdating_days).await?,
        ..Purged::default()
    };
    match database.backend() {
        Backend::Postgres => {
            for month in db::events::stored_months(database).await? {
                if month.ends_by(cutoff) {
                    db::events::drop_month(database, month).await?;
                    purged.months.push(month);
                }
            }
        }
        Backend::Sqlite => {
            let pool = database.pool();
            let cutoff = db::unix_seconds(cutoff);
            for organization_id in db::organizations::all_ids(pool).await? {
                purged.events +=
                    db::events::purge_before(pool, organization_id, cutoff, SLICE).await?;
            }
        }
    }
    Ok(purged)
}

/// Forgets the ids of events accepted longer than their idempotency memory before `now`;
/// returns how many.
pub async fn forget_ids(
    database: &Database,
    now: DateTime<Utc>,
    backdating_days: u32,
) -> Result<u64, sqlx::Error> {
    let before = db::unix_seconds(retention::ids_forgotten_before(now, backdating_days));
    db::events::forget_ids_before(database, before, SLICE).await
}

/// Makes storage ready for the months events may arrive in at `now` (PostgreSQL creates
/// their partitions ahead). The server runs it at start and every hour.
pub async fn prepare(
    database: &Database,
    now: DateTime<Utc>,
    backdating_days: u32,
) -> Result<(), sqlx::Error> {
    let months = retention::months_to_prepare(now, backdating_days);
    match (months.first(), months.last()) {
        (Some(first), Some(last)) => {
            db::events::prepare(database, first.start(), last.start()).await
        }
        _ => Ok(()),
    }
}
