//! The release server for the load benchmarks (`make bench`, `make soak`): started on a
//! database loaded with the demo data, without rate limits (one load generator on loopback
//! is many clients' worth of requests), and stopped gracefully.

// Each benchmark uses some of these.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::json;
use tokio::process::{Child, Command};

pub use super::measure::Failure;
use super::measure::{self, Load, Wrk};

/// The release server, serving `url`'s database loaded with the demo data.
pub struct Server {
    pub child: Child,
    pub base: String,
    binary: PathBuf,
    config: PathBuf,
    url: String,
    pub client: reqwest::Client,
}

impl Server {
    pub async fn start(binary: &Path, root: &Path, url: &str) -> Result<Server, Failure> {
        let demo = Self::command(binary, root, url, "demo").output().await?;
        if !demo.status.success() {
            return Err(
                format!("quotaboard demo: {}", String::from_utf8_lossy(&demo.stderr)).into(),
            );
        }
        Self::serve(binary, root, url).await
    }

    /// Another server on the same database, on a port of its own (`make scale`).
    pub async fn another(&self) -> Result<Server, Failure> {
        let root = self.config.parent().ok_or("Leptos.toml has no folder")?;
        Self::serve(&self.binary, root, &self.url).await
    }

    /// `quotaboard <verb>` on `url`'s database, on the port `LEPTOS_SITE_ADDR` names.
    fn command(binary: &Path, root: &Path, url: &str, verb: &str) -> Command {
        let mut process = Command::new(binary);
        process
            .arg(verb)
            .env("QUOTABOARD_CONFIG", root.join("Leptos.toml"))
            .env("DATABASE_URL", url)
            // PostgreSQL needs a key to seal webhook secrets with (SQLite makes a file).
            .env("QUOTABOARD_SECRET_KEY", "be".repeat(32))
            .env("LEPTOS_SITE_ROOT", root.join("target/site"))
            .env("QUOTABOARD_SESSION_COOKIE_SECURE", "false")
            // One load generator on loopback is many clients' worth of requests.
            .env("QUOTABOARD_RATE_LIMIT_PER_KEY", "0")
            .env("QUOTABOARD_RATE_LIMIT_PER_ORGANIZATION", "0")
            .env("QUOTABOARD_RATE_LIMIT_PER_ADDRESS", "0")
            .env("RUST_LOG", "warn");
        process
    }

    /// Serves `url` on a free port; returns once `/healthz` answers.
    async fn serve(binary: &Path, root: &Path, url: &str) -> Result<Server, Failure> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Self::command(binary, root, url, "serve")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .kill_on_drop(true)
            .spawn()?;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            if Instant::now() > deadline {
                return Err("the server did not answer /healthz within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Server {
            child,
            base,
            binary: binary.into(),
            config: root.join("Leptos.toml"),
            url: url.into(),
            client,
        })
    }

    /// wrk against `path` of this server.
    pub async fn wrk(&self, path: &str, load: &Load<'_>) -> Result<Wrk, Failure> {
        let root = self.config.parent().ok_or("Leptos.toml has no folder")?;
        measure::wrk(root, &self.base, path, load).await
    }

    /// A new admin key of the organization `slug`, through the CLI.
    pub async fn key(&self, slug: &str) -> Result<String, Failure> {
        let output = Command::new(&self.binary)
            .args([
                "keys", "create", "--org", slug, "--role", "admin", "--name", "bench",
            ])
            .env("QUOTABOARD_CONFIG", &self.config)
            .env("DATABASE_URL", &self.url)
            .env("RUST_LOG", "warn")
            .output()
            .await?;
        let text = String::from_utf8_lossy(&output.stdout);
        match text.lines().last() {
            Some(key) if output.status.success() => Ok(key.trim().to_string()),
            _ => Err(format!(
                "quotaboard keys create: {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into()),
        }
    }

    /// The `Cookie` header value of a new session of the demo user `email`.
    pub async fn sign_in(&self, email: &str) -> Result<String, Failure> {
        let response = self
            .client
            .post(format!("{}/api/v1/sessions", self.base))
            .json(&json!({ "email": email, "password": "quotaboard-demo" }))
            .send()
            .await?;
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .ok_or_else(|| format!("signing in {email}: {}", response.status()))?;
        Ok(cookie.to_string())
    }

    /// How many raw events the organization `slug` holds.
    pub async fn events(&self, slug: &str) -> Result<u64, Failure> {
        let db = quotaboard::server::db::Database::connect(&self.url).await?;
        let count: i64 = sqlx::query_scalar(
            "select count(*) from usage_events
             where organization_id = (select id from organizations where slug = $1)",
        )
        .bind(slug)
        .fetch_one(db.pool())
        .await?;
        db.close().await;
        Ok(u64::try_from(count)?)
    }

    /// The server's resident memory, kB.
    pub fn rss_kb(&self) -> Result<u64, Failure> {
        let pid = self.child.id().ok_or("the server has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmRSS in /proc/PID/status".into())
    }

    /// SIGTERM, then waits for the graceful shutdown.
    pub async fn stop(mut self) -> Result<(), Failure> {
        if let Some(pid) = self.child.id() {
            Command::new("kill").arg(pid.to_string()).status().await?;
        }
        tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await??;
        Ok(())
    }
}
