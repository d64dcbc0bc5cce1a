//! Live updates: ingestion announces which organization's usage changed; each open
//! `/usage` page listens on a server-sent event stream and refetches. On PostgreSQL the
//! announcements also travel through `NOTIFY`, so pages served by any server sharing the
//! database hear about events ingested by any other.
//!
//! Each announcement also carries the primary's WAL position after the change, so every
//! server knows, per organization, how far a replica must have replayed before it may
//! answer that organization's reads ([`LiveUpdates::written_at`]).

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, PoisonError, RwLock,
    },
    time::Duration,
};

use sqlx::postgres::PgListener;
use tokio::{
    sync::{broadcast, watch},
    task::JoinHandle,
};
use tracing::Instrument;

use crate::server::db::{Backend, Database};

/// Announcements buffered per listener before a slow one is told to catch up.
const BUFFER: usize = 1024;

/// The `NOTIFY` channel. Its payload, `"<schema> <instance> <organization id>@<position>"`
/// or `"<schema> <instance> sessions@<position>"`, names the schema so deployments sharing
/// a database in separate schemas ignore each other; the position is the primary's WAL
/// position (bytes) after the change (older servers send none).
const CHANNEL: &str = "quotaboard_usage";

/// The last field of a notification that a session ended or changed organization.
const SESSIONS: &str = "sessions";

/// How long the relay waits before connecting again after Postgres refused it.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// This organization's usage, plan, domains or accounts.
    Organization(i64),
    /// Possibly anything: announcements from other servers may have been missed.
    Everything,
}

impl Change {
    /// True when a page of `organization_id` should refetch.
    pub fn concerns(self, organization_id: i64) -> bool {
        match self {
            Change::Organization(id) => id == organization_id,
            Change::Everything => true,
        }
    }
}

/// Cheap to clone; shared by ingestion and every event stream.
#[derive(Clone, Debug)]
pub struct LiveUpdates {
    usage: broadcast::Sender<Change>,
    closing: Arc<watch::Sender<bool>>,
    /// This server among those sharing the database: its own notifications come back to it
    /// and are skipped, having been announced locally already.
    instance: u64,
    /// The database to `NOTIFY` through: PostgreSQL only.
    postgres: Option<Database>,
    /// Counts the changes announced, so cached reads can tell whether they are current.
    generations: Arc<Generations>,
    /// Moves whenever a session or key may have ended, here or elsewhere: open streams
    /// check then whether theirs still stands.
    credentials: Arc<watch::Sender<u64>>,
    /// How far the primary's WAL holds each organization's last change.
    positions: Arc<Positions>,
}

/// The primary's WAL positions (bytes) of the changes this server knows of.
#[derive(Debug)]
struct Positions {
    /// Every change before it is accounted for: the position when the relay last started
    /// listening. `UNKNOWN` while it is not listening (a change may go unheard).
    floor: AtomicU64,
    /// Each organization's last change heard of, past the floor.
    organizations: RwLock<HashMap<i64, u64>>,
}

/// A floor while changes may go unheard.
const UNKNOWN: u64 = u64::MAX;

impl Default for Positions {
    fn default() -> Self {
        Positions {
            floor: AtomicU64::new(UNKNOWN),
            organizations: RwLock::default(),
        }
    }
}

/// How many changes were announced: to everything, to each organization, and to sessions.
#[derive(Debug, Default)]
struct Generations {
    everything: AtomicU64,
    organizations: RwLock<HashMap<i64, u64>>,
    sessions: AtomicU64,
}

/// `organization_id`'s number in `counts`, 0 when it has none.
fn of(counts: &RwLock<HashMap<i64, u64>>, organization_id: i64) -> u64 {
    counts
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&organization_id)
        .copied()
        .unwrap_or(0)
}

/// What another server's notification tells of, with the WAL position after the change
/// when it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Notice {
    Organization(i64, Option<u64>),
    Sessions,
}

impl LiveUpdates {
    /// Announcements for `db`'s users: within this process, and on PostgreSQL to every
    /// server whose [`LiveRelay`] listens on the same database and schema.
    pub fn new(db: &Database) -> Self {
        let (usage, _) = broadcast::channel(BUFFER);
        let (closing, _) = watch::channel(false);
        let mut instance = [0_u8; 8];
        // A clash only costs the two servers each other's announcements; the clock is a
        // fine second source.
        if getrandom::fill(&mut instance).is_err() {
            instance = chrono::Utc::now()
                .timestamp_nanos_opt()
                .unwrap_or_default()
                .to_le_bytes();
        }
        LiveUpdates {
            usage,
            closing: Arc::new(closing),
            instance: u64::from_le_bytes(instance),
            postgres: (db.backend() == Backend::Postgres).then(|| db.clone()),
            generations: Arc::default(),
            credentials: Arc::new(watch::channel(0).0),
            positions: Arc::default(),
        }
    }

    /// Announcements within this process only, under a fixed instance number: for tests.
    #[cfg(test)]
    pub(crate) fn in_process(instance: u64) -> Self {
        let (usage, _) = broadcast::channel(BUFFER);
        let (closing, _) = watch::channel(false);
        LiveUpdates {
            usage,
            closing: Arc::new(closing),
            instance,
            postgres: None,
            generations: Arc::default(),
            credentials: Arc::new(watch::channel(0).0),
            positions: Arc::default(),
        }
    }

    /// A number that changes whenever a change concerning `organization_id` is announced
    /// (here, or by another server through the relay). A read that starts at generation `g`
    /// and is stored with it is current while the generation is still `g`.
    pub fn generation(&self, organization_id: i64) -> u64 {
        let everything = self.generations.everything.load(Ordering::Acquire);
        everything.wrapping_add(of(&self.generations.organizations, organization_id))
    }

    /// A number that changes whenever a session is signed out or moves to another
    /// organization (here, or on another server through the relay), and after the relay
    /// may have missed something: cached sessions are current while it stays the same.
    pub fn sessions_generation(&self) -> u64 {
        let everything = self.generations.everything.load(Ordering::Acquire);
        everything.wrapping_add(self.generations.sessions.load(Ordering::Acquire))
    }

    /// Tells this server and the others that a session ended or changed organization, a
    /// user was disabled or a key revoked, so none goes on using what it cached of it and
    /// open streams check their credentials. Call it once the change is stored.
    pub async fn credentials_changed(&self) {
        self.sessions_moved();
        self.notify(SESSIONS).await;
    }

    /// Counts a change of sessions or keys and wakes the streams waiting for one.
    fn sessions_moved(&self) {
        self.generations.sessions.fetch_add(1, Ordering::AcqRel);
        self.credentials
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// Changes when a session or key may have ended (see [`Self::credentials_changed`]),
    /// and after the relay may have missed announcements.
    pub fn credentials_watch(&self) -> watch::Receiver<u64> {
        self.credentials.subscribe()
    }

    /// `NOTIFY`s the other servers of `subject` (PostgreSQL only) with the primary's WAL
    /// position after it, and returns that position: the write position, past the change's
    /// commit record once the commit returned (with `synchronous_commit` on, the default;
    /// see [`crate::server::db::Database::with_replica`]). A failure is logged: they learn of it
    /// within `read-cache-ms` anyway, and their pages at the next change.
    async fn notify(&self, subject: &str) -> Option<u64> {
        let db = self.postgres.as_ref()?;
        let notified = sqlx::query_scalar::<_, i64>(
            "with here as (select cast(pg_current_wal_lsn() - '0/0' as bigint) as position)
             select position from here,
                 lateral (select pg_notify($1, current_schema() || ' ' || $2 || '@' || position))
                 as sent",
        )
        .bind(CHANNEL)
        .bind(format!("{} {subject}", self.instance))
        .fetch_one(db.pool())
        .await;
        match notified {
            Ok(position) => u64::try_from(position).ok(),
            Err(error) => {
                tracing::warn!(%error, subject, "cannot notify other servers");
                None
            }
        }
    }

    /// The primary's WAL position a read of `organization_id` must see: its last change this
    /// server knows of, or everything before the relay last started listening. `None`
    /// while changes may go unheard (the relay is not listening): read the primary.
    pub fn written_at(&self, organization_id: i64) -> Option<u64> {
        let floor = self.positions.floor.load(Ordering::Acquire);
        if floor == UNKNOWN {
            return None;
        }
        Some(floor.max(of(&self.positions.organizations, organization_id)))
    }

    /// Notes that `organization_id` changed at `position` of the primary's WAL.
    fn written(&self, organization_id: i64, position: u64) {
        let mut organizations = self
            .positions
            .organizations
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let last = organizations.entry(organization_id).or_default();
        *last = (*last).max(position);
    }

    /// Sets what every change before `floor` is accounted for by (`UNKNOWN`: nothing is);
    /// the positions below it are forgotten.
    fn set_floor(&self, floor: u64) {
        self.positions.floor.store(floor, Ordering::Release);
        if floor != UNKNOWN {
            self.positions
                .organizations
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, position| *position > floor);
        }
    }

    /// Counts `change`, then tells this server's listeners. Counting first: a page that
    /// hears of the change and reads again finds every cached read of before outdated.
    fn announce(&self, change: Change) {
        match change {
            Change::Organization(id) => {
                *self
                    .generations
                    .organizations
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(id)
                    .or_default() += 1;
            }
            Change::Everything => {
                self.generations.everything.fetch_add(1, Ordering::AcqRel);
                self.credentials
                    .send_modify(|count| *count = count.wrapping_add(1));
            }
        }
        let _ = self.usage.send(change);
    }

    /// Tells every listener, here and on the other servers, that `organization_id`'s usage,
    /// plan, domains or accounts changed. A failed `NOTIFY` is logged: the change is stored, only other
    /// servers' open pages learn of it at their next change.
    pub async fn usage_changed(&self, organization_id: i64) {
        self.announce(Change::Organization(organization_id));
        if let Some(position) = self.notify(&organization_id.to_string()).await {
            self.written(organization_id, position);
        }
    }

    /// Announcements from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.usage.subscribe()
    }

    /// Ends every stream, so a graceful shutdown is not held open by listening pages.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`LiveUpdates::close`] was called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closed| *closed).await;
        }
    }

    /// What a notification from another server of this schema tells of; `None` for this
    /// server's own, another schema's or a malformed one.
    fn sent_elsewhere(&self, schema: &str, payload: &str) -> Option<Notice> {
        let mut fields = payload.rsplitn(3, ' ');
        let last = fields.next()?;
        let (subject, position) = match last.split_once('@') {
            Some((subject, position)) => (subject, Some(position.parse().ok()?)),
            None => (last, None),
        };
        let notice = match subject {
            SESSIONS => Notice::Sessions,
            organization_id => Notice::Organization(organization_id.parse().ok()?, position),
        };
        let instance: u64 = fields.next()?.parse().ok()?;
        (fields.next()? == schema && instance != self.instance).then_some(notice)
    }
}

/// Relays other servers' announcements to this server's pages (PostgreSQL only).
pub struct LiveRelay {
    task: JoinHandle<()>,
}

impl LiveRelay {
    /// Listens on `database_url` until [`LiveUpdates::close`]; `None` when `live` has no
    /// PostgreSQL database to listen on.
    pub fn spawn(database_url: &str, live: &LiveUpdates) -> Option<LiveRelay> {
        live.postgres.as_ref()?;
        let task = tokio::spawn(
            relay(database_url.to_string(), live.clone())
                .instrument(tracing::info_span!("background", task = "live relay")),
        );
        Some(LiveRelay { task })
    }

    /// Waits for the relay to end after [`LiveUpdates::close`].
    pub async fn stopped(self) {
        if let Err(error) = self.task.await {
            tracing::error!(%error, "live relay failed");
        }
    }
}

async fn relay(database_url: String, live: LiveUpdates) {
    let closed = live.closed();
    tokio::pin!(closed);
    let mut listened = false;
    loop {
        tokio::select! {
            () = &mut closed => return,
            connected = listen(&database_url, &live, listened) => listened |= connected,
        }
        tokio::select! {
            () = &mut closed => return,
            () = tokio::time::sleep(RECONNECT_DELAY) => {}
        }
    }
}

/// Connects and relays until the connection fails for good; false when it could not
/// connect. After a gap (`listened` before) every page is told to refetch.
async fn listen(database_url: &str, live: &LiveUpdates, listened: bool) -> bool {
    let connected = async {
        let mut listener = PgListener::connect(database_url).await?;
        let schema: String = sqlx::query_scalar("select current_schema()")
            .fetch_one(&mut listener)
            .await?;
        listener.listen(CHANNEL).await?;
        Ok::<_, sqlx::Error>((listener, schema))
    };
    let (mut listener, schema) = match connected.await {
        Ok(connected) => connected,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for other servers' usage changes");
            return false;
        }
    };
    tracing::debug!(%schema, "listening for other servers' usage changes");
    if listened {
        // Whatever happened while this server was not listening is unknown.
        live.announce(Change::Everything);
    }
    if !account_for_changes_so_far(&mut listener, live).await {
        return true;
    }
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => match live.sent_elsewhere(&schema, notification.payload()) {
                Some(Notice::Organization(id, position)) => {
                    if let Some(position) = position {
                        live.written(id, position);
                    }
                    live.announce(Change::Organization(id));
                }
                Some(Notice::Sessions) => live.sessions_moved(),
                None => {}
            },
            // The connection dropped; the next call reconnects and listens again.
            Ok(None) => {
                tracing::warn!("lost the connection listening for usage changes");
                live.set_floor(UNKNOWN);
                live.announce(Change::Everything);
                if !account_for_changes_so_far(&mut listener, live).await {
                    return true;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for other servers' usage changes");
                return true;
            }
        }
    }
}

/// Once listening, every change before the primary's current WAL position is accounted
/// for, and those after it will be heard of: the position becomes the floor. False when
/// the position cannot be read (the floor stays unknown).
async fn account_for_changes_so_far(listener: &mut PgListener, live: &LiveUpdates) -> bool {
    let position =
        sqlx::query_scalar::<_, i64>("select cast(pg_current_wal_lsn() - '0/0' as bigint)")
            .fetch_one(&mut *listener)
            .await;
    match position {
        Ok(position) => {
            live.set_floor(u64::try_from(position).unwrap_or(UNKNOWN));
            true
        }
        Err(error) => {
            tracing::warn!(%error, "cannot read the primary's WAL position");
            live.set_floor(UNKNOWN);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn updates(instance: u64) -> LiveUpdates {
        LiveUpdates::in_process(instance)
    }

    #[test]
    fn notifications_of_other_servers_of_the_same_schema_are_relayed() {
        let live = updates(7);
        let cases = [
            ("public 8 42", Some(Notice::Organization(42, None))),
            (
                "public 8 42@1234",
                Some(Notice::Organization(42, Some(1234))),
            ),
            ("public 8 sessions", Some(Notice::Sessions)),
            ("public 8 sessions@99", Some(Notice::Sessions)),
            ("public 8 42@x", None),
            ("public 7 42@5", None),
            ("public 7 42", None),
            ("public 7 sessions", None),
            ("tenant_b 8 sessions", None),
            ("tenant_b 8 42", None),
            ("my schema 8 42", None),
            ("public 8 x", None),
            ("public x 42", None),
            ("42", None),
            ("", None),
        ];
        for (payload, expected) in cases {
            assert_eq!(
                live.sent_elsewhere("public", payload),
                expected,
                "{payload}"
            );
        }
        assert_eq!(
            live.sent_elsewhere("my schema", "my schema 8 42"),
            Some(Notice::Organization(42, None))
        );
    }

    #[test]
    fn a_read_must_see_its_organizations_last_change_and_nothing_is_known_unheard() {
        let live = updates(7);
        assert_eq!(live.written_at(3), None, "not listening: read the primary");
        live.set_floor(1_000);
        assert_eq!(live.written_at(3), Some(1_000));
        live.written(3, 1_500);
        live.written(3, 1_200);
        assert_eq!(
            live.written_at(3),
            Some(1_500),
            "positions only move forward"
        );
        assert_eq!(live.written_at(4), Some(1_000));
        live.set_floor(2_000);
        assert_eq!(live.written_at(3), Some(2_000));
        live.set_floor(UNKNOWN);
        assert_eq!(live.written_at(4), None, "a gap: read the primary");
    }

    #[test]
    fn announcing_a_change_moves_the_generations_it_concerns() {
        let live = updates(7);
        let (three, four) = (live.generation(3), live.generation(4));
        live.announce(Change::Organization(3));
        assert_ne!(live.generation(3), three);
        assert_eq!(live.generation(4), four);
        let (three, four) = (live.generation(3), live.generation(4));
        live.announce(Change::Everything);
        assert_ne!(live.generation(3), three);
        assert_ne!(live.generation(4), four);
    }

    #[tokio::test]
    async fn sessions_move_on_their_own_changes_and_on_gaps_only() {
        let live = updates(7);
        let sessions = live.sessions_generation();
        live.announce(Change::Organization(3));
        assert_eq!(live.sessions_generation(), sessions);

        let three = live.generation(3);
        live.credentials_changed().await;
        assert_ne!(live.sessions_generation(), sessions);
        assert_eq!(live.generation(3), three, "pages need not refetch");

        let sessions = live.sessions_generation();
        live.announce(Change::Everything);
        assert_ne!(live.sessions_generation(), sessions);
    }

    #[test]
    fn everything_concerns_every_organization() {
        assert!(Change::Everything.concerns(3));
        assert!(Change::Organization(3).concerns(3));
        assert!(!Change::Organization(4).concerns(3));
    }
}
