//! The operator's side: licenses edited, assigned and audited through the server functions
//! the admin pages call, refused to anyone but a platform admin; on both engines.

use leptos::server_fn::ServerFn;
use quotaboard::{
    api::{
        admin::GetOrganizationUsage,
        audit::{AuditEntry, ListAudit},
        licenses::{AssignLicense, GetLicenseEditor, ListLicenses, SaveLicense},
        usage::GetUsageSummary,
    },
    domain::{quantity::Quantity, usage_level::Allowance},
    model::{
        licenses::{LicenseEditor, LicenseForm, LicenseSaved},
        usage::UsageSummary,
    },
    server::{
        access::api_keys,
        access::principal::Role,
        db::{licenses, organizations},
        process::demo,
    },
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::TestApp;

const OPERATOR: &str = "operator@quotaboard.example";
const CUSTOMER: &str = "admin@acme.example";

/// The demo loaded; the operator's and Acme's admin's sessions.
async fn sessions(app: &TestApp) -> (String, String) {
    app.load_demo().await;
    (
        app.session_cookie(OPERATOR, demo::DEMO_PASSWORD).await,
        app.session_cookie(CUSTOMER, demo::DEMO_PASSWORD).await,
    )
}

/// `form` as the license page's form posts it.
fn encode(form: &LicenseForm) -> String {
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    if let Some(id) = form.id {
        body.append_pair("form[id]", &id.to_string());
    }
    body.append_pair("form[version]", &form.version.to_string());
    body.append_pair("form[name]", &form.name);
    body.append_pair("form[description]", &form.description);
    body.append_pair("form[price]", &form.price);
    body.append_pair("form[currency]", &form.currency);
    if form.is_default {
        body.append_pair("form[is_default]", "true");
    }
    if form.confirm_below_usage {
        body.append_pair("form[confirm_below_usage]", "true");
    }
    if form.confirm_limit_below_included {
        body.append_pair("form[confirm_limit_below_included]", "true");
    }
    for (i, row) in form.resources.iter().enumerate() {
        body.append_pair(&format!("form[resources][{i}][metric]"), &row.metric);
        if row.in_plan {
            body.append_pair(&format!("form[resources][{i}][in_plan]"), "true");
        }
        body.append_pair(&format!("form[resources][{i}][amount]"), &row.amount);
        if row.hard_limit {
            body.append_pair(&format!("form[resources][{i}][hard_limit]"), "true");
        }
        body.append_pair(&format!("form[resources][{i}][limit]"), &row.limit);
        if row.refuse_events {
            body.append_pair(&format!("form[resources][{i}][refuse_events]"), "true");
        }
        body.append_pair(&format!("form[resources][{i}][overage]"), &row.overage);
    }
    body.finish()
}

async fn pro_license(app: &TestApp) -> i64 {
    licenses::find_by_name(app.db.pool(), "Pro")
        .await
        .expect("query")
        .expect("the demo's Pro license")
}

async fn editor(app: &TestApp, operator: &str, id: i64) -> LicenseEditor {
    let response = app
        .call_server_fn(GetLicenseEditor::PATH, &format!("id={id}"), Some(operator))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("editor")
}

fn set_amount(form: &mut LicenseForm, metric: &str, amount: &str) {
    let row = form
        .resources
        .iter_mut()
        .find(|r| r.metric == metric)
        .expect("metric row");
    row.amount = amount.into();
}

async fn save(app: &TestApp, operator: &str, form: &LicenseForm) -> reqwest::Response {
    app.call_server_fn(SaveLicense::PATH, &encode(form), Some(operator))
        .await
}

async fn allowance_of(app: &TestApp, customer: &str, metric: &str) -> Allowance {
    summary_of(app, customer)
        .await
        .metrics
        .iter()
        .find(|m| m.code == metric)
        .expect("metric")
        .allowance
}

async fn audit(app: &TestApp, operator: &str, entity: &str) -> Vec<AuditEntry> {
    app.call_server_fn(
        ListAudit::PATH,
        &format!("entity={entity}&search=&from=&to="),
        Some(operator),
    )
    .await
    .json()
    .await
    .expect("audit entries")
}

async fn only_a_platform_admin_may_call_the_operator_functions_or_open_the_pages(app: TestApp) {
    let (_, organization_admin) = sessions(&app).await;
    let member = app
        .session_cookie("member@acme.example", demo::DEMO_PASSWORD)
        .await;
    let pro = pro_license(&app).await;
    let calls = [
        (ListLicenses::PATH, String::new()),
        (GetLicenseEditor::PATH, format!("id={pro}")),
        (
            SaveLicense::PATH,
            "form[name]=Mine&form[price]=0&form[currency]=USD".into(),
        ),
        (
            AssignLicense::PATH,
            format!("organization=acme&license={pro}"),
        ),
        (ListAudit::PATH, "entity=&search=&from=&to=".into()),
        (GetOrganizationUsage::PATH, "slug=acme".into()),
    ];
    let pages = [
        "/admin",
        "/admin/licenses",
        "/admin/licenses/new",
        "/admin/audit",
        "/admin/organizations/acme",
    ];

    for cookie in [&member, &organization_admin] {
        for (path, body) in &calls {
            let response = app.call_server_fn(path, body, Some(cookie)).await;
            assert_eq!(response.status(), 403, "{path}");
        }
        for page in pages {
            assert_eq!(
                app.get_with_cookie(page, cookie).await.status(),
                403,
                "{page}"
            );
        }
    }
    for page in pages {
        let response = app.get(page).await;
        assert_eq!(
            response.status(),
            303,
            "{page} sends a signed-out visitor to sign in"
        );
    }
    assert_eq!(
        licenses::find_by_name(app.db.pool(), "Mine")
            .await
            .expect("query"),
        None,
        "nothing was created"
    );
}

async fn an_operator_edits_a_limit_the_customer_sees_it_and_the_audit_log_has_it(app: TestApp) {
    let (operator, customer) = sessions(&app).await;
    let pro = pro_license(&app).await;
    let ten = Quantity::parse(Decimal::from(10)).expect("quantity");
    assert_eq!(
        allowance_of(&app, &customer, "seats").await,
        Allowance::Included(ten)
    );
    let mut form = editor(&app, &operator, pro).await.form;
    assert_eq!(form.version, 1);

    set_amount(&mut form, "seats", "25");
    let response = save(&app, &operator, &form).await;

    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let twenty_five = Quantity::parse(Decimal::from(25)).expect("quantity");
    assert_eq!(
        allowance_of(&app, &customer, "seats").await,
        Allowance::Included(twenty_five)
    );
    let reopened = editor(&app, &operator, pro).await.form;
    assert_eq!(reopened.version, 2);
    assert_eq!(
        reopened
            .resources
            .iter()
            .map(|r| &r.overage)
            .collect::<Vec<_>>(),
        form.resources
            .iter()
            .map(|r| &r.overage)
            .collect::<Vec<_>>(),
        "overage prices read back as they were written"
    );
    let entries = audit(&app, &operator, "license").await;
    let entry = entries.first().expect("an audit entry");
    assert_eq!(entry.actor, OPERATOR);
    assert_eq!(entry.label, "Pro");
    assert_eq!(entry.action, "updated");
    assert_eq!(
        entry.changes,
        vec![(
            "resources.seats.included".to_string(),
            Some("10".to_string()),
            Some("25".to_string())
        )]
    );
}

async fn saving_over_a_newer_version_is_a_conflict_and_keeps_the_newer_one(app: TestApp) {
    let (operator, _) = sessions(&app).await;
    let pro = pro_license(&app).await;
    let opened_by_a = editor(&app, &operator, pro).await.form;
    let mut opened_by_b = opened_by_a.clone();

    let mut first = opened_by_a.clone();
    first.price = "31".into();
    assert_eq!(save(&app, &operator, &first).await.status(), 200);
    opened_by_b.price = "99".into();
    let conflict = save(&app, &operator, &opened_by_b).await;

    assert_eq!(conflict.status(), 409);
    let body = conflict.text().await.expect("body");
    assert!(body.contains("Nothing was saved"), "{body}");
    let stored = editor(&app, &operator, pro).await.form;
    assert_eq!((stored.price.as_str(), stored.version), ("31", 2));
}

async fn bad_fields_and_limits_below_usage_are_refused_with_a_reason(app: TestApp) {
    let (operator, _) = sessions(&app).await;
    app.demo_top_up("acme", "emails", 13_000).await;
    let pro = pro_license(&app).await;
    let form = editor(&app, &operator, pro).await.form;

    let mut negative = form.clone();
    set_amount(&mut negative, "seats", "-3");
    let mut jpy_cents = form.clone();
    jpy_cents.currency = "JPY".into();
    jpy_cents.price = "29.50".into();
    let mut duplicate = form.clone();
    duplicate.id = None;
    // Acme has used 130 % of Pro's 10 000 emails this period.
    let mut below = form.clone();
    set_amount(&mut below, "emails", "5000");

    for (bad, status, needle) in [
        (negative, 400, "must not be negative"),
        (jpy_cents, 400, "decimal places"),
        (duplicate, 409, "already exists"),
        (below.clone(), 400, "Acme Cloud"),
    ] {
        let response = save(&app, &operator, &bad).await;
        assert_eq!(response.status(), status, "{needle}");
        let body = response.text().await.expect("body");
        assert!(body.contains(needle), "{body} should say {needle:?}");
    }
    assert_eq!(
        editor(&app, &operator, pro).await.form.version,
        1,
        "nothing saved"
    );

    below.confirm_below_usage = true;
    let confirmed = save(&app, &operator, &below).await;
    assert_eq!(confirmed.status(), 200);
    let saved: LicenseSaved = confirmed.json().await.expect("saved");
    assert_eq!(saved.version, 2);
}

/// Sets a metric's row to a hard limit at `limit` (blank: at the included amount).
fn set_limit(form: &mut LicenseForm, metric: &str, limit: &str) {
    let row = form
        .resources
        .iter_mut()
        .find(|r| r.metric == metric)
        .expect("metric row");
    row.hard_limit = true;
    row.limit = limit.into();
}

async fn a_hard_limit_above_included_bills_overage_up_to_it_and_refuses_past_it(app: TestApp) {
    let (operator, customer) = sessions(&app).await;
    let pro = pro_license(&app).await;
    let acme = organizations::find_by_slug(app.db.pool(), "acme")
        .await
        .expect("query")
        .expect("Acme");
    let key = api_keys::create(&app.db, acme.id, Role::Member, "limits", 0)
        .await
        .expect("key");
    let usage = |summary: &UsageSummary, metric: &str| {
        summary
            .metrics
            .iter()
            .find(|m| m.code == metric)
            .expect("metric")
            .clone()
    };
    // Acme has used 13 000 of Pro's 10 000 emails, billed as overage.
    app.demo_top_up("acme", "emails", 13_000).await;
    let soft = entitlement(&app, &key, "emails").await;
    assert_eq!(
        (&soft["allowed"], &soft["limit"], &soft["limited"]),
        (&json!(true), &json!(10000), &json!(false))
    );
    let form = editor(&app, &operator, pro).await.form;

    let mut capped = form.clone();
    set_limit(&mut capped, "emails", "15000");
    let response = save(&app, &operator, &capped).await;

    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let reopened = editor(&app, &operator, pro).await.form;
    let row = reopened
        .resources
        .iter()
        .find(|r| r.metric == "emails")
        .expect("emails row");
    assert_eq!(
        (row.amount.as_str(), row.hard_limit, row.limit.as_str()),
        ("10000", true, "15000")
    );
    let capped_now = entitlement(&app, &key, "emails").await;
    assert_eq!(capped_now["allowed"], true, "{capped_now}");
    assert_eq!(capped_now["limit"], 15000);
    assert_eq!(capped_now["remaining"], 2000);
    assert_eq!(capped_now["included"], 10000);
    assert_eq!(capped_now["limited"], true);
    let (_, subscription) = app
        .get_json("/api/v1/billing/subscription", Some(&key))
        .await;
    let seed_001 = subscription["license"]["resources"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["resource"]["codeName"] == "emails"))
        .expect("emails in seed 001's subscription")
        .clone();
    assert_eq!(
        (&seed_001["limit"], &seed_001["limited"]),
        (&json!(15000), &json!(true)),
        "seed 001's limit is where usage is refused"
    );
    let summary = summary_of(&app, &customer).await;
    let emails = usage(&summary, "emails");
    assert_eq!(
        emails.cap,
        Some(Quantity::parse(Decimal::from(15_000)).expect("quantity"))
    );
    assert!(!emails.refused(), "2 000 left before the limit");
    assert_eq!(
        emails.level.overage,
        Quantity::parse(Decimal::from(3_000)).expect("quantity"),
        "usage past the included amount is still overage"
    );
    let entries = audit(&app, &operator, "license").await;
    assert_eq!(
        entries.first().expect("an audit entry").changes,
        vec![
            (
                "resources.emails.hardLimit".to_string(),
                Some("false".to_string()),
                Some("true".to_string())
            ),
            (
                "resources.emails.limit".to_string(),
                None,
                Some("15000".to_string())
            ),
        ]
    );

    // Below the included amount only when meant; below usage only when meant.
    let mut below = reopened.clone();
    set_limit(&mut below, "emails", "8000");
    let refused = save(&app, &operator, &below).await;
    assert_eq!(refused.status(), 400);
    let body = refused.text().await.expect("body");
    assert!(body.contains("below the included amount"), "{body}");
    below.confirm_limit_below_included = true;
    let refused = save(&app, &operator, &below).await;
    assert_eq!(refused.status(), 400);
    let body = refused.text().await.expect("body");
    assert!(body.contains("would be refused from now on"), "{body}");
    assert_eq!(
        entitlement(&app, &key, "emails").await["limit"],
        15000,
        "nothing saved"
    );
    below.confirm_below_usage = true;
    assert_eq!(save(&app, &operator, &below).await.status(), 200);

    let used_up = entitlement(&app, &key, "emails").await;
    assert_eq!(used_up["allowed"], false, "{used_up}");
    assert_eq!(used_up["limit"], 8000);
    assert_eq!(used_up["remaining"], 0);
    // The 3 000 emails past the included amount are past the limit too: no longer billed
    // (at Pro's 0.001 each).
    let after = summary_of(&app, &customer).await;
    assert!(usage(&after, "emails").refused());
    assert_eq!(
        summary.estimated_cost.totals.overage - after.estimated_cost.totals.overage,
        Decimal::new(3, 0)
    );
}

/// `GET /api/v1/entitlements/{metric}` with `key`.
async fn entitlement(app: &TestApp, key: &str, metric: &str) -> Value {
    let (status, body) = app
        .get_json(&format!("/api/v1/entitlements/{metric}"), Some(key))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn summary_of(app: &TestApp, customer: &str) -> UsageSummary {
    app.call_server_fn(GetUsageSummary::PATH, "from=&to=", Some(customer))
        .await
        .json()
        .await
        .expect("summary")
}

async fn the_editor_keeps_the_license_order_and_an_unreadable_price(app: TestApp) {
    let (operator, _) = sessions(&app).await;
    let pro = pro_license(&app).await;
    let pool = app.db.pool();
    sqlx::query("update license_resources set position = 100 - position where license_id = $1")
        .bind(pro)
        .execute(pool)
        .await
        .expect("reorder");
    sqlx::query(
        "update license_resources set overage_price = 'five cents each'
         where license_id = $1 and metric_id = (select id from metrics where code = 'sms')",
    )
    .bind(pro)
    .execute(pool)
    .await
    .expect("unreadable price");
    let granted = |form: &LicenseForm| -> Vec<String> {
        form.resources
            .iter()
            .filter(|r| r.in_plan)
            .map(|r| r.metric.clone())
            .collect()
    };

    let mut form = editor(&app, &operator, pro).await.form;
    let order = granted(&form);
    assert_eq!(order.first().map(String::as_str), Some("webhook"));
    assert_eq!(order.last().map(String::as_str), Some("apiCalls"));
    let sms = form
        .resources
        .iter_mut()
        .find(|r| r.metric == "sms")
        .expect("sms row");
    assert_eq!(sms.overage, "five cents each", "shown as stored, not blank");
    let refused = save(&app, &operator, &form).await;
    assert_eq!(refused.status(), 400);
    let body = refused.text().await.expect("body");
    assert!(body.contains("overage price"), "{body}");

    let sms = form
        .resources
        .iter_mut()
        .find(|r| r.metric == "sms")
        .expect("sms row");
    sms.overage = "0.05".into();
    assert_eq!(save(&app, &operator, &form).await.status(), 200);
    let reopened = editor(&app, &operator, pro).await.form;
    assert_eq!(granted(&reopened), order, "the license's order is kept");
}

async fn assigning_a_license_moves_the_organization_and_is_audited(app: TestApp) {
    let (operator, customer) = sessions(&app).await;
    let enterprise = licenses::find_by_name(app.db.pool(), "Enterprise")
        .await
        .expect("query")
        .expect("Enterprise");

    let response = app
        .call_server_fn(
            AssignLicense::PATH,
            &format!("organization=acme&license={enterprise}"),
            Some(&operator),
        )
        .await;
    let unknown = app
        .call_server_fn(
            AssignLicense::PATH,
            &format!("organization=nobody&license={enterprise}"),
            Some(&operator),
        )
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(unknown.status(), 404);
    let summary: UsageSummary = app
        .call_server_fn(GetUsageSummary::PATH, "from=&to=", Some(&customer))
        .await
        .json()
        .await
        .expect("summary");
    assert_eq!(summary.plan.map(|p| p.name).as_deref(), Some("Enterprise"));
    let entry = audit(&app, &operator, "subscription").await.remove(0);
    assert_eq!(entry.organization.as_deref(), Some("Acme Cloud"));
    assert_eq!(
        entry.changes,
        vec![(
            "license".to_string(),
            Some("Pro".to_string()),
            Some("Enterprise".to_string())
        )]
    );
}

async fn a_new_license_can_be_the_only_default_and_key_changes_are_audited(app: TestApp) {
    let (operator, customer) = sessions(&app).await;
    let mut form = editor_for_new(&app, &operator).await;
    form.name = "Starter".into();
    form.price = "9.90".into();
    form.is_default = true;
    let row = form
        .resources
        .iter_mut()
        .find(|r| r.metric == "apiCalls")
        .expect("apiCalls row");
    row.in_plan = true;
    row.amount = "5000".into();
    row.overage = "0.002".into();

    let created = save(&app, &operator, &form).await;
    let key = app
        .client
        .post(app.url("/api/v1/api-keys"))
        .header("cookie", &customer)
        .json(&serde_json::json!({"name": "billing script"}))
        .send()
        .await
        .expect("key request");

    assert_eq!(created.status(), 200, "{:?}", created.text().await);
    let listed: Vec<quotaboard::model::licenses::LicenseOverview> = app
        .call_server_fn(ListLicenses::PATH, "", Some(&operator))
        .await
        .json()
        .await
        .expect("licenses");
    let defaults: Vec<&str> = listed
        .iter()
        .filter(|l| l.is_default)
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(
        defaults,
        ["Starter"],
        "the new default replaces the old one"
    );
    let starter = listed
        .iter()
        .find(|l| l.name == "Starter")
        .expect("Starter");
    assert_eq!(
        (starter.resources, starter.price.to_string().as_str()),
        (1, "9.9")
    );
    assert_eq!(key.status(), 201);
    let entry = audit(&app, &operator, "api_key").await.remove(0);
    assert_eq!(
        (entry.actor.as_str(), entry.action.as_str()),
        (CUSTOMER, "created")
    );
    assert_eq!(entry.organization.as_deref(), Some("Acme Cloud"));
    assert!(
        entry.label.starts_with("billing script (qb_"),
        "{}",
        entry.label
    );
}

async fn refusing_events_past_a_hard_limit_is_saved_audited_and_enforced(app: TestApp) {
    let (operator, customer) = sessions(&app).await;
    let pro = pro_license(&app).await;
    let mut form = editor(&app, &operator, pro).await.form;
    let seats = form
        .resources
        .iter_mut()
        .find(|r| r.metric == "seats")
        .expect("seats row");
    seats.refuse_events = true;

    let response = save(&app, &operator, &form).await;

    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let reopened = editor(&app, &operator, pro).await.form;
    assert!(reopened
        .resources
        .iter()
        .any(|r| r.metric == "seats" && r.refuse_events));
    let entries = audit(&app, &operator, "license").await;
    assert!(
        entries.first().expect("an audit entry").changes.contains(&(
            "resources.seats.refuseEvents".to_string(),
            Some("false".to_string()),
            Some("true".to_string())
        )),
        "{:?}",
        entries.first()
    );
    // Acme has 9 of its 10 seats: a tenth user is recorded, an eleventh refused.
    let (_, key) = app.demo_key("acme", Role::Admin).await;
    let response = app
        .client
        .post(app.url("/api/v1/events"))
        .header("x-api-key", &key)
        .json(&json!({"events": [
            {"id": "seat-10", "metric": "seats", "properties": {"userId": "ten"}},
            {"id": "seat-11", "metric": "seats", "properties": {"userId": "eleven"}},
        ]}))
        .send()
        .await
        .expect("events");
    let report: Value = response.json().await.expect("report");
    assert_eq!(report["accepted"], 1, "{report}");
    assert_eq!(report["rejected"][0]["id"], "seat-11");
    // The customer's page says what refuses.
    let page = app
        .get_with_cookie("/usage", &customer)
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("Limit reached: new usage is refused and not recorded."));
}

async fn editor_for_new(app: &TestApp, operator: &str) -> LicenseForm {
    let response = app
        .call_server_fn(GetLicenseEditor::PATH, "", Some(operator))
        .await;
    assert_eq!(response.status(), 200);
    let editor: LicenseEditor = response.json().await.expect("editor");
    assert_eq!(editor.form.id, None);
    editor.form
}

crate::on_both_backends!(
    a_new_license_can_be_the_only_default_and_key_changes_are_audited,
    only_a_platform_admin_may_call_the_operator_functions_or_open_the_pages,
    an_operator_edits_a_limit_the_customer_sees_it_and_the_audit_log_has_it,
    saving_over_a_newer_version_is_a_conflict_and_keeps_the_newer_one,
    bad_fields_and_limits_below_usage_are_refused_with_a_reason,
    a_hard_limit_above_included_bills_overage_up_to_it_and_refuses_past_it,
    the_editor_keeps_the_license_order_and_an_unreadable_price,
    assigning_a_license_moves_the_organization_and_is_audited,
    refusing_events_past_a_hard_limit_is_saved_audited_and_enforced,
);
