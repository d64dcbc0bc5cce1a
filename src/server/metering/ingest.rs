//! Ingestion: a batch of usage events in, one transaction that stores the new ones and
//! updates their daily rollups, and a report of what happened to each event.

use std::{
    collections::{hash_map::Entry, BTreeMap, BTreeSet, HashMap, HashSet},
    str::FromStr,
    sync::Arc,
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
        usage_level::fits,
    },
    error::AppError,
};

use crate::server::{
    db::{
        self, consumptions,
        events::NewEvent,
        usage::{Dimension, DistinctValue, RollupKey},
    },
    metering::alerts,
    metering::ledger::{span_of, Ledger, Resource},
    platform::Platform,
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
    state: &Platform,
    organization_id: i64,
    events: &[Box<RawValue>],
    now: DateTime<Utc>,
) -> Result<IngestReport, AppError> {
    let ledger = Ledger::cached(state, organization_id).await?;
    let catalogue = Catalogue::of(ledger.resources.iter().map(|r| &r.metric));
    let window = EventWindow {
        now,
        backdating_days: state.settings.backdating_days,
    };

    let mut report = IngestReport::default();
    let mut seen = HashSet::new();
    let mut accepted = Vec::with_capacity(events.len());
    let mut indices = Vec::with_capacity(events.len());
    let mut late = Vec::new();
    for (index, raw) in events.iter().enumerate() {
        let draft = match EventDraft::parse(raw, &window) {
            Ok(draft) => draft,
            Err(refusal) => {
                if let (true, Some(id)) = (refusal.too_old, &refusal.id) {
                    late.push((index, id.clone()));
                }
                report.rejected.push(RejectedEvent {
                    index,
                    id: refusal.id,
                    reason: refusal.reason,
                });
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
            Ok(event) => {
                accepted.push(event);
                indices.push(index);
            }
        }
    }
    if !late.is_empty() {
        acknowledge_resends(state, organization_id, &mut report, &late).await?;
    }
    if accepted.is_empty() {
        return Ok(report);
    }

    // On its own task: a request dropped while its batch is written (a client gone, a
    // timeout) must not leave the transaction, and SQLite's write lock, half way.
    tokio::spawn(store(state.clone(), ledger, accepted, indices, report, now))
        .await
        .map_err(|error| {
            tracing::error!(%error, "a batch's write did not finish");
            AppError::Internal
        })?
}

/// Turns the refusals of `late` events (position, id: refused only as older than the
/// backdating window) whose ids the organization accepted before into duplicates: a
/// client resending an event it sent weeks ago, whose answer it never saw, is told the
/// event is stored, as it is.
async fn acknowledge_resends(
    state: &Platform,
    organization_id: i64,
    report: &mut IngestReport,
    late: &[(usize, String)],
) -> Result<(), AppError> {
    let ids: Vec<&str> = late.iter().map(|(_, id)| id.as_str()).collect();
    let mut connection = state.db.pool().acquire().await?;
    let taken: HashSet<String> = db::events::ids_taken(&mut connection, organization_id, &ids)
        .await?
        .into_iter()
        .collect();
    let resent: HashSet<usize> = late
        .iter()
        .filter(|(_, id)| taken.contains(id))
        .map(|(index, _)| *index)
        .collect();
    report
        .rejected
        .retain(|rejected| !resent.contains(&rejected.index));
    report.duplicates += resent.len();
    Ok(())
}

/// Writes the accepted events of a batch (`indices`: their places in it) and completes
/// `report`.
async fn store(
    state: Platform,
    ledger: Arc<Ledger>,
    accepted: Vec<Accepted>,
    indices: Vec<usize>,
    mut report: IngestReport,
    now: DateTime<Utc>,
) -> Result<IngestReport, AppError> {
    let state = &state;
    let organization_id = ledger.organization.id;
    let time_zone = ledger.time_zone;
    // The rollups, computed before taking the turn to write: on SQLite batches write one
    // after another, so only what happens in the transaction limits the rate.
    let planned = plan(accepted.iter(), time_zone);
    make_room(&state.db, &accepted).await?;
    let turn = state.db.write_turn().await;
    let mut tx = state.db.begin_write().await?;
    let refused = refuse_past_limits(&mut tx, &state.db, &ledger, &accepted, now).await?;
    let (accepted, planned) = if refused.is_empty() {
        (accepted, Some(planned))
    } else {
        let mut kept = Vec::with_capacity(accepted.len());
        for (position, (event, index)) in accepted.into_iter().zip(indices).enumerate() {
            match refused.iter().find(|(at, _)| *at == position) {
                Some((_, reason)) => report.rejected.push(RejectedEvent {
                    index,
                    id: Some(event.draft.id),
                    reason: reason.clone(),
                }),
                None => kept.push(event),
            }
        }
        report.rejected.sort_by_key(|rejected| rejected.index);
        (kept, None)
    };
    let written = write(&mut tx, organization_id, time_zone, &accepted, planned, now).await?;
    let noted_at = note_for_alerts(&mut tx, organization_id, &written.touched, now).await?;
    tx.commit().await?;
    drop(turn);
    report.accepted = written.stored;
    report.duplicates += accepted.len() - written.stored;
    if written.stored > 0 {
        state.live.usage_changed(organization_id).await;
        alerts::check_and_clear(state, organization_id, written.touched, noted_at).await;
    }
    Ok(report)
}

/// Makes room for the months `events` occurred in, before the transaction that stores
/// them: see [`db::events::prepare`].
pub async fn make_room<'a>(
    database: &db::Database,
    events: impl IntoIterator<Item = &'a Accepted>,
) -> Result<(), sqlx::Error> {
    let (first, last) = events
        .into_iter()
        .map(|event| event.draft.occurred_at.timestamp())
        .fold((i64::MAX, i64::MIN), |(first, last), at| {
            (first.min(at), last.max(at))
        });
    if first > last {
        return Ok(());
    }
    db::events::prepare(database, first, last).await
}

/// The events of `accepted` (by position) that ingestion refuses, with the reason: those
/// of a metric whose license refuses events past its hard limit that do not fit under it,
/// taken in the batch's order. Read and decided in the writing transaction, with the
/// metrics' locks on PostgreSQL, so consumes and other batches cannot slip in between.
/// Events stored before (repeats) are left to count as duplicates.
async fn refuse_past_limits(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    database: &db::Database,
    ledger: &Ledger,
    accepted: &[Accepted],
    now: DateTime<Utc>,
) -> Result<Vec<(usize, String)>, AppError> {
    let guarded: HashMap<i64, &Resource> = ledger
        .resources
        .iter()
        .filter(|resource| resource.refuses_events())
        .map(|resource| (resource.metric.id, resource))
        .collect();
    let events: Vec<(usize, &Accepted, &Resource)> = accepted
        .iter()
        .enumerate()
        .filter_map(|(position, event)| Some((position, event, *guarded.get(&event.metric_id)?)))
        .collect();
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut keys: Vec<(i64, i64)> = events
        .iter()
        .map(|(_, event, _)| (ledger.organization.id, event.metric_id))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    consumptions::lock_metrics(tx, database.backend(), &keys).await?;
    let ids: Vec<&str> = events.iter().map(|(_, e, _)| e.draft.id.as_str()).collect();
    let stored: HashSet<String> = db::events::ids_taken(tx, ledger.organization.id, &ids)
        .await?
        .into_iter()
        .collect();

    let mut used: HashMap<(i64, i64), Quantity> = HashMap::new();
    let mut values: HashSet<(i64, i64, String)> = HashSet::new();
    let mut refused = Vec::new();
    for (position, event, resource) in events {
        if stored.contains(&event.draft.id) {
            continue;
        }
        // Backdated events count in the period they happened in.
        let period = ledger.period_at(event.draft.occurred_at.min(now));
        let span = span_of(&period);
        let key = (event.metric_id, span.0);
        if let Entry::Vacant(vacant) = used.entry(key) {
            let usage = consumptions::metric_usage(
                tx,
                ledger.organization.id,
                event.metric_id,
                resource.aggregation,
                span,
            )
            .await?;
            vacant.insert(usage);
        }
        let counted = match &event.distinct {
            Some(value) => {
                values.contains(&(key.0, key.1, value.clone()))
                    || consumptions::has_distinct_value(
                        tx,
                        ledger.organization.id,
                        event.metric_id,
                        value,
                        span,
                    )
                    .await?
            }
            None => false,
        };
        let needed = resource.aggregation.taken_by(event.draft.quantity, counted);
        let so_far = used.get(&key).copied().unwrap_or(Quantity::ZERO);
        match resource.cap.filter(|cap| !fits(Some(*cap), so_far, needed)) {
            Some(cap) => refused.push((
                position,
                format!(
                    "over the hard limit of {:?}: {} of {} used this period, and events past it \
                     are refused",
                    resource.metric.code,
                    so_far.to_decimal(),
                    cap.to_decimal()
                ),
            )),
            None => {
                used.insert(key, so_far.checked_add(needed).unwrap_or(Quantity::MAX));
                if let Some(value) = &event.distinct {
                    values.insert((key.0, key.1, value.clone()));
                }
            }
        }
    }
    Ok(refused)
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
    /// These metrics.
    pub fn of<'a>(metrics: impl Iterator<Item = &'a db::usage::MetricRow>) -> Catalogue {
        Catalogue(
            metrics
                .filter_map(|metric| Some((metric.code.clone(), CatalogueEntry::of(metric)?)))
                .collect(),
        )
    }

    /// The instance's metrics.
    pub async fn load<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
        executor: E,
    ) -> Result<Catalogue, sqlx::Error> {
        Ok(Catalogue(
            db::usage::catalogue(executor)
                .await?
                .into_iter()
                .filter_map(|metric| Some((metric.code.clone(), CatalogueEntry::of(&metric)?)))
                .collect(),
        ))
    }

    /// `draft` ready to store, or why it is refused: a metric the catalogue lacks, or a
    /// unique count without the value it counts.
    pub fn accept(&self, draft: EventDraft) -> Result<Accepted, String> {
        match self.0.get(&draft.metric) {
            Some(entry) => entry.accept(draft),
            None => Err(format!("unknown metric {:?}", draft.metric)),
        }
    }
}

/// What storing an event of one metric needs to know of it.
pub struct CatalogueEntry {
    metric_id: i64,
    aggregation: Aggregation,
    distinct_by: Option<String>,
}

impl CatalogueEntry {
    /// The entry of a metric row; `None` for an aggregation this version does not know.
    pub fn of(metric: &db::usage::MetricRow) -> Option<CatalogueEntry> {
        Some(CatalogueEntry {
            metric_id: metric.id,
            aggregation: Aggregation::from_str(&metric.aggregation).ok()?,
            distinct_by: metric.distinct_by.clone(),
        })
    }

    /// `draft`, an event of this metric, ready to store; or why it is refused: a unique
    /// count without the value it counts.
    pub fn accept(&self, draft: EventDraft) -> Result<Accepted, String> {
        let entry = self;
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

/// An event that passed every check: its metric is known and it has what that counts.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub draft: EventDraft,
    pub metric_id: i64,
    pub aggregation: Aggregation,
    /// For unique-count metrics: the value counted.
    pub distinct: Option<String>,
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
