//! Taking capacity: a consume checks a metric's usage against its hard limit and, when the
//! quantity fits, records it as a usage event, in one transaction, so consumes racing for the
//! last units never take more than is left. Its first answer is stored with it, by its
//! idempotency key, and answered again to a retry. Consumes that arrive together are
//! written in one transaction, one after another in order of arrival, with one commit.

use std::{
    collections::{hash_map::Entry, BTreeMap, BTreeSet, HashMap, HashSet},
    sync::Mutex,
};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::oneshot;

use crate::{
    domain::{period::BillingPeriod, quantity::Quantity, usage_level::fits},
    error::AppError,
    model::usage::Entitlement,
};

use crate::server::{
    db::{
        self,
        consumptions::{self, ConsumptionRow},
        Database,
    },
    metering::ingest::{self, Accepted},
    metering::ledger::{entitlement_of, span_of, Resource},
};

/// One consume, checked and ready to record.
pub struct Consume {
    pub organization_id: i64,
    pub time_zone: Tz,
    /// The metric as the organization's plan has it (its cap, allowance, aggregation).
    pub resource: Resource,
    /// The billing period the usage counts in.
    pub period: BillingPeriod,
    /// The event to record; its id is the idempotency key.
    pub event: Accepted,
    pub now: DateTime<Utc>,
}

/// What became of a consume.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Recorded: the entitlement after it.
    Taken(Entitlement),
    /// It did not fit and nothing was recorded: the entitlement as it stood.
    Refused(Entitlement),
    /// The id is an event's that was sent to ingestion, not a consume's: nothing happened.
    IdInUse,
}

/// The answer to a consume.
#[derive(Debug)]
pub struct Answer {
    pub outcome: Outcome,
    /// The first answer to this id, given again.
    pub replayed: bool,
    /// What this consume's transaction changed of its organization's usage, for the live
    /// pages and the alert check; on one consume of each organization of a batch.
    pub changed: Option<Changed>,
}

/// The usage a batch stored for one organization.
#[derive(Debug)]
pub struct Changed {
    pub touched: BTreeMap<i64, BTreeSet<i64>>,
    /// When it was noted for the alert check (Unix milliseconds).
    pub noted_at: i64,
}

struct Job {
    consume: Consume,
    reply: oneshot::Sender<Result<Answer, AppError>>,
}

/// This server's consumes waiting for their turn to write.
#[derive(Default)]
pub struct Consumptions {
    pending: Mutex<Vec<Job>>,
    /// Held while a batch is written: the next batch is everything that arrived meanwhile.
    turn: tokio::sync::Mutex<()>,
}

impl Consumptions {
    /// Records `consume` if it fits, else refuses it; the first answer again for an id seen
    /// before. Waits for the batch it joins to commit.
    pub async fn consume(&self, database: &Database, consume: Consume) -> Result<Answer, AppError> {
        let (reply, answer) = oneshot::channel();
        self.pending
            .lock()
            .map_err(|_| AppError::Internal)?
            .push(Job { consume, reply });
        {
            let _turn = self.turn.lock().await;
            let jobs = std::mem::take(&mut *self.pending.lock().map_err(|_| AppError::Internal)?);
            if !jobs.is_empty() {
                // On its own task: a request dropped while its batch is written (a client
                // gone, a timeout) must not roll back the others' consumes half way.
                let database = database.clone();
                tokio::spawn(async move { write_batch(&database, jobs).await })
                    .await
                    .map_err(|_| AppError::Internal)?;
            }
        }
        answer.await.map_err(|_| AppError::Internal)?
    }
}

/// Writes `jobs` in one transaction and answers each.
async fn write_batch(database: &Database, jobs: Vec<Job>) {
    let (consumes, replies): (Vec<Consume>, Vec<_>) =
        jobs.into_iter().map(|job| (job.consume, job.reply)).unzip();
    match decide_and_write(database, &consumes).await {
        Ok(answers) => {
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(Ok(answer));
            }
        }
        Err(error) => {
            tracing::error!(%error, consumes = consumes.len(), "a batch of consumes failed");
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

/// The usage of one metric in one period, as the batch has taken it so far.
#[derive(Default)]
struct Running {
    used: Quantity,
    /// Values of a unique count taken in this batch.
    values: HashSet<String>,
}

async fn decide_and_write(
    database: &Database,
    consumes: &[Consume],
) -> Result<Vec<Answer>, AppError> {
    ingest::make_room(database, consumes.iter().map(|c| &c.event)).await?;
    let _turn = database.write_turn().await;
    let mut tx = database.begin_write().await?;
    let mut keys: Vec<(i64, i64)> = consumes
        .iter()
        .map(|c| (c.organization_id, c.resource.metric.id))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    consumptions::lock_metrics(&mut tx, database.backend(), &keys).await?;

    // Answers given before, and ids ingestion has used, per organization.
    let mut answered: HashMap<(i64, String), ConsumptionRow> = HashMap::new();
    let mut in_use: HashSet<(i64, String)> = HashSet::new();
    let organizations: BTreeSet<i64> = consumes.iter().map(|c| c.organization_id).collect();
    for &organization in &organizations {
        let ids: Vec<&str> = consumes
            .iter()
            .filter(|c| c.organization_id == organization)
            .map(|c| c.event.draft.id.as_str())
            .collect();
        for row in consumptions::find(&mut tx, organization, &ids).await? {
            answered.insert((organization, row.consume_id.clone()), row);
        }
        let fresh: Vec<&str> = ids
            .into_iter()
            .filter(|id| !answered.contains_key(&(organization, (*id).to_string())))
            .collect();
        for id in db::events::ids_taken(&mut tx, organization, &fresh).await? {
            in_use.insert((organization, id));
        }
    }

    let mut running: HashMap<(i64, i64, i64), Running> = HashMap::new();
    let mut answers = Vec::with_capacity(consumes.len());
    let mut to_record: BTreeMap<i64, Vec<&Consume>> = BTreeMap::new();
    let mut to_store: BTreeMap<i64, Vec<ConsumptionRow>> = BTreeMap::new();
    for consume in consumes {
        let organization = consume.organization_id;
        let id = consume.event.draft.id.clone();
        if let Some(row) = answered.get(&(organization, id.clone())) {
            // The same id for another metric is not a retry: it names something else.
            answers.push(if row.metric_id == consume.resource.metric.id {
                replay(row)?
            } else {
                Answer {
                    outcome: Outcome::IdInUse,
                    replayed: false,
                    changed: None,
                }
            });
            continue;
        }
        if in_use.contains(&(organization, id.clone())) {
            answers.push(Answer {
                outcome: Outcome::IdInUse,
                replayed: false,
                changed: None,
            });
            continue;
        }
        let resource = &consume.resource;
        let span = span_of(&consume.period);
        let key = (organization, resource.metric.id, span.0);
        if let Entry::Vacant(vacant) = running.entry(key) {
            let used = usage_in(&mut tx, consume, span).await?;
            vacant.insert(Running {
                used,
                values: HashSet::new(),
            });
        }
        let needed = needed(&mut tx, consume, span, &running[&key]).await?;
        let state = running.get_mut(&key).ok_or(AppError::Internal)?;
        let taken = resource.in_plan() && fits(resource.cap, state.used, needed);
        let outcome = if taken {
            state.used = state
                .used
                .checked_add(needed)
                .ok_or_else(|| AppError::BadRequest("the quantity is too large".into()))?;
            if let Some(value) = &consume.event.distinct {
                state.values.insert(value.clone());
            }
            to_record.entry(organization).or_default().push(consume);
            Outcome::Taken(entitlement_of(resource, state.used))
        } else {
            Outcome::Refused(entitlement_of(resource, state.used))
        };
        let entitlement = match &outcome {
            Outcome::Taken(entitlement) | Outcome::Refused(entitlement) => entitlement,
            Outcome::IdInUse => return Err(AppError::Internal),
        };
        let row = ConsumptionRow {
            consume_id: id.clone(),
            metric_id: resource.metric.id,
            allowed: i64::from(taken),
            entitlement: serde_json::to_string(entitlement).map_err(|_| AppError::Internal)?,
        };
        // The same id twice in one batch: the second is a retry of the first.
        answered.insert((organization, id), row.clone());
        to_store.entry(organization).or_default().push(row);
        answers.push(Answer {
            outcome,
            replayed: false,
            changed: None,
        });
    }

    let now = consumes.first().map_or_else(Utc::now, |c| c.now);
    let mut changed: HashMap<i64, Changed> = HashMap::new();
    for (organization, recorded) in &to_record {
        let time_zone = recorded[0].time_zone;
        let events: Vec<Accepted> = recorded.iter().map(|c| c.event.clone()).collect();
        let written = ingest::write(&mut tx, *organization, time_zone, &events, None, now).await?;
        let noted_at =
            ingest::note_for_alerts(&mut tx, *organization, &written.touched, now).await?;
        changed.insert(
            *organization,
            Changed {
                touched: written.touched,
                noted_at,
            },
        );
    }
    for (organization, rows) in &to_store {
        consumptions::insert(&mut tx, *organization, rows, db::unix_seconds(now)).await?;
    }
    tx.commit().await?;

    // The live pages and the alert check hear of each organization's change once.
    for (consume, answer) in consumes.iter().zip(answers.iter_mut()) {
        if matches!(answer.outcome, Outcome::Taken(_)) && !answer.replayed {
            answer.changed = changed.remove(&consume.organization_id);
        }
    }
    Ok(answers)
}

/// The first answer to an id, as stored.
fn replay(row: &ConsumptionRow) -> Result<Answer, AppError> {
    let entitlement: Entitlement =
        serde_json::from_str(&row.entitlement).map_err(|_| AppError::Internal)?;
    Ok(Answer {
        outcome: if row.allowed != 0 {
            Outcome::Taken(entitlement)
        } else {
            Outcome::Refused(entitlement)
        },
        replayed: true,
        changed: None,
    })
}

/// The metric's usage in `span`, read in the writing transaction.
async fn usage_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    consume: &Consume,
    span: (i64, i64),
) -> Result<Quantity, AppError> {
    consumptions::metric_usage(
        tx,
        consume.organization_id,
        consume.resource.metric.id,
        consume.resource.aggregation,
        span,
    )
    .await
}

/// What the consume takes of the limit (a unique count's value counted this period,
/// earlier or in this batch, takes nothing).
async fn needed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    consume: &Consume,
    span: (i64, i64),
    running: &Running,
) -> Result<Quantity, AppError> {
    let counted = match &consume.event.distinct {
        Some(value) => {
            running.values.contains(value)
                || consumptions::has_distinct_value(
                    tx,
                    consume.organization_id,
                    consume.resource.metric.id,
                    value,
                    span,
                )
                .await?
        }
        None => false,
    };
    Ok(consume
        .resource
        .aggregation
        .taken_by(consume.event.draft.quantity, counted))
}
