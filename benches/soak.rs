//! `make soak`: ten minutes of mixed load on the release server over a fresh SQLite database
//! with the demo data, as a day of real use compressed: usage events streaming in, customers
//! opening pages and the live stream, scripts reading the API, people signing in and out.
//!
//! Fails (exit 1) on any error (a transport error or an unexpected status), on any
//! acknowledged event not counted exactly once, or when the server's memory is not flat:
//! its RSS at the end more than 10 % above its RSS after the first fifth of the run (caches
//! and pools are full by then; what grows after is a leak). Prints the figures and writes
//! `bench/soak.json`.
//!
//! Settings (environment): `QB_BENCH_BIN` the release binary (the Makefile passes it) and
//! `QB_SOAK_SECONDS` the length of the run (600).

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use leptos::server_fn::ServerFn;
use quotaboard::api::usage::GetUsageSummary;
use serde::Serialize;
use serde_json::{json, Value};

#[path = "common/measure.rs"]
mod measure;
#[path = "common/server.rs"]
mod server;

use server::{Failure, Server};

/// Events in each ingest request, and how often one is sent: 1 000 events a second.
const BATCH: u64 = 100;
const INGEST_EVERY: Duration = Duration::from_millis(100);
/// Page and API reads, each kind from two clients, every 50 ms each: 40 a second a kind.
const READERS: usize = 2;
const READ_EVERY: Duration = Duration::from_millis(50);
/// A sign-in, a request with its session and a sign-out, four times a second.
const SIGN_IN_EVERY: Duration = Duration::from_millis(250);
/// The live stream is opened, its first event read and the connection dropped this often.
const STREAM_EVERY: Duration = Duration::from_secs(2);
/// How often the server's memory is read.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// Growth of RSS from the end of the first fifth to the end that still counts as flat.
const FLAT: f64 = 0.10;
/// At most this many error messages are kept to show.
const SHOWN_ERRORS: usize = 10;

/// The pages a signed-in admin opens, in turn.
const PAGES: [&str; 5] = [
    "/usage",
    "/license",
    "/billing",
    "/settings/keys",
    "/settings/webhooks",
];
/// The API reads a script makes with a key, in turn.
const READS: [&str; 6] = [
    "/api/billing/usage",
    "/api/v1/billing/subscription",
    "/api/v1/entitlements/apiCalls",
    "/api/v1/user",
    "/api/v1/billing/licenses",
    "/api/v1/exports/usage.csv",
];

fn main() -> Result<(), Failure> {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

/// Requests and errors of one kind of load.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    errors: AtomicU64,
}

/// What every client shares: the tallies, the first errors, the events acknowledged.
struct Soak {
    server: Server,
    key: String,
    deadline: Instant,
    ingest: Tally,
    pages: Tally,
    reads: Tally,
    sign_ins: Tally,
    streams: Tally,
    accepted: AtomicU64,
    shown: Mutex<Vec<String>>,
}

#[derive(Debug, Serialize)]
struct Sample {
    second: u64,
    rss_kb: u64,
    requests: u64,
    errors: u64,
}

async fn run() -> Result<(), Failure> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = std::env::var_os("QB_BENCH_BIN")
        .map(PathBuf::from)
        .ok_or("QB_BENCH_BIN must name the release binary: run `make soak`")?;
    let seconds: u64 = match std::env::var("QB_SOAK_SECONDS") {
        Ok(value) => value
            .parse()
            .map_err(|_| "QB_SOAK_SECONDS must be a number")?,
        Err(_) => 600,
    };
    let scratch = tempfile::tempdir()?;
    let url = format!("sqlite://{}", scratch.path().join("soak.db").display());
    let server = Server::start(&binary, &root, &url).await?;
    let key = server.key("acme").await?;
    let events_before = server.events("acme").await?;
    let started = Instant::now();
    let soak = Arc::new(Soak {
        server,
        key,
        deadline: started + Duration::from_secs(seconds),
        ingest: Tally::default(),
        pages: Tally::default(),
        reads: Tally::default(),
        sign_ins: Tally::default(),
        streams: Tally::default(),
        accepted: AtomicU64::new(0),
        shown: Mutex::new(Vec::new()),
    });
    eprintln!("soak: {seconds} s of mixed load on {}", soak.server.base);

    let mut clients = tokio::task::JoinSet::new();
    clients.spawn(ingest(soak.clone()));
    for reader in 0..READERS {
        clients.spawn(pages(soak.clone(), reader));
        clients.spawn(reads(soak.clone(), reader));
    }
    clients.spawn(sign_ins(soak.clone()));
    clients.spawn(streams(soak.clone()));

    let mut samples = vec![sample(&soak, started)?];
    let mut next = started + SAMPLE_EVERY;
    while Instant::now() < soak.deadline {
        tokio::time::sleep_until(next.min(soak.deadline).into()).await;
        next += SAMPLE_EVERY;
        let now = sample(&soak, started)?;
        if now.second % 60 < SAMPLE_EVERY.as_secs() {
            eprintln!(
                "  {:>4} s: {} requests, {} errors, RSS {}",
                now.second,
                now.requests,
                now.errors,
                mebibytes(now.rss_kb)
            );
        }
        samples.push(now);
    }
    while let Some(finished) = clients.join_next().await {
        finished?;
    }
    let end = sample(&soak, started)?;
    samples.push(end);

    // Every acknowledged event is stored once: nothing lost, nothing doubled.
    let accepted = soak.accepted.load(Ordering::Relaxed);
    let events_after = soak.server.events("acme").await?;
    let counted_once = events_after == events_before + accepted;

    let warm = samples
        .iter()
        .find(|s| s.second >= seconds / 5)
        .map_or(0, |s| s.rss_kb);
    let last = samples.last().map_or(0, |s| s.rss_kb);
    let growth = last as f64 / warm.max(1) as f64 - 1.0;
    let flat = growth <= FLAT;
    let tallies = [
        ("ingest", &soak.ingest),
        ("pages", &soak.pages),
        ("API reads", &soak.reads),
        ("sign-ins", &soak.sign_ins),
        ("live streams", &soak.streams),
    ];
    let errors: u64 = tallies
        .iter()
        .map(|(_, t)| t.errors.load(Ordering::Relaxed))
        .sum();
    let requests: u64 = tallies
        .iter()
        .map(|(_, t)| t.requests.load(Ordering::Relaxed))
        .sum();
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let start_rss = samples.first().map_or(0, |s| s.rss_kb);

    println!();
    println!("quotaboard `make soak`, {date}, {seconds} s on SQLite");
    println!();
    println!("| load | requests | errors |");
    println!("|---|---|---|");
    for (name, tally) in &tallies {
        println!(
            "| {name} | {} | {} |",
            tally.requests.load(Ordering::Relaxed),
            tally.errors.load(Ordering::Relaxed)
        );
    }
    println!("| all | {requests} | {errors} |");
    println!();
    println!(
        "events acknowledged {accepted}, counted {} ({})",
        events_after - events_before.min(events_after),
        if counted_once {
            "each exactly once"
        } else {
            "**not once each**"
        }
    );
    println!(
        "server RSS: {} at the start, {} after {} s, {} at the end ({:+.1} %, {})",
        mebibytes(start_rss),
        mebibytes(warm),
        seconds / 5,
        mebibytes(last),
        growth * 100.0,
        if flat { "flat" } else { "**growing**" }
    );
    let shown = soak.shown.lock().map(|s| s.clone()).unwrap_or_default();
    for message in &shown {
        println!("error: {message}");
    }

    let report = json!({
        "date": date,
        "command": "make soak",
        "seconds": seconds,
        "requests": tallies.iter().map(|(name, t)| (name.to_string(), json!({
            "requests": t.requests.load(Ordering::Relaxed),
            "errors": t.errors.load(Ordering::Relaxed),
        }))).collect::<serde_json::Map<String, Value>>(),
        "errors": errors,
        "events_acknowledged": accepted,
        "events_counted": events_after - events_before.min(events_after),
        "rss_kb": samples,
        "rss_growth_after_warm_up": growth,
        "first_errors": shown,
    });
    std::fs::create_dir_all(root.join("bench"))?;
    let path = root.join("bench/soak.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("\nwritten to {}", path.display());

    match Arc::try_unwrap(soak) {
        Ok(soak) => soak.server.stop().await?,
        Err(_) => return Err("a client outlived the run".into()),
    }
    if errors > 0 || !counted_once || !flat {
        return Err("the soak failed: see above".into());
    }
    Ok(())
}

fn sample(soak: &Soak, started: Instant) -> Result<Sample, Failure> {
    let tallies = [
        &soak.ingest,
        &soak.pages,
        &soak.reads,
        &soak.sign_ins,
        &soak.streams,
    ];
    Ok(Sample {
        second: started.elapsed().as_secs(),
        rss_kb: soak.server.rss_kb()?,
        requests: tallies
            .iter()
            .map(|t| t.requests.load(Ordering::Relaxed))
            .sum(),
        errors: tallies
            .iter()
            .map(|t| t.errors.load(Ordering::Relaxed))
            .sum(),
    })
}

impl Soak {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    /// Counts a request; an error when `outcome` is one, with its message kept to show.
    fn count(&self, tally: &Tally, what: &str, outcome: Result<(), String>) {
        tally.requests.fetch_add(1, Ordering::Relaxed);
        if let Err(message) = outcome {
            tally.errors.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut shown) = self.shown.lock() {
                if shown.len() < SHOWN_ERRORS {
                    shown.push(format!("{what}: {message}"));
                }
            }
        }
    }

    fn running(&self) -> bool {
        Instant::now() < self.deadline
    }
}

/// `Ok` for an answer with `status`, else why not.
fn expect(
    answer: Result<reqwest::Response, reqwest::Error>,
    status: u16,
) -> Result<reqwest::Response, String> {
    match answer {
        Ok(response) if response.status().as_u16() == status => Ok(response),
        Ok(response) => Err(format!("status {}", response.status())),
        Err(error) => Err(error.to_string()),
    }
}

async fn ingest(soak: Arc<Soak>) {
    let mut every = tokio::time::interval(INGEST_EVERY);
    let mut sent = 0_u64;
    while soak.running() {
        every.tick().await;
        sent += 1;
        let events: Vec<Value> = (0..BATCH)
            .map(|i| {
                json!({
                    "id": format!("soak-{sent}-{i}"),
                    "metric": "apiCalls",
                    "quantity": 1,
                    "account": format!("account-{}", i % 16),
                })
            })
            .collect();
        let answer = soak
            .server
            .client
            .post(soak.url("/api/v1/events"))
            .header("x-api-key", &soak.key)
            .json(&json!({ "events": events }))
            .send()
            .await;
        let outcome = match expect(answer, 200) {
            Ok(response) => match response.json::<Value>().await {
                Ok(body) if body["accepted"].as_u64() == Some(BATCH) => {
                    soak.accepted.fetch_add(BATCH, Ordering::Relaxed);
                    Ok(())
                }
                Ok(body) => Err(format!("not every event accepted: {body}")),
                Err(error) => Err(error.to_string()),
            },
            Err(message) => Err(message),
        };
        soak.count(&soak.ingest, "ingest", outcome);
    }
}

async fn pages(soak: Arc<Soak>, reader: usize) {
    let cookie = match soak.server.sign_in("admin@acme.example").await {
        Ok(cookie) => cookie,
        Err(error) => {
            soak.count(&soak.pages, "sign-in for pages", Err(error.to_string()));
            return;
        }
    };
    let mut every = tokio::time::interval(READ_EVERY);
    let mut turn = reader;
    while soak.running() {
        every.tick().await;
        turn += 1;
        // Every sixth request is the usage summary server function a page calls.
        let answer = if turn.is_multiple_of(6) {
            soak.server
                .client
                .post(soak.url(GetUsageSummary::PATH))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("from=&to=")
                .send()
                .await
        } else {
            soak.server
                .client
                .get(soak.url(PAGES[turn % PAGES.len()]))
                .header("cookie", &cookie)
                .send()
                .await
        };
        let outcome = match expect(answer, 200) {
            Ok(response) => response.bytes().await.map(drop).map_err(|e| e.to_string()),
            Err(message) => Err(message),
        };
        soak.count(&soak.pages, "page", outcome);
    }
}

async fn reads(soak: Arc<Soak>, reader: usize) {
    let mut every = tokio::time::interval(READ_EVERY);
    let mut turn = reader;
    while soak.running() {
        every.tick().await;
        turn += 1;
        let path = READS[turn % READS.len()];
        let answer = soak
            .server
            .client
            .get(soak.url(path))
            .header("x-api-key", &soak.key)
            .send()
            .await;
        let outcome = match expect(answer, 200) {
            Ok(response) => response.bytes().await.map(drop).map_err(|e| e.to_string()),
            Err(message) => Err(message),
        };
        soak.count(&soak.reads, path, outcome);
    }
}

async fn sign_ins(soak: Arc<Soak>) {
    let mut every = tokio::time::interval(SIGN_IN_EVERY);
    let mut turn = 0_u64;
    while soak.running() {
        every.tick().await;
        turn += 1;
        let email = if turn.is_multiple_of(2) {
            "admin@acme.example"
        } else {
            "member@acme.example"
        };
        let outcome = async {
            let cookie = soak
                .server
                .sign_in(email)
                .await
                .map_err(|e| e.to_string())?;
            let client = &soak.server.client;
            expect(
                client
                    .get(soak.url("/api/v1/user"))
                    .header("cookie", &cookie)
                    .send()
                    .await,
                200,
            )?;
            expect(
                client
                    .delete(soak.url("/api/v1/sessions/current"))
                    .header("cookie", &cookie)
                    .send()
                    .await,
                204,
            )?;
            // Signed out means signed out.
            expect(
                client
                    .get(soak.url("/api/v1/user"))
                    .header("cookie", &cookie)
                    .send()
                    .await,
                401,
            )
            .map(drop)
        }
        .await;
        soak.count(&soak.sign_ins, "sign-in", outcome);
    }
}

async fn streams(soak: Arc<Soak>) {
    let mut every = tokio::time::interval(STREAM_EVERY);
    while soak.running() {
        every.tick().await;
        let answer = soak
            .server
            .client
            .get(soak.url("/api/v1/usage/stream"))
            .header("x-api-key", &soak.key)
            .send()
            .await;
        let outcome = match expect(answer, 200) {
            // The first event (the stream's hello), then the client goes away.
            Ok(mut response) => {
                match tokio::time::timeout(Duration::from_secs(10), response.chunk()).await {
                    Ok(Ok(Some(_))) => Ok(()),
                    Ok(Ok(None)) => Err("the stream ended at once".into()),
                    Ok(Err(error)) => Err(error.to_string()),
                    Err(_) => Err("no event in 10 s".into()),
                }
            }
            Err(message) => Err(message),
        };
        soak.count(&soak.streams, "live stream", outcome);
    }
}

fn mebibytes(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}
