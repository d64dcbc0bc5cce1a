//! Ingestion: a batch of usage events in, one transaction that stores the new ones and
//! updates their daily rollups, and a report of what happened to each event.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
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
        period::day_start,
        quantity::Quantity,
    },
    error::AppError,
};

use super::{
    alerts,
    db::{
        self,
        events::NewEvent,
        organizations,
        usage::{Dimension, DistinctValue, RollupKey},
    },
    state::AppState,
};

/// What happened to a batch: every event is exactly one of accepted, duplicate or rejected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RejectedEvent {
    /// Position in the request's `events` array, from 0.
    pub index: usize,
    /// The event's `id`, when it could be read.
    #[schema(required = true)]
    pub id: Option<String>,
    pub reason: String,
}

/// Validates `events` for the organization, stores the new ones and updates their rollups
/// (per day; per account, channel and domain; distinct values) in one transaction, all or
/// nothing, and reports on each event.
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
    let catalogue: HashMap<String, CatalogueEntry> = db::usage::catalogue(pool)
        .await?
        .into_iter()
        .filter_map(|m| {
            let aggregation = Aggregation::from_str(&m.aggregation).ok()?;
            Some((
                m.code,
                CatalogueEntry {
                    metric_id: m.id,
                    aggregation,
                    distinct_by: m.distinct_by,
                },
            ))
        })
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
        let Some(entry) = catalogue.get(&draft.metric) else {
            report
                .rejected
                .push(reject(format!("unknown metric {:?}", draft.metric)));
            continue;
        };
        let distinct = match (entry.aggregation, entry.distinct_by.as_deref()) {
            (Aggregation::UniqueCount, Some(field)) => match draft.field(field) {
                Some(value) => Some(value),
                None => {
                    report.rejected.push(reject(format!(
                        "metric {:?} counts distinct values of {field:?}, which this event lacks",
                        draft.metric
                    )));
                    continue;
                }
            },
            (Aggregation::UniqueCount, None) => {
                report.rejected.push(reject(format!(
                    "metric {:?} is a unique count with no field to count",
                    draft.metric
                )));
                continue;
            }
            _ => None,
        };
        if !seen.insert(draft.id.clone()) {
            report.duplicates += 1;
            continue;
        }
        drafts.push(Accepted {
            draft,
            metric_id: entry.metric_id,
            aggregation: entry.aggregation,
            distinct,
        });
    }
    if drafts.is_empty() {
        return Ok(report);
    }

    let mut rows: Vec<NewEvent<'_>> = drafts
        .iter()
        .map(|accepted| {
            let draft = &accepted.draft;
            NewEvent {
                event_id: &draft.id,
                metric_id: accepted.metric_id,
                quantity: draft.quantity,
                occurred_at: db::unix_seconds(draft.occurred_at),
                account: draft.account.as_deref(),
                domain_id: draft.domain_id.as_deref(),
                channel: draft.channel.as_deref(),
                properties: draft.properties.as_deref(),
            }
        })
        .collect();
    // Every transaction takes its unique-index locks in id order (and its rollup rows in
    // key order, below), so batches that share ids wait for each other on Postgres instead
    // of deadlocking.
    rows.sort_unstable_by(|a, b| a.event_id.cmp(b.event_id));
    let received_at = db::unix_seconds(now);
    // The rollups, computed before taking the turn to write: on SQLite batches write one
    // after another, so only what happens in the transaction limits the rate.
    let planned = plan(drafts.iter(), time_zone);
    let turn = state.db.write_turn().await;
    let mut tx = state.db.begin_write().await?;
    let inserted = db::events::insert_new(&mut tx, organization.id, &rows, received_at).await?;
    report.accepted = inserted.len();
    report.duplicates += drafts.len() - inserted.len();
    // Planned before the transaction for the usual batch, all new; redone for those stored
    // when some were not.
    let Planned {
        mut deltas,
        distinct_values,
        touched,
    } = if inserted.len() == drafts.len() {
        planned?
    } else {
        plan(
            drafts
                .iter()
                .filter(|accepted| inserted.contains(&accepted.draft.id)),
            time_zone,
        )?
    };
    for new in db::usage::insert_distinct_values(&mut tx, organization.id, &distinct_values).await?
    {
        let key = RollupKey {
            metric_id: new.metric_id,
            day_start: new.day_start,
            breakdown: None,
        };
        deltas.add(key, PeriodDelta::Add(Quantity::ONE), "unique count")?;
    }
    let deltas: Vec<(RollupKey, PeriodDelta)> = deltas.0.into_iter().collect();
    db::usage::apply_deltas(&mut tx, organization.id, &deltas, received_at).await?;
    // Noted with the usage, so a crash before the check below leaves it to the sweep.
    let noted_at = now.timestamp_millis();
    let unchecked: Vec<(i64, i64)> = touched
        .iter()
        .flat_map(|(metric, days)| days.iter().map(move |day| (*metric, *day)))
        .collect();
    db::deliveries::mark_unchecked(&mut tx, organization.id, &unchecked, noted_at).await?;
    tx.commit().await?;
    drop(turn);
    if report.accepted > 0 {
        state.live.usage_changed(organization.id).await;
        alerts::check_and_clear(state, organization.id, touched, noted_at).await;
    }
    Ok(report)
}

/// What a batch's stored events change.
struct Planned {
    /// Changes to the rollups, merged per row and sorted by key.
    deltas: Rollups,
    /// Values of unique-count metrics, sorted, each once.
    distinct_values: Vec<DistinctValue>,
    /// The days of each metric that changed.
    touched: BTreeMap<i64, BTreeSet<i64>>,
}

/// The rollup changes of `stored` events, their days in `time_zone`.
fn plan<'a>(
    stored: impl Iterator<Item = &'a Accepted>,
    time_zone: Tz,
) -> Result<Planned, AppError> {
    let mut deltas = Rollups::default();
    let mut distinct_values = BTreeSet::new();
    let mut touched: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for accepted in stored {
        let draft = &accepted.draft;
        let day_start = db::unix_seconds(day_start(draft.occurred_at, time_zone));
        touched
            .entry(accepted.metric_id)
            .or_default()
            .insert(day_start);
        if let Some(value) = &accepted.distinct {
            distinct_values.insert(DistinctValue {
                metric_id: accepted.metric_id,
                day_start,
                value: value.clone(),
            });
            continue;
        }
        let delta = accepted
            .aggregation
            .delta(draft.quantity, draft.occurred_at);
        let breakdowns = [
            (Dimension::Account, &draft.account),
            (Dimension::Channel, &draft.channel),
            (Dimension::Domain, &draft.domain_id),
        ];
        let keys = std::iter::once(None).chain(
            breakdowns
                .into_iter()
                .filter_map(|(dimension, value)| Some(Some((dimension, value.clone()?)))),
        );
        for breakdown in keys {
            let key = RollupKey {
                metric_id: accepted.metric_id,
                day_start,
                breakdown,
            };
            deltas.add(key, delta, &draft.metric)?;
        }
    }
    Ok(Planned {
        deltas,
        distinct_values: distinct_values.into_iter().collect(),
        touched,
    })
}

struct CatalogueEntry {
    metric_id: i64,
    aggregation: Aggregation,
    distinct_by: Option<String>,
}

/// An event that passed every check and is new to the batch.
struct Accepted {
    draft: EventDraft,
    metric_id: i64,
    aggregation: Aggregation,
    /// For unique-count metrics: the value counted.
    distinct: Option<String>,
}

/// The batch's changes to the rollups, merged per row and sorted by key.
#[derive(Default)]
struct Rollups(BTreeMap<RollupKey, PeriodDelta>);

impl Rollups {
    fn add(&mut self, key: RollupKey, delta: PeriodDelta, metric: &str) -> Result<(), AppError> {
        let merged = match self.0.remove(&key) {
            Some(previous) => previous.merge(delta).map_err(|_| {
                AppError::BadRequest(format!(
                    "the batch's total for metric {metric:?} is too large"
                ))
            })?,
            None => delta,
        };
        self.0.insert(key, merged);
        Ok(())
    }
}
