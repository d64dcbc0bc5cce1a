//! `make bench`: the release server under load from wrk over loopback, in Chromium through
//! Playwright, and as shipped (transfer sizes), on SQLite and PostgreSQL; prints the table
//! and writes `bench/results.json`.
//!
//! Settings (environment): `QB_BENCH_BIN` the release binary (the Makefile passes it),
//! `TEST_DATABASE_URL` the PostgreSQL server (default `postgres://postgres@127.0.0.1:5432/test`;
//! a fresh schema is made and dropped), `QB_BENCH_SQLITE_EVENTS` / `QB_BENCH_POSTGRES_EVENTS`
//! the organization sizes the usage summary is measured at (comma-separated), and
//! `QB_BENCH_SECONDS` the length of the ingest and summary runs (the page run is always 30 s).

use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};

use leptos::server_fn::ServerFn;
use quotaboard::api::usage::GetUsageSummary;
use serde_json::{json, Value};
use tokio::process::Command;

/// Events a request of the ingest runs carries.
const BATCH: u64 = 1_000;
/// wrk connections of the ingest runs: SQLite takes one writer at a time, so more only queue.
const INGEST_CONNECTIONS: u32 = 4;
/// Connections of the summary runs.
const SUMMARY_CONNECTIONS: u32 = 4;
/// Concurrent clients of the consume run, as the issue sets them.
const CONSUME_CONNECTIONS: u32 = 64;
/// Connections and length of the page run, as the issue sets them.
const PAGE_CONNECTIONS: u32 = 64;
const PAGE_SECONDS: u64 = 30;
/// An unmeasured page run first: the allocator's first run to the peak of 64 concurrent
/// renders grows the heap to a plateau (+43 MiB in one run of 2026-11-24) that the two runs
/// compared for growth should both start from.
const WARM_UP_SECONDS: u64 = 10;

#[path = "common/measure.rs"]
mod measure;
#[path = "common/server.rs"]
mod server;

use measure::{env_number, git_commit, mebibytes, millis, thousands, Load, Machine, Row, Wrk};
use server::{Failure, Server};

fn main() -> Result<(), Failure> {
    measure::block_on(run())
}

struct Bench {
    root: PathBuf,
    binary: PathBuf,
    seconds: u64,
    rows: Vec<Row>,
    /// Server memory (kB RSS) after each load run, per backend.
    memory: BTreeMap<String, Vec<(String, u64)>>,
}

async fn run() -> Result<(), Failure> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = std::env::var_os("QB_BENCH_BIN")
        .map(PathBuf::from)
        .ok_or("QB_BENCH_BIN must name the release binary: run `make bench`")?;
    let seconds = env_number("QB_BENCH_SECONDS", 20)?;
    let mut bench = Bench {
        root,
        binary,
        seconds,
        rows: Vec::new(),
        memory: BTreeMap::new(),
    };
    let started = Instant::now();

    let scratch = tempfile::tempdir()?;
    let sqlite_url = format!("sqlite://{}", scratch.path().join("bench.db").display());
    let sqlite_events = env_list("QB_BENCH_SQLITE_EVENTS", "1000000,10000000")?;
    bench
        .backend("SQLite", &sqlite_url, &sqlite_events, true)
        .await?;

    let postgres = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    let postgres_events = env_list("QB_BENCH_POSTGRES_EVENTS", "1000000")?;
    let schema = format!("qb_bench_{}", std::process::id());
    match admin(&postgres, &format!("create schema {schema}")).await {
        Ok(()) => {
            let separator = if postgres.contains('?') { '&' } else { '?' };
            let url = format!("{postgres}{separator}options[search_path]={schema}");
            let measured = bench
                .backend("PostgreSQL", &url, &postgres_events, false)
                .await;
            admin(&postgres, &format!("drop schema {schema} cascade")).await?;
            measured?;
        }
        Err(error) => {
            eprintln!("PostgreSQL at {postgres} is not reachable ({error}): its rows are missing");
            bench.rows.push(Row {
                benchmark: "batch ingest over HTTP".into(),
                backend: "PostgreSQL".into(),
                result: format!("not run: {error}"),
                goal: "≥ 50 000 events/s".into(),
                met: None,
                figures: Value::Null,
            });
        }
    }
    bench.sizes()?;
    bench.report(started.elapsed())
}

impl Bench {
    /// Every server-side benchmark on one backend; `browser` adds the Chromium runs.
    async fn backend(
        &mut self,
        backend: &str,
        url: &str,
        sizes: &[u64],
        browser: bool,
    ) -> Result<(), Failure> {
        eprintln!("== {backend}");
        let server = Server::start(&self.binary, &self.root, url).await?;
        let acme = server.key("acme").await?;
        let globex = server.key("globex").await?;
        // Made now: right after the ingest runs, SQLite may be busy writing back the
        // write-ahead log for longer than the command line waits for its lock.
        let initech = server.key("initech").await?;
        let cookie = server.sign_in("admin@acme.example").await?;
        let mut memory = vec![("started".to_string(), server.rss_kb()?)];

        // Throughput: Globex takes the measured runs, so Acme's size stays exact below.
        let mut ingest = Vec::new();
        for run in 1..=2 {
            let result = self
                .wrk(
                    &server,
                    "/api/v1/events",
                    "ingest.lua",
                    &[("QB_BENCH_KEY", globex.as_str())],
                    &[],
                    INGEST_CONNECTIONS,
                    self.seconds,
                )
                .await?;
            memory.push((format!("after ingest run {run}"), server.rss_kb()?));
            ingest.push(result);
        }
        let best = ingest
            .iter()
            .max_by(|a, b| a.rate().total_cmp(&b.rate()))
            .ok_or("no ingest run")?;
        let events_per_second = best.rate() * BATCH as f64;
        let goal = if backend == "SQLite" {
            100_000.0
        } else {
            50_000.0
        };
        self.rows.push(Row {
            benchmark: format!(
                "batch ingest over HTTP ({BATCH} events a request, {INGEST_CONNECTIONS} connections, {} s, best of 2)",
                self.seconds
            ),
            backend: backend.into(),
            result: format!(
                "{} events/s, p99 {} a batch",
                thousands(events_per_second),
                millis(best.p99_us)
            ),
            goal: format!("≥ {} events/s", thousands(goal)),
            met: Some(events_per_second >= goal && ingest.iter().all(Wrk::clean)),
            figures: json!({ "runs": ingest, "events_per_second": events_per_second }),
        });

        // Taking capacity: Initech's API calls (unlimited in its plan, so every consume is
        // taken and recorded), by clients as many as the page run's.
        let consume_path = "/api/v1/entitlements/apiCalls/consume";
        let consume = self
            .wrk(
                &server,
                consume_path,
                "consume.lua",
                &[
                    ("QB_BENCH_KEY", initech.as_str()),
                    ("QB_BENCH_METRIC", "apiCalls"),
                ],
                &[],
                CONSUME_CONNECTIONS,
                self.seconds,
            )
            .await?;
        memory.push(("after the consume run".to_string(), server.rss_kb()?));
        self.rows.push(Row {
            benchmark: format!(
                "consume (POST {consume_path}, one unit each), {CONSUME_CONNECTIONS} connections, {} s",
                self.seconds
            ),
            backend: backend.into(),
            result: format!(
                "{} consumes/s, p50 {}, p99 {}, {} unexpected",
                thousands(consume.rate()),
                millis(consume.p50_us),
                millis(consume.p99_us),
                consume.unexpected + consume.socket_errors
            ),
            goal: "p99 < 5 ms, every consume taken".into(),
            met: Some(consume.p99_us < 5_000 && consume.clean()),
            figures: json!({ "run": consume }),
        });

        // The usage summary at each size of Acme.
        let summary_fn = "from=&to=";
        for &size in sizes {
            let stored = self.fill(&server, &acme, size).await?;
            memory.push((format!("after filling to {size}"), server.rss_kb()?));
            let rest = self
                .wrk(
                    &server,
                    "/api/billing/usage",
                    "request.lua",
                    &[],
                    &[format!("x-api-key: {acme}")],
                    SUMMARY_CONNECTIONS,
                    self.seconds / 2,
                )
                .await?;
            let function = self
                .wrk(
                    &server,
                    GetUsageSummary::PATH,
                    "request.lua",
                    &[
                        ("QB_BENCH_METHOD", "POST"),
                        ("QB_BENCH_BODY", summary_fn),
                        ("QB_BENCH_CONTENT_TYPE", "application/x-www-form-urlencoded"),
                    ],
                    &[format!("Cookie: {cookie}")],
                    SUMMARY_CONNECTIONS,
                    self.seconds / 2,
                )
                .await?;
            memory.push((format!("after summaries at {size}"), server.rss_kb()?));
            let worst = rest.p99_us.max(function.p99_us);
            self.rows.push(Row {
                benchmark: format!(
                    "usage summary at {} events (GET /api/billing/usage; server function)",
                    thousands(stored as f64)
                ),
                backend: backend.into(),
                result: format!(
                    "p99 {}; {} (p50 {}; {}), {} + {} requests/s",
                    millis(rest.p99_us),
                    millis(function.p99_us),
                    millis(rest.p50_us),
                    millis(function.p50_us),
                    thousands(rest.rate()),
                    thousands(function.rate())
                ),
                goal: "p99 < 5 ms, flat".into(),
                met: Some(worst < 5_000 && rest.clean() && function.clean()),
                figures: json!({ "events": stored, "rest": rest, "server_function": function }),
            });
        }

        // The usage page, rendered on the server for a signed-in user.
        // Run 0 is the unmeasured warm-up.
        let cookie_header = [format!("Cookie: {cookie}")];
        let mut pages = Vec::new();
        for run in 0..=2 {
            let seconds = if run == 0 {
                WARM_UP_SECONDS
            } else {
                PAGE_SECONDS
            };
            let result = self
                .wrk(
                    &server,
                    "/usage",
                    "request.lua",
                    &[],
                    &cookie_header,
                    PAGE_CONNECTIONS,
                    seconds,
                )
                .await?;
            if run == 0 {
                memory.push(("after the warm-up page run".into(), server.rss_kb()?));
            } else {
                memory.push((format!("after page run {run}"), server.rss_kb()?));
                pages.push(result);
            }
        }
        let page = pages
            .iter()
            .max_by(|a, b| a.rate().total_cmp(&b.rate()))
            .ok_or("no page run")?;
        self.rows.push(Row {
            benchmark: format!(
                "/usage server-side render, signed in, {PAGE_CONNECTIONS} connections, {PAGE_SECONDS} s (best of 2)"
            ),
            backend: backend.into(),
            result: format!(
                "{} requests/s, p99 {}, {} errors",
                thousands(page.rate()),
                millis(page.p99_us),
                page.socket_errors + page.unexpected
            ),
            goal: "≥ 2 000 requests/s, p99 < 50 ms, no errors".into(),
            met: Some(page.rate() >= 2_000.0 && page.p99_us < 50_000 && pages.iter().all(Wrk::clean)),
            figures: json!({ "runs": pages }),
        });

        if browser {
            self.chromium(&server, &acme).await?;
            memory.push(("after the Chromium runs".into(), server.rss_kb()?));
        }
        let growth = memory_growth(&memory);
        self.rows.push(Row {
            benchmark: "server memory (RSS) after each load run".into(),
            backend: backend.into(),
            result: format!(
                "{} MiB at the end; {} MiB from the first page run to the second",
                mebibytes(memory.last().map_or(0, |(_, kb)| *kb)),
                growth.map_or_else(|| "n/a".into(), |kb| format!("{:+.1}", kb as f64 / 1024.0))
            ),
            goal: "reported; no growth across repeated runs".into(),
            met: growth.map(|kb| kb <= 8 * 1024),
            figures: json!(memory
                .iter()
                .map(|(when, kb)| json!({ "after": when, "rss_kb": kb }))
                .collect::<Vec<_>>()),
        });
        self.memory.insert(backend.into(), memory);
        server.stop().await
    }

    /// Ingests into Acme until it holds at least `size` events; how many it holds.
    async fn fill(&self, server: &Server, key: &str, size: u64) -> Result<u64, Failure> {
        loop {
            let stored = server.events("acme").await?;
            if stored >= size {
                return Ok(stored);
            }
            let requests = (size - stored).div_ceil(BATCH);
            eprintln!("   filling Acme: {stored} events stored, {requests} requests to go");
            let limit = requests.to_string();
            // wrk runs for its whole duration even when the script stops early: size it
            // from a conservative 25 000 events/s, at most 120 s at a time.
            let seconds = (requests * BATCH / 25_000 + 2).min(120);
            let filled = self
                .wrk(
                    server,
                    "/api/v1/events",
                    "ingest.lua",
                    &[("QB_BENCH_KEY", key), ("QB_BENCH_REQUESTS", limit.as_str())],
                    &[],
                    INGEST_CONNECTIONS,
                    seconds,
                )
                .await?;
            if !filled.clean() {
                return Err(format!("filling Acme failed: {filled:?}").into());
            }
        }
    }

    /// Runs wrk (one thread: the server needs the other core) against `path`.
    #[allow(clippy::too_many_arguments)]
    async fn wrk(
        &self,
        server: &Server,
        path: &str,
        script: &str,
        env: &[(&str, &str)],
        headers: &[String],
        connections: u32,
        seconds: u64,
    ) -> Result<Wrk, Failure> {
        let load = Load {
            script,
            env,
            headers,
            connections,
            seconds,
        };
        server.wrk(path, &load).await
    }

    /// Navigation to hydrated `/usage`, and an event's way to the open page, in Chromium.
    async fn chromium(&mut self, server: &Server, key: &str) -> Result<(), Failure> {
        let out = tempfile::NamedTempFile::new()?;
        let weight = tempfile::NamedTempFile::new()?;
        let status = Command::new("npx")
            .args(["playwright", "test", "--config", "bench.config.ts"])
            .current_dir(self.root.join("end2end"))
            .env("QB_BENCH_URL", &server.base)
            .env("QB_BENCH_KEY", key)
            .env("QB_BENCH_OUT", out.path())
            .env("QB_WEIGHT_OUT", weight.path())
            .status()
            .await?;
        if !status.success() {
            return Err("the Chromium benchmarks failed".into());
        }
        let measured: Value = serde_json::from_str(&std::fs::read_to_string(out.path())?)?;
        let percentile = |name: &str, p: &str| measured[name][p].as_f64().unwrap_or(f64::NAN);
        let hydrated = percentile("hydration_ms", "p99");
        self.rows.push(Row {
            benchmark: format!(
                "navigation to hydrated /usage in Chromium ({} loads)",
                measured["hydration_ms"]["samples"]
            ),
            backend: "SQLite".into(),
            result: format!(
                "p50 {:.0} ms, p99 {hydrated:.0} ms",
                percentile("hydration_ms", "p50")
            ),
            goal: "< 500 ms".into(),
            met: Some(hydrated < 500.0),
            figures: measured["hydration_ms"].clone(),
        });
        let live = percentile("live_ms", "p99");
        self.rows.push(Row {
            benchmark: format!(
                "event → visible on an open /usage page, Chromium ({} events)",
                measured["live_ms"]["samples"]
            ),
            backend: "SQLite".into(),
            result: format!(
                "p50 {:.0} ms, p99 {live:.0} ms",
                percentile("live_ms", "p50")
            ),
            goal: "p99 < 1 s".into(),
            met: Some(live < 1_000.0),
            figures: measured["live_ms"].clone(),
        });
        self.weight(&serde_json::from_str(&std::fs::read_to_string(
            weight.path(),
        )?)?);
        Ok(())
    }

    /// Issue 25's and 26's rows: what `/usage` and the embed view download before they are
    /// interactive, how long that takes on an emulated phone, and whether pages and JSON
    /// answers travel compressed.
    fn weight(&mut self, measured: &Value) {
        for (page, bytes, phone) in [
            ("/usage", "bytes", "phone_interactive_ms"),
            ("/embed/usage", "embed_bytes", "embed_phone_interactive_ms"),
        ] {
            self.page_weight(page, &measured[bytes], &measured[phone]);
        }
        let compression = &measured["compression"];
        let said = |name: &str| compression[name].as_str().unwrap_or("?").to_string();
        self.rows.push(Row {
            benchmark: "HTML pages and JSON answers compressed when accepted (live stream excluded)".into(),
            backend: "SQLite".into(),
            result: format!(
                "page: {}, JSON: {} / {}, stream: {}",
                said("page_br"),
                said("json_br"),
                said("json_gzip"),
                said("stream")
            ),
            goal: "br / gzip, stream identity".into(),
            met: Some(
                said("page_br") == "br"
                    && said("json_br") == "br"
                    && said("json_gzip") == "gzip"
                    && said("stream") == "identity",
            ),
            figures: compression.clone(),
        });
    }

    /// What `page` downloads before it is interactive (`bytes` by kind), and its time to
    /// interactive on the emulated phone (`phone` percentiles).
    fn page_weight(&mut self, page: &str, bytes: &Value, phone: &Value) {
        let total: u64 = bytes
            .as_object()
            .map_or(0, |files| files.values().filter_map(Value::as_u64).sum());
        let part = |kind: &str| format!("{kind} {}", bytes[kind].as_u64().unwrap_or(0) / 1000);
        self.rows.push(Row {
            benchmark: format!(
                "everything {page} downloads before it is interactive, brotli, Chromium"
            ),
            backend: "SQLite".into(),
            result: format!(
                "{} KB ({}, {}, {}, {} KB)",
                total / 1000,
                part("html"),
                part("js"),
                part("wasm"),
                part("css")
            ),
            goal: "≤ 400 KB".into(),
            met: Some(total <= 400_000),
            figures: bytes.clone(),
        });
        let p50 = phone["p50"].as_f64().unwrap_or(f64::NAN);
        self.rows.push(Row {
            benchmark: format!(
                "{page} interactive on an emulated phone (4× CPU slowdown, 1.6 Mbit/s, 150 ms; {} loads, cache off)",
                phone["samples"]
            ),
            backend: "SQLite".into(),
            result: format!("p50 {p50:.0} ms, max {:.0} ms", phone["max"].as_f64().unwrap_or(f64::NAN)),
            goal: "p50 ≤ 2 s".into(),
            met: Some(p50 <= 2_000.0),
            figures: phone.clone(),
        });
    }

    /// The app WASM and the charts bundle as sent to browsers (brotli).
    fn sizes(&mut self) -> Result<(), Failure> {
        let site = self.root.join("target/site");
        let pkg = std::fs::read_dir(site.join("pkg"))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .find(|path| path.to_string_lossy().ends_with(".wasm.br"))
            .ok_or("no target/site/pkg/*.wasm.br: run `make build`")?;
        for (name, path, goal) in [
            ("app WASM, brotli", pkg, 250_000),
            (
                "charts asset (custom ECharts build), brotli",
                site.join("vendor/echarts.min.js.br"),
                170_000,
            ),
        ] {
            let compressed = std::fs::metadata(&path)?.len();
            let raw = std::fs::metadata(path.with_extension(""))?.len();
            self.rows.push(Row {
                benchmark: name.into(),
                backend: "-".into(),
                result: format!("{} KB ({} KB raw)", compressed / 1000, raw / 1000),
                goal: format!("≤ {} KB", goal / 1000),
                met: Some(compressed <= goal),
                figures: json!({ "brotli_bytes": compressed, "raw_bytes": raw }),
            });
        }
        Ok(())
    }

    /// Prints the table and writes `bench/results.json`.
    fn report(&self, took: Duration) -> Result<(), Failure> {
        let machine = Machine::read();
        let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let results = json!({
            "date": date,
            "command": "make bench",
            "commit": git_commit(&self.root),
            "machine": machine,
            "seconds": took.as_secs(),
            "rows": self.rows,
            "memory_kb": self.memory,
        });
        measure::publish(
            "`make bench`",
            took,
            &self.rows,
            &self.root.join("bench/results.json"),
            &results,
        )
    }
}

/// RSS after the second page run minus after the first, kB: the same work again should
/// need no more memory.
fn memory_growth(memory: &[(String, u64)]) -> Option<i64> {
    let after = |name: &str| {
        memory
            .iter()
            .find(|(when, _)| when == name)
            .map(|(_, kb)| *kb)
    };
    let first = after("after page run 1")?;
    let second = after("after page run 2")?;
    Some(second as i64 - first as i64)
}

/// Runs one statement on the PostgreSQL server.
async fn admin(url: &str, statement: &str) -> Result<(), Failure> {
    let db = quotaboard::server::db::Database::connect(url).await?;
    sqlx::query(statement).execute(db.pool()).await?;
    db.close().await;
    Ok(())
}

fn env_list(name: &str, default: &str) -> Result<Vec<u64>, Failure> {
    let value = std::env::var(name).unwrap_or_else(|_| default.into());
    value
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            part.trim()
                .parse()
                .map_err(|_| format!("{name} must be numbers separated by commas").into())
        })
        .collect()
}
