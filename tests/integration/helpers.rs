//! `spawn_app()`: the app on a free port with its own fresh database.

use std::{collections::HashMap, future::Future, path::PathBuf};

use quotaboard::{
    domain::quantity::Quantity,
    server::{
        config::{Config, DEFAULT_FILE},
        db::{organizations, usage, Database},
        startup,
    },
};
use tokio::net::TcpListener;

/// Which engine a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running app and a handle on its database.
pub struct TestApp {
    pub address: String,
    pub db: Database,
    pub client: reqwest::Client,
    _cleanup: Cleanup,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// `GET path`, without following redirects.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("GET request")
    }

    /// Stores an organization named `slug` in UTC and USD; returns its id.
    pub async fn organization(&self, slug: &str) -> i64 {
        organizations::insert(
            self.db.pool(),
            &organizations::NewOrganization {
                slug,
                name: slug,
                time_zone: "UTC",
                currency: "USD",
            },
            0,
        )
        .await
        .expect("organization")
    }

    /// Stores an organization with one metric, `apiCalls`, and its allowance (`None`:
    /// unlimited); returns `(organization id, metric id)`.
    pub async fn organization_with_metric(
        &self,
        slug: &str,
        included: Option<Quantity>,
    ) -> (i64, i64) {
        let pool = self.db.pool();
        let organization = self.organization(slug).await;
        let metric = usage::insert_metric(
            pool,
            &usage::NewMetric {
                code: "apiCalls",
                name: "API Calls",
                unit: "requests",
                aggregation: "sum",
                position: 0,
            },
            0,
        )
        .await
        .expect("metric");
        usage::set_allowance(pool, organization, metric, included)
            .await
            .expect("allowance");
        (organization, metric)
    }
}

/// Removes what a test created, even when the test panicked.
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, schema } = self {
            let admin_url = admin_url.clone();
            let statement = format!("drop schema if exists {schema} cascade");
            // Drop runs inside the test's runtime, which cannot block on itself.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    let db = Database::connect(&admin_url).await?;
                    sqlx::query(&statement).execute(db.pool()).await?;
                    db.close().await;
                    Ok::<_, sqlx::Error>(())
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test schema {schema}");
            }
        }
    }
}

/// The PostgreSQL server tests use, or `None` when it is not configured. In CI (`CI` set)
/// a missing `TEST_DATABASE_URL` fails the test instead, so Postgres tests never skip there.
pub fn postgres_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but TEST_DATABASE_URL is not: Postgres tests must run in CI")
        }
        _ => None,
    }
}

/// A configuration for tests, with `DATABASE_URL` and any `QUOTABOARD_*` overrides.
pub fn test_config(database_url: &str, overrides: &[(&str, &str)]) -> Config {
    let mut env: HashMap<String, String> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert("DATABASE_URL".into(), database_url.into());
    Config::parse(DEFAULT_FILE, None, &env, None).expect("test configuration")
}

/// Starts the app on `backend` with a brand-new, migrated database, or returns `None` for
/// Postgres when it is not configured outside CI.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

/// [`spawn_app`] with `QUOTABOARD_*` configuration overrides.
pub async fn spawn_app_with(backend: Backend, overrides: &[(&str, &str)]) -> Option<TestApp> {
    let (database_url, cleanup) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path: PathBuf = dir.path().join("quotaboard.db");
            (format!("sqlite://{}", path.display()), Cleanup::Sqlite(dir))
        }
        Backend::Postgres => {
            let admin_url = postgres_url()?;
            let schema = format!("qb_test_{}", unique_suffix());
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            sqlx::query(&format!("create schema {schema}"))
                .execute(admin.pool())
                .await
                .expect("create test schema");
            admin.close().await;
            let separator = if admin_url.contains('?') { '&' } else { '?' };
            (
                format!("{admin_url}{separator}options[search_path]={schema}"),
                Cleanup::Postgres { admin_url, schema },
            )
        }
    };
    let config = test_config(&database_url, overrides);
    let db = startup::open_database(&config)
        .await
        .expect("open database");
    let state = startup::build_state(&config, db.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        axum::serve(listener, startup::app(state))
            .await
            .expect("serve");
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Some(TestApp {
        address,
        db,
        client,
        _cleanup: cleanup,
    })
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `test` on a fresh app for `backend`; prints a note and passes when Postgres is not
/// configured outside CI.
pub async fn on_backend<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    match spawn_app(backend).await {
        Some(app) => test(app).await,
        None => eprintln!("TEST_DATABASE_URL not set: Postgres variant not run"),
    }
}

/// Declares `#[tokio::test]`s named `<test>::sqlite` and `<test>::postgres` that run the
/// async fn `test(app: TestApp)` on each backend, on a multi-threaded runtime like the
/// server's, so concurrent requests really overlap.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                $crate::helpers::on_backend($crate::helpers::Backend::Sqlite, super::$test).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                $crate::helpers::on_backend($crate::helpers::Backend::Postgres, super::$test).await;
            }
        }
    )+};
}
