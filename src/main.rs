//! The `quotaboard` server binary: configuration, logging, then one subcommand.

#[cfg(feature = "ssr")]
mod cli {
    use std::{path::PathBuf, process::ExitCode};

    use clap::{Parser, Subcommand};
    use quotaboard::server::{
        config::{redact_database_url, Config},
        demo::{self, DemoOutcome},
        startup, telemetry,
        telemetry::LogFormat,
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
        /// Load the demo dataset if the database holds no organization yet.
        Demo,
        /// Print the effective configuration (passwords redacted) and exit.
        Config,
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
        startup::serve(listener, startup::build_state(config, db))
            .await
            .map_err(|e| e.to_string())
    }

    async fn load_demo(config: &Config) -> Result<(), String> {
        let db = startup::open_database(config)
            .await
            .map_err(|e| e.to_string())?;
        let outcome = demo::load(&db, chrono::Utc::now())
            .await
            .map_err(|e| e.to_string())?;
        match outcome {
            DemoOutcome::Loaded => tracing::info!("demo dataset loaded"),
            DemoOutcome::SkippedNotEmpty => {
                tracing::info!("database already holds data; demo dataset not loaded")
            }
        }
        db.close().await;
        Ok(())
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
