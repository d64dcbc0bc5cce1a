//! `make scale`: quotaboard at the size of a busy installation, on PostgreSQL.
//!
//! A database of its own (`quotaboard_scale` on `TEST_DATABASE_URL`'s server, made afresh
//! and dropped at the end) gets the demo data, then `QB_SCALE_ORGANIZATIONS` organizations
//! (default 10 000) and `QB_SCALE_EVENTS` raw events (default 100 000 000) spread evenly
//! over the 14 months up to now: one large organization takes a tenth of them, the rest
//! share the other nine tenths. The events are bulk-loaded with SQL (`generate_series`),
//! then rolled up into the same daily totals and per-account breakdowns the ingest path
//! writes, with the same keys (UTC days); the idempotency keys of the last 45 days are
//! loaded too. A check reads an organization's total through the API against a count of
//! its raw events. Then, with two release servers on the database:
//!
//! - ingest: wrk posting 1 000-event batches to both servers at once;
//! - the usage summary (`GET /api/billing/usage`) and the `/usage` page, for the large
//!   organization, a small one and the demo's Acme;
//! - `quotaboard purge`: the oldest month, past the 13 months kept, dropped;
//! - the database's size per million events.
//!
//! Prints the table and writes `bench/scale.json`. `QB_BENCH_SECONDS` sets each run's
//! length (default 20 s; the read runs take half).

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use chrono::{Datelike, Months, TimeZone, Utc};
use quotaboard::server::{
    access::users::{self, UserRole},
    db::{events, Database},
};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::process::Command;

#[path = "common/measure.rs"]
mod measure;
#[path = "common/server.rs"]
mod server;

use measure::{env_number, git_commit, millis, thousands, Load, Machine, Row};
use server::{Failure, Server};

/// Events a request of the ingest run carries, and wrk connections per server.
const BATCH: u64 = 1_000;
const INGEST_CONNECTIONS: u32 = 2;
const SUMMARY_CONNECTIONS: u32 = 4;
const PAGE_CONNECTIONS: u32 = 16;
/// Events of a bulk-load statement.
const CHUNK: u64 = 2_000_000;
/// Accounts the events are spread over, per organization.
const ACCOUNTS: u64 = 4;
const DATABASE: &str = "quotaboard_scale";
const POSTGRES: &str = "PostgreSQL";

fn main() -> Result<(), Failure> {
    measure::block_on(run())
}

struct Scale {
    root: PathBuf,
    binary: PathBuf,
    seconds: u64,
    rows: Vec<Row>,
}

async fn run() -> Result<(), Failure> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = std::env::var_os("QB_BENCH_BIN")
        .map(PathBuf::from)
        .ok_or("QB_BENCH_BIN must name the release binary: run `make scale`")?;
    let total = env_number("QB_SCALE_EVENTS", 100_000_000)?;
    let organizations = env_number("QB_SCALE_ORGANIZATIONS", 10_000)?.max(2);
    let seconds = env_number("QB_BENCH_SECONDS", 20)?;
    let server_url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    let url = with_database(&server_url, DATABASE)?;
    let started = Instant::now();
    admin(&server_url, &format!("drop database if exists {DATABASE}")).await?;
    admin(&server_url, &format!("create database {DATABASE}")).await?;
    let mut scale = Scale {
        root,
        binary,
        seconds,
        rows: Vec::new(),
    };
    let measured = scale.measure(&url, total, organizations).await;
    admin(&server_url, &format!("drop database if exists {DATABASE}")).await?;
    measured?;
    scale.report(total, organizations, started.elapsed())
}

/// The organizations the runs use.
struct Loaded {
    large: String,
    small: String,
    /// The small organization the second server's ingest run writes to.
    ingesting: String,
    seconds: f64,
}

impl Scale {
    async fn measure(&mut self, url: &str, total: u64, organizations: u64) -> Result<(), Failure> {
        let first = Server::start(&self.binary, &self.root, url).await?;
        let db = Database::connect(url).await?;
        let loaded = load(&db, total, organizations).await?;
        self.rows.push(Row {
            backend: POSTGRES.into(),
            benchmark: format!(
                "bulk load: {} events, {} organizations, daily totals and breakdowns",
                thousands(total as f64),
                thousands(organizations as f64)
            ),
            result: format!("{:.0} s", loaded.seconds),
            goal: "reported".into(),
            met: None,
            figures: json!({ "seconds": loaded.seconds }),
        });
        let second = first.another().await?;
        self.check(&first, &db, &loaded.small).await?;
        self.ingest(&first, &second, &loaded).await?;
        self.profile(&first, url, &loaded).await?;
        self.reads(&first, &db, &loaded).await?;
        self.purge(url).await?;
        self.size(&db, total).await?;
        db.close().await;
        second.stop().await?;
        first.stop().await
    }

    /// The API's count of the small organization's API calls this month equals its raw
    /// events': the loaded totals are the ingest path's.
    async fn check(&self, server: &Server, db: &Database, slug: &str) -> Result<(), Failure> {
        let key = server.key(slug).await?;
        let answer: Value = server
            .client
            .get(format!("{}/api/v1/entitlements/apiCalls", server.base))
            .header("x-api-key", key)
            .send()
            .await?
            .json()
            .await?;
        let now = Utc::now();
        let month = Utc
            .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
            .single()
            .ok_or("month start")?;
        let raw: i64 = sqlx::query_scalar(
            "select count(*) from usage_events
             where organization_id = (select id from organizations where slug = $1)
               and occurred_at >= $2",
        )
        .bind(slug)
        .bind(month.timestamp())
        .fetch_one(db.pool())
        .await?;
        if answer["used"].as_f64() != Some(raw as f64) {
            return Err(format!("{slug}: the API says {answer}, the raw events {raw}").into());
        }
        eprintln!("   {slug}: {raw} API calls this month, in the API and in the raw events");
        Ok(())
    }

    /// Both servers ingesting at once; where the two cores' time went.
    async fn ingest(
        &mut self,
        first: &Server,
        second: &Server,
        loaded: &Loaded,
    ) -> Result<(), Failure> {
        let keys = [
            first.key(&loaded.large).await?,
            second.key(&loaded.ingesting).await?,
        ];
        let one_key = [("QB_BENCH_KEY", keys[0].as_str())];
        let two_key = [("QB_BENCH_KEY", keys[1].as_str())];
        let before = Cpu::read(&[first, second])?;
        let (one_load, two_load) = (
            ingest(&one_key, self.seconds),
            ingest(&two_key, self.seconds),
        );
        let (one, two) = tokio::join!(
            first.wrk("/api/v1/events", &one_load),
            second.wrk("/api/v1/events", &two_load),
        );
        let (one, two) = (one?, two?);
        let cpu = Cpu::read(&[first, second])?.since(&before);
        let events = (one.rate() + two.rate()) * BATCH as f64;
        let millions = (one.requests + two.requests) as f64 * BATCH as f64 / 1e6;
        self.rows.push(Row {
            backend: POSTGRES.into(),
            benchmark: format!(
                "ingest, two servers at once ({BATCH} events a request, {INGEST_CONNECTIONS} connections each, {} s)",
                self.seconds
            ),
            result: format!(
                "{} events/s ({} + {}), p99 {} / {} a batch; CPU s per million events: \
                 PostgreSQL {:.1}, servers {:.1}, wrk {:.1}; cores busy {:.0} %",
                thousands(events),
                thousands(one.rate() * BATCH as f64),
                thousands(two.rate() * BATCH as f64),
                millis(one.p99_us),
                millis(two.p99_us),
                cpu.postgres / millions,
                cpu.servers / millions,
                cpu.wrk / millions,
                100.0 * cpu.total() / (cpu.wall * cores() as f64),
            ),
            goal: "≥ 100 000 events/s".into(),
            met: Some(events >= 100_000.0 && one.clean() && two.clean()),
            figures: json!({ "runs": [one, two], "events_per_second": events, "cpu_seconds": cpu }),
        });
        Ok(())
    }

    /// Where PostgreSQL's time goes while a server ingests: each statement's duration from
    /// the server's log (`log_min_duration_statement = 0` for this database only, on the
    /// connections of a third server started for the run), summed by kind. Skipped when the
    /// log (`QB_SCALE_POSTGRES_LOG`, default Debian's) cannot be read.
    async fn profile(&mut self, first: &Server, url: &str, loaded: &Loaded) -> Result<(), Failure> {
        let log = std::env::var("QB_SCALE_POSTGRES_LOG")
            .unwrap_or_else(|_| "/var/log/postgresql/postgresql-15-main.log".into());
        let Ok(before) = std::fs::metadata(&log).map(|m| m.len()) else {
            eprintln!("   {log} cannot be read: no statement profile");
            return Ok(());
        };
        admin(
            url,
            &format!("alter database {DATABASE} set log_min_duration_statement = 0"),
        )
        .await?;
        let server = first.another().await;
        let run = match &server {
            Ok(server) => {
                let key = server.key(&loaded.large).await?;
                let env = [("QB_BENCH_KEY", key.as_str())];
                Some(server.wrk("/api/v1/events", &ingest(&env, 5)).await)
            }
            Err(_) => None,
        };
        admin(
            url,
            &format!("alter database {DATABASE} reset log_min_duration_statement"),
        )
        .await?;
        let server = server?;
        server.stop().await?;
        let run = run.ok_or("no profile run")??;
        let mut file = std::fs::File::open(&log)?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(before))?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text)?;
        let mut kinds: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
        for line in text.lines() {
            let Some((_, rest)) = line.split_once("duration: ") else {
                continue;
            };
            let Some((ms, statement)) = rest.split_once(" ms") else {
                continue;
            };
            let Ok(ms) = ms.parse::<f64>() else { continue };
            let statement = statement.split_once(": ").map_or("", |(_, sql)| sql);
            *kinds.entry(statement_kind(statement)).or_default() += ms;
        }
        let total: f64 = kinds.values().sum();
        let mut ranked: Vec<(String, f64)> = kinds.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let events = run.requests as f64 * BATCH as f64;
        let shares: Vec<String> = ranked
            .iter()
            .take(7)
            .map(|(kind, ms)| format!("{kind} {:.0} %", 100.0 * ms / total.max(1e-9)))
            .collect();
        self.rows.push(Row {
            backend: POSTGRES.into(),
            benchmark: "where PostgreSQL's time goes while a server ingests (statement durations from its log, 5 s)".into(),
            result: format!(
                "{:.1} ms of statements per 1 000 events: {}",
                total / (events / 1_000.0).max(1.0),
                shares.join(", ")
            ),
            goal: "profile".into(),
            met: None,
            figures: json!({ "run": run, "statement_ms": ranked }),
        });
        Ok(())
    }

    /// The usage summary and the page of the large organization, a small one and Acme.
    async fn reads(
        &mut self,
        server: &Server,
        db: &Database,
        loaded: &Loaded,
    ) -> Result<(), Failure> {
        let mut pages = Vec::new();
        for (label, slug, email) in [
            ("large", loaded.large.as_str(), "admin@scale-large.example"),
            ("small", loaded.small.as_str(), "admin@scale-small.example"),
            ("demo (Acme)", "acme", "admin@acme.example"),
        ] {
            if slug != "acme" {
                users::create(db, email, "quotaboard-demo", Some(slug), UserRole::Admin, 0)
                    .await
                    .map_err(|error| format!("user {email}: {error}"))?;
            }
            let events = events_of(db, slug).await?;
            let key = server.key(slug).await?;
            let key = [format!("x-api-key: {key}")];
            let summary = server
                .wrk(
                    "/api/billing/usage",
                    &requests(&key, SUMMARY_CONNECTIONS, self.seconds / 2),
                )
                .await?;
            let cookie = [format!("Cookie: {}", server.sign_in(email).await?)];
            // The first renders warm the server's caches, as a visitor's would.
            server
                .wrk("/usage", &requests(&cookie, PAGE_CONNECTIONS, 2))
                .await?;
            let page = server
                .wrk(
                    "/usage",
                    &requests(&cookie, PAGE_CONNECTIONS, self.seconds / 2),
                )
                .await?;
            self.rows.push(Row {
                backend: POSTGRES.into(),
                benchmark: format!(
                    "usage summary (GET /api/billing/usage), {label} organization ({} raw events), {SUMMARY_CONNECTIONS} connections",
                    thousands(events as f64)
                ),
                result: format!(
                    "p99 {} (p50 {}), {} requests/s",
                    millis(summary.p99_us),
                    millis(summary.p50_us),
                    thousands(summary.rate())
                ),
                goal: "p99 < 5 ms, flat".into(),
                met: Some(summary.p99_us < 5_000 && summary.clean()),
                figures: json!({ "events": events, "run": summary }),
            });
            pages.push((label, events, page));
        }
        let demo_p99 = pages.last().map_or(0, |(_, _, page)| page.p99_us);
        for (label, events, page) in pages {
            let within = page.p99_us <= demo_p99 + demo_p99 / 5;
            self.rows.push(Row {
                backend: POSTGRES.into(),
                benchmark: format!(
                    "/usage page, {label} organization ({} raw events), {PAGE_CONNECTIONS} connections",
                    thousands(events as f64)
                ),
                result: format!(
                    "p99 {} (p50 {}), {} requests/s",
                    millis(page.p99_us),
                    millis(page.p50_us),
                    thousands(page.rate())
                ),
                goal: "p99 within 20 % of the demo's".into(),
                met: Some(within && page.clean()),
                figures: json!({ "events": events, "run": page }),
            });
        }
        Ok(())
    }

    /// `quotaboard purge` with the servers up: the month past retention goes whole.
    async fn purge(&mut self, url: &str) -> Result<(), Failure> {
        let started = Instant::now();
        let output = Command::new(&self.binary)
            .arg("purge")
            .env("QUOTABOARD_CONFIG", self.root.join("Leptos.toml"))
            .env("DATABASE_URL", url)
            .env("QUOTABOARD_SECRET_KEY", "be".repeat(32))
            .env("RUST_LOG", "warn")
            .output()
            .await?;
        let took = started.elapsed();
        let said = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if !output.status.success() {
            return Err(format!(
                "quotaboard purge: {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        eprintln!("   purge: {said}");
        let dropped = said
            .lines()
            .find(|line| line.starts_with("Dropped "))
            .unwrap_or_default();
        self.rows.push(Row {
            backend: POSTGRES.into(),
            benchmark: "`quotaboard purge`, the oldest month past the 13 kept (the whole command)"
                .into(),
            result: format!("{} ({dropped})", millis(took.as_micros() as u64)),
            goal: "< 1 s".into(),
            met: Some(took < Duration::from_secs(1) && !dropped.is_empty()),
            figures: json!({ "seconds": took.as_secs_f64(), "output": said }),
        });
        Ok(())
    }

    /// The database's size, whole and raw events only, per million events still stored.
    async fn size(&mut self, db: &Database, loaded: u64) -> Result<(), Failure> {
        let (stored, database, raw): (i64, i64, i64) = sqlx::query_as(
            "select (select count(*) from usage_events),
                    pg_database_size(current_database()),
                    cast((select coalesce(sum(pg_total_relation_size(relid)), 0)
                          from pg_partition_tree('usage_events') where isleaf) as bigint)",
        )
        .fetch_one(db.pool())
        .await?;
        let millions = stored as f64 / 1e6;
        let mib = |bytes: i64| bytes as f64 / 1024.0 / 1024.0;
        self.rows.push(Row {
            backend: POSTGRES.into(),
            benchmark: format!(
                "database size, {} events stored ({} loaded and ingested, less the month purged)",
                thousands(stored as f64),
                thousands(loaded as f64)
            ),
            result: format!(
                "{:.1} GiB in all, {:.0} MiB per million events; raw events alone {:.0} MiB per million",
                mib(database) / 1024.0,
                mib(database) / millions,
                mib(raw) / millions
            ),
            goal: "reported".into(),
            met: None,
            figures: json!({ "events": stored, "database_bytes": database, "raw_event_bytes": raw }),
        });
        Ok(())
    }

    /// Prints the table and writes `bench/scale.json`.
    fn report(&self, total: u64, organizations: u64, took: Duration) -> Result<(), Failure> {
        let machine = Machine::read();
        let date = Utc::now().format("%Y-%m-%d").to_string();
        let results = json!({
            "date": date,
            "command": "make scale",
            "commit": git_commit(&self.root),
            "machine": machine,
            "events": total,
            "organizations": organizations,
            "seconds": took.as_secs(),
            "rows": self.rows,
        });
        measure::publish(
            &format!(
                "`make scale` ({} events, {} organizations)",
                thousands(total as f64),
                thousands(organizations as f64)
            ),
            took,
            &self.rows,
            &self.root.join("bench/scale.json"),
            &results,
        )
    }
}

/// Loads the organizations, the raw events, their idempotency keys and their rollups.
async fn load(db: &Database, total: u64, organizations: u64) -> Result<Loaded, Failure> {
    let started = Instant::now();
    let pool = db.pool();
    let now = Utc::now();
    // From the month before the one the 13 months kept begin in, to now.
    let cutoff = now
        .checked_sub_months(Months::new(14))
        .ok_or("14 months ago")?;
    let first = Utc
        .with_ymd_and_hms(cutoff.year(), cutoff.month(), 1, 0, 0, 0)
        .single()
        .ok_or("first month")?;
    events::prepare(db, first.timestamp(), now.timestamp()).await?;

    let first_id: i64 = sqlx::query_scalar(
        "insert into organizations (slug, name, time_zone, currency, created_at)
         select case when n = 0 then 'scale-large' else 'scale-' || lpad(n::text, 5, '0') end,
                'Scale ' || n, 'UTC', 'USD', $2
         from generate_series(0, $1 - 1) n
         returning id",
    )
    .bind(organizations as i64)
    .bind(first.timestamp())
    .fetch_all(pool)
    .await?
    .into_iter()
    .min()
    .ok_or("no organizations")?;
    let last_id = first_id + organizations as i64 - 1;
    let consecutive: i64 = sqlx::query_scalar(
        "select count(*) from organizations where id between $1 and $2 and slug like 'scale-%'",
    )
    .bind(first_id)
    .bind(last_id)
    .fetch_one(pool)
    .await?;
    if consecutive != organizations as i64 {
        return Err("the organizations' ids are not consecutive".into());
    }
    sqlx::query(
        "insert into subscriptions
             (organization_id, license_id, status, anchor_day, started_at, created_at, updated_at)
         select id, (select id from licenses where is_default), 'active', 1, $3, $3, $3
         from organizations where id between $1 and $2",
    )
    .bind(first_id)
    .bind(last_id)
    .bind(first.timestamp())
    .execute(pool)
    .await?;
    let metric: i64 = sqlx::query_scalar("select id from metrics where code = 'apiCalls'")
        .fetch_one(pool)
        .await?;

    // Evenly over time: each month takes its share of the seconds up to now.
    let span = (now.timestamp() - first.timestamp()) as u64;
    let mut months = Vec::new();
    let mut month = first;
    while month < now {
        let next = month + Months::new(1);
        months.push((month, next.min(now)));
        month = next;
    }
    // The months, numbered: a month's events are numbered on from the month before's.
    let mut plan = Vec::new();
    let mut numbered = 0u64;
    for (index, (start, end)) in months.iter().enumerate() {
        let seconds = (end.timestamp() - start.timestamp()) as u64;
        let count = if index + 1 == months.len() {
            total - numbered
        } else {
            total * seconds / span
        };
        plan.push(MonthLoad {
            start: start.timestamp(),
            end: end.timestamp(),
            count,
            first_number: numbered,
            name: start.format("%Y-%m").to_string(),
        });
        numbered += count;
    }
    // Two connections, a month at a time each: PostgreSQL runs a statement on one core.
    let shared = LoadShared {
        first_id,
        last_id,
        metric,
        started,
    };
    let (even, odd): (Vec<_>, Vec<_>) = plan.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let strip =
        |months: Vec<(usize, MonthLoad)>| months.into_iter().map(|(_, m)| m).collect::<Vec<_>>();
    tokio::try_join!(
        load_months(db, &shared, strip(even)),
        load_months(db, &shared, strip(odd)),
    )?;
    let mut connection = pool.acquire().await?;
    let remembered = now.timestamp() - 45 * 86_400;
    sqlx::query(
        "insert into usage_event_keys (organization_id, event_id, accepted_at)
         select organization_id, event_id, received_at from usage_events
         where occurred_at >= $1 and organization_id between $2 and $3",
    )
    .bind(remembered)
    .bind(first_id)
    .bind(last_id)
    .execute(&mut *connection)
    .await?;
    sqlx::query("analyze").execute(&mut *connection).await?;
    Ok(Loaded {
        large: "scale-large".into(),
        small: "scale-00001".into(),
        ingesting: "scale-00002".into(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One month of the bulk load: its events are numbered from `first_number`.
struct MonthLoad {
    start: i64,
    end: i64,
    count: u64,
    first_number: u64,
    name: String,
}

struct LoadShared {
    first_id: i64,
    last_id: i64,
    metric: i64,
    started: Instant,
}

/// Loads `months` one after the other on a connection of its own: the events, then their
/// rollups.
async fn load_months(
    db: &Database,
    shared: &LoadShared,
    months: Vec<MonthLoad>,
) -> Result<(), Failure> {
    let mut connection = db.pool().acquire().await?;
    sqlx::query("set work_mem = '256MB'")
        .execute(&mut *connection)
        .await?;
    for month in months {
        let mut offset = 0;
        while offset < month.count {
            let chunk = CHUNK.min(month.count - offset);
            let from = month.first_number + offset;
            insert_events(
                &mut connection,
                EventChunk {
                    first_id: shared.first_id,
                    small: shared.last_id - shared.first_id,
                    metric: shared.metric,
                    from: month.start,
                    seconds: month.end - month.start,
                    count: month.count as i64,
                    numbers: (from as i64, (from + chunk) as i64 - 1),
                    first_number: month.first_number as i64,
                },
            )
            .await?;
            offset += chunk;
        }
        rollups(
            &mut connection,
            shared.metric,
            (shared.first_id, shared.last_id),
            (month.start, month.end),
        )
        .await?;
        eprintln!(
            "   {}: {} events, {:.0} s",
            month.name,
            thousands(month.count as f64),
            shared.started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Events numbered `numbers` of a month's `count` from `from` over `seconds`: every tenth
/// is the large organization's (`first_id`), the others go round the `small` ones.
struct EventChunk {
    first_id: i64,
    small: i64,
    metric: i64,
    from: i64,
    seconds: i64,
    count: i64,
    numbers: (i64, i64),
    first_number: i64,
}

async fn insert_events(
    connection: &mut sqlx::pool::PoolConnection<sqlx::Any>,
    chunk: EventChunk,
) -> Result<(), Failure> {
    sqlx::query(
        "insert into usage_events
             (organization_id, event_id, metric_id, quantity_micros, occurred_at, received_at, account)
         select case when n % 10 = 0 then $1
                     else $1 + 1 + ((n / 10) * 9 + n % 10 - 1) % $2 end,
                'scale-' || n, $3, 1000000, t, t, 'account-' || (n % $9)
         from generate_series(cast($4 as bigint), cast($5 as bigint)) n,
              lateral (select $6 + (n - $7) * $8 / $10 as t) occurred",
    )
    .bind(chunk.first_id)
    .bind(chunk.small)
    .bind(chunk.metric)
    .bind(chunk.numbers.0)
    .bind(chunk.numbers.1)
    .bind(chunk.from)
    .bind(chunk.first_number)
    .bind(chunk.seconds)
    .bind(ACCOUNTS as i64)
    .bind(chunk.count)
    .execute(&mut **connection)
    .await?;
    Ok(())
}

/// The daily totals and per-account breakdowns of the events between `range`, as the
/// ingest path keys them (the organizations' days are UTC days).
async fn rollups(
    connection: &mut sqlx::pool::PoolConnection<sqlx::Any>,
    metric: i64,
    organizations: (i64, i64),
    range: (i64, i64),
) -> Result<(), Failure> {
    let daily = "insert into usage_daily
             (organization_id, metric_id, day_start, used_micros, latest_at, updated_at)
         select organization_id, metric_id, occurred_at - occurred_at % 86400,
                sum(quantity_micros), null, max(received_at)
         from usage_events
         where occurred_at >= $1 and occurred_at < $2 and organization_id between $3 and $4
           and metric_id = $5
         group by 1, 2, 3";
    let breakdown = "insert into usage_daily_breakdown
             (organization_id, dimension, day_start, metric_id, value, used_micros, latest_at,
              updated_at)
         select organization_id, 'account', occurred_at - occurred_at % 86400, metric_id,
                account, sum(quantity_micros), null, max(received_at)
         from usage_events
         where occurred_at >= $1 and occurred_at < $2 and organization_id between $3 and $4
           and metric_id = $5
         group by organization_id, occurred_at - occurred_at % 86400, metric_id, account";
    for sql in [daily, breakdown] {
        sqlx::query(sql)
            .bind(range.0)
            .bind(range.1)
            .bind(organizations.0)
            .bind(organizations.1)
            .bind(metric)
            .execute(&mut **connection)
            .await?;
    }
    Ok(())
}

/// New events in 1 000-event batches, with the key `env` names.
fn ingest<'a>(env: &'a [(&'a str, &'a str)], seconds: u64) -> Load<'a> {
    Load {
        script: "ingest.lua",
        env,
        headers: &[],
        connections: INGEST_CONNECTIONS,
        seconds,
    }
}

/// The same GET again and again, with `headers`.
fn requests(headers: &[String], connections: u32, seconds: u64) -> Load<'_> {
    Load {
        script: "request.lua",
        env: &[],
        headers,
        connections,
        seconds,
    }
}

/// A statement's verb and the table it works on: `insert usage_events`, `commit`.
fn statement_kind(sql: &str) -> String {
    let sql = sql.to_lowercase();
    let words: Vec<&str> = sql.split_whitespace().collect();
    let verb = words.first().copied().unwrap_or("?");
    if sql.contains("pg_notify") {
        return "notify".into();
    }
    let table = match verb {
        "update" => words.get(1).copied(),
        _ => words
            .windows(2)
            .find(|pair| pair[0] == "into" || pair[0] == "from")
            .map(|pair| pair[1]),
    };
    match table {
        Some(table) => format!(
            "{verb} {}",
            table.trim_matches(|c: char| !c.is_alphanumeric() && c != '_')
        ),
        None => verb.trim_matches(';').to_string(),
    }
}

async fn events_of(db: &Database, slug: &str) -> Result<i64, Failure> {
    Ok(sqlx::query_scalar(
        "select count(*) from usage_events
         where organization_id = (select id from organizations where slug = $1)",
    )
    .bind(slug)
    .fetch_one(db.pool())
    .await?)
}

/// CPU seconds (user + system) of the servers, every PostgreSQL process and this process's
/// ended children (wrk), and the wall-clock seconds between two readings.
#[derive(Debug, Default, Serialize)]
struct Cpu {
    postgres: f64,
    servers: f64,
    wrk: f64,
    other: f64,
    wall: f64,
}

impl Cpu {
    fn read(servers: &[&Server]) -> Result<Cpu, Failure> {
        let ticks = 100.0; // USER_HZ on Linux
        let ours: Vec<u32> = servers.iter().filter_map(|s| s.child.id()).collect();
        let mut cpu = Cpu {
            wall: unix_seconds(),
            wrk: ended_children_seconds(),
            ..Cpu::default()
        };
        for entry in std::fs::read_dir("/proc")? {
            let entry = entry?;
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // `pid (comm) state ppid …`: utime and stime are fields 14 and 15.
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let comm = &stat[open + 1..close];
            let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
            let used = match (fields.get(11), fields.get(12)) {
                (Some(user), Some(system)) => {
                    (user.parse::<f64>().unwrap_or(0.0) + system.parse::<f64>().unwrap_or(0.0))
                        / ticks
                }
                _ => continue,
            };
            if ours.contains(&pid) {
                cpu.servers += used;
            } else if comm == "postgres" {
                cpu.postgres += used;
            } else {
                cpu.other += used;
            }
        }
        Ok(cpu)
    }

    /// What was used from `before` to this reading.
    fn since(self, before: &Cpu) -> Cpu {
        Cpu {
            postgres: self.postgres - before.postgres,
            servers: self.servers - before.servers,
            wrk: self.wrk - before.wrk,
            other: (self.other - before.other).max(0.0),
            wall: self.wall - before.wall,
        }
    }

    fn total(&self) -> f64 {
        self.postgres + self.servers + self.wrk
    }
}

/// CPU seconds of this process's children that ended and were waited for.
fn ended_children_seconds() -> f64 {
    // SAFETY: getrusage writes the struct it is given and nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn unix_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `url` naming `database` instead of its own.
fn with_database(url: &str, database: &str) -> Result<String, Failure> {
    let mut parsed = url::Url::parse(url)?;
    parsed.set_path(&format!("/{database}"));
    Ok(parsed.to_string())
}

/// Runs one statement on the PostgreSQL server.
async fn admin(url: &str, statement: &str) -> Result<(), Failure> {
    let db = Database::connect(url).await?;
    sqlx::query(statement).execute(db.pool()).await?;
    db.close().await;
    Ok(())
}
