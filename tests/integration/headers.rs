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

/// Pages and JSON answers go out compressed to a client that takes it (brotli or gzip),
/// and whole: the gzip of an answer reads back as the same JSON. A client that asks for
/// nothing gets plain bytes, and an event stream is never held back by an encoder.
async fn pages_and_answers_are_compressed_when_the_client_takes_it(app: TestApp) {
    use std::io::Read as _;

    app.load_demo().await;
    let (_, key) = app
        .demo_key("acme", quotaboard::server::access::principal::Role::Admin)
        .await;
    let cookie = app.signed_in("acme", UserRole::Admin).await;
    let page = |encoding: Option<&'static str>| {
        let mut request = app
            .client
            .get(app.url("/usage"))
            .header("cookie", cookie.clone());
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        request.send()
    };
    let plain = page(None).await.expect("request");
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_size = plain.bytes().await.expect("body").len();
    let brotli = page(Some("br")).await.expect("request");
    assert_eq!(header(&brotli, "content-encoding"), "br", "/usage");
    let brotli_size = brotli.bytes().await.expect("body").len();
    assert!(
        brotli_size * 3 < plain_size,
        "/usage: {brotli_size} bytes brotli, {plain_size} plain"
    );

    let usage = |encoding: &'static str| {
        app.client
            .get(app.url("/api/v1/billing/licenses"))
            .bearer_auth(&key)
            .header("accept-encoding", encoding)
            .send()
    };
    let identity: serde_json::Value = usage("identity")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let gzipped = usage("gzip").await.expect("request");
    assert_eq!(header(&gzipped, "content-encoding"), "gzip", "licenses");
    let bytes = gzipped.bytes().await.expect("body");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .expect("gzip");
    let unzipped: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(unzipped, identity);

    let stream = app
        .client
        .get(app.url("/api/v1/usage/stream"))
        .bearer_auth(&key)
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers().get("content-encoding").is_none(),
        "an event stream is sent as it comes"
    );
}

crate::on_both_backends!(
    pages_and_answers_are_compressed_when_the_client_takes_it,
    private_answers_are_not_stored_by_caches,
    each_page_allows_only_the_inline_scripts_it_rendered,
    every_response_forbids_sniffing_and_framing,
    pages_and_files_served_together_keep_their_own_headers,
);
