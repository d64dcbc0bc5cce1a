//! Builds the application from its configuration and serves it on a given listener.

use std::sync::{Arc, OnceLock};

use axum::{middleware, Router};
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::{compression::CompressionLayer, trace::TraceLayer};
use tracing::Instrument;

use crate::app::{shell, App};

use crate::server::{
    access::sessions,
    alerting::deliveries::DeliveryWorker,
    alerting::webhooks,
    db::{self, Database},
    http::browser::{self, PageGuard},
    http::headers,
    http::middleware as guard,
    http::{embed, embedding},
    metering::purge,
    platform::assets,
    platform::cache::{ReadCache, SessionCache},
    platform::config::{Config, Settings},
    platform::limits::Limits,
    platform::live::{LiveRelay, LiveUpdates},
    platform::sealing::{self, SealingError, SealingKey},
    platform::Platform,
    process::site,
    rest,
    state::{AppState, Shared},
};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Sealing(#[from] SealingError),
    #[error("secret-key is not set: a PostgreSQL database needs QUOTABOARD_SECRET_KEY (64 hex digits, e.g. from `openssl rand -hex 32`) to store webhook secrets encrypted")]
    NoSecretKey,
    #[error("cannot seal the stored webhook secrets: {0}")]
    SealStored(#[source] crate::error::AppError),
    #[error("{0}")]
    Replica(#[from] db::ReplicaError),
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_database(config: &Config) -> Result<Database, StartupError> {
    let db = Database::connect_with(&config.settings.database_url, config.settings.durability)
        .await
        .map_err(StartupError::Connect)?;
    db.migrate().await.map_err(StartupError::Migrate)?;
    Ok(db)
}

/// The key webhook secrets are sealed with: `secret-key`, else (SQLite) the key file beside
/// the database, made on first start.
pub fn sealing_key(settings: &Settings) -> Result<SealingKey, StartupError> {
    require_secret_key(settings)?;
    match (
        &settings.secret_key,
        db::sqlite_path(&settings.database_url),
    ) {
        (Some(key), _) => Ok(key.clone()),
        (None, Some(database)) => Ok(SealingKey::load_or_create(&sealing::key_file_for(
            &database,
        ))?),
        (None, None) => Err(StartupError::NoSecretKey),
    }
}

/// `NoSecretKey` when there is neither `secret-key` nor a SQLite file to keep a key beside:
/// checked before anything connects.
pub fn require_secret_key(settings: &Settings) -> Result<(), StartupError> {
    match (
        &settings.secret_key,
        db::sqlite_path(&settings.database_url),
    ) {
        (None, None) => Err(StartupError::NoSecretKey),
        _ => Ok(()),
    }
}

/// The state shared by every request, with the replica of `database-read-url` for usage
/// reads. Seals the webhook secrets stored before secrets were sealed, so none stays
/// readable in the database.
pub async fn build_state(config: &Config, db: Database) -> Result<AppState, StartupError> {
    let sealing = sealing_key(&config.settings)?;
    let db = match &config.settings.database_read_url {
        Some(url) => db.with_replica(url).await?,
        None => db,
    };
    webhooks::seal_stored_secrets(&db, &sealing)
        .await
        .map_err(StartupError::SealStored)?;
    let live = LiveUpdates::new(&db);
    let platform = Platform {
        db,
        settings: Arc::new(config.settings.clone()),
        live,
        deliveries: Arc::default(),
        limits: Arc::new(Limits::new(&config.settings.limits)),
        sealing: Arc::new(sealing),
        cache: Arc::new(ReadCache::new(config.settings.read_cache)),
        sessions: Arc::new(SessionCache::new(config.settings.read_cache)),
    };
    Ok(AppState::new(Shared {
        leptos_options: config.leptos.clone(),
        platform,
        consumptions: Arc::default(),
    }))
}

/// Every route: REST, server functions, server-rendered pages and static files.
pub fn app(state: AppState) -> Router {
    let routes = page_routes();
    let guard = PageGuard {
        state: state.clone(),
        pages: Arc::new(
            routes
                .iter()
                .map(|route| route.path().to_string())
                .filter(|path| path != "/login")
                .collect(),
        ),
    };
    let options = state.leptos_options.clone();
    Router::new()
        .merge(rest::router())
        .merge(browser::router())
        .route(embed::EMBED_PATH, axum::routing::get(site::embed_usage))
        .merge(embedding::router())
        .leptos_routes(&state, routes, move || shell(&options))
        .fallback(site::file_or_not_found)
        .layer(middleware::from_fn_with_state(
            site::server_function_paths(),
            site::server_function_owns_its_root,
        ))
        .layer(middleware::from_fn(assets::cache_control))
        .layer(middleware::from_fn_with_state(
            guard,
            browser::require_sign_in,
        ))
        .layer(middleware::from_fn(browser::refuse_cross_site))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::limit_requests,
        ))
        .layer(middleware::from_fn(guard::limit_body))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::time_out,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        // Pages, JSON and CSV go out brotli or gzip when the client takes it; event streams,
        // images and the site's precompressed files are left as they are.
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(guard::request_span))
        .with_state(state)
}

/// The pages' routes, listed once per process. Leptos lists them by rendering the app with
/// resource loading suspended through a flag every render in the process shares: a page
/// whose resources started while another server of the process (the tests start many)
/// listed its routes waited forever and got the request timeout's 503.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// How often the server keeps house: ended sessions deleted, storage made ready for the
/// months events may arrive in, event ids past their idempotency memory forgotten.
const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Keeps house now and then every `period`, for as long as the server runs; a failed
/// chore is logged and tried again at the next turn.
async fn keep_house(platform: Platform, period: std::time::Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let settings = &platform.settings;
    loop {
        ticks.tick().await;
        let now = chrono::Utc::now();
        match sessions::purge_ended(&platform.db, &settings.session, db::unix_seconds(now)).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "ended sessions purged"),
            Err(error) => tracing::warn!(%error, "cannot purge ended sessions"),
        }
        if let Err(error) = purge::prepare(&platform.db, now, settings.backdating_days).await {
            tracing::warn!(%error, "cannot make storage ready for the coming months");
        }
        match purge::forget_ids(&platform.db, now, settings.backdating_days).await {
            Ok(0) => {}
            Ok(forgotten) => tracing::info!(forgotten, "event ids past their memory forgotten"),
            Err(error) => tracing::warn!(%error, "cannot forget old event ids"),
        }
    }
}

/// Serves, and delivers threshold alerts, until SIGINT or SIGTERM; lets in-flight requests
/// and delivery attempts finish, then closes the pool.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    return_large_blocks_to_the_system();
    let db = state.db.clone();
    let live = state.live.clone();
    let deliveries = DeliveryWorker::spawn(state.platform.clone());
    let sweeper = tokio::spawn(
        keep_house(state.platform.clone(), HOUSEKEEPING_EVERY)
            .instrument(tracing::info_span!("background", task = "housekeeping")),
    );
    let relay = LiveRelay::spawn(&state.settings.database_url, &state.live);
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            live.close();
        })
        .await;
    deliveries.stop().await;
    sweeper.abort();
    if let Some(relay) = relay {
        relay.stopped().await;
    }
    db.close().await;
    served
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// The server's large blocks come from glibc's malloc (`allocator`). glibc raises its mmap
/// threshold to the size of each large block freed (up to 32 MiB) and from then on keeps
/// such blocks in its per-thread arenas: every password check (argon2id, 19 MiB) on another
/// blocking thread left 19 MiB resident, and 120 sign-ins took the server from 23 MiB to
/// 491 MiB. With the threshold fixed at glibc's default of 128 KiB, large blocks go back to
/// the system when freed (24 MiB after the same sign-ins).
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only tunes the allocator, under its own lock; any thread may
        // call it at any time.
        if unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) } != 1 {
            tracing::warn!("the allocator's mmap threshold could not be set");
        }
    }
}
