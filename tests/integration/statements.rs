//! Every SQL statement the server sends while it serves a customer stays inside one
//! organization on the tables that grow with usage: read, joined or aggregated, each such
//! table is pinned to one `organization_id`, so Citus routes the statement to one shard.
//! The tour below drives the app as its users do (keys, pages, server functions, forms,
//! the embed view) for every demo organization; a tracing layer reads every statement
//! sqlx sends and where it came from. The operator's pages and functions act across
//! organizations by design, and so do the background tasks: those are listed, not held
//! to the rule. `QB_PRINT_STATEMENTS=1` prints every statement heard and where it came from.

use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    ops::ControlFlow,
    sync::{Arc, Mutex, OnceLock},
    thread::ThreadId,
};

use leptos::server_fn::ServerFn;
use quotaboard::{
    api::{
        account::GetSession,
        admin::{GetOrganizationUsage, ListOrganizations},
        audit::ListAudit,
        billing::ListStatements,
        embedding::GetEmbeddingSettings,
        licenses::{AssignLicense, GetLicenseEditor, ListLicenses, SaveLicense},
        settings::{ListApiKeys, ListWebhooks},
        usage::{GetAccountUsage, GetUsageHistory, GetUsageSummary},
        users::{ListUsers, SetUserDisabled},
    },
    server::access::principal::Role,
};
use reqwest::Method;
use serde_json::{json, Value};
use sqlparser::{
    ast::{
        BinaryOperator, Expr, FromTable, Ident, InTarget, ObjectName, ObjectNamePart, Query,
        Select, SetExpr, Statement, TableFactor, TableWithJoins, UpdateTableFromKind, Visit,
        Visitor,
    },
    dialect::PostgreSqlDialect,
    parser::Parser,
};
use tracing::{
    field::{Field, Visit as FieldVisit},
    span, Event, Subscriber,
};
use tracing_subscriber::{
    filter::filter_fn, layer::Context, prelude::*, registry::LookupSpan, Layer,
};

use crate::{
    distribution::DISTRIBUTED,
    helpers::{spawn_app, Backend, TestApp},
};

/// The operator's server functions: each begins by requiring the platform admin.
const OPERATOR_FUNCTIONS: [&str; 9] = [
    ListOrganizations::PATH,
    GetOrganizationUsage::PATH,
    ListLicenses::PATH,
    GetLicenseEditor::PATH,
    SaveLicense::PATH,
    AssignLicense::PATH,
    ListAudit::PATH,
    ListUsers::PATH,
    SetUserDisabled::PATH,
];

/// Whether a request to `path` (its query left off) is the operator's only.
fn operator_only(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/") || OPERATOR_FUNCTIONS.contains(&path)
}

// ---------------------------------------------------------------------------------------
// Reading a statement.

/// A table in a statement's `FROM`, `JOIN`, `UPDATE` or `DELETE`: its name and the name
/// the statement calls it by.
struct Relation {
    table: String,
    called: String,
    distributed: bool,
}

/// How a statement crosses organizations: one line per table left unpinned. Empty when
/// every use of a table that grows with usage is pinned to one organization; an error when
/// the statement cannot be read.
fn crossings(sql: &str) -> Result<Vec<String>, String> {
    let statements =
        Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(|error| error.to_string())?;
    let mut reader = Blocks::default();
    for statement in &statements {
        let _ = statement.visit(&mut reader);
    }
    Ok(reader.crossings)
}

/// Visits every query block of a statement (subqueries, common table expressions and
/// `INSERT … SELECT` included) and every `UPDATE` and `DELETE`.
#[derive(Default)]
struct Blocks {
    crossings: Vec<String>,
}

impl Visitor for Blocks {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.set_expr(&query.body);
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        match statement {
            Statement::Update(update) => {
                let mut tables = vec![&update.table];
                match &update.from {
                    Some(UpdateTableFromKind::BeforeSet(from))
                    | Some(UpdateTableFromKind::AfterSet(from)) => tables.extend(from),
                    None => {}
                }
                self.block(&tables, update.selection.as_ref());
            }
            Statement::Delete(delete) => {
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) =
                    &delete.from;
                let mut tables: Vec<&TableWithJoins> = from.iter().collect();
                tables.extend(delete.using.iter().flatten());
                self.block(&tables, delete.selection.as_ref());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

impl Blocks {
    /// The `SELECT`s of a query body; nested queries are visited on their own.
    fn set_expr(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Select(select) => self.select(select),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left);
                self.set_expr(right);
            }
            _ => {}
        }
    }

    fn select(&mut self, select: &Select) {
        let tables: Vec<&TableWithJoins> = select.from.iter().collect();
        self.block(&tables, select.selection.as_ref());
    }

    /// One block: `tables` with their joins, filtered by `selection` and the joins' `ON`.
    fn block(&mut self, tables: &[&TableWithJoins], selection: Option<&Expr>) {
        let mut relations = Vec::new();
        let mut conditions = Vec::new();
        if let Some(selection) = selection {
            conjuncts(selection, &mut conditions);
        }
        for table in tables {
            relations.extend(relation(&table.relation));
            for join in &table.joins {
                relations.extend(relation(&join.relation));
                if let Some(on) = join_condition(&join.join_operator) {
                    conjuncts(on, &mut conditions);
                }
            }
        }
        if !relations.iter().any(|r| r.distributed) {
            return;
        }
        // Pinned: filtered to one value, or joined to a pinned relation (or to an outer
        // query's, itself checked as its own block). For a table that grows with usage,
        // only its organization_id pins it.
        let mut pinned: HashSet<usize> = HashSet::new();
        loop {
            let before = pinned.len();
            for condition in &conditions {
                let Some((left, right)) = equality(condition) else {
                    continue;
                };
                for (one, other) in [(left, right), (right, left)] {
                    let Some(Column { relation, name }) = column(one, &relations) else {
                        continue;
                    };
                    let Some(relation) = relation else { continue };
                    if relations[relation].distributed && name != "organization_id" {
                        continue;
                    }
                    let other_pins = match column(other, &relations) {
                        None => single_value(other),
                        // An outer query's column: one value for this block.
                        Some(Column { relation: None, .. }) => true,
                        Some(Column {
                            relation: Some(other),
                            name,
                        }) => {
                            pinned.contains(&other)
                                && (!relations[other].distributed || name == "organization_id")
                        }
                    };
                    if other_pins {
                        pinned.insert(relation);
                    }
                }
            }
            if pinned.len() == before {
                break;
            }
        }
        for (index, relation) in relations.iter().enumerate() {
            if relation.distributed && !pinned.contains(&index) {
                self.crossings.push(format!(
                    "{} ({}) is read across organizations: no organization_id pins it",
                    relation.table, relation.called
                ));
            }
        }
    }
}

fn relation(factor: &TableFactor) -> Option<Relation> {
    let TableFactor::Table { name, alias, .. } = factor else {
        return None;
    };
    let table = last_part(name)?;
    let called = alias
        .as_ref()
        .map_or_else(|| table.clone(), |alias| alias.name.value.to_lowercase());
    let distributed = DISTRIBUTED.contains(&table.as_str());
    Some(Relation {
        table,
        called,
        distributed,
    })
}

fn last_part(name: &ObjectName) -> Option<String> {
    match name.0.last()? {
        ObjectNamePart::Identifier(ident) => Some(ident.value.to_lowercase()),
        ObjectNamePart::Function(_) => None,
    }
}

fn join_condition(operator: &sqlparser::ast::JoinOperator) -> Option<&Expr> {
    use sqlparser::ast::{JoinConstraint, JoinOperator as J};
    let constraint = match operator {
        J::Join(c)
        | J::Inner(c)
        | J::Left(c)
        | J::LeftOuter(c)
        | J::Right(c)
        | J::RightOuter(c)
        | J::FullOuter(c)
        | J::CrossJoin(c)
        | J::Semi(c)
        | J::LeftSemi(c)
        | J::RightSemi(c)
        | J::Anti(c)
        | J::LeftAnti(c)
        | J::RightAnti(c)
        | J::StraightJoin(c) => c,
        _ => return None,
    };
    match constraint {
        JoinConstraint::On(on) => Some(on),
        _ => None,
    }
}

/// `expr` split at its top-level `AND`s.
fn conjuncts<'a>(expr: &'a Expr, into: &mut Vec<&'a Expr>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjuncts(left, into);
            conjuncts(right, into);
        }
        Expr::Nested(inner) => conjuncts(inner, into),
        other => into.push(other),
    }
}

/// `a = b`, or `a in (b)` with one `b`.
fn equality(expr: &Expr) -> Option<(&Expr, &Expr)> {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => Some((left, right)),
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated: false,
            ..
        } if list.len() == 1 => Some((expr, &list[0])),
        _ => None,
    }
}

/// A column: the relation of the block it belongs to (`None`: an outer query's).
struct Column {
    relation: Option<usize>,
    name: String,
}

fn column(expr: &Expr, relations: &[Relation]) -> Option<Column> {
    let (qualifier, name): (Option<&Ident>, &Ident) = match expr {
        Expr::Identifier(name) => (None, name),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [.., qualifier, name] => (Some(qualifier), name),
            [name] => (None, name),
            [] => return None,
        },
        Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => return column(inner, relations),
        _ => return None,
    };
    let name = name.value.to_lowercase();
    let relation = match qualifier {
        Some(qualifier) => {
            let qualifier = qualifier.value.to_lowercase();
            relations.iter().position(|r| r.called == qualifier)
        }
        // Unqualified: the block's one table that grows with usage for its
        // organization_id, else its only table, else an outer query's.
        None => {
            let distributed: Vec<usize> = (0..relations.len())
                .filter(|&i| relations[i].distributed)
                .collect();
            if name == "organization_id" && distributed.len() == 1 {
                Some(distributed[0])
            } else if relations.len() == 1 {
                Some(0)
            } else if relations.is_empty() {
                None
            } else {
                // Ambiguous to this reader: pins nothing.
                return None;
            }
        }
    };
    Some(Column { relation, name })
}

/// One value for the whole statement: a parameter, a literal, a scalar subquery (checked
/// as its own block) or a scalar function of those.
fn single_value(expr: &Expr) -> bool {
    match expr {
        Expr::Value(_) | Expr::Subquery(_) | Expr::TypedString { .. } => true,
        Expr::Cast { expr, .. } | Expr::Nested(expr) | Expr::UnaryOp { expr, .. } => {
            single_value(expr)
        }
        _ => false,
    }
}

#[test]
fn the_reader_tells_one_organization_from_many() {
    let pinned = [
        "select sum(used_micros) from usage_daily where organization_id = $1 and metric_id = $2",
        "select d.day, b.value from usage_daily d join usage_daily_breakdown b
           on b.organization_id = d.organization_id and b.metric_id = d.metric_id
         where d.organization_id = cast($1 as bigint)",
        "select e.id from usage_events e join organizations o on o.id = e.organization_id
         where e.organization_id = (select id from organizations where slug = $1)",
        "update consumptions set released = 1 where organization_id = $1 and id = $2",
        "delete from usage_event_keys where organization_id in ($1) and event_id = $2",
        "insert into usage_daily (organization_id, metric_id, day, used_micros)
         values ($1, $2, $3, $4) on conflict do nothing",
        "select m.code, (select sum(d.used_micros) from usage_daily d
                          where d.organization_id = s.organization_id and d.metric_id = m.id)
         from subscriptions s join metrics m on true where s.organization_id = $1",
        "select * from organizations where id = $1",
    ];
    for sql in pinned {
        assert_eq!(crossings(sql), Ok(vec![]), "{sql}");
    }
    let crossing = [
        // An aggregate over every organization.
        "select metric_id, sum(used_micros) from usage_daily group by metric_id",
        // One organization's row found by a global id: every shard is asked.
        "select * from webhook_deliveries where id = $1",
        // A join on another column than the organization.
        "select * from usage_daily d join usage_daily_breakdown b on b.metric_id = d.metric_id
         where d.organization_id = $1",
        // Several organizations at once.
        "select * from consumptions where organization_id = any($1)",
        "update usage_daily set used_micros = 0 where day < $1",
        "delete from usage_event_keys where accepted_at < $1",
        "insert into statements (organization_id, id) select organization_id, 1 from usage_daily",
        "select (select count(*) from usage_events) from organizations where id = $1",
    ];
    for sql in crossing {
        let found = crossings(sql).expect("readable");
        assert!(!found.is_empty(), "not caught: {sql}");
    }
    assert!(crossings("selec nothing").is_err());
}

// ---------------------------------------------------------------------------------------
// Hearing every statement.

/// Where a statement came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Origin {
    /// A request, by its path: from the request's span, or the tour's step in flight when
    /// the statement ran in a task the request started.
    Request(String),
    /// A background task, by its span's `task`.
    Background(String),
    /// The test itself, between steps (loading the demo data, making keys).
    Test,
}

#[derive(Clone, Default)]
struct Capture {
    /// The thread whose statements are kept: the audit's runtime (other tests run on
    /// other threads).
    thread: Arc<Mutex<Option<ThreadId>>>,
    /// The request the tour has in flight.
    step: Arc<Mutex<Option<String>>>,
    heard: Arc<Mutex<BTreeMap<String, BTreeSet<Origin>>>>,
}

impl Capture {
    /// The test binary's global subscriber, installed once. A subscriber set as one
    /// thread's default would miss statements: with a single dispatcher registered,
    /// tracing caches each callsite's interest from whichever thread reaches it first,
    /// and another test's thread (no subscriber) marks sqlx's events as never wanted.
    fn global() -> &'static Capture {
        static CAPTURE: OnceLock<Capture> = OnceLock::new();
        CAPTURE.get_or_init(|| {
            let capture = Capture::default();
            // Only what the audit reads, so the other tests pay nothing for it.
            let wanted = filter_fn(|metadata| {
                metadata.target() == "sqlx::query"
                    || matches!(metadata.name(), "request" | "background")
            });
            tracing::subscriber::set_global_default(
                tracing_subscriber::registry().with(capture.clone().with_filter(wanted)),
            )
            .expect("the statement audit's subscriber is the first and only global one");
            capture
        })
    }
}

/// The origin a `request` or `background` span stands for, kept in its extensions.
struct SpanOrigin(Origin);

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl FieldVisit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

impl<S> Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attributes: &span::Attributes<'_>,
        id: &span::Id,
        context: Context<'_, S>,
    ) {
        let origin = match attributes.metadata().name() {
            "request" => {
                let mut fields = Fields::default();
                attributes.record(&mut fields);
                let uri = fields.0.remove("uri").unwrap_or_default();
                let path = uri.split('?').next().unwrap_or_default().to_string();
                Origin::Request(path)
            }
            "background" => {
                let mut fields = Fields::default();
                attributes.record(&mut fields);
                Origin::Background(fields.0.remove("task").unwrap_or_default())
            }
            _ => return,
        };
        if let Some(span) = context.span(id) {
            span.extensions_mut().insert(SpanOrigin(origin));
        }
    }

    fn on_event(&self, event: &Event<'_>, context: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query"
            || *self.thread.lock().expect("thread") != Some(std::thread::current().id())
        {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let statement = match fields.0.get("db.statement").map(|s| s.trim()) {
            Some(statement) if !statement.is_empty() => statement.to_string(),
            _ => fields.0.get("summary").cloned().unwrap_or_default(),
        };
        let from_span = context.event_scope(event).and_then(|scope| {
            scope
                .into_iter()
                .find_map(|span| span.extensions().get::<SpanOrigin>().map(|o| o.0.clone()))
        });
        let origin = from_span.unwrap_or_else(|| match self.step.lock().expect("step").clone() {
            Some(step) => Origin::Request(step),
            None => Origin::Test,
        });
        let statement = statement.split_whitespace().collect::<Vec<_>>().join(" ");
        self.heard
            .lock()
            .expect("heard")
            .entry(statement)
            .or_default()
            .insert(origin);
    }
}

// ---------------------------------------------------------------------------------------
// The tour.

/// An id the API answered, as text.
fn id_of(created: &Value) -> Option<String> {
    match &created["id"] {
        Value::String(id) => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// Sends the tour's requests one at a time, naming each as the step in flight.
struct Tour<'a> {
    app: &'a TestApp,
    step: Arc<Mutex<Option<String>>>,
    sent: usize,
}

#[derive(Clone, Copy)]
enum Credential<'a> {
    Key(&'a str),
    Cookie(&'a str),
    None,
}

enum Body {
    Empty,
    Json(Value),
    Form(String),
}

impl Tour<'_> {
    /// Sends one request; its status and body.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        credential: Credential<'_>,
        body: Body,
    ) -> (u16, String) {
        let bare = path.split('?').next().unwrap_or_default().to_string();
        *self.step.lock().expect("step") = Some(bare);
        let mut request = self.app.client.request(method.clone(), self.app.url(path));
        request = match credential {
            Credential::Key(key) => request.header("x-api-key", key),
            Credential::Cookie(cookie) => request.header("cookie", cookie),
            Credential::None => request,
        };
        request = match body {
            Body::Empty => request,
            Body::Json(json) => request.json(&json),
            Body::Form(form) => request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form),
        };
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        *self.step.lock().expect("step") = None;
        self.sent += 1;
        (status, text)
    }

    /// Sends one request that must succeed (2xx); its body as JSON (`null` if not JSON).
    async fn ok(
        &mut self,
        method: Method,
        path: &str,
        credential: Credential<'_>,
        body: Body,
    ) -> Value {
        let label = format!("{method} {path}");
        let (status, text) = self.send(method, path, credential, body).await;
        assert!((200..300).contains(&status), "{label}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn get(&mut self, path: &str, credential: Credential<'_>) -> Value {
        self.ok(Method::GET, path, credential, Body::Empty).await
    }

    async fn function(&mut self, path: &str, form: &str, cookie: &str) -> Value {
        self.ok(
            Method::POST,
            path,
            Credential::Cookie(cookie),
            Body::Form(form.to_string()),
        )
        .await
    }

    /// Posts one of the dashboard's forms, which answer with a redirect.
    async fn form(&mut self, path: &str, form: String, cookie: &str) {
        let (status, text) = self
            .send(
                Method::POST,
                path,
                Credential::Cookie(cookie),
                Body::Form(form),
            )
            .await;
        assert!((200..400).contains(&status), "POST {path}: {status} {text}");
    }

    /// Everything a customer organization's key, users and embed view do.
    /// `email`: a demo user of the organization, whose dashboard the tour opens too.
    async fn customer(&mut self, slug: &str, email: Option<&str>) {
        let (organization, key) = self.app.demo_key(slug, Role::Admin).await;
        let k = Credential::Key(&key);
        let now = chrono::Utc::now().timestamp();
        let range = format!("startDate={}&endDate={now}", now - 300 * 86_400);

        // The seeds' endpoints and the rest of the REST API.
        self.get("/api/billing/usage", k).await;
        self.get("/v2/ocamba/usage", k).await;
        self.get(&format!("/organizations/{organization}/usage?{range}"), k)
            .await;
        self.get(&format!("/organizations/{slug}/usage?{range}"), k)
            .await;
        self.get("/api/v1/billing/subscription", k).await;
        let licenses = self.get("/api/v1/billing/licenses", k).await;
        if let Some(id) = licenses["items"][0]["id"].as_i64() {
            self.get(&format!("/api/v1/billing/licenses/{id}"), k).await;
        }
        self.get("/api/v1/exports/usage.csv", k).await;
        self.get("/api/v1/exports/line-items.csv", k).await;
        let events: Vec<Value> = (0..20)
            .map(|i| {
                json!({"id": format!("tour-{slug}-{i}"), "metric": "apiCalls",
                       "quantity": 1, "account": format!("account-{}", i % 3)})
            })
            .collect();
        self.ok(
            Method::POST,
            "/api/v1/events",
            k,
            Body::Json(json!({ "events": events.clone() })),
        )
        .await;
        // Resent: the idempotency check.
        self.ok(
            Method::POST,
            "/api/v1/events",
            k,
            Body::Json(json!({ "events": events })),
        )
        .await;
        let metrics = self.get("/api/billing/usage", k).await;
        let mut codes: Vec<String> = metrics["metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| {
                m["code"]
                    .as_str()
                    .or(m["metric"].as_str())
                    .map(String::from)
            })
            .collect();
        codes.push("apiCalls".into());
        codes.sort();
        codes.dedup();
        for code in &codes {
            self.send(
                Method::GET,
                &format!("/api/v1/entitlements/{code}"),
                k,
                Body::Empty,
            )
            .await;
        }
        self.send(
            Method::POST,
            "/api/v1/entitlements/apiCalls/consume",
            k,
            Body::Json(json!({"id": format!("tour-consume-{slug}"), "quantity": 1})),
        )
        .await;

        let created = self
            .ok(
                Method::POST,
                "/api/v1/api-keys",
                k,
                Body::Json(json!({"name": "tour", "role": "member"})),
            )
            .await;
        self.get("/api/v1/api-keys", k).await;
        if let Some(id) = id_of(&created) {
            self.ok(
                Method::DELETE,
                &format!("/api/v1/api-keys/{id}"),
                k,
                Body::Empty,
            )
            .await;
        }
        let hook = self
            .ok(
                Method::POST,
                "/api/v1/webhooks",
                k,
                Body::Json(json!({
                    "url": format!("https://hooks.{slug}.example/usage"),
                    "description": "tour"
                })),
            )
            .await;
        self.get("/api/v1/webhooks", k).await;
        if let Some(id) = id_of(&hook) {
            self.ok(
                Method::PUT,
                &format!("/api/v1/webhooks/{id}"),
                k,
                Body::Json(json!({"description": "tour", "active": false})),
            )
            .await;
        }
        let domains = self.get("/api/v1/domains", k).await;
        let domain = match domains["items"][0]["id"].as_str() {
            Some(id) => id.to_string(),
            None => {
                let created = self
                    .ok(
                        Method::POST,
                        "/api/v1/domains",
                        k,
                        Body::Json(json!({"name": format!("tour.{slug}.example")})),
                    )
                    .await;
                created["id"].as_str().expect("domain id").to_string()
            }
        };
        self.get(&format!("/api/v1/domains/{domain}/accounts"), k)
            .await;
        self.get(&format!("/api/v1/billing/{domain}/civil/usage"), k)
            .await;
        self.get("/api/v1/embed-origins", k).await;
        let session = self
            .ok(
                Method::POST,
                "/api/v1/portal/sessions",
                k,
                Body::Json(json!({"expiresInMinutes": 10})),
            )
            .await;
        self.get("/api/v1/portal/sessions", k).await;

        // The dashboard: pages rendered on the server, the islands' server functions.
        let Some(email) = email else { return };
        let cookie = self.app.session_cookie(email, "quotaboard-demo").await;
        self.get("/api/v1/user", Credential::Cookie(&cookie)).await;
        self.form(
            "/switch-organization",
            format!("organization={organization}&next=%2Fusage"),
            &cookie,
        )
        .await;
        self.form("/language", "language=en&next=%2Fusage".into(), &cookie)
            .await;
        for page in [
            "/usage",
            "/usage?tab=history",
            "/license",
            "/billing",
            "/settings/keys",
            "/settings/webhooks",
            "/settings/embedding",
            "/account",
        ] {
            self.get(page, Credential::Cookie(&cookie)).await;
        }
        self.function(GetSession::PATH, "", &cookie).await;
        self.function(GetUsageSummary::PATH, "from=&to=", &cookie)
            .await;
        self.function(GetUsageHistory::PATH, "", &cookie).await;
        self.function(GetAccountUsage::PATH, "", &cookie).await;
        self.function(ListStatements::PATH, "search=&sort=", &cookie)
            .await;
        self.function(ListApiKeys::PATH, "", &cookie).await;
        self.function(ListWebhooks::PATH, "", &cookie).await;
        self.function(GetEmbeddingSettings::PATH, "", &cookie).await;

        // The embed view, launched by a portal session.
        if let Some(url) = session["url"].as_str() {
            let path = url.find("/embed/").map_or(url, |at| &url[at..]);
            self.get(path, Credential::None).await;
        }
    }

    /// The operator's pages and functions.
    async fn operator(&mut self) {
        let cookie = self
            .app
            .session_cookie("operator@quotaboard.example", "quotaboard-demo")
            .await;
        for page in [
            "/admin",
            "/admin/organizations/acme",
            "/admin/licenses",
            "/admin/audit",
            "/admin/users",
        ] {
            self.get(page, Credential::Cookie(&cookie)).await;
        }
        self.function(
            ListOrganizations::PATH,
            "search=&at_risk=false&sort=",
            &cookie,
        )
        .await;
        self.function(GetOrganizationUsage::PATH, "slug=globex", &cookie)
            .await;
    }
}

#[test]
fn no_request_of_a_customer_reads_across_organizations() {
    // Every statement of this test's app is polled on this thread: a runtime of one
    // thread, the server's tasks included.
    let capture = Capture::global();
    *capture.thread.lock().expect("thread") = Some(std::thread::current().id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let Some(app) = spawn_app(Backend::Postgres).await else {
            eprintln!("TEST_DATABASE_URL not set: Postgres variant not run");
            return;
        };
        let mut tour = Tour {
            app: &app,
            step: capture.step.clone(),
            sent: 0,
        };
        app.load_demo().await;
        tour.customer("acme", Some("admin@acme.example")).await;
        tour.customer("globex", None).await;
        tour.customer("initech", Some("owner@initech.example"))
            .await;
        tour.operator().await;

        let heard = capture.heard.lock().expect("heard").clone();
        if std::env::var_os("QB_PRINT_STATEMENTS").is_some() {
            for (statement, origins) in &heard {
                eprintln!("{origins:?}\n    {statement}");
            }
        }
        let mut checked = 0;
        let mut unreadable = Vec::new();
        let mut problems = Vec::new();
        for (statement, origins) in &heard {
            let customer: Vec<&String> = origins
                .iter()
                .filter_map(|origin| match origin {
                    Origin::Request(path) if !operator_only(path) => Some(path),
                    _ => None,
                })
                .collect();
            if customer.is_empty() {
                continue;
            }
            checked += 1;
            match crossings(statement) {
                Ok(found) if found.is_empty() => {}
                Ok(found) => problems.push(format!(
                    "{}\n  sent for {customer:?}\n  {statement}",
                    found.join("; ")
                )),
                Err(error) => unreadable.push(format!("{error}: {statement}")),
            }
        }
        eprintln!(
            "{} requests, {} distinct statements heard, {checked} sent for customers",
            tour.sent,
            heard.len()
        );
        // Every table that grows with usage was reached by a customer's request: the
        // tour covers them and the layer hears them.
        for table in DISTRIBUTED {
            let reached = heard.iter().any(|(statement, origins)| {
                statement.contains(table)
                    && origins.iter().any(
                        |origin| matches!(origin, Origin::Request(path) if !operator_only(path)),
                    )
            });
            assert!(reached, "no customer's request reached {table}");
        }
        assert!(checked >= 40, "too few statements heard: {checked}");
        assert!(
            unreadable.is_empty(),
            "unreadable:\n{}",
            unreadable.join("\n")
        );
        assert!(
            problems.is_empty(),
            "statements a customer's request sends across organizations:\n{}",
            problems.join("\n\n")
        );
    });
}
