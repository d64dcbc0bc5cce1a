//! Runtime configuration: `Leptos.toml` (Leptos site options + our `[quotaboard]` table),
//! layered under environment variables.
//!
//! `leptos_config` reads a file only from its `[package.metadata.leptos]` header onwards and
//! treats every later line as a Leptos key, so the `[quotaboard]` table comes *before* that
//! header. We read the Leptos part the same way, into leptos's own `LeptosOptions`, but take
//! the `LEPTOS_*` overrides from an environment map we are given rather than from the process,
//! so loading is testable and a variable never counts as a file value. Our keys are
//! overridden by `QUOTABOARD_*` (kebab-case key, upper-snake-case name), the database URL
//! also by `DATABASE_URL`.
//!
//! It stays whole: every setting is declared, defaulted, read from the file and the
//! environment, and checked here, one list, with the tests of each beside it.

use std::{
    collections::HashMap,
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
    sync::Arc,
};

use chrono_tz::Tz;
use config::{Case, Environment, File, FileFormat};
use leptos::config::LeptosOptions;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::domain::usage_level::Thresholds;

use crate::server::{db::Durability, platform::sealing::SealingKey};

/// The configuration compiled into the binary: used when no file is given or found.
pub const DEFAULT_FILE: &str = include_str!("../../../Leptos.toml");

/// Environment variables that belong to the command line, not to `[quotaboard]`.
/// (`QUOTABOARD_USER_PASSWORD`: the password of `quotaboard users create`.)
const CLI_VARIABLES: [&str; 3] = [
    "QUOTABOARD_CONFIG",
    "QUOTABOARD_LOG_FORMAT",
    "QUOTABOARD_USER_PASSWORD",
];

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    pub leptos: LeptosOptions,
    pub settings: Settings,
    /// The file this was read from; `None` for the built-in defaults.
    pub source: Option<PathBuf>,
}

/// quotaboard's own settings, validated. `Debug` redacts the database password.
#[derive(Clone, PartialEq)]
pub struct Settings {
    /// sqlx URL: `sqlite://path` (created if missing) or `postgres://…`.
    pub database_url: String,
    /// A streaming replica of the PostgreSQL database (`postgres://…`) that usage reads go
    /// to while it has replayed the organization's last write; `None`: every query goes to
    /// `database_url`.
    pub database_read_url: Option<String>,
    pub thresholds: Thresholds,
    /// ISO 4217 code used where an organisation sets none.
    pub default_currency: String,
    /// IANA zone used where an organisation sets none.
    pub default_time_zone: Tz,
    pub session: SessionSettings,
    /// Events may be this many days old at most (1–366).
    pub backdating_days: u32,
    /// `quotaboard purge` removes raw events older than this many months (at least 13).
    pub retention_months: u32,
    /// The metric whose per-account totals are a domain's mails (seed 000's `totalMails`).
    pub mail_metric: String,
    pub webhooks: WebhookSettings,
    pub limits: LimitSettings,
    /// SQLite's `synchronous` setting: `normal` or `full` (see [`Durability`]).
    pub durability: Durability,
    /// A request not answered within this long gets 503 (the live usage stream excepted).
    pub request_timeout: std::time::Duration,
    /// How long pages and read endpoints may reuse a read of an organization nobody
    /// announced a change to (see [`crate::server::platform::cache`]); zero reads the database every time.
    pub read_cache: std::time::Duration,
    /// The key webhook secrets are sealed with; `None`: a SQLite database's key file.
    pub secret_key: Option<SealingKey>,
    /// Where browsers reach this server (`https://usage.example.com`), for the addresses
    /// of portal sessions; `None`: the scheme and `Host` of the request creating one.
    pub public_url: Option<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_database_url(&self.database_url))
            .field(
                "database_read_url",
                &self.database_read_url.as_deref().map(redact_database_url),
            )
            .field("thresholds", &self.thresholds)
            .field("default_currency", &self.default_currency)
            .field("default_time_zone", &self.default_time_zone)
            .field("session", &self.session)
            .field("backdating_days", &self.backdating_days)
            .field("retention_months", &self.retention_months)
            .field("mail_metric", &self.mail_metric)
            .field("webhooks", &self.webhooks)
            .field("limits", &self.limits)
            .field("durability", &self.durability)
            .field("request_timeout", &self.request_timeout)
            .field("read_cache", &self.read_cache)
            .field("secret_key", &self.secret_key)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// How browser sessions behave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSettings {
    /// Send the session cookie only over HTTPS; turn off only for plain-HTTP localhost.
    pub cookie_secure: bool,
    /// A session unused this long ends.
    pub idle_timeout_minutes: u32,
    /// A session ends this long after sign-in, used or not.
    pub absolute_timeout_hours: u32,
}

/// How threshold alerts are delivered to webhooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookSettings {
    /// The wait before the second try; each later wait doubles, up to an hour.
    pub retry_initial: std::time::Duration,
    /// Tries before a delivery is given up as failed (1–20).
    pub max_attempts: u32,
    /// How long a receiver has to answer one try.
    pub timeout: std::time::Duration,
    /// Whether webhooks may post to loopback, private and link-local addresses (off: an
    /// organization admin cannot make the server probe its own network).
    pub allow_private_addresses: bool,
    /// Deliveries sent at once, over all organizations.
    pub concurrency: u32,
    /// Deliveries of one organization sent at once: its share, so its receivers that never
    /// answer cannot hold up another's alerts.
    pub concurrency_per_organization: u32,
    /// Webhooks one organization may have (0: no cap).
    pub per_organization: u32,
}

/// How much one client may ask of the server; 0 turns a limit off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitSettings {
    /// Requests a second per API key (bursts of twice as many).
    pub requests_per_second_per_key: u32,
    /// Requests a second per organization, over all its API keys.
    pub requests_per_second_per_organization: u32,
    /// Requests a second per client address (its /64 for IPv6), for requests without a
    /// valid key (pages, server functions, sign-in, a key that does not validate); static
    /// files and `/healthz` are not counted.
    pub requests_per_second_per_address: u32,
    /// Sign-in attempts that did not succeed, allowed in 15 minutes.
    pub sign_ins: SignInLimits,
    /// Password checks run at once.
    pub password_checks_at_once: u32,
    /// Password checks that may wait their turn; more are refused with 429.
    pub password_checks_waiting: u32,
    /// The header a trusted proxy writes the client's address to (its last entry is
    /// used); `None`: the connection's peer address.
    pub client_ip_header: Option<String>,
}

/// How many sign-in attempts that did not succeed are allowed within 15 minutes (see
/// [`crate::server::platform::limits::SignInThrottle`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInLimits {
    /// For one account from one address (its /64 for IPv6).
    pub per_account_and_address: u32,
    /// From one address, over all accounts.
    pub per_address: u32,
    /// For one account over all addresses: past it, only addresses that have not failed
    /// for the account may still try.
    pub per_account: u32,
}

/// The `[quotaboard]` table as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawSettings {
    database_url: String,
    database_read_url: String,
    warning_threshold: Decimal,
    critical_threshold: Decimal,
    default_currency: String,
    default_time_zone: String,
    session_cookie_secure: bool,
    session_idle_timeout_minutes: u32,
    session_absolute_timeout_hours: u32,
    backdating_days: u32,
    retention_months: u32,
    mail_metric: String,
    webhook_retry_initial_ms: u64,
    webhook_max_attempts: u32,
    webhook_timeout_seconds: u64,
    webhook_allow_private_addresses: bool,
    webhook_concurrency: u32,
    webhook_concurrency_per_organization: u32,
    webhooks_per_organization: u32,
    rate_limit_per_key: u32,
    rate_limit_per_organization: u32,
    rate_limit_per_address: u32,
    sign_in_failures_per_account: u32,
    sign_in_failures_per_account_total: u32,
    sign_in_failures_per_address: u32,
    password_checks_at_once: u32,
    password_checks_waiting: u32,
    client_ip_header: String,
    request_timeout_seconds: u64,
    read_cache_ms: u64,
    sqlite_synchronous: Durability,
    secret_key: String,
    public_url: String,
}

/// Why the configuration could not be loaded; the message names the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: Leptos options: {message}")]
    Leptos { path: String, message: String },
    #[error("{path}: [quotaboard]: {message}")]
    Settings { path: String, message: String },
}

impl Config {
    /// Reads `path`, or the built-in defaults when `None`, then applies the process's
    /// environment variables.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        // Variables that are not UTF-8 cannot be ours; skip them rather than panic.
        let env: HashMap<String, String> = std::env::vars_os()
            .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                let base = path
                    .canonicalize()
                    .ok()
                    .and_then(|full| full.parent().map(Path::to_path_buf));
                Config::parse(&text, base.as_deref(), &env, Some(path.to_path_buf()))
            }
            None => Config::parse(DEFAULT_FILE, None, &env, None),
        }
    }

    /// Parses a configuration text. Relative paths (site root, SQLite file) are resolved
    /// against `base`, the configuration file's directory, or kept relative to the working
    /// directory when `None`; values taken from `env` are never re-anchored. `env` supplies
    /// `LEPTOS_*`, `QUOTABOARD_*` and `DATABASE_URL`.
    pub fn parse(
        text: &str,
        base: Option<&Path>,
        env: &HashMap<String, String>,
        source: Option<PathBuf>,
    ) -> Result<Config, ConfigError> {
        let name = source.as_ref().map_or_else(
            || "built-in Leptos.toml".to_string(),
            |p| p.display().to_string(),
        );
        let mut leptos = parse_leptos(text, env).map_err(|message| ConfigError::Leptos {
            path: name.clone(),
            message,
        })?;
        if let Some(base) = base.filter(|_| !env.contains_key("LEPTOS_SITE_ROOT")) {
            let site_root = Path::new(&*leptos.site_root);
            if site_root.is_relative() {
                leptos.site_root = Arc::from(base.join(site_root).to_string_lossy().as_ref());
            }
        }
        let settings = parse_settings(text, base, env).map_err(|message| match message {
            SettingsFailure::Syntax(message) => ConfigError::Syntax {
                path: name.clone(),
                message,
            },
            SettingsFailure::Invalid(message) => ConfigError::Settings {
                path: name.clone(),
                message,
            },
        })?;
        if !settings.session.cookie_secure && !leptos.site_addr.ip().is_loopback() {
            return Err(ConfigError::Settings {
                path: name,
                message: format!(
                    "session-cookie-secure = false sends the session cookie over plain HTTP, which \
                     is allowed only while site-addr is a loopback address (got {}); behind an \
                     HTTPS proxy leave it true",
                    leptos.site_addr
                ),
            });
        }
        Ok(Config {
            leptos,
            settings,
            source,
        })
    }
}

/// The header `leptos_config` looks for; everything after it is Leptos options.
const LEPTOS_HEADER: &str = "[package.metadata.leptos]";

/// Reads the Leptos section exactly as `leptos_config::get_config_from_str` does (from the
/// header line on, header removed, line numbers kept), with `LEPTOS_*` overrides from `env`.
fn parse_leptos(text: &str, env: &HashMap<String, String>) -> Result<LeptosOptions, String> {
    let start = text
        .match_indices(LEPTOS_HEADER)
        .map(|(index, _)| index)
        .find(|&index| index == 0 || text[..index].ends_with('\n'))
        .ok_or_else(|| format!("no {LEPTOS_HEADER} section"))?;
    let section = "\n".repeat(text[..start].matches('\n').count())
        + &text[start..].replacen(LEPTOS_HEADER, "", 1);
    let overrides: HashMap<String, String> = env
        .iter()
        .filter(|(key, _)| key.starts_with("LEPTOS_"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    config::Config::builder()
        .add_source(File::from_str(&section, FileFormat::Toml))
        .add_source(
            Environment::with_prefix("LEPTOS")
                .convert_case(Case::Kebab)
                .source(Some(overrides.into_iter().collect())),
        )
        .build()
        .and_then(config::Config::try_deserialize)
        .map_err(|e| e.to_string())
}

enum SettingsFailure {
    Syntax(String),
    Invalid(String),
}

fn parse_settings(
    text: &str,
    base: Option<&Path>,
    env: &HashMap<String, String>,
) -> Result<Settings, SettingsFailure> {
    let document: toml::Table =
        toml::from_str(text).map_err(|e| SettingsFailure::Syntax(e.to_string()))?;
    let table = document
        .get("quotaboard")
        .cloned()
        .unwrap_or_else(|| toml::Value::Table(toml::Table::new()));
    let table_text = toml::to_string(&table).map_err(|e| SettingsFailure::Syntax(e.to_string()))?;

    let ours: HashMap<String, String> = env
        .iter()
        .filter(|(key, _)| key.starts_with("QUOTABOARD_") && !CLI_VARIABLES.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let invalid = |e: config::ConfigError| SettingsFailure::Invalid(e.to_string());
    let raw: RawSettings = config::Config::builder()
        .set_default("database-url", "sqlite://data/quotaboard.db")
        .and_then(|b| b.set_default("database-read-url", ""))
        .and_then(|b| b.set_default("warning-threshold", 75))
        .and_then(|b| b.set_default("critical-threshold", 90))
        .and_then(|b| b.set_default("default-currency", "USD"))
        .and_then(|b| b.set_default("default-time-zone", "UTC"))
        .and_then(|b| b.set_default("session-cookie-secure", true))
        .and_then(|b| b.set_default("session-idle-timeout-minutes", 60))
        .and_then(|b| b.set_default("session-absolute-timeout-hours", 12))
        .and_then(|b| b.set_default("backdating-days", 35))
        .and_then(|b| b.set_default("retention-months", 13))
        .and_then(|b| b.set_default("mail-metric", "emails"))
        .and_then(|b| b.set_default("webhook-retry-initial-ms", 30_000))
        .and_then(|b| b.set_default("webhook-max-attempts", 8))
        .and_then(|b| b.set_default("webhook-timeout-seconds", 10))
        .and_then(|b| b.set_default("webhook-allow-private-addresses", false))
        .and_then(|b| b.set_default("webhook-concurrency", 32))
        .and_then(|b| b.set_default("webhook-concurrency-per-organization", 4))
        .and_then(|b| b.set_default("webhooks-per-organization", 25))
        .and_then(|b| b.set_default("rate-limit-per-key", 100))
        .and_then(|b| b.set_default("rate-limit-per-organization", 300))
        .and_then(|b| b.set_default("rate-limit-per-address", 50))
        .and_then(|b| b.set_default("sign-in-failures-per-account", 10))
        .and_then(|b| b.set_default("sign-in-failures-per-account-total", 1000))
        .and_then(|b| b.set_default("sign-in-failures-per-address", 50))
        .and_then(|b| b.set_default("password-checks-at-once", 4))
        .and_then(|b| b.set_default("password-checks-waiting", 32))
        .and_then(|b| b.set_default("client-ip-header", ""))
        .and_then(|b| b.set_default("request-timeout-seconds", 30))
        .and_then(|b| b.set_default("read-cache-ms", 1000))
        .and_then(|b| b.set_default("sqlite-synchronous", "normal"))
        .and_then(|b| b.set_default("secret-key", ""))
        .and_then(|b| b.set_default("public-url", ""))
        .map_err(invalid)?
        .add_source(File::from_str(&table_text, FileFormat::Toml))
        .add_source(
            Environment::with_prefix("QUOTABOARD")
                .convert_case(Case::Kebab)
                .try_parsing(true)
                .source(Some(ours.into_iter().collect())),
        )
        .set_override_option("database-url", env.get("DATABASE_URL").cloned())
        // As given: hex digits must not be parsed as a number.
        .and_then(|b| {
            b.set_override_option("secret-key", env.get("QUOTABOARD_SECRET_KEY").cloned())
        })
        .map_err(invalid)?
        .build()
        .and_then(config::Config::try_deserialize)
        .map_err(invalid)?;
    // A URL from the environment is taken as given; only the file's is anchored to its folder.
    let url_from_env =
        env.contains_key("DATABASE_URL") || env.contains_key("QUOTABOARD_DATABASE_URL");
    raw.validate(base.filter(|_| !url_from_env))
        .map_err(SettingsFailure::Invalid)
}

impl RawSettings {
    fn validate(self, base: Option<&Path>) -> Result<Settings, String> {
        let thresholds = Thresholds::new(self.warning_threshold, self.critical_threshold)
            .map_err(|e| format!("warning-threshold / critical-threshold: {e}"))?;
        let currency = self.default_currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "default-currency must be a three-letter ISO 4217 code (got {:?})",
                self.default_currency
            ));
        }
        let default_time_zone = Tz::from_str(self.default_time_zone.trim()).map_err(|_| {
            format!(
                "default-time-zone must be an IANA time zone such as \"Europe/Berlin\" (got {:?})",
                self.default_time_zone
            )
        })?;
        if self.session_idle_timeout_minutes == 0 {
            return Err("session-idle-timeout-minutes must be at least 1".into());
        }
        if self.session_absolute_timeout_hours == 0 {
            return Err("session-absolute-timeout-hours must be at least 1".into());
        }
        if !(1..=366).contains(&self.backdating_days) {
            return Err(format!(
                "backdating-days must be between 1 and 366 (got {})",
                self.backdating_days
            ));
        }
        if !(13..=1200).contains(&self.retention_months) {
            return Err(format!(
                "retention-months must be between 13 and 1200 (got {})",
                self.retention_months
            ));
        }
        let mail_metric = self.mail_metric.trim().to_string();
        if mail_metric.is_empty() {
            return Err("mail-metric must name a metric, such as \"emails\"".into());
        }
        if !(1..=3_600_000).contains(&self.webhook_retry_initial_ms) {
            return Err(format!(
                "webhook-retry-initial-ms must be between 1 and 3600000 (got {})",
                self.webhook_retry_initial_ms
            ));
        }
        if !(1..=20).contains(&self.webhook_max_attempts) {
            return Err(format!(
                "webhook-max-attempts must be between 1 and 20 (got {})",
                self.webhook_max_attempts
            ));
        }
        if !(1..=60).contains(&self.webhook_timeout_seconds) {
            return Err(format!(
                "webhook-timeout-seconds must be between 1 and 60 (got {})",
                self.webhook_timeout_seconds
            ));
        }
        if !(1..=1_000).contains(&self.webhook_concurrency) {
            return Err(format!(
                "webhook-concurrency must be between 1 and 1000 (got {})",
                self.webhook_concurrency
            ));
        }
        if !(1..=self.webhook_concurrency).contains(&self.webhook_concurrency_per_organization) {
            return Err(format!(
                "webhook-concurrency-per-organization must be between 1 and \
                 webhook-concurrency ({}) (got {})",
                self.webhook_concurrency, self.webhook_concurrency_per_organization
            ));
        }
        if !(1..=3_600).contains(&self.request_timeout_seconds) {
            return Err(format!(
                "request-timeout-seconds must be between 1 and 3600 (got {})",
                self.request_timeout_seconds
            ));
        }
        if !(1..=64).contains(&self.password_checks_at_once) {
            return Err(format!(
                "password-checks-at-once must be between 1 and 64 (got {})",
                self.password_checks_at_once
            ));
        }
        if self.read_cache_ms > 60_000 {
            return Err(format!(
                "read-cache-ms must be between 0 and 60000 (got {})",
                self.read_cache_ms
            ));
        }
        let client_ip_header = self.client_ip_header.trim().to_ascii_lowercase();
        if !client_ip_header.is_empty()
            && axum::http::HeaderName::from_bytes(client_ip_header.as_bytes()).is_err()
        {
            return Err(format!(
                "client-ip-header must be a header name such as \"x-forwarded-for\" (got {:?})",
                self.client_ip_header
            ));
        }
        let secret_key = match self.secret_key.trim() {
            "" => None,
            text => Some(SealingKey::from_hex(text).map_err(|e| e.to_string())?),
        };
        let public_url = self.public_url.trim().trim_end_matches('/').to_string();
        if !public_url.is_empty() {
            let url = url::Url::parse(&public_url).map_err(|_| {
                format!("public-url must be an http or https address (got {public_url:?})")
            })?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(format!(
                    "public-url must be an http or https address (got {public_url:?})"
                ));
            }
        }
        Ok(Settings {
            secret_key,
            public_url: (!public_url.is_empty()).then_some(public_url),
            limits: LimitSettings {
                requests_per_second_per_key: self.rate_limit_per_key,
                requests_per_second_per_organization: self.rate_limit_per_organization,
                requests_per_second_per_address: self.rate_limit_per_address,
                sign_ins: SignInLimits {
                    per_account_and_address: self.sign_in_failures_per_account,
                    per_address: self.sign_in_failures_per_address,
                    per_account: self.sign_in_failures_per_account_total,
                },
                password_checks_at_once: self.password_checks_at_once,
                password_checks_waiting: self.password_checks_waiting,
                client_ip_header: (!client_ip_header.is_empty()).then_some(client_ip_header),
            },
            request_timeout: std::time::Duration::from_secs(self.request_timeout_seconds),
            read_cache: std::time::Duration::from_millis(self.read_cache_ms),
            durability: self.sqlite_synchronous,
            webhooks: WebhookSettings {
                retry_initial: std::time::Duration::from_millis(self.webhook_retry_initial_ms),
                max_attempts: self.webhook_max_attempts,
                timeout: std::time::Duration::from_secs(self.webhook_timeout_seconds),
                allow_private_addresses: self.webhook_allow_private_addresses,
                concurrency: self.webhook_concurrency,
                concurrency_per_organization: self.webhook_concurrency_per_organization,
                per_organization: self.webhooks_per_organization,
            },
            mail_metric,
            backdating_days: self.backdating_days,
            retention_months: self.retention_months,
            database_read_url: read_url(&self.database_read_url, &self.database_url)?,
            database_url: resolve_database_url(&self.database_url, base)?,
            thresholds,
            default_currency: currency,
            default_time_zone,
            session: SessionSettings {
                cookie_secure: self.session_cookie_secure,
                idle_timeout_minutes: self.session_idle_timeout_minutes,
                absolute_timeout_hours: self.session_absolute_timeout_hours,
            },
        })
    }
}

/// The replica's URL, if one is set: PostgreSQL beside a PostgreSQL database only.
fn read_url(url: &str, database_url: &str) -> Result<Option<String>, String> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let postgres = |url: &str| url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !postgres(url) {
        return Err(format!(
            "database-read-url must be a postgres:// URL of a streaming replica (got {:?})",
            redact_database_url(url)
        ));
    }
    if !postgres(database_url.trim()) {
        return Err(
            "database-read-url needs a PostgreSQL database-url: SQLite has no replicas".into(),
        );
    }
    Ok(Some(url.to_string()))
}

/// Checks the scheme and anchors a relative SQLite path at `base`.
fn resolve_database_url(url: &str, base: Option<&Path>) -> Result<String, String> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_string());
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Err(format!(
            "database-url must start with sqlite: or postgres:// (got {:?})",
            redact_database_url(url)
        ));
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest
        .split_once('?')
        .map_or((rest, None), |(p, q)| (p, Some(q)));
    if path.is_empty() {
        return Err("database-url names no SQLite file".into());
    }
    if path == ":memory:" || query.is_some_and(|q| q.contains("mode=memory")) {
        // Every pooled connection would open its own, empty in-memory database.
        return Err("database-url: in-memory SQLite is not supported; name a file".into());
    }
    let path = match base {
        Some(base) if Path::new(path).is_relative() => {
            base.join(path).to_string_lossy().into_owned()
        }
        _ => path.to_string(),
    };
    Ok(match query {
        Some(query) => format!("sqlite://{path}?{query}"),
        None => format!("sqlite://{path}"),
    })
}

/// The URL with any password (in the user part or a `password` query parameter) replaced by
/// `***`, safe to log or print.
pub fn redact_database_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return "<database URL that could not be parsed>".into();
    };
    if url.password().is_some() && url.set_password(Some("***")).is_err() {
        return "<database URL that could not be redacted>".into();
    }
    if url
        .query_pairs()
        .any(|(key, _)| key.eq_ignore_ascii_case("password"))
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if key.eq_ignore_ascii_case("password") {
                    "***".into()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn leptos_config_itself_reads_our_file_and_skips_our_table() {
        // cargo-leptos and leptos's own loader must keep working on the same file.
        let options = leptos::config::get_config_from_str(DEFAULT_FILE).expect("leptos parses it");
        assert_eq!(&*options.output_name, "quotaboard");
        assert_eq!(&*options.site_pkg_dir, "pkg");
        let ours = Config::parse(DEFAULT_FILE, None, &env(&[]), None).expect("we parse it");
        assert_eq!(ours.leptos.output_name, options.output_name);
    }

    #[test]
    fn the_shipped_leptos_toml_loads_with_its_documented_defaults() {
        let config = Config::parse(DEFAULT_FILE, None, &env(&[]), None).expect("loads");
        assert_eq!(&*config.leptos.output_name, "quotaboard");
        assert_eq!(&*config.leptos.site_pkg_dir, "pkg");
        assert_eq!(config.leptos.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(&*config.leptos.site_root, "target/site");
        assert_eq!(config.settings.database_url, "sqlite://data/quotaboard.db");
        assert_eq!(config.settings.thresholds, Thresholds::default());
        assert_eq!(config.settings.default_currency, "USD");
        assert_eq!(config.settings.default_time_zone, Tz::UTC);
        assert!(config.settings.session.cookie_secure);
    }

    #[test]
    fn leptos_ignores_our_table_when_it_precedes_the_leptos_header() {
        let text = r#"
[quotaboard]
default-currency = "EUR"
default-time-zone = "America/Sao_Paulo"
warning-threshold = 60
critical-threshold = 85.5

[package.metadata.leptos]
output-name = "quotaboard"
site-root = "site"
site-addr = "0.0.0.0:8080"
"#;
        let config =
            Config::parse(text, Some(Path::new("/srv/qb")), &env(&[]), None).expect("loads");
        assert_eq!(config.leptos.site_addr.to_string(), "0.0.0.0:8080");
        assert_eq!(&*config.leptos.site_root, "/srv/qb/site");
        assert_eq!(config.settings.default_currency, "EUR");
        assert_eq!(config.settings.default_time_zone, Tz::America__Sao_Paulo);
        assert_eq!(
            config.settings.thresholds,
            Thresholds::new(Decimal::from(60), Decimal::new(855, 1)).expect("valid")
        );
        assert_eq!(
            config.settings.database_url,
            "sqlite:///srv/qb/data/quotaboard.db"
        );
    }

    #[test]
    fn plain_http_cookies_only_on_a_loopback_address() {
        for (addr, allowed) in [
            ("127.0.0.1:3000", true),
            ("[::1]:3000", true),
            ("0.0.0.0:3000", false),
            ("192.168.1.20:3000", false),
        ] {
            let result = Config::parse(
                DEFAULT_FILE,
                None,
                &env(&[
                    ("QUOTABOARD_SESSION_COOKIE_SECURE", "false"),
                    ("LEPTOS_SITE_ADDR", addr),
                ]),
                None,
            );
            match result {
                Ok(_) => assert!(allowed, "{addr} was allowed plain HTTP cookies"),
                Err(error) => {
                    assert!(!allowed, "{addr}: {error}");
                    assert!(
                        error.to_string().contains("session-cookie-secure"),
                        "{error}"
                    );
                }
            }
        }
        let secure = Config::parse(
            DEFAULT_FILE,
            None,
            &env(&[("LEPTOS_SITE_ADDR", "0.0.0.0:3000")]),
            None,
        );
        assert!(secure.is_ok(), "secure cookies on any address");
    }

    #[test]
    fn environment_variables_override_the_file() {
        let config = Config::parse(
            DEFAULT_FILE,
            None,
            &env(&[
                ("QUOTABOARD_WARNING_THRESHOLD", "70"),
                ("QUOTABOARD_CRITICAL_THRESHOLD", "95"),
                ("QUOTABOARD_DEFAULT_CURRENCY", "brl"),
                ("QUOTABOARD_SESSION_COOKIE_SECURE", "false"),
                ("QUOTABOARD_CONFIG", "/etc/quotaboard/Leptos.toml"),
                ("QUOTABOARD_LOG_FORMAT", "json"),
                ("QUOTABOARD_USER_PASSWORD", "a password for users create"),
                ("DATABASE_URL", "postgres://qb:secret@db:5432/qb"),
                // Digits only, with an `e`: a number if it were parsed as one.
                (
                    "QUOTABOARD_SECRET_KEY",
                    &format!("{}e{}", "1".repeat(32), "2".repeat(31)),
                ),
            ]),
            None,
        )
        .expect("loads");
        let settings = config.settings;
        assert_eq!(settings.thresholds.warning(), Decimal::from(70));
        assert_eq!(settings.thresholds.critical(), Decimal::from(95));
        assert_eq!(settings.default_currency, "BRL");
        assert!(!settings.session.cookie_secure);
        assert_eq!(settings.database_url, "postgres://qb:secret@db:5432/qb");
        let key = format!("{}e{}", "1".repeat(32), "2".repeat(31));
        assert_eq!(
            settings.secret_key,
            Some(SealingKey::from_hex(&key).expect("key"))
        );
    }

    #[test]
    fn a_read_replica_is_a_postgres_url_beside_a_postgres_database() {
        let with = |pairs: &[(&str, &str)]| {
            Config::parse(DEFAULT_FILE, None, &env(pairs), None).map(|c| c.settings)
        };
        let settings = with(&[
            ("DATABASE_URL", "postgres://db/qb"),
            (
                "QUOTABOARD_DATABASE_READ_URL",
                "postgres://qb:secret@replica/qb",
            ),
        ])
        .expect("loads");
        assert_eq!(
            settings.database_read_url.as_deref(),
            Some("postgres://qb:secret@replica/qb")
        );
        assert!(!format!("{settings:?}").contains("qb:secret"));
        assert_eq!(with(&[]).expect("loads").database_read_url, None);
        for (primary, replica, needle) in [
            (
                "postgres://db/qb",
                "sqlite://r.db",
                "must be a postgres:// URL",
            ),
            (
                "sqlite://x.db",
                "postgres://replica/qb",
                "SQLite has no replicas",
            ),
        ] {
            let error = with(&[
                ("DATABASE_URL", primary),
                ("QUOTABOARD_DATABASE_READ_URL", replica),
            ])
            .expect_err(replica)
            .to_string();
            assert!(error.contains(needle), "{error}");
        }
    }

    #[test]
    fn variables_are_not_anchored_to_the_file_but_file_values_are() {
        let base = Some(Path::new("/srv/qb"));
        let from_file = Config::parse(DEFAULT_FILE, base, &env(&[]), None).expect("loads");
        assert_eq!(&*from_file.leptos.site_root, "/srv/qb/target/site");
        assert_eq!(
            from_file.settings.database_url,
            "sqlite:///srv/qb/data/quotaboard.db"
        );

        let from_env = Config::parse(
            DEFAULT_FILE,
            base,
            &env(&[
                ("LEPTOS_SITE_ROOT", "site"),
                ("LEPTOS_SITE_ADDR", "0.0.0.0:9000"),
                ("DATABASE_URL", "sqlite://x.db"),
            ]),
            None,
        )
        .expect("loads");
        assert_eq!(&*from_env.leptos.site_root, "site");
        assert_eq!(from_env.leptos.site_addr.to_string(), "0.0.0.0:9000");
        assert_eq!(from_env.settings.database_url, "sqlite://x.db");
    }

    #[test]
    fn invalid_values_are_refused_with_the_key_named() {
        let cases = [
            ("QUOTABOARD_WARNING_THRESHOLD", "95", "warning-threshold"),
            (
                "QUOTABOARD_CRITICAL_THRESHOLD",
                "1500",
                "critical-threshold",
            ),
            ("QUOTABOARD_DEFAULT_CURRENCY", "dollars", "default-currency"),
            (
                "QUOTABOARD_DEFAULT_TIME_ZONE",
                "Mars/Olympus",
                "default-time-zone",
            ),
            ("DATABASE_URL", "mysql://localhost/qb", "database-url"),
            ("DATABASE_URL", "sqlite::memory:", "database-url"),
            (
                "QUOTABOARD_SESSION_IDLE_TIMEOUT_MINUTES",
                "0",
                "session-idle-timeout-minutes",
            ),
            (
                "QUOTABOARD_SESSION_ABSOLUTE_TIMEOUT_HOURS",
                "0",
                "session-absolute-timeout-hours",
            ),
            ("LEPTOS_SITE_ADDR", "not-an-address", "Leptos options"),
            ("QUOTABOARD_BACKDATING_DAYS", "0", "backdating-days"),
            ("QUOTABOARD_MAIL_METRIC", " ", "mail-metric"),
            ("QUOTABOARD_SECRET_KEY", "0123456789abcdef", "secret-key"),
        ];
        for (key, value, expected) in cases {
            let error = Config::parse(DEFAULT_FILE, None, &env(&[(key, value)]), None)
                .expect_err(key)
                .to_string();
            assert!(error.contains(expected), "{key}={value}: {error}");
        }
    }

    #[test]
    fn unknown_keys_in_our_table_are_refused() {
        let text = DEFAULT_FILE.replace("[quotaboard]", "[quotaboard]\nwarning-treshold = 80");
        let error = Config::parse(&text, None, &env(&[]), None)
            .expect_err("typo")
            .to_string();
        assert!(error.contains("warning-treshold"), "{error}");
    }

    #[test]
    fn a_file_without_the_leptos_header_is_refused() {
        let error = Config::parse("[quotaboard]\n", None, &env(&[]), None)
            .expect_err("no header")
            .to_string();
        assert!(error.contains("Leptos options"), "{error}");
    }

    #[test]
    fn passwords_never_appear_in_a_redacted_url() {
        assert_eq!(
            redact_database_url("postgres://qb:secret@db:5432/qb"),
            "postgres://qb:***@db:5432/qb"
        );
        let with_at = redact_database_url("postgres://qb:p@ss@db/qb");
        assert!(
            !with_at.contains("p@ss") && !with_at.contains("ss@"),
            "{with_at}"
        );
        let in_query = redact_database_url("postgres://db/qb?user=qb&password=secret");
        assert!(!in_query.contains("secret"), "{in_query}");
        let config = Config::parse(
            DEFAULT_FILE,
            None,
            &env(&[
                ("DATABASE_URL", "postgres://qb:secret@db/qb"),
                ("QUOTABOARD_SECRET_KEY", &"ab".repeat(32)),
            ]),
            None,
        )
        .expect("loads");
        let shown = format!("{:?}", config.settings);
        assert!(
            !shown.contains("qb:secret") && !shown.contains("abab"),
            "{shown}"
        );
        assert_eq!(
            redact_database_url("sqlite://data/quotaboard.db"),
            "sqlite://data/quotaboard.db"
        );
    }
}
