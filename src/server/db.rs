//! Storage: one connection pool for SQLite or PostgreSQL, the same SQL for both.
//!
//! Queries go through sqlx's `Any` driver with numbered `$1` parameters, which both backends accept.
//! Portable column types only: `bigint` ids, quantities in micro-units and unix-second
//! timestamps; `text` for the rest. Each backend has its own migrations folder.

pub mod api_keys;
pub mod audit;
pub mod consumptions;
pub mod deliveries;
pub mod domains;
pub mod events;
pub mod licenses;
pub mod memberships;
pub mod organizations;
pub mod portal;
pub mod scoped;
pub mod sessions;
pub mod statements;
pub mod usage;
pub mod users;
pub mod webhooks;

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    str::FromStr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use sqlx::{
    any::{install_default_drivers, AnyPoolOptions},
    migrate::Migrator,
    AnyPool, Executor,
};
use tokio::sync::{Mutex, MutexGuard};
use tracing::Instrument;

use crate::{domain::retention::Month, error::AppError};

/// The values of one statement's `$1`, `$2`, … in order, for `sqlx::query_with` and
/// `query_as_with`: `params![organization_id, id]`. Inside a function answering
/// `Result<_, sqlx::Error>` (a value that cannot be encoded is its error).
macro_rules! params {
    ($($value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut arguments = sqlx::any::AnyArguments::default();
        $(sqlx::Arguments::add(&mut arguments, $value).map_err(sqlx::Error::Encode)?;)*
        arguments
    }};
}
pub(crate) use params;

/// Functions that each run one statement, written inline, on any executor (the pool or an
/// open transaction), their parameters bound in order as `$1`, `$2`, …:
///
/// ```ignore
/// queries! {
///     /// Ends a session; false when there is no such live session.
///     pub fn revoke(token_hash: &str, now: i64) -> changed_one
///         "update sessions set revoked_at = $2 where token_hash = $1 and revoked_at is null";
/// }
/// ```
///
/// `with [session.token_hash, now]` after the statement binds those values instead of the
/// parameters (fields of a parameter, a conversion).
///
/// The word after `->` says what the function answers: `execute` nothing, `affected` how
/// many rows changed (`u64`), `changed_one` whether exactly one did; `optional<T>`,
/// `one<T>` and `all<T>` rows read into `T`; `scalar<T>` and `scalar_optional<T>` the one
/// value of the one row (a returned id, a count).
macro_rules! queries {
    () => {};
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($arg:tt: $ty:ty),* $(,)?) -> $kind:ident $(<$out:ty>)?
            $sql:literal $(with [$($bind:expr),* $(,)?])?;
        $($rest:tt)*
    ) => {
        $(#[$meta])*
        $vis async fn $name<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
            executor: E,
            $($arg: $ty),*
        ) -> Result<$crate::server::db::queries!(@answer $kind $(<$out>)?), sqlx::Error> {
            let arguments = $crate::server::db::queries!(@bind [$($arg),*] $([$($bind),*])?);
            $crate::server::db::queries!(@run $kind, executor, $sql, arguments)
        }
        $crate::server::db::queries!($($rest)*);
    };
    (@bind [$($arg:tt),*]) => { $crate::server::db::params![$($arg),*] };
    (@bind [$($arg:tt),*] [$($bind:expr),*]) => { $crate::server::db::params![$($bind),*] };
    (@answer execute) => { () };
    (@answer affected) => { u64 };
    (@answer changed_one) => { bool };
    (@answer optional<$out:ty>) => { Option<$out> };
    (@answer one<$out:ty>) => { $out };
    (@answer all<$out:ty>) => { Vec<$out> };
    (@answer scalar<$out:ty>) => { $out };
    (@answer scalar_optional<$out:ty>) => { Option<$out> };
    (@run execute, $executor:ident, $sql:literal, $arguments:ident) => {
        sqlx::query_with($sql, $arguments).execute($executor).await.map(|_| ())
    };
    (@run affected, $executor:ident, $sql:literal, $arguments:ident) => {
        Ok(sqlx::query_with($sql, $arguments).execute($executor).await?.rows_affected())
    };
    (@run changed_one, $executor:ident, $sql:literal, $arguments:ident) => {
        Ok(sqlx::query_with($sql, $arguments).execute($executor).await?.rows_affected() == 1)
    };
    (@run optional, $executor:ident, $sql:literal, $arguments:ident) => {
        sqlx::query_as_with($sql, $arguments).fetch_optional($executor).await
    };
    (@run one, $executor:ident, $sql:literal, $arguments:ident) => {
        sqlx::query_as_with($sql, $arguments).fetch_one($executor).await
    };
    (@run all, $executor:ident, $sql:literal, $arguments:ident) => {
        sqlx::query_as_with($sql, $arguments).fetch_all($executor).await
    };
    (@run scalar, $executor:ident, $sql:literal, $arguments:ident) => {
        sqlx::query_scalar_with($sql, $arguments).fetch_one($executor).await
    };
    (@run scalar_optional, $executor:ident, $sql:literal, $arguments:ident) => {
        sqlx::query_scalar_with($sql, $arguments).fetch_optional($executor).await
    };
}
pub(crate) use queries;

/// The one value `sql` selects with `key` as its `$1`, if a row matches: an id by a name,
/// an email by an id.
pub async fn value_by<'c, 'q, T, K, E>(
    executor: E,
    sql: &'q str,
    key: K,
) -> Result<Option<T>, sqlx::Error>
where
    E: 'q + Executor<'c, Database = sqlx::Any>,
    K: 'q + Send + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
    T: 'q + Send + Unpin,
    (T,): for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
{
    sqlx::query_scalar_with(sql, params![key])
        .fetch_optional(executor)
        .await
}

/// A table rows are read from whole: its name and the columns a row is read from.
pub trait Table: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin {
    const TABLE: &'static str;
    const COLUMNS: &'static str;
}

/// The row of `T`'s table whose `column` is `key` (a unique column: an id, a slug, a
/// prefix), if there is one.
pub async fn row_by<'c, 'q, T, K, E>(
    executor: E,
    column: &str,
    key: K,
) -> Result<Option<T>, sqlx::Error>
where
    T: Table,
    E: 'q + Executor<'c, Database = sqlx::Any>,
    K: 'q + Send + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    let sql = format!(
        "select {} from {} where {column} = $1",
        T::COLUMNS,
        T::TABLE
    );
    sqlx::query_as_with(&sql, params![key])
        .fetch_optional(executor)
        .await
}

/// Runs `sql`, a change of at most one row (a delete, a revoke); whether it changed one.
pub async fn changed_one<'c, 'q, E>(
    executor: E,
    sql: &'q str,
    arguments: sqlx::any::AnyArguments<'q>,
) -> Result<bool, sqlx::Error>
where
    E: 'q + Executor<'c, Database = sqlx::Any>,
{
    let result = sqlx::query_with(sql, arguments).execute(executor).await?;
    Ok(result.rows_affected() == 1)
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which engine a [`Database`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Recognises `sqlite:` and `postgres://` / `postgresql://` URLs.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// Why `quotaboard backup` made no copy.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: choose a new file, a backup never overwrites one")]
    Exists(String),
    #[error("{0} is not a UTF-8 path")]
    Path(String),
    #[error("the database is PostgreSQL: back it up with pg_dump (see README)")]
    Postgres,
    #[error("cannot write the copy: {0}")]
    Database(#[from] sqlx::Error),
}

/// A pool of connections plus the backend it talks to.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    /// Whose turn it is to write (SQLite): see [`Database::write_turn`].
    writer: Arc<Mutex<()>>,
    /// The months of raw events this process knows have a partition (PostgreSQL).
    event_months: Arc<std::sync::Mutex<HashSet<Month>>>,
    /// A streaming replica usage reads may go to (PostgreSQL).
    replica: Option<Replica>,
}

/// A streaming replica of the PostgreSQL database, and how far it has replayed.
#[derive(Clone, Debug)]
struct Replica {
    pool: AnyPool,
    /// The primary's WAL position (bytes) the replica has replayed up to, as last polled;
    /// 0 while unknown or unreachable.
    replayed: Arc<AtomicU64>,
    /// Reads sent to the replica, and to the primary because the replica was behind.
    on_replica: Arc<AtomicU64>,
    on_primary: Arc<AtomicU64>,
    /// Held by every copy of the [`Database`]: the poll ends once none is left.
    alive: Arc<()>,
}

/// How often the replica's replay position is read.
const REPLAY_POLL: Duration = Duration::from_millis(20);

/// Why the replica cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    #[error("database-read-url is not a usable URL: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database-read-url is not a streaming replica (pg_is_in_recovery() is false): writes would go unseen by it, or it is the primary itself")]
    NotReplica,
    #[error("database-read-url needs a PostgreSQL database-url")]
    NotPostgres,
    #[error("cannot read the primary's synchronous_commit: {0}")]
    Primary(#[source] sqlx::Error),
    #[error("database-read-url needs synchronous_commit on the primary (it is off): an acknowledged change could be missing from the WAL position reads wait for")]
    AsynchronousCommit,
}

/// Where reads went, for `/metrics` and the tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadRouting {
    /// Reads served by the replica.
    pub on_replica: u64,
    /// Reads sent to the primary because the replica had not replayed the organization's
    /// last write yet.
    pub on_primary: u64,
}

/// When SQLite makes a commit durable (`sqlite-synchronous`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// `synchronous=NORMAL`: a commit survives the process being killed, but the last
    /// commits before a power loss or an operating-system crash may be rolled back.
    #[default]
    Normal,
    /// `synchronous=FULL`: the log is flushed to disk at every commit, so an acknowledged
    /// event survives power loss too, at the cost of one fsync per batch.
    Full,
}

impl Database {
    /// Connects with [`Durability::Normal`]; see [`Database::connect_with`].
    pub async fn connect(url: &str) -> Result<Database, sqlx::Error> {
        Database::connect_with(url, Durability::Normal).await
    }

    /// Connects, creating a missing SQLite file and its directory.
    ///
    /// SQLite runs in WAL mode with a 5 s busy timeout and `durability`'s `synchronous`.
    pub async fn connect_with(url: &str, durability: Durability) -> Result<Database, sqlx::Error> {
        install_default_drivers();
        let backend = Backend::of_url(url).ok_or_else(|| {
            sqlx::Error::Configuration("database URL must start with sqlite: or postgres://".into())
        })?;
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(5));
        let options = if backend == Backend::Sqlite {
            let pragmas = match durability {
                Durability::Normal => {
                    "pragma journal_mode = wal; pragma synchronous = normal; \
                     pragma busy_timeout = 5000; pragma foreign_keys = on;"
                }
                Durability::Full => {
                    "pragma journal_mode = wal; pragma synchronous = full; \
                     pragma busy_timeout = 5000; pragma foreign_keys = on;"
                }
            };
            options.after_connect(move |connection, _meta| {
                Box::pin(async move {
                    connection.execute(pragmas).await?;
                    Ok(())
                })
            })
        } else {
            options
        };
        let pool = options.connect(&url).await?;
        Ok(Database {
            pool,
            backend,
            writer: Arc::new(Mutex::new(())),
            event_months: Arc::default(),
            replica: None,
        })
    }

    /// Applies the backend's pending migrations; migrations already applied are never re-run.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await,
        }
    }

    /// True when the database answers a trivial query within `timeout`.
    pub async fn is_healthy(&self, timeout: Duration) -> bool {
        matches!(
            tokio::time::timeout(timeout, sqlx::query("select 1").execute(&self.pool)).await,
            Ok(Ok(_))
        )
    }

    /// The pool every query runs on.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write. On SQLite it starts with `BEGIN IMMEDIATE`,
    /// taking the write lock up front (waiting on the busy timeout): a deferred transaction
    /// that reads first fails at once with "database is locked" when it tries to write while
    /// another connection, such as the alert sweep, writes.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// On SQLite, this process's turn to write: hold it across a busy write transaction.
    /// SQLite lets one writer in at a time and makes the others poll, sleeping up to 100 ms
    /// between tries, so concurrent batches spent most of their time asleep (p99 2.9 s a
    /// batch at 4 connections); queued here, the next starts the moment the last commits.
    /// Writers in other processes still meet the busy timeout. `None` on PostgreSQL, whose
    /// writers lock rows, not the database.
    pub async fn write_turn(&self) -> Option<MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.writer.lock().await),
            Backend::Postgres => None,
        }
    }

    /// This database with a streaming replica at `url` for usage reads ([`Database::reader`]);
    /// its replay position is polled for as long as the pool is open.
    pub async fn with_replica(mut self, url: &str) -> Result<Database, ReplicaError> {
        if self.backend != Backend::Postgres || Backend::of_url(url) != Some(Backend::Postgres) {
            return Err(ReplicaError::NotPostgres);
        }
        // Lazily: a replica that is down leaves reads on the primary, not the server down.
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy(url)
            .map_err(ReplicaError::Connect)?;
        match sqlx::query_scalar::<_, bool>("select pg_is_in_recovery()")
            .fetch_one(&pool)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(ReplicaError::NotReplica),
            Err(error) => {
                tracing::warn!(%error, "the replica does not answer: usage reads go to the primary until it does");
            }
        }
        // An organization's last change is known by the WAL position after its commit
        // returned, which holds the commit only when commits wait for the WAL.
        let synchronous: String =
            sqlx::query_scalar("select current_setting('synchronous_commit')")
                .fetch_one(&self.pool)
                .await
                .map_err(ReplicaError::Primary)?;
        if synchronous == "off" {
            return Err(ReplicaError::AsynchronousCommit);
        }
        let replica = Replica {
            pool,
            replayed: Arc::default(),
            on_replica: Arc::default(),
            on_primary: Arc::default(),
            alive: Arc::new(()),
        };
        poll_once(&replica.pool, &replica.replayed).await;
        tokio::spawn(
            poll(
                replica.pool.clone(),
                replica.replayed.clone(),
                Arc::downgrade(&replica.alive),
            )
            .instrument(tracing::info_span!("background", task = "replica replay")),
        );
        self.replica = Some(replica);
        Ok(self)
    }

    /// The pool a read should go to when the last write it must see is at `written`, a
    /// position in the primary's WAL (`None`: unknown): the replica once it has replayed
    /// that far, else the primary. Without a replica, the primary.
    pub fn reader(&self, written: Option<u64>) -> &AnyPool {
        let Some(replica) = &self.replica else {
            return &self.pool;
        };
        match written {
            Some(position) if replica.replayed.load(Ordering::Acquire) >= position => {
                replica.on_replica.fetch_add(1, Ordering::Relaxed);
                &replica.pool
            }
            _ => {
                replica.on_primary.fetch_add(1, Ordering::Relaxed);
                &self.pool
            }
        }
    }

    /// Whether usage reads may go to a replica.
    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// How many reads went to the replica and how many fell back to the primary.
    pub fn read_routing(&self) -> ReadRouting {
        self.replica
            .as_ref()
            .map_or_else(ReadRouting::default, |replica| ReadRouting {
                on_replica: replica.on_replica.load(Ordering::Relaxed),
                on_primary: replica.on_primary.load(Ordering::Relaxed),
            })
    }

    /// The months of raw events known to have a partition: see [`events::prepare`].
    fn event_months(&self) -> &std::sync::Mutex<HashSet<Month>> {
        &self.event_months
    }

    /// Which engine this is, for the few statements that differ.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Writes a consistent copy of the SQLite database to `path` while it keeps serving
    /// (`VACUUM INTO`: one read transaction, so the copy holds every commit before it and
    /// none after). Refuses an existing file and PostgreSQL, whose copies `pg_dump` makes.
    pub async fn backup_to(&self, path: &Path) -> Result<(), BackupError> {
        if self.backend == Backend::Postgres {
            return Err(BackupError::Postgres);
        }
        if path.exists() {
            return Err(BackupError::Exists(path.display().to_string()));
        }
        let target = path
            .to_str()
            .ok_or_else(|| BackupError::Path(path.display().to_string()))?;
        sqlx::query("vacuum into $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Waits for connections in use to be returned, then closes them all.
    pub async fn close(&self) {
        if let Some(replica) = &self.replica {
            replica.pool.close().await;
        }
        self.pool.close().await;
    }
}

/// Reads the replica's replay position into `replayed` every [`REPLAY_POLL`], until its
/// pool closes or no copy of its [`Database`] is `alive`.
async fn poll(pool: AnyPool, replayed: Arc<AtomicU64>, alive: std::sync::Weak<()>) {
    let mut ticks = tokio::time::interval(REPLAY_POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() && alive.strong_count() > 0 {
        ticks.tick().await;
        poll_once(&pool, &replayed).await;
    }
}

async fn poll_once(pool: &AnyPool, replayed: &AtomicU64) {
    let position = wal_position(pool, "pg_last_wal_replay_lsn()").await;
    if let Err(error) = &position {
        tracing::warn!(%error, "cannot read the replica's replay position");
    }
    // Unknown: every read goes to the primary until it is known again.
    replayed.store(position.unwrap_or_default(), Ordering::Release);
}

/// A WAL position (`pg_lsn`) as a byte count, 0 when null.
async fn wal_position(pool: &AnyPool, position: &str) -> Result<u64, sqlx::Error> {
    let sql = format!("select cast(coalesce({position}, '0/0') - '0/0' as bigint)");
    let bytes: i64 = sqlx::query_scalar(&sql).fetch_one(pool).await?;
    Ok(u64::try_from(bytes).unwrap_or_default())
}

/// The file path and the query of a `sqlite:` URL.
fn split_sqlite_url(url: &str) -> (&str, Option<&str>) {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    rest.split_once('?')
        .map_or((rest, None), |(p, q)| (p, Some(q)))
}

/// The database file a `sqlite:` URL names; `None` for other URLs.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    (Backend::of_url(url) == Some(Backend::Sqlite)).then(|| PathBuf::from(split_sqlite_url(url).0))
}

/// Creates the SQLite file's directory and asks sqlx to create the file (`mode=rwc`).
fn prepare_sqlite_url(url: &str) -> Result<String, sqlx::Error> {
    let (path, query) = split_sqlite_url(url);
    if path != ":memory:" {
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(sqlx::Error::Io)?;
        }
    }
    let query = match query {
        Some(query) if query.split('&').any(|pair| pair.starts_with("mode=")) => query.to_string(),
        Some(query) => format!("{query}&mode=rwc"),
        None => "mode=rwc".to_string(),
    };
    // Validate early so a typo names the URL instead of failing inside the pool.
    sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{path}?{query}"))?;
    Ok(format!("sqlite://{path}?{query}"))
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(%error, "database unavailable");
                AppError::Unavailable
            }
            error => {
                tracing::error!(%error, "database error");
                AppError::Internal
            }
        }
    }
}

/// `Conflict(message)` for a unique violation (a name already taken), else as any other
/// database error.
pub fn conflict_or(error: sqlx::Error, message: impl Into<String>) -> AppError {
    match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => AppError::Conflict(message.into()),
        _ => error.into(),
    }
}

/// Seconds since the Unix epoch: how timestamps are stored.
pub fn unix_seconds(instant: chrono::DateTime<chrono::Utc>) -> i64 {
    instant.timestamp()
}

/// A `like … escape '\'` pattern matching text that contains `search`, lower-cased (match
/// it against lower-cased text): `%` and `_` in the search match only themselves.
pub fn contains_pattern(search: &str) -> String {
    let escaped = search
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_matches_itself_only_with_wildcards_escaped() {
        assert_eq!(contains_pattern("Ana"), "%ana%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
