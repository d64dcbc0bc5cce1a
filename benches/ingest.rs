//! In-process costs of the hot paths, without HTTP (criterion): checking a batch of 1 000
//! events, storing it with its rollups in SQLite (as configured by default, and with
//! `sqlite-synchronous = "full"`), and building the usage summary that the
//! page and the API serve.

use std::{collections::HashMap, hint::black_box};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use quotaboard::{
    domain::event::{EventDraft, EventWindow},
    server::{
        db::organizations,
        metering::ingest,
        metering::ledger::Ledger,
        platform::config::{Config, DEFAULT_FILE},
        process::demo,
        process::startup,
        state::AppState,
    },
};
use serde_json::value::RawValue;

const BATCH: usize = 1_000;

/// `BATCH` new events of the demo's `apiCalls`, spread over 16 accounts; ids start with `run`.
fn batch(run: u64) -> Vec<Box<RawValue>> {
    (0..BATCH)
        .map(|i| {
            let json = format!(
                r#"{{"id":"bench-{run}-{i}","metric":"apiCalls","quantity":1,"account":"account-{}"}}"#,
                i % 16
            );
            RawValue::from_string(json).expect("valid JSON")
        })
        .collect()
}

/// A server's state on a new SQLite file in `dir` with the demo data and this
/// `sqlite-synchronous`; the id of the Acme organization.
async fn demo_server(
    dir: &tempfile::TempDir,
    synchronous: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> (AppState, i64) {
    let env = HashMap::from([
        (
            "DATABASE_URL".to_string(),
            format!(
                "sqlite://{}",
                dir.path().join(format!("{synchronous}.db")).display()
            ),
        ),
        (
            "QUOTABOARD_SQLITE_SYNCHRONOUS".to_string(),
            synchronous.to_string(),
        ),
    ]);
    let config = Config::parse(DEFAULT_FILE, None, &env, None).expect("configuration");
    let db = startup::open_database(&config).await.expect("database");
    demo::load(&db, now).await.expect("demo data");
    let acme = organizations::find_by_slug(db.pool(), "acme")
        .await
        .expect("query")
        .expect("acme")
        .id;
    let state = startup::build_state(&config, db).await.expect("state");
    (state, acme)
}

fn hot_paths(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let now = chrono::Utc::now();
    let (state, acme) = runtime.block_on(demo_server(&dir, "normal", now));
    let (durable, durable_acme) = runtime.block_on(demo_server(&dir, "full", now));

    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(BATCH as u64));
    let window = EventWindow {
        now,
        backdating_days: 35,
    };
    let events = batch(0);
    group.bench_function("check 1 000 events", |b| {
        b.iter(|| {
            for event in &events {
                black_box(EventDraft::parse(event, &window).is_ok());
            }
        })
    });
    for (name, state, organization) in [
        (
            "store 1 000 events with their rollups (SQLite)",
            &state,
            acme,
        ),
        (
            "store 1 000 events with their rollups (SQLite, synchronous=full)",
            &durable,
            durable_acme,
        ),
    ] {
        let mut run = 0;
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_batched(
                || {
                    run += 1;
                    batch(run)
                },
                |events| {
                    let state = state.clone();
                    async move {
                        let report =
                            ingest::ingest(&state, organization, &events, chrono::Utc::now())
                                .await
                                .expect("ingest");
                        assert_eq!(report.accepted, BATCH);
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    c.bench_function(
        "load an organization's plan and catalogue (Ledger::load)",
        |b| {
            b.to_async(&runtime).iter(|| {
                let state = state.clone();
                async move { black_box(Ledger::load(&state, acme).await.expect("ledger")) }
            })
        },
    );

    c.bench_function("usage summary of an organization", |b| {
        b.to_async(&runtime).iter(|| {
            let state = state.clone();
            async move {
                let ledger = Ledger::load(&state, acme).await.expect("ledger");
                let now = chrono::Utc::now();
                let period = ledger.period_at(now);
                black_box(
                    ledger
                        .summary_of(&state, period, now)
                        .await
                        .expect("summary"),
                );
            }
        })
    });
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
