//! Runtime configuration: `Leptos.toml` (Leptos site options + our `[quotaboard]` table),
//! layered under environment variables.
//!
//! `leptos_config` only reads a file from its `[package.metadata.leptos]` header onwards and
//! treats every later line as a Leptos key, so the `[quotaboard]` table must come *before*
//! that header. Leptos keys are overridden by `LEPTOS_*` variables (handled by
//! `leptos_config`), ours by `QUOTABOARD_*` (kebab-case key, upper-snake-case name) and the
//! database URL also by `DATABASE_URL`.

use std::{
    collections::HashMap,
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

/// The configuration compiled into the binary: used when no file is given or found.
pub const DEFAULT_FILE: &str = include_str!("../../Leptos.toml");

/// Environment variables that belong to the command line, not to `[quotaboard]`.
const CLI_VARIABLES: [&str; 2] = ["QUOTABOARD_CONFIG", "QUOTABOARD_LOG_FORMAT"];

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    pub leptos: LeptosOptions,
    pub settings: Settings,
    /// The file this was read from; `None` for the built-in defaults.
    pub source: Option<PathBuf>,
}

/// quotaboard's own settings, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// sqlx URL: `sqlite://path` (created if missing) or `postgres://…`.
    pub database_url: String,
    pub thresholds: Thresholds,
    /// ISO 4217 code used where an organisation sets none.
    pub default_currency: String,
    /// IANA zone used where an organisation sets none.
    pub default_time_zone: Tz,
    pub session: SessionSettings,
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

/// The `[quotaboard]` table as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawSettings {
    database_url: String,
    warning_threshold: Decimal,
    critical_threshold: Decimal,
    default_currency: String,
    default_time_zone: String,
    session_cookie_secure: bool,
    session_idle_timeout_minutes: u32,
    session_absolute_timeout_hours: u32,
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
        let env: HashMap<String, String> = std::env::vars().collect();
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
    /// directory when `None`. `env` supplies `QUOTABOARD_*` and `DATABASE_URL`.
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
        let mut leptos =
            leptos::config::get_config_from_str(text).map_err(|e| ConfigError::Leptos {
                path: name.clone(),
                message: e.to_string(),
            })?;
        if let Some(base) = base {
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
        Ok(Config {
            leptos,
            settings,
            source,
        })
    }
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
    let document: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| SettingsFailure::Syntax(e.to_string()))?;
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
        .and_then(|b| b.set_default("warning-threshold", 75))
        .and_then(|b| b.set_default("critical-threshold", 90))
        .and_then(|b| b.set_default("default-currency", "USD"))
        .and_then(|b| b.set_default("default-time-zone", "UTC"))
        .and_then(|b| b.set_default("session-cookie-secure", true))
        .and_then(|b| b.set_default("session-idle-timeout-minutes", 60))
        .and_then(|b| b.set_default("session-absolute-timeout-hours", 12))
        .map_err(invalid)?
        .add_source(File::from_str(&table_text, FileFormat::Toml))
        .add_source(
            Environment::with_prefix("QUOTABOARD")
                .convert_case(Case::Kebab)
                .try_parsing(true)
                .source(Some(ours.into_iter().collect())),
        )
        .set_override_option("database-url", env.get("DATABASE_URL").cloned())
        .map_err(invalid)?
        .build()
        .and_then(config::Config::try_deserialize)
        .map_err(invalid)?;
    raw.validate(base).map_err(SettingsFailure::Invalid)
}

impl RawSettings {
    fn validate(self, base: Option<&Path>) -> Result<Settings, String> {
        let thresholds = Thresholds::new(self.warning_threshold, self.critical_threshold)
            .map_err(|e| e.to_string())?;
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
        if self.session_idle_timeout_minutes == 0 || self.session_absolute_timeout_hours == 0 {
            return Err("session timeouts must be at least 1".into());
        }
        Ok(Settings {
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
    let path = match base {
        Some(base) if path != ":memory:" && Path::new(path).is_relative() => {
            base.join(path).to_string_lossy().into_owned()
        }
        _ => path.to_string(),
    };
    Ok(match query {
        Some(query) => format!("sqlite://{path}?{query}"),
        None => format!("sqlite://{path}"),
    })
}

/// The URL with any password replaced by `***`, safe to log or print.
pub fn redact_database_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
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
    fn the_shipped_leptos_toml_loads_with_its_documented_defaults() {
        let config = Config::parse(DEFAULT_FILE, None, &env(&[]), None).expect("loads");
        assert_eq!(&*config.leptos.output_name, "quotaboard");
        assert_eq!(&*config.leptos.site_pkg_dir, "pkg");
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
                ("DATABASE_URL", "postgres://qb:secret@db:5432/qb"),
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
    }

    #[test]
    fn invalid_values_are_refused_with_the_key_named() {
        let cases = [
            (
                "QUOTABOARD_WARNING_THRESHOLD",
                "95",
                "below the critical threshold",
            ),
            ("QUOTABOARD_DEFAULT_CURRENCY", "dollars", "default-currency"),
            (
                "QUOTABOARD_DEFAULT_TIME_ZONE",
                "Mars/Olympus",
                "default-time-zone",
            ),
            ("DATABASE_URL", "mysql://localhost/qb", "database-url"),
            (
                "QUOTABOARD_SESSION_IDLE_TIMEOUT_MINUTES",
                "0",
                "session timeouts",
            ),
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
        assert_eq!(
            redact_database_url("sqlite://data/quotaboard.db"),
            "sqlite://data/quotaboard.db"
        );
    }
}
