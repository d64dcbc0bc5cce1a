//! Ingestion: a batch of usage events in, one transaction that stores the new ones and
//! updates their period totals, and a report of what happened to each event.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    str::FromStr,
};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::{
    domain::{
        aggregation::{Aggregation, PeriodDelta},
        event::{EventDraft, EventWindow},
        period::BillingPeriod,
    },
    error::AppError,
};

use super::{
    db::{self, events::NewEvent, organizations},
    state::AppState,
};

/// What happened to a batch: every event is exactly one of accepted, duplicate or rejected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    /// Stored and counted now.
    pub accepted: usize,
    /// Already stored (earlier, concurrently, or earlier in this batch): acknowledged, not
    /// counted again.
    pub duplicates: usize,
    /// Refused, with the reason; stored nowhere.
    pub rejected: Vec<RejectedEvent>,
}

/// One refused event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RejectedEvent {
    /// Position in the request's `events` array, from 0.
    pub index: usize,
    /// The event's `id`, when it could be read.
    pub id: Option<String>,
    pub reason: String,
}

/// Validates `events` for the organization, stores the new ones and updates their period
/// totals in one transaction (all or nothing), and reports on each event.
pub async fn ingest(
    state: &AppState,
    organization_id: i64,
    events: &[Box<RawValue>],
    now: DateTime<Utc>,
) -> Result<IngestReport, AppError> {
    let pool = state.db.pool();
    let organization = organizations::find(pool, organization_id)
        .await?
        .ok_or_else(|| AppError::NotFound("Organization".into()))?;
    let time_zone =
        Tz::from_str(&organization.time_zone).unwrap_or(state.settings.default_time_zone);
    let catalogue: HashMap<String, (i64, Aggregation)> = db::usage::catalogue(pool)
        .await?
        .into_iter()
        .filter_map(|m| Some((m.code, (m.id, Aggregation::from_str(&m.aggregation).ok()?))))
        .collect();
    let window = EventWindow {
        now,
        backdating_days: state.settings.backdating_days,
    };

    let mut report = IngestReport::default();
    let mut seen = HashSet::new();
    let mut drafts = Vec::with_capacity(events.len());
    for (index, raw) in events.iter().enumerate() {
        let draft = match EventDraft::parse(raw, &window) {
            Ok(draft) => draft,
            Err((id, reason)) => {
                report.rejected.push(RejectedEvent { index, id, reason });
                continue;
            }
        };
        let reject = |reason: String| RejectedEvent {
            index,
            id: Some(draft.id.clone()),
            reason,
        };
        match catalogue.get(&draft.metric) {
            None => report
                .rejected
                .push(reject(format!("unknown metric {:?}", draft.metric))),
            Some((_, aggregation)) if aggregation.delta(draft.quantity, now).is_none() => {
                report.rejected.push(reject(format!(
                    "metric {:?} is aggregated by {} and cannot take events yet",
                    draft.metric,
                    aggregation.as_str()
                )))
            }
            Some(_) if !seen.insert(draft.id.clone()) => report.duplicates += 1,
            Some(&(metric_id, aggregation)) => drafts.push((draft, metric_id, aggregation)),
        }
    }
    if drafts.is_empty() {
        return Ok(report);
    }

    let mut rows: Vec<NewEvent<'_>> = drafts
        .iter()
        .map(|(draft, metric_id, _)| NewEvent {
            event_id: &draft.id,
            metric_id: *metric_id,
            quantity: draft.quantity,
            occurred_at: db::unix_seconds(draft.occurred_at),
            account: draft.account.as_deref(),
            domain_id: draft.domain_id.as_deref(),
            channel: draft.channel.as_deref(),
            properties: draft.properties.as_deref(),
        })
        .collect();
    // Every transaction takes its unique-index locks in id order (and its period rows in
    // key order, below), so batches that share ids wait for each other on Postgres instead
    // of deadlocking.
    rows.sort_unstable_by(|a, b| a.event_id.cmp(b.event_id));
    let received_at = db::unix_seconds(now);
    // The first statement writes, so SQLite takes its write lock at once (waiting on the
    // busy timeout) instead of failing to upgrade a read transaction.
    let mut tx = pool.begin().await?;
    let inserted = db::events::insert_new(&mut tx, organization.id, &rows, received_at).await?;
    report.accepted = inserted.len();
    report.duplicates += drafts.len() - inserted.len();

    let mut deltas: BTreeMap<(i64, i64, i64), PeriodDelta> = BTreeMap::new();
    for (draft, metric_id, aggregation) in
        drafts.iter().filter(|(d, _, _)| inserted.contains(&d.id))
    {
        let period = BillingPeriod::calendar_month_containing(draft.occurred_at, time_zone);
        let key = (
            *metric_id,
            db::unix_seconds(period.start),
            db::unix_seconds(period.end),
        );
        let Some(delta) = aggregation.delta(draft.quantity, draft.occurred_at) else {
            continue;
        };
        let merged = match deltas.remove(&key) {
            Some(previous) => previous.merge(delta).map_err(|_| {
                AppError::BadRequest(format!(
                    "the batch's total for metric {:?} is too large",
                    draft.metric
                ))
            })?,
            None => delta,
        };
        deltas.insert(key, merged);
    }
    for ((metric_id, start, end), delta) in deltas {
        db::usage::apply_delta(
            &mut *tx,
            organization.id,
            metric_id,
            (start, end),
            delta,
            received_at,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}
