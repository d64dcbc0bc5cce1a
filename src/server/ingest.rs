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
    let catalogue = Catalogue::load(pool).await?;
    let window = EventWindow {
        now,
        backdating_days: state.settings.backdating_days,
    };

    let mut report = IngestReport::default();
    let mut seen = HashSet::new();
    let mut accepted = Vec::with_capacity(events.len());
    for (index, raw) in events.iter().enumerate() {
        let draft = match EventDraft::parse(raw, &window) {
            Ok(draft) => draft,
            Err((id, reason)) => {
                report.rejected.push(RejectedEvent { index, id, reason });
                continue;
            }
        };
        let id = draft.id.clone();
        match catalogue.accept(draft) {
            Err(reason) => report.rejected.push(RejectedEvent {
                index,
                id: Some(id),
                reason,
            }),
            Ok(_) if !seen.insert(id) => report.duplicates += 1,
            Ok(event) => accepted.push(event),
        }
    }
    if accepted.is_empty() {
        return Ok(report);
    }

    // The rollups, computed before taking the turn to write: on SQLite batches write one
    // after another, so only what happens in the transaction limits the rate.
    let planned = plan(accepted.iter(), time_zone);
    let turn = state.db.write_turn().await;
    let mut tx = state.db.begin_write().await?;
    let written = write(
        &mut tx,
        organization.id,
        time_zone,
        &accepted,
        Some(planned),
        now,
    )
    .await?;
    let noted_at = note_for_alerts(&mut tx, organization.id, &written.touched, now).await?;
    tx.commit().await?;
    drop(turn);
    report.accepted = written.stored;
    report.duplicates += accepted.len() - written.stored;
    if written.stored > 0 {
        state.live.usage_changed(organization.id).await;
        alerts::check_and_clear(state, organization.id, written.touched, noted_at).await;
    }
    Ok(report)
}

/// Notes in `tx`, with the usage it stores, that the `touched` days still need their
/// alerts checked, so a crash before the check leaves it to the delivery task's sweep;
/// returns the note's time (Unix milliseconds), which the check clears it by.
pub async fn note_for_alerts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    organization_id: i64,
    touched: &BTreeMap<i64, BTreeSet<i64>>,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let noted_at = now.timestamp_millis();
    let unchecked: Vec<(i64, i64)> = touched
        .iter()
        .flat_map(|(metric, days)| days.iter().map(move |day| (*metric, *day)))
        .collect();
    db::deliveries::mark_unchecked(tx, organization_id, &unchecked, noted_at).await?;
    Ok(noted_at)
}

/// The metrics events may name, by code.
pub struct Catalogue(HashMap<String, CatalogueEntry>);

impl Catalogue {
    /// The instance's metrics.
    pub async fn load<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
        executor: E,
    ) -> Result<Catalogue, sqlx::Error> {
        Ok(Catalogue(
            db::usage::catalogue(executor)
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
                .collect(),
        ))
    }

    /// `draft` ready to store, or why it is refused: a metric the catalogue lacks, or a
    /// unique count without the value it counts.
    pub fn accept(&self, draft: EventDraft) -> Result<Accepted, String> {
        let Some(entry) = self.0.get(&draft.metric) else {
            return Err(format!("unknown metric {:?}", draft.metric));
        };
        let distinct = match (entry.aggregation, entry.distinct_by.as_deref()) {
            (Aggregation::UniqueCount, Some(field)) => match draft.field(field) {
                Some(value) => Some(value),
                None => {
                    return Err(format!(
                        "metric {:?} counts distinct values of {field:?}, which this event lacks",
                        draft.metric
                    ))
                }
            },
            (Aggregation::UniqueCount, None) => {
                return Err(format!(
                    "metric {:?} is a unique count with no field to count",
                    draft.metric
                ))
            }
            _ => None,
        };
        Ok(Accepted {
            draft,
            metric_id: entry.metric_id,
            aggregation: entry.aggregation,
            distinct,
        })
    }
}

/// What [`write`] did.
pub struct Written {
    /// Events stored now; the others were stored before.
    pub stored: usize,
    /// The days of each metric whose usage changed.
    pub touched: BTreeMap<i64, BTreeSet<i64>>,
}

/// Stores the events of `accepted` the organization does not have yet, their rollups and
/// distinct values, inside `tx`; the caller notes the change for the alert check
/// ([`note_for_alerts`]), commits, then tells the live pages and checks alerts. Every id in `accepted` must be
/// distinct. `planned` is `plan` of all of `accepted` when computed beforehand.
pub async fn write(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    organization_id: i64,
    time_zone: Tz,
    accepted: &[Accepted],
    planned: Option<Result<Planned, AppError>>,
    now: DateTime<Utc>,
) -> Result<Written, AppError> {
    let mut rows: Vec<NewEvent<'_>> = accepted
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
    let inserted = db::events::insert_new(tx, organization_id, &rows, received_at).await?;
    // Planned beforehand for the usual batch, all new; redone for those stored when some
    // were not.
    let Planned {
        mut deltas,
        distinct_values,
        touched,
    } = match planned {
        Some(planned) if inserted.len() == accepted.len() => planned?,
        _ => plan(
            accepted
                .iter()
                .filter(|accepted| inserted.contains(&accepted.draft.id)),
            time_zone,
        )?,
    };
    for new in db::usage::insert_distinct_values(tx, organization_id, &distinct_values).await? {
        let key = RollupKey {
            metric_id: new.metric_id,
            day_start: new.day_start,
            breakdown: None,
        };
        deltas.add(key, PeriodDelta::Add(Quantity::ONE), "unique count")?;
    }
    let deltas: Vec<(RollupKey, PeriodDelta)> = deltas.0.into_iter().collect();
    db::usage::apply_deltas(tx, organization_id, &deltas, received_at).await?;
    Ok(Written {
        stored: inserted.len(),
        touched,
    })
}

/// What a batch's stored events change.
pub struct Planned {
    /// Changes to the rollups, merged per row and sorted by key.
    deltas: Rollups,
    /// Values of unique-count metrics, sorted, each once.
    distinct_values: Vec<DistinctValue>,
    /// The days of each metric that changed.
    touched: BTreeMap<i64, BTreeSet<i64>>,
}

/// The rollup changes of `stored` events, their days in `time_zone`.
pub fn plan<'a>(
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

pub struct CatalogueEntry {
    metric_id: i64,
    aggregation: Aggregation,
    distinct_by: Option<String>,
}

/// An event that passed every check: its metric is known and it has what that counts.
pub struct Accepted {
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
