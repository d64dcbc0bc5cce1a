//! `spawn_app()`: the app on a free port with its own fresh database.

use std::{collections::HashMap, future::Future, path::PathBuf, time::Duration};

use quotaboard::{
    domain::{aggregation::PeriodDelta, quantity::Quantity},
    server::{
        access::api_keys,
        access::principal::Role,
        access::users::{self, UserRole},
        alerting::deliveries::DeliveryWorker,
        db::{licenses, organizations, usage, Database},
        platform::config::{Config, DEFAULT_FILE},
        platform::live::LiveRelay,
        process::demo,
        process::startup,
        state::AppState,
    },
};
use tokio::{net::TcpListener, process::Child};

/// The password of users tests create.
pub const TEST_PASSWORD: &str = "correct horse battery";

/// Which engine a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// PostgreSQL with a streaming replica for usage reads: the pair `tests/replica.sh`
    /// starts (only when PostgreSQL tests run).
    Replicated,
}

/// A running app and a handle on its database.
pub struct TestApp {
    pub address: String,
    /// The database's URL, for a second server on the same data.
    pub database_url: String,
    /// The replica's URL, when the app reads from one.
    pub read_url: Option<String>,
    /// The task delivering threshold alerts; `None` while crashed.
    pub deliveries: Option<DeliveryWorker>,
    pub db: Database,
    /// The state the running app serves with, for calling server code directly.
    pub state: AppState,
    pub client: reqwest::Client,
    /// When [`TestApp::load_demo`] first loaded the demo: its usage is laid out up to then.
    demo_loaded_at: std::sync::OnceLock<chrono::DateTime<chrono::Utc>>,
    _relay: Option<LiveRelay>,
    _cleanup: Cleanup,
}

impl TestApp {
    /// Kills the delivery task at once, as a crash of the server would.
    pub fn crash_deliveries(&mut self) {
        if let Some(worker) = self.deliveries.take() {
            worker.abort();
        }
    }

    /// Stops the delivery task as a server shutting down does: an attempt under way ends
    /// first.
    pub async fn stop_deliveries(&mut self) {
        if let Some(worker) = self.deliveries.take() {
            worker.stop().await;
        }
    }

    /// Starts a new delivery task, as a restarted server would: a new connection pool on
    /// the same database and nothing carried over in memory.
    pub async fn restart_deliveries(&mut self) {
        self.crash_deliveries();
        let config = test_config(&self.database_url, TEST_SETTINGS);
        let db = startup::open_database(&config)
            .await
            .expect("reopen database");
        let state = startup::build_state(&config, db).await.expect("state");
        self.deliveries = Some(DeliveryWorker::spawn(state.platform.clone()));
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Starts another server on this app's database, as a second instance behind a load
    /// balancer would run: its own pool, state and live relay, nothing shared in memory.
    /// Returns its address.
    /// `overrides`: `QUOTABOARD_*` configuration, as for [`spawn_app_with`].
    pub async fn second_server(&self, overrides: &[(&str, &str)]) -> String {
        let mut overrides: Vec<(&str, &str)> =
            TEST_SETTINGS.iter().chain(overrides).copied().collect();
        if let Some(read_url) = &self.read_url {
            overrides.push(("QUOTABOARD_DATABASE_READ_URL", read_url));
        }
        let config = test_config(&self.database_url, &overrides);
        let db = startup::open_database(&config)
            .await
            .expect("open database");
        // The server and its relay run as long as the test's runtime.
        let state = startup::build_state(&config, db).await.expect("state");
        let (address, _, _) = serve(state).await;
        address
    }

    /// `GET path`, without following redirects.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("GET request")
    }

    /// `GET path` with `x-api-key: key`; the status and the body as JSON (null when the
    /// body is not JSON).
    pub async fn get_json(&self, path: &str, key: Option<&str>) -> (u16, serde_json::Value) {
        let mut request = self.client.get(self.url(path));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        let response = request.send().await.expect("GET request");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        (status, serde_json::from_str(&body).unwrap_or_default())
    }

    /// Loads the demo dataset, laid out up to now the first time; returns when that was.
    pub async fn load_demo(&self) -> chrono::DateTime<chrono::Utc> {
        let at = *self.demo_loaded_at.get_or_init(chrono::Utc::now);
        demo::load(&self.db, at).await.expect("demo data");
        at
    }

    /// The usage of `code` the demo recorded for organization `slug` this period (after
    /// [`TestApp::load_demo`]).
    pub fn demo_usage(&self, slug: &str, code: &str) -> Quantity {
        let at = *self.demo_loaded_at.get().expect("the demo is loaded");
        demo::usage_at(slug, code, at).expect("a metric the organization uses")
    }

    /// Brings demo organization `slug`'s use of the sum `code` this period up to `to`
    /// with one event through ingestion, whatever day of the period the demo was loaded.
    pub async fn demo_top_up(&self, slug: &str, code: &str, to: i64) {
        let missing = rust_decimal::Decimal::from(to) - self.demo_usage(slug, code).to_decimal();
        assert!(
            missing >= rust_decimal::Decimal::ZERO,
            "{slug} has used more {code}"
        );
        let (_, key) = self.demo_key(slug, Role::Admin).await;
        let response = self
            .client
            .post(self.url("/api/v1/events"))
            .header("x-api-key", key)
            .json(&serde_json::json!({"events": [
                {"id": format!("top-up-{code}"), "metric": code, "quantity": missing.to_string()}
            ]}))
            .send()
            .await
            .expect("POST /api/v1/events");
        assert_eq!(response.status(), 200);
        let report: serde_json::Value = response.json().await.expect("report");
        assert_eq!(report["accepted"], 1, "{report}");
    }

    /// Loads the demo dataset; returns the id of the organization `slug` and a new key of
    /// `role` for it.
    pub async fn demo_key(&self, slug: &str, role: Role) -> (i64, String) {
        self.load_demo().await;
        let organization = organizations::find_by_slug(self.db.pool(), slug)
            .await
            .expect("query")
            .expect("demo organization");
        let key = api_keys::create(&self.db, organization.id, role, "test", 0)
            .await
            .expect("key");
        (organization.id, key)
    }

    /// Signs `email` in with `password` through `POST /api/v1/sessions`; the `Cookie`
    /// header value that carries the session.
    pub async fn session_cookie(&self, email: &str, password: &str) -> String {
        let response = self
            .client
            .post(self.url("/api/v1/sessions"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("sign-in request");
        assert_eq!(response.status(), 201, "signing in {email}");
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .expect("Set-Cookie")
            .to_string();
        set_cookie
            .split(';')
            .next()
            .expect("name=value")
            .to_string()
    }

    /// Creates a user of organization `slug` with `role` and signs them in; the `Cookie`
    /// header value of their session.
    pub async fn signed_in(&self, slug: &str, role: UserRole) -> String {
        let email = format!("{}.{slug}@test.example", role.as_str());
        users::create(&self.db, &email, TEST_PASSWORD, Some(slug), role, 0)
            .await
            .expect("user");
        self.session_cookie(&email, TEST_PASSWORD).await
    }

    /// `GET path` with the session `cookie`, without following redirects.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .expect("GET request")
    }

    /// `POST path` with a form-encoded `body` and these headers, as a browser's form does.
    pub async fn post_form(
        &self,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("form post")
    }

    /// Calls the server function at `path` with a form-encoded `body`, as the browser does.
    pub async fn call_server_fn(
        &self,
        path: &str,
        body: &str,
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
        self.post_form(path, body, &headers).await
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
                tax_rate: "0",
                discount_rate: "0",
            },
            0,
        )
        .await
        .expect("organization")
    }

    /// Stores a metric (`sum` unless said otherwise); returns its id.
    pub async fn metric(&self, code: &str, aggregation: &str) -> i64 {
        usage::insert_metric(
            self.db.pool(),
            &usage::NewMetric {
                code,
                name: code,
                unit: "units",
                aggregation,
                distinct_by: (aggregation == "unique_count").then_some("account"),
                position: 0,
            },
            0,
        )
        .await
        .expect("metric")
    }

    /// Stores a license named after `slug` with these resources, `(metric id, included or
    /// None for unlimited, hard limit, overage price JSON)`, and subscribes the organization
    /// to it with periods starting on `anchor_day`.
    pub async fn subscribe(
        &self,
        organization: i64,
        slug: &str,
        anchor_day: u8,
        price: &str,
        resources: &[(i64, Option<Quantity>, bool, Option<&str>)],
    ) {
        let pool = self.db.pool();
        let license = licenses::insert(
            pool,
            &licenses::NewLicense {
                name: &format!("{slug} plan"),
                external_id: None,
                description: "",
                price,
                currency: "USD",
                is_default: false,
            },
            0,
        )
        .await
        .expect("license");
        for (position, &(metric_id, included, limited, overage_price)) in (0_i64..).zip(resources) {
            licenses::insert_resource(
                pool,
                &licenses::NewResource {
                    license_id: license,
                    metric_id,
                    included_micros: included.map(Quantity::micros),
                    limited,
                    limit_micros: None,
                    refuse_events: false,
                    overage_price,
                    position,
                },
                0,
            )
            .await
            .expect("resource");
        }
        licenses::subscribe(pool, organization, license, anchor_day, 0)
            .await
            .expect("subscription");
    }

    /// Stores an organization with one metric, `apiCalls`, on a plan including `included`
    /// of it (`None`: unlimited); returns `(organization id, metric id)`.
    pub async fn organization_with_metric(
        &self,
        slug: &str,
        included: Option<Quantity>,
    ) -> (i64, i64) {
        let organization = self.organization(slug).await;
        let metric = match usage::metric_id(self.db.pool(), "apiCalls")
            .await
            .expect("metric lookup")
        {
            Some(id) => id,
            None => self.metric("apiCalls", "sum").await,
        };
        self.subscribe(
            organization,
            slug,
            1,
            "0",
            &[(metric, included, false, None)],
        )
        .await;
        (organization, metric)
    }

    /// Applies a rollup change to the organization's total of `metric` on the day starting
    /// at `day_start` (unix seconds), as ingestion would.
    pub async fn add_usage(
        &self,
        organization: i64,
        metric: i64,
        day_start: i64,
        delta: PeriodDelta,
    ) -> Result<(), sqlx::Error> {
        let mut connection = self.db.pool().acquire().await?;
        let key = usage::RollupKey {
            metric_id: metric,
            day_start,
            breakdown: None,
        };
        usage::apply_deltas(&mut connection, organization, &[(key, delta)], 0).await
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

/// The primary's and the replica's URLs of the pair `tests/replica.sh` starts, once per
/// run; `None` when PostgreSQL tests are not configured (as [`postgres_url`]).
pub fn replica_pair() -> Option<(String, String)> {
    postgres_url()?;
    static PAIR: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    let pair = PAIR.get_or_init(|| {
        let output =
            std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/replica.sh"))
                .arg("start")
                .output()
                .expect("run tests/replica.sh");
        assert!(
            output.status.success(),
            "tests/replica.sh start failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let printed = String::from_utf8_lossy(&output.stdout).into_owned();
        let value = |key: &str| {
            printed
                .lines()
                .find_map(|line| line.strip_prefix(key))
                .unwrap_or_else(|| panic!("tests/replica.sh printed no {key}: {printed}"))
                .to_string()
        };
        (
            value("TEST_REPLICA_PRIMARY_URL="),
            value("TEST_REPLICA_URL="),
        )
    });
    Some(pair.clone())
}

/// A configuration for tests, with `DATABASE_URL` and any `QUOTABOARD_*` overrides.
pub fn test_config(database_url: &str, overrides: &[(&str, &str)]) -> Config {
    let mut env: HashMap<String, String> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert("DATABASE_URL".into(), database_url.into());
    if database_url.starts_with("postgres") {
        env.entry("QUOTABOARD_SECRET_KEY".into())
            .or_insert_with(|| TEST_SECRET_KEY.into());
    }
    // The test binary has no hash.txt beside it: pages link the unhashed names.
    env.insert("LEPTOS_HASH_FILES".into(), "false".into());
    // Static files come from the sources' public/ (favicon.svg), which exists before any build.
    env.entry("LEPTOS_SITE_ROOT".into())
        .or_insert_with(|| concat!(env!("CARGO_MANIFEST_DIR"), "/public").into());
    Config::parse(DEFAULT_FILE, None, &env, None).expect("test configuration")
}

/// The key test servers on PostgreSQL seal webhook secrets with (SQLite ones make a key file
/// beside their database, as a real one does).
pub const TEST_SECRET_KEY: &str =
    "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

/// Settings every test app starts with (a test's own overrides come after): failed webhook
/// deliveries are retried after 100 ms, not 30 s, and may go to receivers on loopback; and
/// reads are not cached, since tests write to the database behind the server's back (the
/// read cache's own tests turn it on).
const TEST_SETTINGS: &[(&str, &str)] = &[
    ("QUOTABOARD_WEBHOOK_RETRY_INITIAL_MS", "100"),
    ("QUOTABOARD_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "true"),
    ("QUOTABOARD_READ_CACHE_MS", "0"),
];

/// Request rates per key and per organization off: one test client racing is many
/// customers' worth of requests.
pub const NO_KEY_LIMITS: [(&str, &str); 2] = [
    ("QUOTABOARD_RATE_LIMIT_PER_KEY", "0"),
    ("QUOTABOARD_RATE_LIMIT_PER_ORGANIZATION", "0"),
];

/// A read cache that only announced changes outdate within a test's time.
pub const LONG_READ_CACHE: (&str, &str) = ("QUOTABOARD_READ_CACHE_MS", "60000");

/// Starts the app on `backend` with a brand-new, migrated database, or returns `None` for
/// Postgres when it is not configured outside CI.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

/// [`spawn_app`] with `QUOTABOARD_*` configuration overrides.
pub async fn spawn_app_with(backend: Backend, overrides: &[(&str, &str)]) -> Option<TestApp> {
    let mut read_url = None;
    let (database_url, cleanup) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path: PathBuf = dir.path().join("quotaboard.db");
            (format!("sqlite://{}", path.display()), Cleanup::Sqlite(dir))
        }
        Backend::Postgres | Backend::Replicated => {
            let admin_url = match backend {
                Backend::Replicated => {
                    let (primary, replica) = replica_pair()?;
                    read_url = Some(replica);
                    primary
                }
                _ => postgres_url()?,
            };
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
            read_url = read_url.map(|url| format!("{url}{separator}options[search_path]={schema}"));
            (
                format!("{admin_url}{separator}options[search_path]={schema}"),
                Cleanup::Postgres { admin_url, schema },
            )
        }
    };
    let mut overrides: Vec<(&str, &str)> = TEST_SETTINGS.iter().chain(overrides).copied().collect();
    if let Some(read_url) = &read_url {
        overrides.push(("QUOTABOARD_DATABASE_READ_URL", read_url));
    }
    let config = test_config(&database_url, &overrides);
    let db = startup::open_database(&config)
        .await
        .expect("open database");
    let state = startup::build_state(&config, db.clone())
        .await
        .expect("state");
    let deliveries = Some(DeliveryWorker::spawn(state.platform.clone()));
    let (address, state, relay) = serve(state).await;
    // A request that hangs fails its test with a location instead of stalling the suite.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    Some(TestApp {
        address,
        database_url,
        read_url,
        deliveries,
        db,
        state,
        client,
        demo_loaded_at: std::sync::OnceLock::new(),
        _relay: relay,
        _cleanup: cleanup,
    })
}

/// Serves `state` on a free loopback port with its live relay; the address, the state and
/// the relay.
async fn serve(state: AppState) -> (String, AppState, Option<LiveRelay>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let relay = LiveRelay::spawn(&state.settings.database_url, &state.live);
    let served = state.clone();
    tokio::spawn(async move {
        let service =
            startup::app(served).into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, service).await.expect("serve");
    });
    (address, state, relay)
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

/// The `quotaboard` binary serving `database_url` on `port` with these extra environment
/// variables, without rate limits (one test client is many customers' worth of requests);
/// its standard error is piped.
pub fn start_server(database_url: &str, port: u16, env: &[(&str, &str)]) -> Child {
    // As `test_config`: the in-process app and this server open the same sealed secrets.
    let secret_key = if database_url.starts_with("postgres") {
        TEST_SECRET_KEY
    } else {
        ""
    };
    tokio::process::Command::new(env!("CARGO_BIN_EXE_quotaboard"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "QUOTABOARD_CONFIG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"),
        )
        .env("DATABASE_URL", database_url)
        .env("QUOTABOARD_SECRET_KEY", secret_key)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_HASH_FILES", "false")
        .env("QUOTABOARD_RATE_LIMIT_PER_KEY", "0")
        .env("QUOTABOARD_RATE_LIMIT_PER_ORGANIZATION", "0")
        .env("QUOTABOARD_RATE_LIMIT_PER_ADDRESS", "0")
        .env("RUST_LOG", "error")
        .envs(env.iter().copied())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start quotaboard")
}

/// A port nothing on loopback listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

/// Waits until the server at `base` answers `/healthz` with 200 (at most 30 s).
pub async fn wait_until_healthy(client: &reqwest::Client, base: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let answered = client.get(format!("{base}/healthz")).send().await;
        if answered.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not come up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
