//! The resource endpoints (user, API keys, domains and accounts, licenses, webhooks): roles,
//! validation, and that another organization's ids answer 404 and change nothing; on both
//! engines.

use quotaboard::server::access::principal::Role;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Sends `method path` with `key` and an optional JSON body; the status and JSON body.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("x-api-key", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or_default())
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn the_user_endpoint_names_the_key_and_its_organization(app: TestApp) {
    let (acme, key) = app.demo_key("acme", Role::Member).await;

    let (status, body) = app.get_json("/api/v1/user", Some(&key)).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "test");
    assert_eq!(body["role"], "member");
    assert_eq!(body["organizationId"], acme.to_string());
    assert_eq!(
        body["organization"],
        json!({"id": acme.to_string(), "slug": "acme", "name": "Acme Cloud"})
    );
    let (status, _) = app.get_json("/api/v1/user", None).await;
    assert_eq!(status, 401);
}

async fn api_keys_are_created_once_listed_without_secrets_and_revoked(app: TestApp) {
    let (_, admin) = app.demo_key("acme", Role::Admin).await;
    let (_, member) = app.demo_key("acme", Role::Member).await;
    let (_, other_admin) = app.demo_key("globex", Role::Admin).await;
    let post = reqwest::Method::POST;
    let delete = reqwest::Method::DELETE;

    let (status, created) = call(
        &app,
        post.clone(),
        "/api/v1/api-keys",
        &admin,
        Some(json!({"name": "billing script", "role": "admin"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["key"]
        .as_str()
        .expect("secret shown once")
        .to_string();
    let key_id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["role"], "admin");
    let (status, me) = app.get_json("/api/v1/user", Some(&secret)).await;
    assert_eq!(
        (status, &me["id"]),
        (200, &json!(key_id)),
        "the new key works"
    );

    let (_, listed) = app
        .get_json("/api/v1/api-keys?search=BILLING", Some(&member))
        .await;
    assert_eq!(listed["total"], 1, "{listed}");
    let item = &listed["items"][0];
    assert_eq!(item["name"], "billing script");
    assert!(
        item.get("key").is_none() && item.get("secretHash").is_none(),
        "{item}"
    );
    assert!(secret.contains(item["prefix"].as_str().expect("prefix")));

    // Members read; only admins create and revoke. Another organization's id is unknown.
    let (status, _) = call(
        &app,
        post.clone(),
        "/api/v1/api-keys",
        &member,
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    let path = format!("/api/v1/api-keys/{key_id}");
    assert_eq!(
        call(&app, delete.clone(), &path, &member, None).await.0,
        403
    );
    assert_eq!(
        call(&app, delete.clone(), &path, &other_admin, None)
            .await
            .0,
        404
    );
    assert_eq!(
        app.get_json("/api/v1/user", Some(&secret)).await.0,
        200,
        "still live"
    );

    assert_eq!(call(&app, delete.clone(), &path, &admin, None).await.0, 204);
    assert_eq!(
        app.get_json("/api/v1/user", Some(&secret)).await.0,
        401,
        "revoked"
    );
    assert_eq!(
        call(&app, delete, &path, &admin, None).await.0,
        404,
        "revoked already"
    );

    for body in [
        json!({"name": ""}),
        json!({"name": "x", "role": "owner"}),
        json!({"nom": "x"}),
    ] {
        let (status, answer) = call(
            &app,
            post.clone(),
            "/api/v1/api-keys",
            &admin,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (status, code(&answer)),
            (400, "BAD_REQUEST"),
            "{body}: {answer}"
        );
    }
    let (status, answer) = call(
        &app,
        reqwest::Method::DELETE,
        "/api/v1/api-keys/abc",
        &admin,
        None,
    )
    .await;
    assert_eq!((status, code(&answer)), (400, "BAD_REQUEST"));
}

async fn domains_and_accounts_are_managed_within_the_organization(app: TestApp) {
    let (_, admin) = app.demo_key("acme", Role::Admin).await;
    let (_, member) = app.demo_key("acme", Role::Member).await;
    let (_, other_admin) = app.demo_key("globex", Role::Admin).await;
    let post = reqwest::Method::POST;
    let delete = reqwest::Method::DELETE;

    let (status, domain) = call(
        &app,
        post.clone(),
        "/api/v1/domains",
        &admin,
        Some(json!({"name": "News.Acme.Example"})),
    )
    .await;
    assert_eq!(status, 201, "{domain}");
    assert_eq!(domain["name"], "news.acme.example");
    let domain_id = domain["id"].as_str().expect("id").to_string();
    let (status, again) = call(
        &app,
        post.clone(),
        "/api/v1/domains",
        &admin,
        Some(json!({"name": "news.acme.example"})),
    )
    .await;
    assert_eq!((status, code(&again)), (409, "CONFLICT"));
    let (status, bad) = call(
        &app,
        post.clone(),
        "/api/v1/domains",
        &admin,
        Some(json!({"name": "not a domain"})),
    )
    .await;
    assert_eq!((status, code(&bad)), (400, "BAD_REQUEST"));
    assert_eq!(
        call(
            &app,
            post.clone(),
            "/api/v1/domains",
            &member,
            Some(json!({"name": "m.example"}))
        )
        .await
        .0,
        403
    );

    let (_, listed) = app
        .get_json("/api/v1/domains?search=news", Some(&member))
        .await;
    assert_eq!(listed["total"], 1, "{listed}");
    // Lists page by limit and offset after counting everything.
    let (_, page) = app
        .get_json("/api/v1/domains?limit=1&offset=1", Some(&member))
        .await;
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(
        page["items"][0]["name"], "news.acme.example",
        "by name: acme.example first"
    );
    let (status, bad) = app.get_json("/api/v1/domains?limit=0", Some(&member)).await;
    assert_eq!((status, code(&bad)), (400, "BAD_REQUEST"));
    let (_, theirs) = app.get_json("/api/v1/domains", Some(&other_admin)).await;
    assert!(
        !theirs["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|d| d["id"] == domain_id.as_str()),
        "another organization does not see it"
    );

    let accounts = format!("/api/v1/domains/{domain_id}/accounts");
    let (status, account) = call(
        &app,
        post.clone(),
        &accounts,
        &admin,
        Some(json!({"account": "Hello@news.acme.example", "relay": true})),
    )
    .await;
    assert_eq!(status, 201, "{account}");
    assert_eq!(
        (&account["account"], &account["relay"], &account["domainId"]),
        (
            &json!("hello@news.acme.example"),
            &json!(true),
            &json!(domain_id)
        )
    );
    let account_id = account["id"].as_str().expect("id").to_string();
    let (status, _) = call(
        &app,
        post.clone(),
        &accounts,
        &admin,
        Some(json!({"account": "hello@news.acme.example"})),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = call(
        &app,
        post.clone(),
        &accounts,
        &admin,
        Some(json!({"account": "hello@globex.example"})),
    )
    .await;
    assert_eq!(status, 400, "an address outside the domain");
    let (_, listed) = app.get_json(&accounts, Some(&member)).await;
    assert_eq!(listed["total"], 1);

    // Another organization's admin can neither see nor change any of it.
    assert_eq!(app.get_json(&accounts, Some(&other_admin)).await.0, 404);
    assert_eq!(
        call(
            &app,
            post.clone(),
            &accounts,
            &other_admin,
            Some(json!({"account": "x@news.acme.example"}))
        )
        .await
        .0,
        404
    );
    let account_path = format!("{accounts}/{account_id}");
    assert_eq!(
        call(&app, delete.clone(), &account_path, &other_admin, None)
            .await
            .0,
        404
    );
    let domain_path = format!("/api/v1/domains/{domain_id}");
    assert_eq!(
        call(&app, delete.clone(), &domain_path, &other_admin, None)
            .await
            .0,
        404
    );
    assert_eq!(
        app.get_json(&accounts, Some(&member)).await.1["total"],
        1,
        "untouched"
    );

    assert_eq!(
        call(&app, delete.clone(), &account_path, &admin, None)
            .await
            .0,
        204
    );
    assert_eq!(
        call(&app, delete.clone(), &account_path, &admin, None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(&app, delete.clone(), &domain_path, &admin, None)
            .await
            .0,
        204
    );
    assert_eq!(app.get_json(&accounts, Some(&member)).await.0, 404);
}

async fn licenses_are_searched_and_read_in_seed_001s_shape(app: TestApp) {
    let (_, key) = app.demo_key("globex", Role::Member).await;

    let (status, found) = app
        .get_json("/api/v1/billing/licenses?search=pro", Some(&key))
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], 1);
    let pro = &found["items"][0];
    assert_eq!(
        (&pro["name"], &pro["price"], &pro["currency"]),
        (&json!("Pro"), &json!(29), &json!("USD"))
    );
    assert_eq!(pro["resources"].as_array().map(Vec::len), Some(11));

    let path = format!(
        "/api/v1/billing/licenses/{}",
        pro["id"].as_str().expect("id")
    );
    let (status, one) = app.get_json(&path, Some(&key)).await;
    assert_eq!((status, &one), (200, pro));
    let (_, all) = app.get_json("/api/v1/billing/licenses", Some(&key)).await;
    assert_eq!(all["total"], 3);
    assert_eq!(
        app.get_json("/api/v1/billing/licenses/999999", Some(&key))
            .await
            .0,
        404
    );
    assert_eq!(
        app.get_json("/api/v1/billing/licenses/pro", Some(&key))
            .await
            .0,
        400
    );
    assert_eq!(app.get_json("/api/v1/billing/licenses", None).await.0, 401);
}

async fn webhooks_are_created_with_a_secret_once_and_updated_by_their_organization(app: TestApp) {
    let (_, admin) = app.demo_key("acme", Role::Admin).await;
    let (_, member) = app.demo_key("acme", Role::Member).await;
    let (_, other_admin) = app.demo_key("globex", Role::Admin).await;
    let post = reqwest::Method::POST;
    let put = reqwest::Method::PUT;

    let (status, hook) = call(
        &app,
        post.clone(),
        "/api/v1/webhooks",
        &admin,
        Some(json!({"url": "https://hooks.acme.example/quota"})),
    )
    .await;
    assert_eq!(status, 201, "{hook}");
    assert!(hook["secret"]
        .as_str()
        .is_some_and(|s| s.starts_with("whsec_") && s.len() == 70));
    assert_eq!(hook["thresholds"], json!([75, 90, 100]));
    assert_eq!(hook["active"], true);
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().expect("id"));

    let (status, changed) = call(
        &app,
        put.clone(),
        &path,
        &admin,
        Some(json!({"thresholds": [100, 50, 80.5], "active": false})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["thresholds"], json!([50, 80.5, 100]));
    assert_eq!(
        (&changed["active"], &changed["url"]),
        (&json!(false), &hook["url"])
    );
    assert!(changed.get("secret").is_none());

    let (_, listed) = app
        .get_json("/api/v1/webhooks?search=acme", Some(&member))
        .await;
    assert_eq!(listed["total"], 1);
    assert!(listed["items"][0].get("secret").is_none());
    assert_eq!(listed["items"][0]["thresholds"], json!([50, 80.5, 100]));

    assert_eq!(
        call(
            &app,
            put.clone(),
            &path,
            &other_admin,
            Some(json!({"active": true}))
        )
        .await
        .0,
        404
    );
    assert_eq!(
        app.get_json("/api/v1/webhooks", Some(&other_admin)).await.1["total"],
        0
    );
    assert_eq!(
        call(
            &app,
            put.clone(),
            &path,
            &member,
            Some(json!({"active": true}))
        )
        .await
        .0,
        403
    );
    for body in [
        json!({"url": "ftp://hooks.acme.example"}),
        json!({"url": "https://x.example", "thresholds": []}),
        json!({"url": "https://x.example", "thresholds": [0]}),
        json!({"url": "https://x.example", "colour": "red"}),
    ] {
        let (status, answer) = call(
            &app,
            post.clone(),
            "/api/v1/webhooks",
            &admin,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (status, code(&answer)),
            (400, "BAD_REQUEST"),
            "{body}: {answer}"
        );
    }
    assert_eq!(
        call(
            &app,
            put,
            "/api/v1/webhooks/999999",
            &admin,
            Some(json!({}))
        )
        .await
        .0,
        404
    );
}

async fn unknown_api_paths_and_methods_answer_json(app: TestApp) {
    let (_, key) = app.demo_key("acme", Role::Member).await;

    for path in [
        "/api/v1/nothing/here",
        "/api/billing/invoices",
        "/v2/ocamba/nothing",
    ] {
        let (status, body) = app.get_json(path, Some(&key)).await;
        assert_eq!((status, code(&body)), (404, "NOT_FOUND"), "{path}: {body}");
    }
    let (status, body) = call(&app, reqwest::Method::PATCH, "/api/v1/user", &key, None).await;
    assert_eq!((status, code(&body)), (405, "METHOD_NOT_ALLOWED"), "{body}");
    // The dashboard's own pages are not affected: they send a visitor to sign in.
    assert_eq!(app.get("/usage").await.status(), 303);
}

crate::on_both_backends!(
    unknown_api_paths_and_methods_answer_json,
    the_user_endpoint_names_the_key_and_its_organization,
    api_keys_are_created_once_listed_without_secrets_and_revoked,
    domains_and_accounts_are_managed_within_the_organization,
    licenses_are_searched_and_read_in_seed_001s_shape,
    webhooks_are_created_with_a_secret_once_and_updated_by_their_organization,
);
