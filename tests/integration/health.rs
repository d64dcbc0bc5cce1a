//! `GET /healthz` tells a load balancer whether the instance can serve.

use crate::helpers::TestApp;

async fn healthz_returns_200_when_the_database_answers(app: TestApp) {
    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

async fn healthz_returns_503_when_the_database_is_gone(app: TestApp) {
    app.db.close().await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "unavailable");
}

crate::on_both_backends!(
    healthz_returns_200_when_the_database_answers,
    healthz_returns_503_when_the_database_is_gone,
);
