//! Live updates: ingestion announces which organization's usage changed; each open
//! `/usage` page listens on a server-sent event stream and refetches. On PostgreSQL the
//! announcements also travel through `NOTIFY`, so pages served by any server sharing the
//! database hear about events ingested by any other.

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

use crate::server::db::{Backend, Database};

/// Announcements buffered per listener before a slow one is told to catch up.
const BUFFER: usize = 1024;

/// The `NOTIFY` channel. Its payload, `"<schema> <instance> <organization id>"` or
/// `"<schema> <instance> sessions"`, names the schema so deployments sharing a database in
/// separate schemas ignore each other.
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
}

/// How many changes were announced: to everything, to each organization, and to sessions.
#[derive(Debug, Default)]
struct Generations {
    everything: AtomicU64,
    organizations: RwLock<HashMap<i64, u64>>,
    sessions: AtomicU64,
}

/// What another server's notification tells of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Notice {
    Organization(i64),
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
        }
    }

    /// A number that changes whenever a change concerning `organization_id` is announced
    /// (here, or by another server through the relay). A read that starts at generation `g`
    /// and is stored with it is current while the generation is still `g`.
    pub fn generation(&self, organization_id: i64) -> u64 {
        let everything = self.generations.everything.load(Ordering::Acquire);
        let organization = self
            .generations
            .organizations
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&organization_id)
            .copied()
            .unwrap_or(0);
        everything.wrapping_add(organization)
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

    /// `NOTIFY`s the other servers of `subject` (PostgreSQL only). A failure is logged:
    /// they learn of it within `read-cache-ms` anyway, and their pages at the next change.
    async fn notify(&self, subject: &str) {
        if let Some(db) = &self.postgres {
            let notified = sqlx::query("select pg_notify($1, current_schema() || ' ' || $2)")
                .bind(CHANNEL)
                .bind(format!("{} {subject}", self.instance))
                .execute(db.pool())
                .await;
            if let Err(error) = notified {
                tracing::warn!(%error, subject, "cannot notify other servers");
            }
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
        self.notify(&organization_id.to_string()).await;
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
        let notice = match fields.next()? {
            SESSIONS => Notice::Sessions,
            organization_id => Notice::Organization(organization_id.parse().ok()?),
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
        let task = tokio::spawn(relay(database_url.to_string(), live.clone()));
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
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => match live.sent_elsewhere(&schema, notification.payload()) {
                Some(Notice::Organization(id)) => live.announce(Change::Organization(id)),
                Some(Notice::Sessions) => live.sessions_moved(),
                None => {}
            },
            // The connection dropped; the next call reconnects and listens again.
            Ok(None) => {
                tracing::warn!("lost the connection listening for usage changes");
                live.announce(Change::Everything);
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for other servers' usage changes");
                return true;
            }
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
            ("public 8 42", Some(Notice::Organization(42))),
            ("public 8 sessions", Some(Notice::Sessions)),
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
            Some(Notice::Organization(42))
        );
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
