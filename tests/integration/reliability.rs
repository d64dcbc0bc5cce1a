//! Faults: the server killed mid-ingestion loses no acknowledged event and, after the
//! client resends, counts every event once; online backups of the embedded database.

use chrono::Utc;
use quotaboard::server::{
    access::principal::Role,
    db::{organizations, BackupError, Database},
    metering::ledger::Ledger,
    process::startup,
    state::AppState,
};
use serde_json::{json, Value};

use crate::helpers::{
    free_port, on_backend, start_server, test_config, wait_until_healthy, Backend, TestApp,
};

/// Events in each batch the backup test sends; a batch is stored whole or not at all.
const BATCH: usize = 200;

/// Every metric's total this period for `org`, in micro-units, keyed by metric code.
async fn period_totals(state: &AppState, org: i64) -> Vec<(String, i64)> {
    let ledger = Ledger::load(state, org).await.expect("ledger");
    let period = ledger.period_at(Utc::now());
    let totals = ledger.totals(state, &period).await.expect("totals");
    let mut by_code: Vec<(String, i64)> = ledger
        .resources
        .iter()
        .map(|resource| {
            let micros = totals
                .get(&resource.metric.id)
                .map_or(0, |quantity| quantity.micros());
            (resource.metric.code.clone(), micros)
        })
        .collect();
    by_code.sort();
    by_code
}

/// Opens a backup the way a restore would: the file as the server's database.
async fn restore(path: &std::path::Path) -> AppState {
    let url = format!("sqlite://{}", path.display());
    let db = Database::connect(&url).await.expect("open the copy");
    db.migrate().await.expect("the copy is up to date");
    startup::build_state(&test_config(&url, &[]), db)
        .await
        .expect("state")
}

/// Events of metric `code` and their rolled-up total, in micro-units.
async fn events_and_total_of(state: &AppState, code: &str) -> (i64, i64) {
    let pool = state.db.pool();
    let events: i64 = sqlx::query_scalar(
        "select count(*) from usage_events e join metrics m on m.id = e.metric_id
         where m.code = $1",
    )
    .bind(code)
    .fetch_one(pool)
    .await
    .expect("events");
    let total: i64 = sqlx::query_scalar(
        "select cast(coalesce(sum(u.used_micros), 0) as bigint) from usage_daily u
         join metrics m on m.id = u.metric_id where m.code = $1",
    )
    .bind(code)
    .fetch_one(pool)
    .await
    .expect("rollups");
    (events, total)
}

async fn a_backup_taken_during_ingestion_restores_the_same_usage(app: TestApp) {
    let (org, key) = app.demo_key("acme", Role::Admin).await;
    app.metric("b_sum", "sum").await;
    let dir = tempfile::tempdir().expect("temp dir");

    // Batches go in one after another while the first copy is taken.
    let sender = {
        let client = app.client.clone();
        let url = app.url("/api/v1/events");
        tokio::spawn(async move {
            for batch in 0..30 {
                let events: Vec<Value> = (0..BATCH)
                    .map(|i| json!({"id": format!("b-{batch}-{i}"), "metric": "b_sum", "quantity": 1}))
                    .collect();
                let response = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&json!({ "events": events }))
                    .send()
                    .await
                    .expect("request");
                assert_eq!(response.status(), 200, "batch {batch}");
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let during = dir.path().join("during.db");
    app.db
        .backup_to(&during)
        .await
        .expect("backup while ingesting");
    sender.await.expect("sender");

    // The copy taken mid-stream holds whole batches, each counted once in the rollups.
    let copy = restore(&during).await;
    let (events, total) = events_and_total_of(&copy, "b_sum").await;
    assert_eq!(events % BATCH as i64, 0, "a batch split by the copy");
    assert_eq!(
        total,
        events * 1_000_000,
        "rollups disagree with the events"
    );

    // A copy taken after the last batch restores exactly the usage being served.
    let after = dir.path().join("after.db");
    app.db.backup_to(&after).await.expect("backup");
    let restored = restore(&after).await;
    assert_eq!(
        events_and_total_of(&restored, "b_sum").await,
        (30 * BATCH as i64, 30 * BATCH as i64 * 1_000_000)
    );
    let restored_org = organizations::find_by_slug(restored.db.pool(), "acme")
        .await
        .expect("query")
        .expect("acme in the copy")
        .id;
    assert_eq!(
        period_totals(&restored, restored_org).await,
        period_totals(&app.state, org).await
    );

    // A backup never overwrites a file.
    assert!(matches!(
        app.db.backup_to(&after).await,
        Err(BackupError::Exists(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_during_ingestion_restores_the_same_usage_sqlite() {
    on_backend(
        Backend::Sqlite,
        a_backup_taken_during_ingestion_restores_the_same_usage,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_points_postgres_users_to_pg_dump() {
    on_backend(Backend::Postgres, |app| async move {
        let dir = tempfile::tempdir().expect("temp dir");
        let result = app.db.backup_to(&dir.path().join("copy.db")).await;
        assert!(matches!(result, Err(BackupError::Postgres)), "{result:?}");
    })
    .await;
}

/// Batch `n` of the crash test: its own 100 event ids, one unit each.
fn crash_batch(n: usize) -> Value {
    let events: Vec<Value> = (0..100)
        .map(|i| json!({"id": format!("k-{n}-{i}"), "metric": "k_sum", "quantity": 1}))
        .collect();
    json!({ "events": events })
}

async fn send(client: &reqwest::Client, url: &str, key: &str, batch: &Value) -> Option<u16> {
    let response = client.post(url).bearer_auth(key).json(batch).send().await;
    response.ok().map(|r| r.status().as_u16())
}

async fn every_acknowledged_event_survives_a_kill_and_a_resend_counts_each_once(app: TestApp) {
    let (_, key) = app.demo_key("acme", Role::Admin).await;
    app.metric("k_sum", "sum").await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let url = format!("{base}/api/v1/events");
    let mut server = start_server(&app.database_url, port, &[]);
    wait_until_healthy(&app.client, &base).await;

    // Four clients send batches 0..400 until the server dies under them.
    const BATCHES: usize = 400;
    let senders: Vec<_> = (0..4)
        .map(|client| {
            let (http, url, key) = (app.client.clone(), url.clone(), key.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for n in (client..BATCHES).step_by(4) {
                    match send(&http, &url, &key, &crash_batch(n)).await {
                        Some(200) => acknowledged.push(n),
                        Some(status) => panic!("batch {n}: {status}"),
                        None => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    // Kill once a good part has been acknowledged, while batches are in flight.
    let stored = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from usage_events where event_id like 'k-%'")
            .fetch_one(app.db.pool())
            .await
            .expect("count")
    };
    while stored().await < 5_000 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.start_kill().expect("SIGKILL");
    server.wait().await.expect("killed");
    let mut acknowledged = Vec::new();
    for sender in senders {
        acknowledged.extend(sender.await.expect("sender"));
    }
    assert!(
        acknowledged.len() < BATCHES,
        "the kill came too late to test anything"
    );

    // Restarted on the same database: every acknowledged event is there, and the totals
    // hold whole batches only.
    let mut server = start_server(&app.database_url, port, &[]);
    wait_until_healthy(&app.client, &base).await;
    let ids: Vec<String> =
        sqlx::query_scalar("select event_id from usage_events where event_id like 'k-%'")
            .fetch_all(app.db.pool())
            .await
            .expect("ids");
    let ids: std::collections::HashSet<String> = ids.into_iter().collect();
    for n in &acknowledged {
        for i in 0..100 {
            assert!(
                ids.contains(&format!("k-{n}-{i}")),
                "acknowledged k-{n}-{i} lost"
            );
        }
    }
    let (events, total) = events_and_total_of(&app.state, "k_sum").await;
    assert_eq!(events % 100, 0, "a batch was stored in part");
    assert_eq!(
        total,
        events * 1_000_000,
        "totals disagree with the stored events"
    );

    // The clients resend everything: each event ends up counted exactly once.
    for n in 0..BATCHES {
        assert_eq!(
            send(&app.client, &url, &key, &crash_batch(n)).await,
            Some(200)
        );
    }
    assert_eq!(
        events_and_total_of(&app.state, "k_sum").await,
        (BATCHES as i64 * 100, BATCHES as i64 * 100 * 1_000_000)
    );
    server.start_kill().expect("stop");
}

/// SIGTERM while a batch is half sent: the server takes no new connection, answers the
/// batch in full, stores it, and then exits cleanly.
async fn a_sigterm_lets_the_request_in_flight_finish(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (_, key) = app.demo_key("acme", Role::Admin).await;
    app.metric("k_sum", "sum").await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_server(&app.database_url, port, &[]);
    wait_until_healthy(&app.client, &base).await;

    let body = serde_json::to_vec(&crash_batch(0)).expect("batch");
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    // `Expect: 100-continue`: the server says "100 Continue" once the handler reads the
    // body, so the request is surely in flight before the signal.
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        interim.push(stream.read_u8().await.expect("interim answer"));
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    stream.write_all(first).await.expect("first half");

    let pid = server.id().expect("running").to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(signalled.success());
    // The listener closes at the signal: connections are refused from then on.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_ok()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "new connections still taken 10 s after SIGTERM"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        server.try_wait().expect("status").is_none(),
        "the server left before answering the request in flight"
    );

    stream.write_all(rest).await.expect("second half");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""accepted":100"#), "{response}");
    let exited = tokio::time::timeout(std::time::Duration::from_secs(10), server.wait())
        .await
        .expect("the server exits once the request is answered")
        .expect("exit status");
    assert!(exited.success(), "{exited}");
    assert_eq!(
        events_and_total_of(&app.state, "k_sum").await,
        (100, 100 * 1_000_000)
    );
}

crate::on_both_backends!(
    every_acknowledged_event_survives_a_kill_and_a_resend_counts_each_once,
    a_sigterm_lets_the_request_in_flight_finish,
);
