//! The dashboard outside `/usage`: the sign-in forms, the organization switcher, languages,
//! the billing, license and settings pages' server functions, CSV exports and the live
//! usage stream; on both engines.

use std::time::Duration;

use chrono::Utc;
use leptos::server_fn::ServerFn;
use quotaboard::{
    api::{
        admin::{ListOrganizations, OrganizationOverview},
        billing::{ListStatements, StatementView},
        settings::{CreateApiKey, CreatedKey, RevokeApiKey},
        usage::GetUsageSummary,
    },
    components::format,
    i18n::Locale,
    model::usage::UsageSummary,
    server::{access::principal::Role, process::demo},
};
use rust_decimal::Decimal;

use crate::helpers::TestApp;

/// The demo loaded, and the session of `email` (a demo user).
async fn demo_session(app: &TestApp, email: &str) -> String {
    app.load_demo().await;
    app.session_cookie(email, demo::DEMO_PASSWORD).await
}

fn location(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn the_sign_in_form_redirects_back_and_refuses_bad_credentials_and_other_sites(app: TestApp) {
    app.load_demo().await;
    let form = |password: &str, next: &str| {
        format!("email=admin%40acme.example&password={password}&next={next}")
    };

    let good = app
        .post_form(
            "/login",
            &form(demo::DEMO_PASSWORD, "%2Fbilling%3Fsort%3Damount"),
            &[],
        )
        .await;
    let wrong = app
        .post_form("/login", &form("wrong-password", "%2Flicense"), &[])
        .await;
    let open_redirect = app
        .post_form(
            "/login",
            &form(demo::DEMO_PASSWORD, "%2F%2Fevil.example"),
            &[],
        )
        .await;
    let cross_site = app
        .post_form(
            "/login",
            &form(demo::DEMO_PASSWORD, "%2Fusage"),
            &[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
        )
        .await;

    assert_eq!(
        (good.status().as_u16(), location(&good)),
        (303, "/billing?sort=amount")
    );
    let cookie = good.headers()["set-cookie"].to_str().expect("ascii");
    assert!(
        cookie.starts_with("__Host-qb_session=qbs_") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert_eq!(
        (wrong.status().as_u16(), location(&wrong)),
        (303, "/login?next=%2Flicense&error=credentials")
    );
    assert!(wrong.headers().get("set-cookie").is_none());
    assert_eq!(location(&open_redirect), "/usage");
    assert_eq!(cross_site.status(), 403);
    assert!(cross_site.headers().get("set-cookie").is_none());
}

async fn signing_out_ends_the_session_for_every_page(app: TestApp) {
    let cookie = demo_session(&app, "member@acme.example").await;
    assert_eq!(app.get_with_cookie("/license", &cookie).await.status(), 200);

    let out = app.post_form("/logout", "", &[("cookie", &cookie)]).await;

    assert_eq!((out.status().as_u16(), location(&out)), (303, "/login"));
    let cleared = out.headers()["set-cookie"].to_str().expect("ascii");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    for page in [
        "/usage",
        "/license",
        "/billing",
        "/settings/keys",
        "/settings/webhooks",
    ] {
        assert_eq!(
            app.get_with_cookie(page, &cookie).await.status(),
            303,
            "{page}"
        );
    }
}

async fn a_user_switches_only_to_organizations_they_belong_to(app: TestApp) {
    let cookie = demo_session(&app, "admin@acme.example").await;
    let id_of = |slug: &'static str| {
        let pool = app.db.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>("select id from organizations where slug = $1")
                .bind(slug)
                .fetch_one(&pool)
                .await
                .expect("organization")
        }
    };
    let (globex, initech) = (id_of("globex").await, id_of("initech").await);
    let name = |cookie: String| {
        let app = &app;
        async move {
            let response = app
                .call_server_fn(GetUsageSummary::PATH, "from=&to=", Some(&cookie))
                .await;
            response
                .json::<UsageSummary>()
                .await
                .expect("summary")
                .organization
        }
    };

    let refused = app
        .post_form(
            "/switch-organization",
            &format!("organization={initech}"),
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(refused.status(), 404);
    assert_eq!(name(cookie.clone()).await, "Acme Cloud");

    let switched = app
        .post_form(
            "/switch-organization",
            &format!("organization={globex}&next=%2Flicense"),
            &[("cookie", &cookie)],
        )
        .await;

    assert_eq!(
        (switched.status().as_u16(), location(&switched)),
        (303, "/license")
    );
    assert_eq!(name(cookie.clone()).await, "Globex Mail");
    let page = app
        .get_with_cookie("/usage", &cookie)
        .await
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("Globex Mail"),
        "the switcher names the organization"
    );
}

async fn a_user_who_left_their_first_organization_signs_in_to_another(app: TestApp) {
    app.load_demo().await;
    sqlx::query(
        "delete from memberships where organization_id = (select id from organizations
         where slug = 'acme') and user_id = (select id from users
         where email = 'admin@acme.example')",
    )
    .execute(app.db.pool())
    .await
    .expect("leave Acme");

    let cookie = app
        .session_cookie("admin@acme.example", demo::DEMO_PASSWORD)
        .await;

    let response = app
        .call_server_fn(GetUsageSummary::PATH, "from=&to=", Some(&cookie))
        .await;
    let summary: UsageSummary = response.json().await.expect("summary");
    assert_eq!(summary.organization, "Globex Mail");
}

async fn pages_speak_the_language_of_the_browser_or_of_the_choice(app: TestApp) {
    let cookie = demo_session(&app, "admin@acme.example").await;
    let page = |accept: &'static str, extra_cookie: &'static str| {
        let request = app
            .client
            .get(app.url("/usage"))
            .header("accept-language", accept)
            .header("cookie", format!("{cookie}{extra_cookie}"));
        async move {
            request
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("body")
        }
    };

    let portuguese = page("pt-BR,pt;q=0.9,en;q=0.5", "").await;
    let chosen = page("pt-BR", "; qb_lang=en").await;
    let chosen_form = app
        .post_form("/language", "language=pt-BR&next=%2Fbilling", &[])
        .await;

    assert!(
        portuguese.contains("<html lang=\"pt-BR\""),
        "lang attribute"
    );
    assert!(portuguese.contains("Uso de "), "heading in Portuguese");
    let calls = format::amount(Locale::PtBr, app.demo_usage("acme", "apiCalls"));
    assert!(
        portuguese.contains(&format!("{calls} / 100.000 requests")),
        "Brazilian digit grouping"
    );
    assert!(portuguese.contains("29,00 USD"), "decimal comma in money");
    assert!(chosen.contains("<html lang=\"en\"") && chosen.contains("Usage for "));
    assert_eq!(location(&chosen_form), "/billing");
    let set = chosen_form.headers()["set-cookie"].to_str().expect("ascii");
    assert!(set.starts_with("qb_lang=pt-BR;"), "{set}");
}

async fn the_license_page_lists_the_plan_and_every_limit(app: TestApp) {
    let cookie = demo_session(&app, "member@acme.example").await;

    let html = app
        .get_with_cookie("/license", &cookie)
        .await
        .text()
        .await
        .expect("body");

    assert!(html.contains(">Pro</h2>"), "plan name");
    assert!(html.contains("29.00 USD"), "plan price");
    assert_eq!(
        html.matches("data-metric=").count(),
        11,
        "one row per resource"
    );
    assert!(html.contains("Unlimited"), "an unlimited resource");
}

async fn statements_are_searched_and_sorted_like_the_rest_endpoint(app: TestApp) {
    let cookie = demo_session(&app, "admin@acme.example").await;
    let call = |body: &'static str| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            app.call_server_fn(ListStatements::PATH, body, Some(&cookie))
                .await
        }
    };

    let by_amount = call("search=&sort=amount").await;
    let nothing = call("search=no+such+line&sort=").await;
    let bad_sort = call("search=&sort=colour").await;

    assert_eq!(by_amount.status(), 200);
    let statements: Vec<StatementView> = by_amount.json().await.expect("statements");
    assert!(statements.len() > 1);
    assert!(statements.windows(2).all(|w| w[0].amount <= w[1].amount));
    assert!(statements.iter().all(|s| !s.lines.is_empty()));
    let none: Vec<StatementView> = nothing.json().await.expect("statements");
    assert!(none.is_empty());
    assert_eq!(bad_sort.status(), 400);
}

async fn only_admins_create_and_revoke_keys_from_the_dashboard(app: TestApp) {
    let admin = demo_session(&app, "admin@acme.example").await;
    let member = app
        .session_cookie("member@acme.example", demo::DEMO_PASSWORD)
        .await;

    let refused = app
        .call_server_fn(CreateApiKey::PATH, "name=mine&role=admin", Some(&member))
        .await;
    let blank = app
        .call_server_fn(CreateApiKey::PATH, "name=+&role=member", Some(&admin))
        .await;
    let created = app
        .call_server_fn(CreateApiKey::PATH, "name=ci&role=member", Some(&admin))
        .await;

    let cross_site = app
        .post_form(
            CreateApiKey::PATH,
            "name=theirs&role=admin",
            &[("cookie", &admin), ("sec-fetch-site", "cross-site")],
        )
        .await;

    assert_eq!(refused.status(), 403);
    assert_eq!(
        cross_site.status(),
        403,
        "another site's page cannot use the cookie"
    );
    assert_eq!(blank.status(), 400);
    assert_eq!(created.status(), 200);
    let created: CreatedKey = created.json().await.expect("created key");
    let (status, _) = app.get_json("/api/v1/user", Some(&created.secret)).await;
    assert_eq!(status, 200, "the new key works");
    let body = format!("id={}", created.key.id);
    assert_eq!(
        app.call_server_fn(RevokeApiKey::PATH, &body, Some(&member))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.call_server_fn(RevokeApiKey::PATH, &body, Some(&admin))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_json("/api/v1/user", Some(&created.secret)).await.0,
        401
    );
    assert_eq!(
        app.call_server_fn(RevokeApiKey::PATH, &body, Some(&admin))
            .await
            .status(),
        404
    );
}

async fn only_the_operator_lists_every_organization(app: TestApp) {
    let operator = demo_session(&app, "operator@quotaboard.example").await;
    let admin = app
        .session_cookie("admin@acme.example", demo::DEMO_PASSWORD)
        .await;

    let all = app
        .call_server_fn(
            ListOrganizations::PATH,
            "search=&at_risk=false&sort=name",
            Some(&operator),
        )
        .await;
    let risky = app
        .call_server_fn(
            ListOrganizations::PATH,
            "search=&at_risk=true&sort=",
            Some(&operator),
        )
        .await;
    let refused = app
        .call_server_fn(
            ListOrganizations::PATH,
            "search=&at_risk=false&sort=",
            Some(&admin),
        )
        .await;
    let page = app.get_with_cookie("/admin", &admin).await;

    assert_eq!(all.status(), 200);
    let all: Vec<OrganizationOverview> = all.json().await.expect("organizations");
    let names: Vec<&str> = all.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["Acme Cloud", "Globex Mail", "Initech"]);
    let acme = &all[0];
    assert_eq!(acme.plan.as_deref(), Some("Pro"));
    assert!(acme.at_risk, "seats at 90 %");
    // The $29 plan and whatever e-mail the demo has sent over 10 000 so far, at $0.001.
    let emails = app.demo_usage("acme", "emails").to_decimal();
    let overage = (emails - Decimal::from(10_000)).max(Decimal::ZERO) / Decimal::from(1000);
    assert_eq!(acme.estimated_cost, Decimal::from(29) + overage);
    let risky: Vec<OrganizationOverview> = risky.json().await.expect("organizations");
    assert!(risky.iter().all(|o| o.at_risk) && risky.iter().any(|o| o.slug == "acme"));
    assert_eq!(refused.status(), 403);
    assert_eq!(
        page.status(),
        403,
        "an organization admin gets the 403 page"
    );
}

async fn the_operator_starts_at_the_organization_list(app: TestApp) {
    app.load_demo().await;

    let response = app
        .post_form(
            "/login",
            "email=operator%40quotaboard.example&password=quotaboard-demo&next=%2Fusage",
            &[],
        )
        .await;

    assert_eq!(location(&response), "/admin");
}

/// RFC 4180 records, for checking what the exports write.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|record| {
            record
                .expect("CSV record")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

async fn csv_exports_hold_one_header_row_and_every_line(app: TestApp) {
    let cookie = demo_session(&app, "admin@acme.example").await;

    let usage = app
        .get_with_cookie("/api/v1/exports/usage.csv", &cookie)
        .await;
    let lines = app
        .get_with_cookie("/api/v1/exports/line-items.csv", &cookie)
        .await;
    let signed_out = app.get("/api/v1/exports/usage.csv").await;

    assert_eq!(usage.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(usage.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .contains("usage.csv"));
    let usage_text = usage.text().await.expect("body");
    assert!(usage_text.contains("\r\n"), "CRLF rows");
    let usage = csv_rows(&usage_text);
    assert_eq!(
        usage[0],
        [
            "period_start",
            "period_end",
            "metric",
            "name",
            "unit",
            "quantity",
            "cost",
            "currency"
        ]
    );
    assert!(usage.len() > 11, "a row per metric and period");
    assert!(usage
        .iter()
        .skip(1)
        .all(|row| row.len() == 8 && row[0] != "period_start"));
    let lines = csv_rows(&lines.text().await.expect("body"));
    assert_eq!(lines[0][0], "statement_id");
    assert!(lines.iter().all(|row| row.len() == 16));
    assert!(lines
        .iter()
        .skip(1)
        .any(|row| row[4] == "Pro" && row[15] == "USD"));
    assert_eq!(signed_out.status(), 401);
}

/// Reads the stream into `received` until it holds `needle`; false after 5 s without.
async fn read_until(stream: &mut reqwest::Response, received: &mut String, needle: &str) -> bool {
    tokio::time::timeout(Duration::from_secs(5), async {
        while !received.contains(needle) {
            let chunk = stream.chunk().await.expect("chunk").expect("open stream");
            received.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .is_ok()
}

async fn the_usage_stream_announces_ingested_events_of_the_organization_only(app: TestApp) {
    let cookie = demo_session(&app, "admin@acme.example").await;
    let (_, globex_key) = app.demo_key("globex", Role::Admin).await;
    let (_, acme_key) = app.demo_key("acme", Role::Admin).await;
    let mut stream = app.get_with_cookie("/api/v1/usage/stream", &cookie).await;
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/event-stream"));
    let mut received = String::new();
    assert!(read_until(&mut stream, &mut received, "event: ready").await);

    let post = |key: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/events"))
                .header("x-api-key", key)
                .json(&serde_json::json!({"events": [{"id": format!("e-{}", Utc::now().timestamp_nanos_opt().unwrap_or_default()), "metric": "emails"}]}))
                .send()
                .await
                .expect("ingest")
                .status()
        }
    };
    assert_eq!(post(globex_key).await, 200);
    assert_eq!(post(acme_key).await, 200);

    assert!(
        read_until(&mut stream, &mut received, "event: usage").await,
        "{received}"
    );
    let acme: i64 = sqlx::query_scalar("select id from organizations where slug = 'acme'")
        .fetch_one(app.db.pool())
        .await
        .expect("acme");
    assert_eq!(
        received.matches("event: usage").count(),
        1,
        "only Acme's change: {received}"
    );
    assert!(
        received.contains(&format!("{{\"organizationId\":\"{acme}\"}}")),
        "{received}"
    );
    assert_eq!(app.get("/api/v1/usage/stream").await.status(), 401);
}

/// Server functions answer POST only: a GET, which a link or an image on another site can
/// make with the user's cookie, changes nothing. Every function is tried, with arguments.
async fn no_server_function_answers_get(app: TestApp) {
    let admin = demo_session(&app, "admin@acme.example").await;
    let mut paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    paths.sort_unstable();
    assert!(
        paths.contains(&CreateApiKey::PATH) && paths.contains(&RevokeApiKey::PATH),
        "the registered server functions: {paths:?}"
    );
    for path in &paths {
        let response = app
            .get_with_cookie(&format!("{path}?name=by-get&role=admin&id=1"), &admin)
            .await;
        assert_eq!(response.status(), 405, "GET {path}");
    }
    let (_, keys) = app
        .get_json(
            "/api/v1/api-keys",
            Some(&app.demo_key("acme", Role::Admin).await.1),
        )
        .await;
    assert!(
        !keys.to_string().contains("by-get"),
        "no key was made by a GET: {keys}"
    );
}

crate::on_both_backends!(
    no_server_function_answers_get,
    the_sign_in_form_redirects_back_and_refuses_bad_credentials_and_other_sites,
    signing_out_ends_the_session_for_every_page,
    a_user_switches_only_to_organizations_they_belong_to,
    a_user_who_left_their_first_organization_signs_in_to_another,
    pages_speak_the_language_of_the_browser_or_of_the_choice,
    the_license_page_lists_the_plan_and_every_limit,
    statements_are_searched_and_sorted_like_the_rest_endpoint,
    only_admins_create_and_revoke_keys_from_the_dashboard,
    csv_exports_hold_one_header_row_and_every_line,
    only_the_operator_lists_every_organization,
    the_operator_starts_at_the_organization_list,
    the_usage_stream_announces_ingested_events_of_the_organization_only,
);
