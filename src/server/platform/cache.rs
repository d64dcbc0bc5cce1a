//! Cached reads for the dashboard: an organization's ledger and its usage totals, kept
//! while no change to the organization has been announced ([`LiveUpdates::generation`]) and
//! for at most the `read-cache-ms` setting, so a page view costs no query rather than a
//! dozen. Ingestion and license changes announce themselves, here and (through the live
//! relay) on every server sharing the database, so a cached read is outdated the moment
//! they are stored. The setting bounds what nobody announces: a change made while the relay
//! was reconnecting, or by another process such as the command line.
//!
//! Only what pages and read endpoints show goes through here; limits, entitlements,
//! alerts and statements always read the database.
//!
//! Sessions are kept the same way ([`SessionCache`]), so a signed-in page view reads no
//! table at all: sign-out and organization switches announce themselves to every server.

use std::{
    any::Any,
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use tokio::sync::OnceCell;

use crate::error::AppError;

use crate::server::{
    db::{memberships::MembershipRow, sessions::SessionRow},
    platform::live::LiveUpdates,
};

/// Entries above this many make an insert sweep out the outdated ones.
const SWEEP_ABOVE: usize = 4096;

/// What is cached of one organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Read {
    /// Its [`crate::server::metering::ledger::Ledger`].
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

/// Sessions as last read, by the hash of their secret, and the organizations each user
/// belongs to. One is used while no session change was announced since it was read
/// ([`LiveUpdates::sessions_generation`]) and for at most `read-cache-ms`, which bounds what
/// nobody announces (memberships changed from the command line). Whether a session is
/// still live (expiry, idle time, revocation) is judged on every use.
pub struct SessionCache {
    sessions: Kept<String, SessionRow>,
    memberships: Kept<i64, Arc<Vec<MembershipRow>>>,
}

impl SessionCache {
    /// A cache whose reads are used for at most `fresh_for`; zero: never.
    pub fn new(fresh_for: Duration) -> Self {
        SessionCache {
            sessions: Kept::new(fresh_for),
            memberships: Kept::new(fresh_for),
        }
    }

    /// The session `token_hash` names as read at `generation`, if that was less than
    /// `read-cache-ms` before `now`.
    pub fn session(&self, token_hash: &str, generation: u64, now: Instant) -> Option<SessionRow> {
        self.sessions.get(token_hash, generation, now)
    }

    /// Keeps `row`, read at `generation` from `read_at` on (taken before the read).
    pub fn keep_session(
        &self,
        token_hash: &str,
        generation: u64,
        read_at: Instant,
        row: SessionRow,
    ) {
        self.sessions
            .insert(token_hash.to_string(), generation, read_at, row);
    }

    /// Records activity written back for the session `token_hash` names, so the next
    /// requests do not write it again.
    pub fn touched(&self, token_hash: &str, last_seen_at: i64) {
        self.sessions.update(token_hash, |row| {
            row.last_seen_at = row.last_seen_at.max(last_seen_at);
        });
    }

    /// The organizations `user_id` belongs to as read at `generation`, as [`Self::session`].
    pub fn memberships(
        &self,
        user_id: i64,
        generation: u64,
        now: Instant,
    ) -> Option<Arc<Vec<MembershipRow>>> {
        self.memberships.get(&user_id, generation, now)
    }

    /// Keeps what `user_id` belongs to, as [`Self::keep_session`].
    pub fn keep_memberships(
        &self,
        user_id: i64,
        generation: u64,
        read_at: Instant,
        memberships: Arc<Vec<MembershipRow>>,
    ) {
        self.memberships
            .insert(user_id, generation, read_at, memberships);
    }
}

/// Values by key, each with the generation it was read at and when.
struct Kept<K, V> {
    fresh_for: Duration,
    entries: Mutex<HashMap<K, (u64, Instant, V)>>,
}

impl<K: Eq + std::hash::Hash, V: Clone> Kept<K, V> {
    fn new(fresh_for: Duration) -> Self {
        Kept {
            fresh_for,
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (u64, Instant, V)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get<Q>(&self, key: &Q, generation: u64, now: Instant) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + std::hash::Hash + ?Sized,
    {
        let entries = self.lock();
        let (read_at_generation, read_at, value) = entries.get(key)?;
        (*read_at_generation == generation && now.duration_since(*read_at) < self.fresh_for)
            .then(|| value.clone())
    }

    fn insert(&self, key: K, generation: u64, read_at: Instant, value: V) {
        if self.fresh_for.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= SWEEP_ABOVE {
            entries.retain(|_, (_, kept_at, _)| read_at.duration_since(*kept_at) < self.fresh_for);
        }
        entries.insert(key, (generation, read_at, value));
    }

    fn update<Q>(&self, key: &Q, change: impl FnOnce(&mut V))
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + std::hash::Hash + ?Sized,
    {
        if let Some((_, _, value)) = self.lock().get_mut(key) {
            change(value);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
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

    fn session(last_seen_at: i64) -> SessionRow {
        SessionRow {
            user_id: 1,
            email: "member@acme.example".into(),
            role: "member".into(),
            organization_id: Some(1),
            last_seen_at,
            expires_at: last_seen_at + 3_600,
            revoked_at: None,
        }
    }

    #[test]
    fn a_session_is_kept_until_a_session_change_or_its_time() {
        let sessions = SessionCache::new(FRESH_FOR);
        let start = Instant::now();
        sessions.keep_session("a", 5, start, session(100));
        assert_eq!(
            sessions.session("a", 5, start + FRESH_FOR / 2),
            Some(session(100))
        );
        assert_eq!(sessions.session("b", 5, start), None, "another secret");
        assert_eq!(
            sessions.session("a", 6, start),
            None,
            "a session change since"
        );
        assert_eq!(
            sessions.session("a", 5, start + FRESH_FOR),
            None,
            "read too long ago"
        );
    }

    #[test]
    fn memberships_are_kept_by_user_as_sessions_are() {
        let sessions = SessionCache::new(FRESH_FOR);
        let start = Instant::now();
        let acme = Arc::new(vec![MembershipRow {
            organization_id: 1,
            slug: "acme".into(),
            name: "Acme Cloud".into(),
            role: "member".into(),
        }]);
        sessions.keep_memberships(7, 5, start, acme.clone());
        assert_eq!(sessions.memberships(7, 5, start), Some(acme));
        assert_eq!(sessions.memberships(8, 5, start), None, "another user");
        assert_eq!(
            sessions.memberships(7, 6, start),
            None,
            "a session change since"
        );
        assert_eq!(sessions.memberships(7, 5, start + FRESH_FOR), None);
    }

    #[test]
    fn activity_written_back_is_kept_with_the_session() {
        let sessions = SessionCache::new(FRESH_FOR);
        let start = Instant::now();
        sessions.keep_session("a", 0, start, session(100));
        sessions.touched("a", 160);
        sessions.touched("a", 130);
        assert_eq!(
            sessions.session("a", 0, start).map(|s| s.last_seen_at),
            Some(160)
        );
    }

    #[test]
    fn a_session_cache_fresh_for_no_time_keeps_nothing() {
        let sessions = SessionCache::new(Duration::ZERO);
        let start = Instant::now();
        sessions.keep_session("a", 0, start, session(100));
        assert_eq!(sessions.sessions.len(), 0);
        assert_eq!(sessions.session("a", 0, start), None);
    }

    #[test]
    fn a_full_session_cache_sweeps_out_what_is_outdated() {
        let sessions = SessionCache::new(FRESH_FOR);
        let start = Instant::now();
        for n in 0..SWEEP_ABOVE {
            sessions.keep_session(&n.to_string(), 0, start, session(100));
        }
        assert_eq!(sessions.sessions.len(), SWEEP_ABOVE);
        sessions.keep_session("new", 0, start + FRESH_FOR, session(100));
        assert_eq!(sessions.sessions.len(), 1);
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
