//! The `quotaboard` server binary: configuration, logging, then one subcommand.

#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: quotaboard::server::process::allocator::ServerAllocator =
    quotaboard::server::process::allocator::ServerAllocator;

#[cfg(feature = "ssr")]
mod cli {
    use std::{path::PathBuf, process::ExitCode};

    use clap::{Parser, Subcommand};
    use quotaboard::server::{
        access::api_keys,
        access::audit,
        access::principal::Role,
        access::sessions,
        access::users::{self, UserRole},
        db::{self, organizations},
        metering::purge,
        platform::config::{redact_database_url, Config},
        platform::sealing,
        process::demo::{self, DemoOutcome},
        process::startup,
        process::telemetry,
        process::telemetry::LogFormat,
    };

    /// Self-hostable usage metering and license-limit dashboard.
    #[derive(Debug, Parser)]
    #[command(name = "quotaboard", version, about)]
    struct Cli {
        /// Configuration file [default: ./Leptos.toml if present, else built-in defaults].
        #[arg(long, env = "QUOTABOARD_CONFIG", global = true)]
        config: Option<PathBuf>,
        /// How log lines are written.
        #[arg(
            long,
            env = "QUOTABOARD_LOG_FORMAT",
            value_enum,
            default_value = "text",
            global = true
        )]
        log_format: LogFormat,
        #[command(subcommand)]
        command: Option<Command>,
    }

    #[derive(Debug, Subcommand)]
    enum Command {
        /// Apply migrations, then serve the dashboard and the API (the default).
        Serve,
        /// Apply pending database migrations and exit.
        Migrate,
        /// Load the demo organizations, licenses and usage; running it again changes nothing.
        Demo,
        /// Delete raw usage events older than `retention-months`; daily totals are kept.
        Purge,
        /// Print the effective configuration (passwords redacted) and exit.
        Config,
        /// Copy the SQLite database, consistently, to a new file while the server runs (and
        /// its key file, when it has one, to the same name with `.key` added).
        Backup {
            /// Where to write the copy; must not exist yet.
            path: PathBuf,
        },
        /// Create, list or revoke API keys.
        Keys {
            #[command(subcommand)]
            action: KeysCommand,
        },
        /// Create dashboard users.
        Users {
            #[command(subcommand)]
            action: UsersCommand,
        },
    }

    #[derive(Debug, Subcommand)]
    enum UsersCommand {
        /// Create a user who signs in with an email and password.
        Create {
            #[arg(long)]
            email: String,
            /// At least 8 characters; stored only as an argon2id hash.
            #[arg(long, env = "QUOTABOARD_USER_PASSWORD", hide_env_values = true)]
            password: String,
            /// Slug of the user's organization; required except for platform-admin.
            #[arg(long)]
            org: Option<String>,
            #[arg(long, value_enum)]
            role: UserRole,
        },
        /// Add an existing user to another organization; they switch to it in the dashboard.
        Join {
            #[arg(long)]
            email: String,
            /// Slug of the organization to join.
            #[arg(long)]
            org: String,
            /// member or admin.
            #[arg(long, value_enum)]
            role: UserRole,
        },
        /// Stop a user signing in and end every session of theirs (their organizations'
        /// API keys keep working).
        Disable {
            #[arg(long)]
            email: String,
        },
        /// Let a disabled user sign in again.
        Enable {
            #[arg(long)]
            email: String,
        },
    }

    #[derive(Debug, Subcommand)]
    enum KeysCommand {
        /// Create a key and print it, once, as the last line of output.
        Create {
            /// Slug of the organization the key acts for.
            #[arg(long)]
            org: String,
            /// `admin` may also send usage events.
            #[arg(long, value_enum, default_value = "member")]
            role: Role,
            /// A note to tell keys apart, e.g. "billing script".
            #[arg(long, default_value = "")]
            name: String,
        },
        /// List an organization's keys (prefixes only; secrets are never stored).
        List {
            #[arg(long)]
            org: String,
        },
        /// Revoke a key by its prefix or the whole key; effective on the next request.
        Revoke { key: String },
    }

    pub async fn run() -> ExitCode {
        let cli = Cli::parse();
        telemetry::init(cli.log_format);
        let path = cli.config.or_else(|| {
            let local = PathBuf::from("Leptos.toml");
            local.is_file().then_some(local)
        });
        let config = match Config::load(path.as_deref()) {
            Ok(config) => config,
            Err(error) => {
                tracing::error!(%error, "invalid configuration");
                return ExitCode::from(2);
            }
        };
        let result = match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(&config).await,
            Command::Migrate => startup::open_database(&config)
                .await
                .map(|_| tracing::info!("database is up to date"))
                .map_err(|e| e.to_string()),
            Command::Demo => load_demo(&config).await,
            Command::Config => {
                print_config(&config);
                Ok(())
            }
            Command::Keys { action } => manage_keys(&config, action).await,
            Command::Users { action } => manage_users(&config, action).await,
            Command::Purge => purge_events(&config).await,
            Command::Backup { path } => backup(&config, &path).await,
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "quotaboard stopped");
                ExitCode::FAILURE
            }
        }
    }

    async fn serve(config: &Config) -> Result<(), String> {
        startup::require_secret_key(&config.settings).map_err(|e| e.to_string())?;
        let db = startup::open_database(config)
            .await
            .map_err(|e| e.to_string())?;
        let addr = config.leptos.site_addr;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        tracing::info!(
            url = format!("http://{addr}"),
            database = redact_database_url(&config.settings.database_url),
            "quotaboard is serving"
        );
        let state = startup::build_state(config, db)
            .await
            .map_err(|e| e.to_string())?;
        startup::serve(listener, state)
            .await
            .map_err(|e| e.to_string())
    }

    async fn backup(config: &Config, path: &std::path::Path) -> Result<(), String> {
        let db = startup::open_database(config)
            .await
            .map_err(|e| e.to_string())?;
        db.backup_to(path).await.map_err(|e| e.to_string())?;
        tracing::info!(path = %path.display(), "backup written");
        // The copy's webhook secrets open only with the key: keep the key file beside it.
        if config.settings.secret_key.is_none() {
            let key_file = sealing::key_file_for(path);
            startup::sealing_key(&config.settings)
                .and_then(|key| Ok(key.write_new(&key_file)?))
                .map_err(|e| e.to_string())?;
            tracing::info!(path = %key_file.display(), "key for sealed secrets copied");
        }
        db.close().await;
        Ok(())
    }

    async fn load_demo(config: &Config) -> Result<(), String> {
        let db = startup::open_database(config)
            .await
            .map_err(|e| e.to_string())?;
        let outcome = demo::load(&db, chrono::Utc::now())
            .await
            .map_err(|e| e.to_string())?;
        match outcome {
            DemoOutcome::Loaded(slugs) => {
                tracing::info!(organizations = slugs.join(", "), "demo dataset loaded")
            }
            DemoOutcome::AlreadyLoaded => {
                tracing::info!("demo dataset already loaded; nothing changed")
            }
        }
        db.close().await;
        Ok(())
    }

    async fn manage_keys(config: &Config, action: KeysCommand) -> Result<(), String> {
        let db = startup::open_database(config)
            .await
            .map_err(|e| e.to_string())?;
        let now = db::unix_seconds(chrono::Utc::now());
        let organization = |slug: String| {
            let db = db.clone();
            async move {
                organizations::find_by_slug(db.pool(), &slug)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("no organization with slug {slug:?}"))
            }
        };
        let result = match action {
            KeysCommand::Create { org, role, name } => {
                let organization = organization(org).await?;
                let issued = api_keys::issue(&db, organization.id, role, &name, now)
                    .await
                    .map_err(|e| e.to_string())?;
                let change = audit::Change {
                    organization_id: Some(organization.id),
                    entity: audit::Entity::ApiKey,
                    entity_id: issued.id,
                    label: format!("{name} (qb_{})", issued.prefix),
                    action: audit::Action::Created,
                    before: None,
                    after: Some(serde_json::json!({"name": name, "role": role.as_str()})),
                };
                audit::record_logged(&db, audit::Actor::Cli, change).await;
                let key = issued.plaintext;
                println!(
                    "Created a {} key for {}. Store it now: it is not shown again.",
                    role.as_str(),
                    organization.slug
                );
                println!("{key}");
                Ok(())
            }
            KeysCommand::List { org } => {
                let organization = organization(org).await?;
                let keys =
                    db::scoped::list::<db::api_keys::ApiKeyRow, _>(db.pool(), organization.id)
                        .await
                        .map_err(|e| e.to_string())?;
                println!("prefix\trole\tcreated\trevoked\tname");
                for key in keys {
                    let when = |seconds: Option<i64>| {
                        seconds
                            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                            .map_or_else(|| "-".to_string(), |t| t.to_rfc3339())
                    };
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        key.prefix,
                        key.role,
                        when(Some(key.created_at)),
                        when(key.revoked_at),
                        key.name
                    );
                }
                Ok(())
            }
            KeysCommand::Revoke { key } => {
                let prefix = api_keys::prefix_of(&key)
                    .unwrap_or(key.as_str())
                    .to_string();
                let stored = db::api_keys::find_by_prefix(db.pool(), &prefix)
                    .await
                    .map_err(|e| e.to_string())?;
                if db::api_keys::revoke(db.pool(), &prefix, now)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    if let Some(stored) = stored {
                        let change = audit::Change {
                            organization_id: Some(stored.organization_id),
                            entity: audit::Entity::ApiKey,
                            entity_id: stored.id,
                            label: format!("{} (qb_{prefix})", stored.name),
                            action: audit::Action::Revoked,
                            before: None,
                            after: None,
                        };
                        audit::record_logged(&db, audit::Actor::Cli, change).await;
                    }
                    println!("Revoked key {prefix}.");
                    Ok(())
                } else {
                    Err(format!("no active key with prefix {prefix:?}"))
                }
            }
        };
        db.close().await;
        result
    }

    async fn manage_users(config: &Config, action: UsersCommand) -> Result<(), String> {
        let db = startup::open_database(config)
            .await
            .map_err(|e| e.to_string())?;
        let now = db::unix_seconds(chrono::Utc::now());
        let result = match action {
            UsersCommand::Create {
                email,
                password,
                org,
                role,
            } => users::create(&db, &email, &password, org.as_deref(), role, now)
                .await
                .map(|id| println!("Created {} user {id} ({email}).", role.as_str())),
            UsersCommand::Join { email, org, role } => users::join(&db, &email, &org, role, now)
                .await
                .map(|()| println!("{email} belongs to {org} with the role {}.", role.as_str())),
            UsersCommand::Disable { email } => users::set_disabled_by_email(&db, &email, true, now)
                .await
                .map(|()| println!("{email} is disabled; their sessions have ended.")),
            UsersCommand::Enable { email } => users::set_disabled_by_email(&db, &email, false, now)
                .await
                .map(|()| println!("{email} may sign in again.")),
        };
        db.close().await;
        result
    }

    async fn purge_events(config: &Config) -> Result<(), String> {
        let db = startup::open_database(config)
            .await
            .map_err(|e| e.to_string())?;
        let months = config.settings.retention_months;
        let backdating = config.settings.backdating_days;
        let now = chrono::Utc::now();
        let result = match purge::purge(&db, now, months, backdating).await {
            Ok(purged) => {
                if purged.months.is_empty() {
                    println!(
                        "Purged {} raw events older than {months} months.",
                        purged.events
                    );
                } else {
                    let names: Vec<String> = purged.months.iter().map(|m| m.name()).collect();
                    println!(
                        "Dropped {} whole months of raw events older than {months} months: {}.",
                        names.len(),
                        names.join(", ")
                    );
                }
                println!(
                    "Forgot {} event ids accepted more than {} days ago.",
                    purged.ids,
                    quotaboard::domain::retention::id_memory_days(backdating)
                );
                sessions::purge_ended(&db, &config.settings.session, db::unix_seconds(now))
                    .await
                    .map(|ended| println!("Purged {ended} ended sessions."))
            }
            Err(error) => Err(error),
        }
        .map_err(|e| e.to_string());
        db.close().await;
        result
    }

    fn print_config(config: &Config) {
        let settings = &config.settings;
        let source = config.source.as_ref().map_or_else(
            || "built-in defaults".to_string(),
            |p| p.display().to_string(),
        );
        println!("# effective configuration (file: {source})");
        println!("site-addr = {:?}", config.leptos.site_addr.to_string());
        println!("site-root = {:?}", &*config.leptos.site_root);
        println!(
            "database-url = {:?}",
            redact_database_url(&settings.database_url)
        );
        println!(
            "database-read-url = {:?}",
            settings
                .database_read_url
                .as_deref()
                .map(redact_database_url)
                .unwrap_or_default()
        );
        println!("warning-threshold = {}", settings.thresholds.warning());
        println!("critical-threshold = {}", settings.thresholds.critical());
        println!("default-currency = {:?}", settings.default_currency);
        println!(
            "default-time-zone = {:?}",
            settings.default_time_zone.name()
        );
        println!("session-cookie-secure = {}", settings.session.cookie_secure);
        println!(
            "session-idle-timeout-minutes = {}",
            settings.session.idle_timeout_minutes
        );
        println!(
            "session-absolute-timeout-hours = {}",
            settings.session.absolute_timeout_hours
        );
        println!("backdating-days = {}", settings.backdating_days);
        println!("retention-months = {}", settings.retention_months);
        println!("mail-metric = {:?}", settings.mail_metric);
        // Never the key itself; empty means the key file beside a SQLite database.
        let key = if settings.secret_key.is_some() {
            "***"
        } else {
            ""
        };
        println!("secret-key = {key:?}");
    }
}

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    cli::run().await
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser build's entry point is `quotaboard::hydrate`; this binary needs `ssr`.
}
