//! The seed documents' endpoints: each answers the document's own example request with the
//! example response's structure and the demo data's values, and every documented error in
//! the endpoint's own shape; on both engines.

use chrono::Utc;
use quotaboard::server::{
    access::api_keys,
    access::principal::Role,
    db::{organizations, unix_seconds},
    metering::ledger::Ledger,
    rest::shape::decimal,
};
use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde_json::{json, Value};

use crate::{
    helpers::TestApp,
    shape::{assert_same_shape, example, Rules},
};

fn find<'v>(list: &'v Value, key: &str, value: &str) -> &'v Value {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item[key] == value))
        .unwrap_or_else(|| panic!("no {key} = {value} in {list}"))
}

async fn domain_id(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("select id from domains where name = $1")
        .bind(name)
        .fetch_one(app.db.pool())
        .await
        .expect("demo domain")
}

// Seed 000: GET /api/v1/billing/{domainId}/civil/usage

async fn domain_usage_answers_seed_000s_example_request(app: TestApp) {
    let (_, key) = app.demo_key("acme", Role::Member).await;
    let domain = domain_id(&app, "acme.example").await;

    let (status, body) = app
        .get_json(&format!("/api/v1/billing/{domain}/civil/usage"), Some(&key))
        .await;

    assert_eq!(status, 200, "{body}");
    assert_same_shape(
        &example("seed_000_domain_usage.json"),
        &body,
        &Rules::default(),
    );
    // Every e-mail of acme's current period went through this domain: what the demo has
    // sent so far, of which whatever is over the Pro plan's 10 000 costs $0.001 a mail.
    let sent = app.demo_usage("acme", "emails").to_decimal();
    let over = (sent - Decimal::from(10_000)).max(Decimal::ZERO) / Decimal::from(1000);
    assert_eq!(body["total"], json!(sent.to_i64().expect("mails")));
    assert_eq!(body["value"], decimal(over));
    let contato = find(&body["metrics"], "account", "contato@acme.example");
    let no_reply = find(&body["metrics"], "account", "no-reply@acme.example");
    assert_eq!(
        (&contato["relay"], &no_reply["relay"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(contato["domainId"], domain.to_string());
    let mails = |account: &Value| -> i64 {
        account["totalMails"]
            .as_str()
            .and_then(|text| text.parse().ok())
            .expect("totalMails, a string of digits")
    };
    let sent = sent.to_i64().expect("mails");
    assert_eq!(mails(contato) + mails(no_reply), sent);
    // The demo sends 60 % through the first account, in whole mails each day.
    assert!(
        mails(contato) <= sent * 6 / 10 && mails(contato) >= sent * 6 / 10 - 62,
        "{} of {sent}",
        mails(contato)
    );
    let history = body["history"].as_array().expect("history");
    assert_eq!(history.len(), 6);
    let ledger = Ledger::load(&app.state, organization_of(&app, "acme").await)
        .await
        .expect("ledger");
    assert_eq!(
        history[5]["month"],
        ledger.period_at(Utc::now()).month_label()
    );
    assert_eq!(
        (&history[5]["total"], &history[5]["cost"]),
        (&body["total"], &body["value"])
    );
    // The months before are whole: 13 000 last month less 5 % a month further back, each
    // over the 10 000 included.
    let totals: Vec<i64> = history.iter().filter_map(|m| m["total"].as_i64()).collect();
    assert_eq!(totals[4], 12_380, "{totals:?}");
    assert!(
        totals[..5].windows(2).all(|pair| pair[0] < pair[1]),
        "{totals:?}"
    );
    assert_eq!(history[4]["cost"], json!(2.38));
}

async fn domain_usage_refuses_bad_keys_bad_ids_and_other_tenants_domains(app: TestApp) {
    let (_, key) = app.demo_key("acme", Role::Member).await;
    let theirs = domain_id(&app, "globex.example").await;
    let cases = [
        (
            format!("/api/v1/billing/{theirs}/civil/usage"),
            Some(key.as_str()),
            404,
            "NOT_FOUND",
        ),
        (
            "/api/v1/billing/999999999/civil/usage".into(),
            Some(&key),
            404,
            "NOT_FOUND",
        ),
        (
            "/api/v1/billing/acme.example/civil/usage".into(),
            Some(&key),
            400,
            "BAD_REQUEST",
        ),
        (
            format!("/api/v1/billing/{theirs}/civil/usage"),
            None,
            401,
            "UNAUTHORIZED",
        ),
        (
            "/api/v1/billing/1/civil/usage".into(),
            Some("qb_not_a_key"),
            401,
            "UNAUTHORIZED",
        ),
    ];
    for (path, key, status, code) in cases {
        let (got, body) = app.get_json(&path, key).await;
        assert_eq!(
            (got, &body["error"]["code"]),
            (status, &json!(code)),
            "{path}: {body}"
        );
        assert!(body["error"]["message"].is_string(), "{body}");
    }
}

// Seed 001: GET /api/v1/billing/subscription

async fn subscription_answers_seed_001s_example_request(app: TestApp) {
    let (acme, key) = app.demo_key("acme", Role::Member).await;

    let (status, body) = app
        .get_json("/api/v1/billing/subscription", Some(&key))
        .await;

    assert_eq!(status, 200, "{body}");
    assert_same_shape(
        &example("seed_001_subscription.json"),
        &body,
        &SEED_001_RULES,
    );
    assert_eq!(body["userId"], acme.to_string());
    assert_eq!(body["status"], "active");
    let license = &body["license"];
    assert_eq!(
        (&license["name"], &license["price"]),
        (&json!("Pro"), &json!(29))
    );
    assert_eq!(license["default"], false);
    assert_eq!(body["licenseId"], license["id"]);
    let resources = &license["resources"];
    assert_eq!(resources.as_array().map(Vec::len), Some(11));
    let seats = resources
        .as_array()
        .and_then(|all| all.iter().find(|r| r["resource"]["codeName"] == "seats"))
        .expect("seats");
    assert_eq!(
        (&seats["limit"], &seats["limited"]),
        (&json!(10), &json!(true))
    );
    assert_eq!(seats["resource"]["resource"], "Team Seats");
    assert_eq!(seats["resourceUsage"]["usage"], 9);
    assert_eq!(seats["resourceUsage"]["resourceId"], seats["resourceId"]);
    let webhooks = resources
        .as_array()
        .and_then(|all| all.iter().find(|r| r["resource"]["codeName"] == "webhooks"))
        .expect("webhooks");
    // Unlimited, as the document shows its own `webhook` resource.
    assert_eq!(
        (
            &webhooks["limit"],
            &webhooks["limited"],
            &webhooks["unlimited"]
        ),
        (&json!(0), &json!(false), &json!(true))
    );
    assert_eq!(seats["unlimited"], false);
    for timestamp in [
        &body["createdAt"],
        &license["updatedAt"],
        &seats["resourceUsage"]["updatedAt"],
    ] {
        let text = timestamp.as_str().expect("timestamp");
        assert!(text.ends_with('Z') && text.len() == 24, "{text}");
    }
}

async fn subscription_is_404_without_one_and_401_without_a_key(app: TestApp) {
    app.demo_key("acme", Role::Member).await;
    // An organization on the default license has no subscription of its own.
    let bare = app.organization("bare").await;
    let key = api_keys::create(&app.db, bare, Role::Admin, "t", 0)
        .await
        .expect("key");

    let (status, body) = app
        .get_json("/api/v1/billing/subscription", Some(&key))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("NOT_FOUND")),
        "{body}"
    );
    let (status, body) = app.get_json("/api/v1/billing/subscription", None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("UNAUTHORIZED")),
        "{body}"
    );
}

// Seed 002: GET /api/billing/usage

/// Seed 002: metrics and projections keyed by metric code; `unlimited` added; no null.
const SEED_002_RULES: Rules = Rules {
    maps: &["data.metrics", "data.projectedUsage"],
    nullable: &[],
    added: &["data.metrics.*.unlimited"],
};

/// Seed 001: each resource says whether it is `unlimited`; null only where the document
/// has it (`externalId`, `resourceUsage`).
const SEED_001_RULES: Rules = Rules {
    maps: &[],
    nullable: &[],
    added: &["license.resources[].unlimited"],
};

async fn billing_usage_answers_seed_002s_example_requests(app: TestApp) {
    let (_, key) = app.demo_key("acme", Role::Member).await;
    let bearer = |path: &str| {
        app.client
            .get(app.url(path))
            .header("Authorization", format!("Bearer {key}"))
            .send()
    };

    // Current period usage.
    let body: Value = bearer("/api/billing/usage")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_same_shape(
        &example("seed_002_billing_usage.json"),
        &body,
        &SEED_002_RULES,
    );
    assert_eq!(body["success"], true);
    let data = &body["data"];
    // What the demo has recorded this period, against the Pro plan's 100 000.
    let calls = app.demo_usage("acme", "apiCalls").to_decimal();
    let percentage = (calls / Decimal::from(1000))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToPositiveInfinity);
    assert_eq!(
        data["metrics"]["apiCalls"],
        json!({"name": "API Calls", "unit": "requests", "included": 100000,
               "used": calls.to_i64(), "overage": 0, "percentage": decimal(percentage),
               "unlimited": false})
    );
    // Gauges read the same on any day: 9 of 10 seats is exactly 90 %.
    assert_eq!(data["metrics"]["seats"]["percentage"], 90);
    assert_eq!(data["metrics"]["storage"]["percentage"], 82.5);
    // Unlimited, in seed 002's own types.
    assert_eq!(
        data["metrics"]["webhooks"],
        json!({"name": "Webhook Events", "unit": "events", "included": 0,
               "used": app.demo_usage("acme", "webhooks").to_decimal().to_i64(),
               "overage": 0, "percentage": 0, "unlimited": true})
    );
    assert_eq!(data["projectedUsage"]["webhooks"]["percentage"], 0);
    let emails = app.demo_usage("acme", "emails").to_decimal();
    let overage = (emails - Decimal::from(10_000)).max(Decimal::ZERO);
    assert_eq!(
        data["metrics"]["emails"]["overage"],
        json!(overage.to_i64())
    );
    let overage_cost = overage / Decimal::from(1000);
    assert_eq!(
        data["estimatedCost"],
        json!({"base": 29, "overage": decimal(overage_cost),
               "total": decimal(Decimal::from(29) + overage_cost), "currency": "usd"})
    );
    // Projected to the month's 52 000, and never past it.
    let projected = data["projectedUsage"]["apiCalls"]["projected"]
        .as_f64()
        .expect("projected");
    assert!(
        projected >= calls.to_f64().expect("calls") && projected <= 52_000.0,
        "{projected}"
    );
    assert!(
        data["projectedUsage"].get("storage").is_none(),
        "a gauge is not projected"
    );
    let ledger = Ledger::load(&app.state, organization_of(&app, "acme").await)
        .await
        .expect("ledger");
    let period = ledger.period_at(Utc::now());
    let start = period.start.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let end = (period.end - chrono::Duration::seconds(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert_eq!(data["period"], json!({"start": start, "end": end}));

    // Specific date range: January 2024 in Berlin, long before the demo's history.
    let body: Value = bearer("/api/billing/usage?startDate=2024-01-01&endDate=2024-01-31")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_same_shape(
        &example("seed_002_billing_usage.json"),
        &body,
        &SEED_002_RULES,
    );
    assert_eq!(
        body["data"]["period"],
        json!({"start": "2023-12-31T23:00:00Z", "end": "2024-01-31T22:59:59Z"})
    );
    assert_eq!(body["data"]["metrics"]["apiCalls"]["used"], 0);
    assert_eq!(body["data"]["estimatedCost"]["total"], 29);

    // Specific metrics only, named as the document names them.
    let body: Value = bearer("/api/billing/usage?metrics=api_calls,storage")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_same_shape(
        &example("seed_002_billing_usage.json"),
        &body,
        &SEED_002_RULES,
    );
    let shown: Vec<&String> = body["data"]["metrics"]
        .as_object()
        .expect("metrics")
        .keys()
        .collect();
    assert_eq!(shown, ["apiCalls", "storage"]);
    assert_eq!(
        body["data"]["estimatedCost"]["total"], data["estimatedCost"]["total"],
        "a filter hides no cost"
    );
}

async fn billing_usage_errors_come_in_seed_002s_envelope(app: TestApp) {
    let (_, key) = app.demo_key("acme", Role::Member).await;
    let cases = [
        (
            "/api/billing/usage",
            None,
            401,
            "UNAUTHORIZED",
            "Authentication required",
        ),
        (
            "/api/billing/usage",
            Some("qb_wrong"),
            401,
            "UNAUTHORIZED",
            "Authentication required",
        ),
        (
            "/api/billing/usage?startDate=2024-02-01&endDate=2024-01-31",
            Some(key.as_str()),
            400,
            "BAD_REQUEST",
            "Invalid date range: startDate must be before endDate",
        ),
        (
            "/api/billing/usage?startDate=2024-01-31T12:00:00Z&endDate=2024-01-31T11:00:00Z",
            Some(&key),
            400,
            "BAD_REQUEST",
            "Invalid date range: startDate must be before endDate",
        ),
        (
            "/api/billing/usage?startDate=2024-01-01&endDate=2025-03-01",
            Some(&key),
            400,
            "BAD_REQUEST",
            "Invalid date range: at most 13 months",
        ),
        (
            "/api/billing/usage?startDate=01/31/2024",
            Some(&key),
            400,
            "BAD_REQUEST",
            "startDate must be an ISO 8601 date",
        ),
        (
            "/api/billing/usage?metrics=apiCalls,teleportations",
            Some(&key),
            400,
            "BAD_REQUEST",
            "Unknown metric \"teleportations\"",
        ),
    ];
    for (path, key, status, code, message) in cases {
        let (got, body) = app.get_json(path, key).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["success"], false, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
        let text = body["error"]["message"].as_str().unwrap_or_default();
        assert!(text.starts_with(message), "{path}: {text}");
    }
}

// Seed 003: GET /organizations/{organizationId}/usage

async fn organization_usage_answers_seed_003s_example_request(app: TestApp) {
    let (acme, key) = app.demo_key("acme", Role::Member).await;
    let ledger = Ledger::load(&app.state, acme).await.expect("ledger");
    let start = unix_seconds(ledger.period_at(Utc::now()).start);
    let end = unix_seconds(Utc::now());

    for (start, end) in [(start, end), (start * 1000, end * 1000)] {
        let (status, body) = app
            .get_json(
                &format!("/organizations/{acme}/usage?startDate={start}&endDate={end}"),
                Some(&key),
            )
            .await;

        assert_eq!(status, 200, "{body}");
        assert_same_shape(
            &example("seed_003_organization_usage.json"),
            &body,
            &Rules::default(),
        );
        let used = |code| app.demo_usage("acme", code).to_decimal().to_i64();
        assert_eq!(
            body,
            json!({"data": {"usageSms": used("sms"), "usageWhatsapp": used("whatsapp"),
                            "usageEmail": used("email"), "usageSage": used("sage")}})
        );
    }
    // The slug names the organization too.
    let (status, _) = app
        .get_json(
            &format!("/organizations/acme/usage?startDate={start}&endDate={end}"),
            Some(&key),
        )
        .await;
    assert_eq!(status, 200);
}

async fn organization_usage_errors_come_in_seed_003s_shape(app: TestApp) {
    let (acme, key) = app.demo_key("acme", Role::Member).await;
    let globex = organization_of(&app, "globex").await;
    let range = "startDate=1700000000&endDate=1700086400";
    let cases = [
        (
            format!("/organizations/{acme}/usage?{range}"),
            None,
            401,
            "Unauthenticated",
        ),
        (
            format!("/organizations/{globex}/usage?{range}"),
            Some(key.as_str()),
            403,
            "Forbidden",
        ),
        (
            format!("/organizations/987654321/usage?{range}"),
            Some(&key),
            404,
            "ResourceNotFound",
        ),
        (
            format!("/organizations/nobody/usage?{range}"),
            Some(&key),
            404,
            "ResourceNotFound",
        ),
        (
            format!("/organizations/{acme}/usage"),
            Some(&key),
            422,
            "ValidationError",
        ),
        (
            format!("/organizations/{acme}/usage?startDate=1700000000"),
            Some(&key),
            422,
            "ValidationError",
        ),
        (
            format!("/organizations/{acme}/usage?startDate=yesterday&endDate=1700086400"),
            Some(&key),
            422,
            "ValidationError",
        ),
        (
            format!("/organizations/{acme}/usage?startDate=1700086400&endDate=1700000000"),
            Some(&key),
            422,
            "ValidationError",
        ),
        (
            format!("/organizations/{acme}/usage?startDate=1600000000&endDate=1700000000"),
            Some(&key),
            422,
            "ValidationError",
        ),
    ];
    for (path, key, status, error) in cases {
        let (got, body) = app.get_json(&path, key).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["error"], error, "{path}: {body}");
        assert!(body["message"].is_string(), "{path}: {body}");
        assert_eq!(body.as_object().map(|b| b.len()), Some(2), "{path}: {body}");
    }
}

// Seed 004: GET /v2/ocamba/usage

async fn statements_answer_seed_004s_example_request(app: TestApp) {
    let (initech, key) = app.demo_key("initech", Role::Member).await;
    let get = |path: &'static str| {
        app.client
            .get(app.url(path))
            .header("Authorization", format!("Bearer {key}"))
            .send()
    };

    let body: Value = get("/v2/ocamba/usage")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");

    assert_same_shape(
        &example("seed_004_statements.json"),
        &body,
        &Rules::default(),
    );
    // Twelve months of demo history: one statement per period, newest first.
    assert_eq!(body["total"], 12);
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 12);
    let ledger = Ledger::load(&app.state, initech).await.expect("ledger");
    let current = ledger.period_at(Utc::now());
    let newest = &items[0];
    assert_eq!(
        newest["start_time"],
        current.start.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
    assert_eq!(newest["company_id"], initech.to_string());
    assert_eq!(newest["currency_code"], "USD");
    // The $499 Enterprise plan, 10 % off, then 20 % tax on the rest.
    assert_eq!(
        newest["items"][0],
        json!({"name": "Enterprise", "quantity": 1, "unit_price": 499, "price": 499,
               "discount_rate": 10, "discount": 49.9, "tax_rate": 20, "tax": 89.82,
               "amount": 538.92, "description": "Enterprise plan with push subscribers and ad exchange",
               "unit": 1})
    );
    for statement in items {
        let lines: f64 = statement["items"]
            .as_array()
            .expect("lines")
            .iter()
            .filter_map(|line| line["amount"].as_f64())
            .sum();
        let amount = statement["amount"].as_f64().expect("amount");
        assert!((lines - amount).abs() < 1e-9, "{statement}");
    }
    // Asking again changes nothing, ids included.
    let again: Value = get("/v2/ocamba/usage")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(again, body);
}

async fn statements_search_sort_and_page(app: TestApp) {
    let (_, key) = app.demo_key("initech", Role::Member).await;

    let (status, page) = app
        .get_json(
            "/v2/ocamba/usage?search=SUBSCRIBERS&sort=start_date&limit=5&offset=1",
            Some(&key),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 12);
    let starts: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|s| s["start_time"].as_str())
        .collect();
    assert_eq!(starts.len(), 5);
    assert!(
        starts.windows(2).all(|pair| pair[0] < pair[1]),
        "{starts:?}"
    );
    let (_, all) = app
        .get_json("/v2/ocamba/usage?sort=start_date", Some(&key))
        .await;
    assert_eq!(
        all["items"][1]["start_time"], starts[0],
        "offset 1 skips the oldest"
    );

    let (_, by_amount) = app
        .get_json("/v2/ocamba/usage?sort=-amount", Some(&key))
        .await;
    let amounts: Vec<f64> = by_amount["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|s| s["amount"].as_f64())
        .collect();
    assert!(
        amounts.windows(2).all(|pair| pair[0] >= pair[1]),
        "{amounts:?}"
    );

    let (status, none) = app
        .get_json("/v2/ocamba/usage?search=teleport", Some(&key))
        .await;
    assert_eq!((status, none), (200, json!({"total": 0, "items": []})));
}

async fn statements_refuse_bad_parameters_and_missing_keys(app: TestApp) {
    let (_, key) = app.demo_key("initech", Role::Member).await;
    let cases = [
        ("/v2/ocamba/usage", None, 401, "UNAUTHORIZED"),
        (
            "/v2/ocamba/usage?sort=colour",
            Some(key.as_str()),
            400,
            "BAD_REQUEST",
        ),
        (
            "/v2/ocamba/usage?sort=price,-weight",
            Some(&key),
            400,
            "BAD_REQUEST",
        ),
        ("/v2/ocamba/usage?limit=0", Some(&key), 400, "BAD_REQUEST"),
        ("/v2/ocamba/usage?limit=101", Some(&key), 400, "BAD_REQUEST"),
        ("/v2/ocamba/usage?offset=-1", Some(&key), 400, "BAD_REQUEST"),
    ];
    for (path, key, status, code) in cases {
        let (got, body) = app.get_json(path, key).await;
        assert_eq!(
            (got, &body["error"]["code"]),
            (status, &json!(code)),
            "{path}: {body}"
        );
        assert!(body["error"]["message"].is_string(), "{body}");
    }
}

async fn an_issued_statement_stays_as_issued_while_open_ones_follow_usage(app: TestApp) {
    let (acme, key) = app.demo_key("acme", Role::Member).await;
    let (_, before) = app
        .get_json("/v2/ocamba/usage?sort=start_date", Some(&key))
        .await;
    let oldest = before["items"][0].clone();
    let newest = before["items"][11].clone();
    let calls = quotaboard::server::db::usage::metric_id(app.db.pool(), "apiCalls")
        .await
        .expect("query")
        .expect("apiCalls");
    let ledger = Ledger::load(&app.state, acme).await.expect("ledger");
    let current = ledger.period_at(Utc::now());
    let first_period = current.last(12, ledger.time_zone)[0];
    for day in [first_period.start, current.start] {
        app.add_usage(
            acme,
            calls,
            unix_seconds(day),
            quotaboard::domain::aggregation::PeriodDelta::Add(
                quotaboard::domain::quantity::Quantity::parse(1_000_000.into()).expect("qty"),
            ),
        )
        .await
        .expect("usage");
    }

    let (_, after) = app
        .get_json("/v2/ocamba/usage?sort=start_date", Some(&key))
        .await;

    assert_eq!(
        after["items"][0], oldest,
        "frozen once no event can land in it"
    );
    assert_eq!(after["items"][11]["id"], newest["id"]);
    assert!(
        after["items"][11]["amount"].as_f64() > newest["amount"].as_f64(),
        "the open period is rated live: {} then {}",
        newest["amount"],
        after["items"][11]["amount"]
    );
}

// Every document, every demo organization: the document's types, never an undocumented null.

async fn every_demo_organization_answers_each_document_in_its_types(app: TestApp) {
    app.load_demo().await;
    for slug in ["acme", "globex", "initech"] {
        let (organization, key) = app.demo_key(slug, Role::Member).await;
        let get = |path: String| {
            let key = key.clone();
            let app = &app;
            async move {
                let (status, body) = app.get_json(&path, Some(&key)).await;
                assert_eq!(status, 200, "{slug} {path}: {body}");
                body
            }
        };
        let ledger = Ledger::load(&app.state, organization)
            .await
            .expect("ledger");
        let current = ledger.period_at(Utc::now());
        let previous = current.previous(ledger.time_zone);

        let domains = get("/api/v1/domains".into()).await;
        for domain in domains["items"].as_array().expect("domains") {
            let id = domain["id"].as_str().expect("id");
            let body = get(format!("/api/v1/billing/{id}/civil/usage")).await;
            assert_same_shape(
                &example("seed_000_domain_usage.json"),
                &body,
                &Rules::default(),
            );
        }

        let body = get("/api/v1/billing/subscription".into()).await;
        assert_same_shape(
            &example("seed_001_subscription.json"),
            &body,
            &SEED_001_RULES,
        );

        let first_code = ledger.resources[0].metric.code.clone();
        for query in [
            String::new(),
            format!(
                "?startDate={}&endDate={}",
                previous.first_day, previous.last_day
            ),
            format!("?metrics={first_code}"),
        ] {
            let body = get(format!("/api/billing/usage{query}")).await;
            assert_same_shape(
                &example("seed_002_billing_usage.json"),
                &body,
                &SEED_002_RULES,
            );
        }

        let (start, end) = (unix_seconds(current.start), unix_seconds(Utc::now()));
        let body = get(format!(
            "/organizations/{organization}/usage?startDate={start}&endDate={end}"
        ))
        .await;
        assert_same_shape(
            &example("seed_003_organization_usage.json"),
            &body,
            &Rules::default(),
        );

        let body = get("/v2/ocamba/usage".into()).await;
        assert_same_shape(
            &example("seed_004_statements.json"),
            &body,
            &Rules::default(),
        );
    }
}

async fn organization_of(app: &TestApp, slug: &str) -> i64 {
    organizations::find_by_slug(app.db.pool(), slug)
        .await
        .expect("query")
        .expect("organization")
        .id
}

crate::on_both_backends!(
    domain_usage_answers_seed_000s_example_request,
    domain_usage_refuses_bad_keys_bad_ids_and_other_tenants_domains,
    subscription_answers_seed_001s_example_request,
    subscription_is_404_without_one_and_401_without_a_key,
    billing_usage_answers_seed_002s_example_requests,
    billing_usage_errors_come_in_seed_002s_envelope,
    organization_usage_answers_seed_003s_example_request,
    organization_usage_errors_come_in_seed_003s_shape,
    statements_answer_seed_004s_example_request,
    statements_search_sort_and_page,
    statements_refuse_bad_parameters_and_missing_keys,
    an_issued_statement_stays_as_issued_while_open_ones_follow_usage,
    every_demo_organization_answers_each_document_in_its_types,
);
