//! No input reaches a panic: every date-taking endpoint and server function, asked about
//! the ends of what dates can hold, answers (400 in its shape), for every demo
//! organization (Acme's zone is east of UTC, where midnight of the first day lies before
//! the first instant there is).

use leptos::server_fn::ServerFn;
use quotaboard::{
    api::usage::GetUsageSummary, server::access::principal::Role, server::access::users::UserRole,
};

use crate::helpers::{spawn_app, Backend};

/// Dates and date-times at and past the ends of every range involved.
const EXTREMES: &[&str] = &[
    "-262143-01-01",
    "-262144-01-01",
    "+262142-12-31",
    "262143-12-31",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "-0001-12-31",
    "-262143-01-01T00:00:00Z",
    "+262142-12-31T23:59:59Z",
    "-262143-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "-262143-01-01T00:00:00",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crafted_dates_get_an_answer_never_a_dropped_connection() {
    let app = spawn_app(Backend::Sqlite).await.expect("SQLite app");
    for slug in ["acme", "globex", "initech"] {
        let (_, key) = app.demo_key(slug, Role::Member).await;
        for start in EXTREMES {
            for end in [*start, "2026-12-01"] {
                let path = format!("/api/billing/usage?startDate={start}&endDate={end}");
                let response = app
                    .client
                    .get(app.url(&path))
                    .bearer_auth(&key)
                    .send()
                    .await
                    .unwrap_or_else(|error| panic!("{slug} {path}: no answer: {error}"));
                let status = response.status().as_u16();
                assert!(status == 400 || status == 200, "{slug} {path}: {status}");
                if status == 400 {
                    let body: serde_json::Value = response.json().await.expect("json");
                    assert_eq!(body["success"], false, "{slug} {path}: seed 002's shape");
                }
            }
            for only in ["startDate", "endDate"] {
                let path = format!("/api/billing/usage?{only}={start}");
                let response = app
                    .client
                    .get(app.url(&path))
                    .bearer_auth(&key)
                    .send()
                    .await;
                let status = response
                    .unwrap_or_else(|error| panic!("{slug} {path}: no answer: {error}"))
                    .status()
                    .as_u16();
                assert!(status == 400 || status == 200, "{slug} {path}: {status}");
            }
        }
    }
    // The dashboard's usage summary (its dates are read as the audit log's are).
    app.load_demo().await;
    let cookie = app.signed_in("acme", UserRole::Admin).await;
    for day in EXTREMES {
        for (path, body) in [
            (GetUsageSummary::PATH, format!("from={day}&to={day}")),
            (GetUsageSummary::PATH, format!("from={day}&to=2026-12-01")),
        ] {
            let response = app.call_server_fn(path, &body, Some(&cookie)).await;
            let status = response.status().as_u16();
            let valid = ["0001-01-01", "9999-12-31"].contains(day);
            assert!(
                status == 400 || (valid && status == 200),
                "{path} {body}: {status}"
            );
        }
    }
}
