//! Cached reads for the dashboard: an organization's ledger and its usage totals, kept
//! while no change to the organization has been announced ([`LiveUpdates::generation`]) and
//! for at most the `read-cache-ms` setting, so a page view costs a session lookup rather than a dozen
//! queries. Ingestion and license changes announce themselves, here and (through the live
//! relay) on every server sharing the database, so a cached read is outdated the moment
//! they are stored. The setting bounds what nobody announces: a change made while the relay
//! was reconnecting, or by another process such as the command line.
//!
//! Only what pages and read endpoints show goes through here; limits, entitlements,
//! alerts and statements always read the database.

use std::{
    any::Any,
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use tokio::sync::OnceCell;

use crate::error::AppError;

use super::live::LiveUpdates;

/// Entries above this many make an insert sweep out the outdated ones.
const SWEEP_ABOVE: usize = 4096;

/// What is cached of one organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Read {
    /// Its [`super::ledger::Ledger`].
    Ledger,
    /// Each metric's total over the span `[from, to)` (Unix seconds).
    Totals(i64, i64),
    /// The history chart's periods, up to the one starting at this instant (Unix seconds).
    History(i64),
    /// Totals by account over the span `[from, to)`.
    Accounts(i64, i64),
}

type Value = Arc<dyn Any + Send + Sync>;

/// One cached read: the generation it was read at, when, and the value once loaded.
/// Readers arriving while it loads wait for that one load rather than start their own.
struct Entry {
    generation: u64,
    read_at: Instant,
    value: Arc<OnceCell<Value>>,
}

/// Shared by every request; cheap to reach through the state.
pub struct ReadCache {
    /// The longest a read is used, announced changes or not; zero: never.
    fresh_for: Duration,
    entries: Mutex<HashMap<(i64, Read), Entry>>,
}

impl ReadCache {
    /// A cache whose reads are used for at most `fresh_for`.
    pub fn new(fresh_for: Duration) -> Self {
        ReadCache {
            fresh_for,
            entries: Mutex::default(),
        }
    }

    /// `read` of `organization_id`: the cached value while current, else what `load`
    /// returns (cached unless it fails).
    pub async fn get<T, F>(
        &self,
        live: &LiveUpdates,
        (organization_id, read): (i64, Read),
        load: impl FnOnce() -> F,
    ) -> Result<Arc<T>, AppError>
    where
        T: Send + Sync + 'static,
        F: Future<Output = Result<T, AppError>>,
    {
        if self.fresh_for.is_zero() {
            return load().await.map(Arc::new);
        }
        // The generation before loading: a change stored during the load outdates it.
        let generation = live.generation(organization_id);
        let cell = self.cell((organization_id, read), generation, Instant::now());
        let value = cell
            .get_or_try_init(|| async {
                let value: Value = Arc::new(load().await?);
                Ok::<_, AppError>(value)
            })
            .await?;
        value.clone().downcast::<T>().map_err(|_| {
            tracing::error!(?read, "a cached read holds another type");
            AppError::Internal
        })
    }

    /// The cell of a current entry, or of a new one replacing an outdated or missing one.
    fn cell(&self, key: (i64, Read), generation: u64, now: Instant) -> Arc<OnceCell<Value>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.get(&key) {
            if entry.generation == generation && now.duration_since(entry.read_at) < self.fresh_for
            {
                return entry.value.clone();
            }
        }
        if entries.len() >= SWEEP_ABOVE {
            entries.retain(|_, entry| now.duration_since(entry.read_at) < self.fresh_for);
        }
        let value = Arc::new(OnceCell::new());
        entries.insert(
            key,
            Entry {
                generation,
                read_at: now,
                value: value.clone(),
            },
        );
        value
    }

    /// How many reads are held (current or not).
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const FRESH_FOR: Duration = Duration::from_secs(1);

    fn cache() -> ReadCache {
        ReadCache::new(FRESH_FOR)
    }

    fn live() -> LiveUpdates {
        LiveUpdates::in_process(1)
    }

    /// Loads `value` through the cache, counting the loads.
    async fn read(
        cache: &ReadCache,
        live: &LiveUpdates,
        key: (i64, Read),
        value: u32,
        loads: &AtomicUsize,
    ) -> u32 {
        let loaded = cache
            .get(live, key, || async {
                loads.fetch_add(1, Ordering::SeqCst);
                Ok(value)
            })
            .await
            .expect("a load that cannot fail");
        *loaded
    }

    #[tokio::test]
    async fn a_read_is_kept_until_its_organization_changes() {
        let (cache, live, loads) = (cache(), live(), AtomicUsize::new(0));
        assert_eq!(read(&cache, &live, (1, Read::Ledger), 10, &loads).await, 10);
        assert_eq!(read(&cache, &live, (1, Read::Ledger), 11, &loads).await, 10);
        assert_eq!(read(&cache, &live, (2, Read::Ledger), 20, &loads).await, 20);
        assert_eq!(loads.load(Ordering::SeqCst), 2);

        live.usage_changed(1).await;
        assert_eq!(read(&cache, &live, (1, Read::Ledger), 12, &loads).await, 12);
        assert_eq!(read(&cache, &live, (2, Read::Ledger), 21, &loads).await, 20);
        assert_eq!(loads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn reads_of_other_spans_are_apart() {
        let (cache, live, loads) = (cache(), live(), AtomicUsize::new(0));
        assert_eq!(
            read(&cache, &live, (1, Read::Totals(0, 10)), 1, &loads).await,
            1
        );
        assert_eq!(
            read(&cache, &live, (1, Read::Totals(0, 20)), 2, &loads).await,
            2
        );
        assert_eq!(
            read(&cache, &live, (1, Read::Totals(0, 10)), 3, &loads).await,
            1
        );
    }

    #[tokio::test]
    async fn a_read_is_outdated_after_its_time_even_unannounced() {
        let cache = cache();
        let key = (1, Read::Ledger);
        let start = Instant::now();
        let first = cache.cell(key, 0, start);
        assert!(Arc::ptr_eq(
            &first,
            &cache.cell(key, 0, start + FRESH_FOR / 2)
        ));
        assert!(!Arc::ptr_eq(&first, &cache.cell(key, 0, start + FRESH_FOR)));
    }

    #[tokio::test]
    async fn a_cache_fresh_for_no_time_always_loads() {
        let (cache, live, loads) = (ReadCache::new(Duration::ZERO), live(), AtomicUsize::new(0));
        assert_eq!(read(&cache, &live, (1, Read::Ledger), 1, &loads).await, 1);
        assert_eq!(read(&cache, &live, (1, Read::Ledger), 2, &loads).await, 2);
        assert!(cache.is_empty());
    }

    #[tokio::test]
    async fn a_failed_load_is_not_kept() {
        let (cache, live) = (cache(), live());
        let failed = cache
            .get::<u32, _>(&live, (1, Read::Ledger), || async {
                Err(AppError::Unavailable)
            })
            .await;
        assert!(failed.is_err());
        let loads = AtomicUsize::new(0);
        assert_eq!(read(&cache, &live, (1, Read::Ledger), 5, &loads).await, 5);
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn readers_arriving_together_share_one_load() {
        let (cache, live, loads) = (cache(), live(), AtomicUsize::new(0));
        let slow = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(7_u32)
        };
        let (a, b) = tokio::join!(
            cache.get(&live, (1, Read::Ledger), slow),
            cache.get(&live, (1, Read::Ledger), slow)
        );
        assert_eq!((*a.expect("a"), *b.expect("b")), (7, 7));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_full_cache_sweeps_out_what_is_outdated() {
        let cache = cache();
        let start = Instant::now();
        for organization in 0..SWEEP_ABOVE as i64 {
            cache.cell((organization, Read::Ledger), 0, start);
        }
        assert_eq!(cache.len(), SWEEP_ABOVE);
        cache.cell((-1, Read::Ledger), 0, start + FRESH_FOR);
        assert_eq!(cache.len(), 1);
    }
}
