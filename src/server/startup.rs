//! Builds the application from its configuration and serves it on a given listener.

use std::sync::Arc;

use axum::{middleware, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::app::{shell, App};

use super::{
    assets,
    browser::{self, PageGuard},
    config::Config,
    db::Database,
    deliveries::DeliveryWorker,
    live::{LiveRelay, LiveUpdates},
    rest,
    state::AppState,
};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_database(config: &Config) -> Result<Database, StartupError> {
    let db = Database::connect(&config.settings.database_url)
        .await
        .map_err(StartupError::Connect)?;
    db.migrate().await.map_err(StartupError::Migrate)?;
    Ok(db)
}

/// The state shared by every request.
pub fn build_state(config: &Config, db: Database) -> AppState {
    let live = LiveUpdates::new(&db);
    AppState {
        leptos_options: config.leptos.clone(),
        db,
        settings: Arc::new(config.settings.clone()),
        live,
        deliveries: Arc::default(),
    }
}

/// Every route: REST, server functions, server-rendered pages and static files.
pub fn app(state: AppState) -> Router {
    let routes = generate_route_list(App);
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
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(assets::cache_control))
        .layer(middleware::from_fn_with_state(
            guard,
            browser::require_sign_in,
        ))
        .layer(middleware::from_fn(browser::refuse_cross_site))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves, and delivers threshold alerts, until SIGINT or SIGTERM; lets in-flight requests
/// and delivery attempts finish, then closes the pool.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let db = state.db.clone();
    let live = state.live.clone();
    let deliveries = DeliveryWorker::spawn(state.clone());
    let relay = LiveRelay::spawn(&state.settings.database_url, &state.live);
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            live.close();
        })
        .await;
    deliveries.stop().await;
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
