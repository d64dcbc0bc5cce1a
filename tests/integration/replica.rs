//! Usage reads from a real streaming replica (`tests/replica.sh`: a second PostgreSQL
//! cluster made by `pg_basebackup -R`): the dashboard and the read endpoints are served by
//! it, and never show less than what was just ingested and acknowledged, on the server
//! that took the events and on another one.

use std::time::{Duration, Instant};

use quotaboard::server::{
    access::{principal::Role, users::UserRole},
    db::{Database, ReplicaError},
};
use serde_json::{json, Value};
use sqlx::AnyPool;

use crate::helpers::{on_backend, replica_pair, Backend, TestApp};

/// acme's `apiCalls` used this period, as `GET /api/billing/usage` (seed 002) on `base`
/// answers it.
async fn used_calls(app: &TestApp, base: &str, key: &str) -> i64 {
    let body: Value = app
        .client
        .get(format!("{base}/api/billing/usage"))
        .bearer_auth(key)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    body["data"]["metrics"]["apiCalls"]["used"]
        .as_i64()
        .unwrap_or_else(|| panic!("no apiCalls: {body}"))
}

async fn ingest(app: &TestApp, key: &str, id: &str, quantity: i64) {
    let response = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(key)
        .json(&json!({"events": [{"id": id, "metric": "apiCalls", "quantity": quantity}]}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.expect("report");
    assert_eq!(report["accepted"], 1, "{report}");
}

async fn wal_position(pool: &AnyPool, function: &str) -> i64 {
    sqlx::query_scalar(&format!(
        "select cast(coalesce({function}, '0/0') - '0/0' as bigint)"
    ))
    .fetch_one(pool)
    .await
    .expect("WAL position")
}

/// Waits until the replica has replayed everything the primary holds now.
async fn caught_up(app: &TestApp, replica: &AnyPool) {
    let primary = wal_position(app.db.pool(), "pg_current_wal_lsn()").await;
    let started = Instant::now();
    while wal_position(replica, "pg_last_wal_replay_lsn()").await < primary {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the replica never caught up"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The server polls the replay position every 20 ms.
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Polls `read` until it answers `expected`, for at most `within`; whether it did.
async fn reads_within<F, Fut>(within: Duration, expected: i64, mut read: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    let started = Instant::now();
    loop {
        if read().await == expected {
            return true;
        }
        if started.elapsed() > within {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn usage_reads_go_to_the_replica_and_never_show_less_than_was_acknowledged() {
    on_backend(Backend::Replicated, |app| async move {
        let (acme, key) = app.demo_key("acme", Role::Admin).await;
        let cookie = app.signed_in("acme", UserRole::Member).await;
        let replica = AnyPool::connect(app.read_url.as_deref().expect("read URL"))
            .await
            .expect("replica");
        // A second server, as behind a load balancer.
        let second = app.second_server(&[]).await;
        let started = Instant::now();
        while app.state.live.written_at(acme).is_none() {
            assert!(started.elapsed() < Duration::from_secs(10), "the relay never listened");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        caught_up(&app, &replica).await;
        let routing = || app.state.db.read_routing();

        // A caught-up replica serves the read endpoint and the dashboard page, on both
        // servers.
        let before = routing();
        let used = used_calls(&app, &app.address, &key).await;
        assert!(routing().on_replica > before.on_replica, "{:?}", routing());
        assert!(
            reads_within(Duration::from_secs(5), used, || used_calls(&app, &second, &key)).await
        );
        let second_reads = || async {
            let health: Value = app
                .client
                .get(format!("{second}/healthz"))
                .send()
                .await
                .expect("healthz")
                .json()
                .await
                .expect("json");
            (
                health["replica"]["readsOnReplica"].as_u64().unwrap_or_default(),
                health["replica"]["readsOnPrimary"].as_u64().unwrap_or_default(),
            )
        };
        // Once its relay listens and the replica has replayed past where it began.
        let started = Instant::now();
        loop {
            let (on_replica, _) = second_reads().await;
            assert_eq!(used_calls(&app, &second, &key).await, used);
            if second_reads().await.0 > on_replica {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the second server never read the replica"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let before = routing();
        let page = app.get_with_cookie("/usage", &cookie).await;
        assert_eq!(page.status(), 200);
        assert!(
            routing().on_replica > before.on_replica,
            "the /usage page read the replica: {:?}",
            routing()
        );

        // With its replay paused, a change nobody announced (SQL on the primary) does not
        // show: the answers come from the replica.
        sqlx::query("select pg_wal_replay_pause()")
            .execute(&replica)
            .await
            .expect("pause replay");
        sqlx::query(
            "update usage_daily set used_micros = used_micros + 7000000
             where organization_id = $1
               and metric_id = (select id from metrics where code = 'apiCalls')
               and day_start = (select max(day_start) from usage_daily
                                where organization_id = $1
                                  and metric_id = (select id from metrics where code = 'apiCalls'))",
        )
        .bind(acme)
        .execute(app.db.pool())
        .await
        .expect("unannounced change");
        assert_eq!(used_calls(&app, &app.address, &key).await, used);
        assert_eq!(used_calls(&app, &second, &key).await, used);

        // Events ingested and acknowledged show in the very next read, from the primary,
        // while the replica still lags.
        ingest(&app, &key, "ryw-1", 5).await;
        let before = routing();
        assert_eq!(used_calls(&app, &app.address, &key).await, used + 7 + 5);
        assert!(routing().on_primary > before.on_primary, "{:?}", routing());
        let before = routing();
        let page = app.get_with_cookie("/usage", &cookie).await;
        assert_eq!(page.status(), 200);
        assert!(routing().on_primary > before.on_primary, "{:?}", routing());

        // The second server hears of the first's write with its WAL position, and reads
        // the primary for acme until the replica has replayed it.
        let (_, on_primary) = second_reads().await;
        ingest(&app, &key, "ryw-2", 3).await;
        assert!(
            reads_within(Duration::from_secs(5), used + 7 + 5 + 3, || used_calls(
                &app, &second, &key
            ))
            .await,
            "the second server never showed the acknowledged events"
        );
        assert!(second_reads().await.1 > on_primary, "the second server read the primary");

        // Resumed, the replica catches up and serves every read again.
        sqlx::query("select pg_wal_replay_resume()")
            .execute(&replica)
            .await
            .expect("resume replay");
        caught_up(&app, &replica).await;
        let before = routing();
        assert_eq!(used_calls(&app, &app.address, &key).await, used + 15);
        assert!(routing().on_replica > before.on_replica, "{:?}", routing());
        replica.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_read_url_that_is_not_a_replica_is_refused() {
    let Some((primary, _)) = replica_pair() else {
        eprintln!("TEST_DATABASE_URL not set: replica test not run");
        return;
    };
    let database = Database::connect(&primary).await.expect("primary");
    let refused = database.with_replica(&primary).await;
    assert!(
        matches!(refused, Err(ReplicaError::NotReplica)),
        "{refused:?}"
    );
}
