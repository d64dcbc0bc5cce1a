//! The usage summary server function and the server-rendered `/usage` page.

use chrono::Utc;
use leptos::server_fn::ServerFn;
use quotaboard::{
    api::usage::GetUsageSummary,
    components::format,
    domain::{
        aggregation::PeriodDelta,
        period::BillingPeriod,
        quantity::Quantity,
        usage_level::{Band, UsageLevel},
    },
    error::AppError,
    i18n::Locale,
    model::usage::UsageSummary,
    server::{access::users::UserRole, db, process::demo},
};
use rust_decimal::Decimal;
use scraper::{Html, Selector};

use crate::helpers::{spawn_app_with, Backend, TestApp};

async fn call_get_usage_summary(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.call_server_fn(GetUsageSummary::PATH, "from=&to=", Some(cookie))
        .await
}

/// The demo loaded, and the session of its Acme admin.
async fn demo_admin(app: &TestApp) -> String {
    app.load_demo().await;
    app.session_cookie("admin@acme.example", demo::DEMO_PASSWORD)
        .await
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

fn units(count: i64) -> Quantity {
    Quantity::parse(Decimal::from(count)).expect("quantity")
}

/// Acme's metrics, in the plan's order.
const ACME: [&str; 11] = [
    "apiCalls",
    "storage",
    "seats",
    "bandwidth",
    "emails",
    "webhooks",
    "sms",
    "whatsapp",
    "email",
    "sage",
    "webhook",
];

async fn usage_summary_rates_every_metric_of_the_plan(app: TestApp) {
    let cookie = demo_admin(&app).await;

    let response = call_get_usage_summary(&app, &cookie).await;

    assert_eq!(response.status(), 200);
    let summary: UsageSummary = response.json().await.expect("summary");
    assert_eq!(summary.organization, "Acme Cloud");
    let codes: Vec<&str> = summary.metrics.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(codes, ACME);
    // Gauges read the same on any day of the period: storage 82.5 % and seats exactly 90 %
    // (yellow: red is above 90), webhook endpoints 40 %; webhook events are unlimited.
    let rated = |code: &str| {
        let metric = summary.metrics.iter().find(|m| m.code == code).expect(code);
        (metric.level.percentage, metric.level.band)
    };
    assert_eq!(rated("storage"), (Some(dec("82.5")), Band::Yellow));
    assert_eq!(rated("seats"), (Some(dec("90")), Band::Yellow));
    assert_eq!(rated("webhook"), (Some(dec("40")), Band::Green));
    assert_eq!(rated("webhooks"), (None, Band::Green));
    // Sums: what the demo has recorded so far this period, rated by the same rule.
    for metric in &summary.metrics {
        assert_eq!(
            metric.used,
            app.demo_usage("acme", &metric.code),
            "{}",
            metric.code
        );
        assert_eq!(
            metric.level,
            UsageLevel::assess(metric.used, metric.allowance, &summary.thresholds),
            "{}",
            metric.code
        );
    }
    assert!(summary.period.contains(Utc::now()));
    // The $29 Pro plan plus e-mails over 10 000 at $0.001; nothing else goes over.
    let emails = app.demo_usage("acme", "emails").to_decimal();
    let overage = (emails - dec("10000")).max(Decimal::ZERO) * dec("0.001");
    let cost = &summary.estimated_cost;
    assert_eq!(
        (cost.totals.base, cost.totals.overage, cost.totals.total),
        (dec("29"), overage, dec("29") + overage)
    );
    assert_eq!(cost.currency, "USD");
    assert_eq!(summary.plan.as_ref().map(|p| p.name.as_str()), Some("Pro"));
    // Sums are projected forward, towards the month the demo lays out (API calls: 52 000);
    // a gauge such as storage stays where it is.
    let calls = &summary.metrics[0];
    assert!(
        calls.projected >= calls.used && calls.projected <= units(52_000),
        "{:?}",
        calls.projected
    );
    assert_eq!(summary.metrics[1].projected, summary.metrics[1].used);
}

async fn usage_summary_counts_only_the_current_period(app: TestApp) {
    let now = Utc::now();
    let (org, metric) = app
        .organization_with_metric("solo", Some(units(1_000)))
        .await;
    let current = BillingPeriod::calendar_month_containing(now, chrono_tz::Tz::UTC);
    let last_day_before = current.start - chrono::Duration::days(1);
    for (day, amount) in [
        (last_day_before, 900),
        (current.start, 250),
        (current.start, 50),
    ] {
        app.add_usage(
            org,
            metric,
            db::unix_seconds(day),
            PeriodDelta::Add(units(amount)),
        )
        .await
        .expect("usage");
    }
    let cookie = app.signed_in("solo", UserRole::Member).await;

    let summary: UsageSummary = call_get_usage_summary(&app, &cookie)
        .await
        .json()
        .await
        .expect("summary");

    assert_eq!(summary.period, current);
    assert_eq!(summary.metrics.len(), 1);
    assert_eq!(summary.metrics[0].used.to_decimal(), dec("300"));
    assert_eq!(summary.metrics[0].level.percentage, Some(dec("30")));
}

async fn usage_summary_is_503_when_the_database_is_gone(app: TestApp) {
    let cookie = demo_admin(&app).await;
    app.db.close().await;

    let response = call_get_usage_summary(&app, &cookie).await;

    assert_eq!(response.status(), 503);
    let error: AppError = response.json().await.expect("error body");
    assert_eq!(error, AppError::Unavailable);
}

async fn usage_summary_is_401_without_a_session_and_403_for_the_operator(app: TestApp) {
    app.load_demo().await;
    let operator = app
        .session_cookie("operator@quotaboard.example", demo::DEMO_PASSWORD)
        .await;

    let signed_out = app
        .call_server_fn(GetUsageSummary::PATH, "from=&to=", None)
        .await;
    let forged = call_get_usage_summary(&app, "__Host-qb_session=qbs_forged").await;
    let platform = call_get_usage_summary(&app, &operator).await;

    for response in [signed_out, forged] {
        assert_eq!(response.status(), 401);
        let error: AppError = response.json().await.expect("error body");
        assert_eq!(error, AppError::Unauthorized);
    }
    assert_eq!(platform.status(), 403);
}

async fn usage_summary_takes_a_date_range_and_refuses_a_backward_one(app: TestApp) {
    let cookie = demo_admin(&app).await;

    let ranged = app
        .call_server_fn(
            GetUsageSummary::PATH,
            "from=2026-01-01&to=2026-01-31",
            Some(&cookie),
        )
        .await;
    let backward = app
        .call_server_fn(
            GetUsageSummary::PATH,
            "from=2026-02-01&to=2026-01-01",
            Some(&cookie),
        )
        .await;
    let malformed = app
        .call_server_fn(
            GetUsageSummary::PATH,
            "from=yesterday&to=2026-01-01",
            Some(&cookie),
        )
        .await;

    assert_eq!(ranged.status(), 200);
    let summary: UsageSummary = ranged.json().await.expect("summary");
    assert_eq!(summary.period.first_day.to_string(), "2026-01-01");
    assert_eq!(summary.period.last_day.to_string(), "2026-01-31");
    for response in [backward, malformed] {
        assert_eq!(response.status(), 400);
        let error: AppError = response.json().await.expect("error body");
        assert!(matches!(error, AppError::BadRequest(_)), "{error:?}");
    }
}

async fn usage_page_has_every_bar_in_the_server_rendered_html(app: TestApp) {
    let cookie = demo_admin(&app).await;

    let response = app.get_with_cookie("/usage", &cookie).await;

    assert_eq!(response.status(), 200);
    let html = Html::parse_document(&response.text().await.expect("body"));
    let bars = Selector::parse("[role=progressbar]").expect("selector");
    let found: Vec<(String, String, String)> = html
        .select(&bars)
        .map(|bar| {
            let attr = |name: &str| bar.value().attr(name).unwrap_or_default().to_string();
            let label_id = attr("aria-labelledby");
            let label = Selector::parse(&format!("#{label_id}")).expect("label selector");
            let name = html
                .select(&label)
                .next()
                .map(|node| node.text().collect::<String>())
                .unwrap_or_default();
            (
                name,
                attr("aria-valuenow"),
                attr("aria-valuemin") + "-" + &attr("aria-valuemax"),
            )
        })
        .collect();
    let summary: UsageSummary = call_get_usage_summary(&app, &cookie)
        .await
        .json()
        .await
        .expect("summary");
    // One bar per metric, each as full as the summary's level says; gauges pinned.
    let expected: Vec<(String, String, String)> = summary
        .metrics
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                m.level.fill_percent().normalize().to_string(),
                "0-100".to_string(),
            )
        })
        .collect();
    assert_eq!(found, expected);
    assert_eq!(found[1], ("Storage".into(), "82.5".into(), "0-100".into()));
    assert_eq!(found[2], ("Team Seats".into(), "90".into(), "0-100".into()));
    let bands = Selector::parse(".usage-bar").expect("selector");
    let bands: Vec<&str> = html
        .select(&bands)
        .map(|bar| bar.value().attr("data-band").unwrap_or_default())
        .collect();
    let expected: Vec<&str> = summary
        .metrics
        .iter()
        .map(|m| m.level.band.as_str())
        .collect();
    assert_eq!(bands, expected);
    assert_eq!(bands[1..3], ["yellow", "yellow"]);
    let text = html.root_element().text().collect::<String>();
    let calls = format::amount(Locale::En, app.demo_usage("acme", "apiCalls"));
    assert!(
        text.contains(&format!("{calls} / 100,000 requests")),
        "{text}"
    );
    assert!(text.contains("Unlimited"), "{text}");
}

async fn usage_page_shows_the_estimated_cost_and_where_growing_metrics_will_end(app: TestApp) {
    let cookie = demo_admin(&app).await;

    let response = app.get_with_cookie("/usage", &cookie).await;
    let html = Html::parse_document(&response.text().await.expect("body"));

    let select = |css: &str| Selector::parse(css).expect("selector");
    let text_of = |css: &str| -> Vec<String> {
        html.select(&select(css))
            .map(|node| node.text().collect::<String>())
            .collect()
    };
    // The $29 Pro plan plus the e-mail overage so far (in red once due), no discount or tax.
    let emails = app.demo_usage("acme", "emails").to_decimal();
    let overage = (emails - dec("10000")).max(Decimal::ZERO) * dec("0.001");
    let money = |value: Decimal| format::money(Locale::En, value, "USD");
    assert_eq!(text_of(".cost-card h2"), ["Estimated cost"]);
    assert_eq!(
        text_of(".cost-card__lines > div"),
        [
            format!("Pro plan{}", money(dec("29"))),
            format!("Overage{}", money(overage)),
            format!("Total{}", money(dec("29") + overage))
        ]
    );
    let due: Vec<String> = if overage > Decimal::ZERO {
        vec![money(overage)]
    } else {
        vec![]
    };
    assert_eq!(text_of(".cost-card__overage--due dd"), due);
    // Sums are projected with a marker and a sentence; gauges (storage, seats) are not.
    let projected: Vec<&str> = html
        .select(&select(".usage-bar"))
        .filter(|bar| {
            bar.select(&select(".usage-bar__projected"))
                .next()
                .is_some()
        })
        .filter_map(|bar| bar.value().attr("data-metric"))
        .collect();
    assert!(projected.contains(&"apiCalls"), "{projected:?}");
    assert!(
        !projected.contains(&"storage") && !projected.contains(&"seats"),
        "{projected:?}"
    );
    let api_calls = html
        .select(&select("[data-metric=apiCalls]"))
        .next()
        .expect("API Calls bar");
    assert_eq!(
        api_calls.select(&select(".usage-bar__projection")).count(),
        1
    );
    let sentence: String = api_calls
        .select(&select(".usage-bar__projected"))
        .flat_map(|node| node.text())
        .collect();
    assert!(
        sentence.starts_with("Projected ") && sentence.ends_with(" by period end"),
        "{sentence}"
    );
}

async fn usage_page_tables_messages_by_channel_and_mails_by_account(app: TestApp) {
    let cookie = demo_admin(&app).await;

    let response = app.get_with_cookie("/usage", &cookie).await;
    let html = Html::parse_document(&response.text().await.expect("body"));

    let rows = |table: &str| -> Vec<Vec<String>> {
        let row = Selector::parse(&format!("[aria-labelledby={table}] tbody tr")).expect("rows");
        let cell = Selector::parse("th, td").expect("cells");
        html.select(&row)
            .map(|row| {
                row.select(&cell)
                    .map(|c| c.text().collect::<String>())
                    .collect()
            })
            .collect()
    };
    let used = |code| format::amount(Locale::En, app.demo_usage("acme", code));
    assert_eq!(
        rows("channels-title"),
        [
            ["SMS".to_string(), used("sms")],
            ["WhatsApp".to_string(), used("whatsapp")],
            ["E-mail".to_string(), used("email")],
            ["Sage".to_string(), used("sage")]
        ]
    );
    let accounts = rows("accounts-title");
    let described: Vec<(&str, &str, &str)> = accounts
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        described,
        [
            ("contato@acme.example", "acme.example", "No"),
            ("no-reply@acme.example", "acme.example", "Yes")
        ]
    );
    let mails: i64 = accounts
        .iter()
        .map(|r| r[3].replace(',', "").parse::<i64>().expect("whole mails"))
        .sum();
    assert_eq!(
        Decimal::from(mails),
        app.demo_usage("acme", "emails").to_decimal(),
        "every e-mail of the period, split over the accounts"
    );
}

async fn a_used_up_hard_limit_says_new_usage_is_refused(app: TestApp) {
    let organization = app.organization("capped").await;
    let seats = app.metric("seats", "sum").await;
    let calls = app.metric("calls", "sum").await;
    app.subscribe(
        organization,
        "capped",
        1,
        "0",
        &[
            (seats, Some(units(10)), true, None),
            (calls, Some(units(10)), false, None),
        ],
    )
    .await;
    let today = db::unix_seconds(Utc::now());
    for metric in [seats, calls] {
        app.add_usage(organization, metric, today, PeriodDelta::Add(units(10)))
            .await
            .expect("usage");
    }
    let cookie = app.signed_in("capped", UserRole::Member).await;

    let html = app
        .get_with_cookie("/usage", &cookie)
        .await
        .text()
        .await
        .expect("body");

    let refused = Selector::parse(".usage-bar__refused").expect("selector");
    let page = Html::parse_document(&html);
    let bars: Vec<&str> = page
        .select(&refused)
        .filter_map(|node| node.parent())
        .filter_map(|parent| parent.value().as_element())
        .filter_map(|bar| bar.attr("data-metric"))
        .collect();
    assert_eq!(
        bars,
        ["seats"],
        "only the hard limit refuses; calls bill overage"
    );
    assert!(html.contains(
        "Limit reached: requests for more are refused; usage reported anyway is still recorded."
    ));
}

async fn usage_page_sends_a_signed_out_visitor_to_sign_in_and_back(app: TestApp) {
    let cookie = demo_admin(&app).await;

    let signed_out = app.get("/usage?metric=storage").await;
    let login_while_signed_in = app.get_with_cookie("/login?next=%2Fbilling", &cookie).await;

    assert_eq!(signed_out.status(), 303);
    assert_eq!(
        signed_out.headers()["location"],
        "/login?next=%2Fusage%3Fmetric%3Dstorage"
    );
    assert_eq!(login_while_signed_in.status(), 303);
    assert_eq!(login_while_signed_in.headers()["location"], "/billing");
}

crate::on_both_backends!(
    usage_summary_rates_every_metric_of_the_plan,
    usage_summary_counts_only_the_current_period,
    usage_summary_is_503_when_the_database_is_gone,
    usage_summary_is_401_without_a_session_and_403_for_the_operator,
    usage_summary_takes_a_date_range_and_refuses_a_backward_one,
    usage_page_has_every_bar_in_the_server_rendered_html,
    usage_page_shows_the_estimated_cost_and_where_growing_metrics_will_end,
    usage_page_tables_messages_by_channel_and_mails_by_account,
    usage_page_sends_a_signed_out_visitor_to_sign_in_and_back,
    a_used_up_hard_limit_says_new_usage_is_refused,
);

#[tokio::test]
async fn configured_thresholds_decide_the_bands() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("QUOTABOARD_WARNING_THRESHOLD", "40"),
            ("QUOTABOARD_CRITICAL_THRESHOLD", "85"),
        ],
    )
    .await
    .expect("sqlite app");
    let cookie = demo_admin(&app).await;

    let summary: UsageSummary = call_get_usage_summary(&app, &cookie)
        .await
        .json()
        .await
        .expect("summary");

    // 82.5 % storage stays yellow, 90 % seats turn red (above 85), and 40 % webhook
    // endpoints stay green (not above 40); every metric is rated by the configured pair.
    let band = |code: &str| {
        summary
            .metrics
            .iter()
            .find(|m| m.code == code)
            .map(|m| m.level.band)
    };
    assert_eq!(band("storage"), Some(Band::Yellow));
    assert_eq!(band("seats"), Some(Band::Red));
    assert_eq!(band("webhook"), Some(Band::Green));
    for metric in &summary.metrics {
        assert_eq!(
            metric.level,
            UsageLevel::assess(metric.used, metric.allowance, &summary.thresholds),
            "{}",
            metric.code
        );
    }
    assert_eq!(summary.thresholds.warning(), dec("40"));
}

mod routing {
    use quotaboard::server::access::users::UserRole;

    use crate::helpers::{spawn_app, Backend};

    #[tokio::test]
    async fn root_redirects_to_the_usage_page() {
        let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
        app.organization("solo").await;
        let cookie = app.signed_in("solo", UserRole::Member).await;

        let response = app
            .client
            .get(app.url("/"))
            .header("accept", "text/html,application/xhtml+xml")
            .header("cookie", cookie)
            .send()
            .await
            .expect("request");

        assert!(response.status().is_redirection(), "{}", response.status());
        assert_eq!(response.headers()["location"], "/usage");
    }

    #[tokio::test]
    async fn an_unknown_page_answers_404_with_a_way_back() {
        let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");

        let response = app.get("/no-such-page").await;

        assert_eq!(response.status(), 404);
        let body = response.text().await.expect("body");
        assert!(body.contains("Page not found"), "{body}");
        assert!(body.contains("href=\"/usage\""), "{body}");
    }
}
