//! Security headers: each page's Content-Security-Policy trusts only its own inline scripts.

use quotaboard::server::access::users::UserRole;

use crate::helpers::TestApp;

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ascii header")
}

/// The nonce a page's policy allows, read from its `script-src`.
fn policy_nonce(policy: &str) -> String {
    let start = policy.find("'nonce-").expect("a nonce in the policy") + "'nonce-".len();
    let end = start + policy[start..].find('\'').expect("closing quote");
    policy[start..end].to_string()
}

async fn each_page_allows_only_the_inline_scripts_it_rendered(app: TestApp) {
    app.load_demo().await;
    let cookie = app.signed_in("acme", UserRole::Admin).await;

    let first = app.get_with_cookie("/usage", &cookie).await;
    assert_eq!(first.status(), 200);
    let policy = header(&first, "content-security-policy").to_string();
    let nonce = policy_nonce(&policy);
    assert!(nonce.len() >= 22, "a nonce of at least 128 bits: {nonce}");
    for directive in [
        "'wasm-unsafe-eval'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} missing: {policy}");
    }
    assert!(
        !policy.contains("script-src 'self' 'unsafe-inline'"),
        "{policy}"
    );
    let html = first.text().await.expect("page");
    let inline_scripts = html.matches("<script").count() - html.matches("<script src").count();
    assert!(inline_scripts > 0, "the hydration script is inline");
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        inline_scripts,
        "every inline script carries the response's nonce"
    );

    let second = app.get_with_cookie("/usage", &cookie).await;
    assert_ne!(
        policy_nonce(header(&second, "content-security-policy")),
        nonce,
        "each response has its own nonce"
    );
}

async fn every_response_forbids_sniffing_and_framing(app: TestApp) {
    for path in [
        "/login",
        "/healthz",
        "/api/docs",
        "/favicon.svg",
        "/no-such-page",
    ] {
        let response = app.get(path).await;
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
        assert_eq!(header(&response, "x-frame-options"), "DENY", "{path}");
        assert_eq!(
            header(&response, "referrer-policy"),
            "strict-origin-when-cross-origin",
            "{path}"
        );
        // The test configuration serves HTTPS (secure cookies on): HSTS is sent.
        assert!(
            header(&response, "strict-transport-security").starts_with("max-age="),
            "{path}"
        );
        let is_html = header(&response, "content-type").starts_with("text/html");
        if is_html {
            assert!(
                header(&response, "content-security-policy").contains("frame-ancestors 'none'"),
                "{path}"
            );
        }
    }
}

/// Pages and the site's files fetched at once, as a browser does: every page keeps its own
/// policy, and no file answers with a page's. (Leptos's file handler once made its reactive
/// owner a child of whatever page the worker thread had rendered last, and took that page's
/// response headers: the page arrived with no script allowed and never hydrated.)
async fn pages_and_files_served_together_keep_their_own_headers(app: TestApp) {
    app.load_demo().await;
    let cookie = app.signed_in("acme", UserRole::Admin).await;
    for round in 0..8 {
        let pages = (0..8).map(|_| app.get_with_cookie("/usage", &cookie));
        let files = (0..16).map(|_| app.get_with_cookie("/favicon.svg", &cookie));
        let (pages, files) = futures::join!(
            futures::future::join_all(pages),
            futures::future::join_all(files)
        );
        for page in &pages {
            assert_eq!(page.status(), 200, "round {round}");
            let policy = header(page, "content-security-policy");
            assert!(
                policy.contains("'nonce-"),
                "round {round}: a page's policy: {policy}"
            );
        }
        for file in &files {
            assert_eq!(file.status(), 200, "round {round}");
            assert_eq!(
                header(file, "content-type"),
                "image/svg+xml",
                "round {round}"
            );
            assert!(
                file.headers().get("content-security-policy").is_none(),
                "round {round}: a file answered with a page's policy: {:?}",
                file.headers().get("content-security-policy")
            );
        }
    }
}

/// Signed-in pages, usage answers and the answer showing a new key's secret are never
/// stored by a cache; static files keep their own caching.
async fn private_answers_are_not_stored_by_caches(app: TestApp) {
    let (_, key) = app
        .demo_key("acme", quotaboard::server::access::principal::Role::Admin)
        .await;
    let cookie = app.signed_in("acme", UserRole::Admin).await;
    let page = app.get_with_cookie("/usage", &cookie).await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "cache-control"), "no-store", "/usage");
    let created = app
        .client
        .post(app.url("/api/v1/api-keys"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "ci", "role": "member"}))
        .send()
        .await
        .expect("request");
    assert!(created.status().is_success(), "{}", created.status());
    assert_eq!(
        header(&created, "cache-control"),
        "no-store",
        "a new key's secret"
    );
    let usage = app
        .client
        .get(app.url("/api/billing/usage"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("request");
    assert_eq!(header(&usage, "cache-control"), "no-store", "usage");
    let file = app.get("/favicon.svg").await;
    assert_ne!(
        file.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "static files are the same for everyone"
    );
}

crate::on_both_backends!(
    private_answers_are_not_stored_by_caches,
    each_page_allows_only_the_inline_scripts_it_rendered,
    every_response_forbids_sniffing_and_framing,
    pages_and_files_served_together_keep_their_own_headers,
);
