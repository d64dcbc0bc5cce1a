//! Retention: raw usage events older than the retention window are deleted; the daily
//! rollups built from them stay, so history and totals are unchanged.

use chrono::{DateTime, Months, Utc};

use crate::server::db::{self, Database};

/// Rows deleted per statement.
const SLICE: i64 = 10_000;

/// The instant before which raw events may go: `retention_months` calendar months before
/// `now` (UTC).
pub fn cutoff(now: DateTime<Utc>, retention_months: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(retention_months))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Deletes every organization's raw events older than `cutoff(now, retention_months)`;
/// returns how many went.
pub async fn purge(
    database: &Database,
    now: DateTime<Utc>,
    retention_months: u32,
) -> Result<u64, sqlx::Error> {
    let cutoff = db::unix_seconds(cutoff(now, retention_months));
    let pool = database.pool();
    let mut purged = 0;
    for organization_id in db::organizations::all_ids(pool).await? {
        purged += db::events::purge_before(pool, organization_id, cutoff, SLICE).await?;
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_whole_calendar_months_back() {
        let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().expect("instant");
        assert_eq!(cutoff(now, 13).to_rfc3339(), "2025-10-23T10:00:00+00:00");
        // From 31 March, 13 months back is the last day of February.
        let end_of_march: DateTime<Utc> = "2027-03-31T00:00:00Z".parse().expect("instant");
        assert_eq!(
            cutoff(end_of_march, 13).to_rfc3339(),
            "2026-02-28T00:00:00+00:00"
        );
    }
}
