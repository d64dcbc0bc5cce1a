//! The demo dataset `make run` loads: the metrics of every seed document, three licenses
//! (a free default one), and the organizations acme, globex and initech with domains,
//! accounts and twelve months of usage events that grow 5 % a month; between them every
//! band shows on any day. Loading is idempotent: what exists already is left as it is.
//!
//! It stays whole: it is a dataset (licenses, organizations, accounts, a year of events) and
//! the few functions that load it; split, the data would be read in pieces.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Months, Utc};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::domain::{
    event::{EventDraft, MAX_EVENTS_PER_BATCH},
    period::{day_start, AnchorDay, BillingPeriod},
    quantity::{self, Quantity},
};

use crate::server::access::users::hash_password;
use crate::server::db::{
    self, domains,
    licenses::{self, NewLicense, NewResource},
    memberships,
    organizations::{self, NewOrganization},
    usage::{self, NewMetric},
    users::NewUser,
    Database,
};
use crate::server::metering::ingest::{self, Accepted, Catalogue};

/// What [`load`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DemoOutcome {
    /// These organizations (slugs) were created, with whatever metrics and licenses were
    /// missing.
    Loaded(Vec<String>),
    /// Every demo organization, license and metric exists already; nothing was written.
    AlreadyLoaded,
}

struct DemoMetric {
    code: &'static str,
    name: &'static str,
    unit: &'static str,
    aggregation: &'static str,
    distinct_by: Option<&'static str>,
}

const fn metric(
    code: &'static str,
    name: &'static str,
    unit: &'static str,
    aggregation: &'static str,
) -> DemoMetric {
    DemoMetric {
        code,
        name,
        unit,
        aggregation,
        distinct_by: None,
    }
}

/// Seed 002's metric types, seed 003's channels, seed 001's resources and seed 004's items.
const METRICS: [DemoMetric; 15] = [
    metric("apiCalls", "API Calls", "requests", "sum"),
    metric("storage", "Storage", "GB", "latest"),
    DemoMetric {
        distinct_by: Some("properties.userId"),
        ..metric("seats", "Team Seats", "users", "unique_count")
    },
    metric("bandwidth", "Bandwidth", "GB", "sum"),
    metric("emails", "Emails", "emails", "sum"),
    metric("webhooks", "Webhook Events", "events", "sum"),
    metric("sms", "SMS", "messages", "sum"),
    metric("whatsapp", "WhatsApp", "messages", "sum"),
    metric("email", "E-mail", "messages", "sum"),
    metric("sage", "Sage", "messages", "sum"),
    metric("mailbox", "Caixa de Entrada", "mailboxes", "latest"),
    metric("relay_mail", "Relay E-mail", "emails", "sum"),
    metric("webhook", "Webhooks", "endpoints", "latest"),
    metric("subscribers", "Subscribers", "subscribers", "latest"),
    metric("adex_requests", "Adex Requests", "requests", "sum"),
];

/// One resource of a demo license: metric, included (`None`: unlimited), hard limit,
/// overage price as JSON.
type DemoResource = (
    &'static str,
    Option<&'static str>,
    Hard,
    Option<&'static str>,
);

/// Whether, and where, a demo resource's usage is refused.
#[derive(Clone, Copy)]
enum Hard {
    /// A soft limit: usage past the included amount is overage.
    No,
    /// Refused at the included amount.
    AtIncluded,
    /// Refused at this amount; overage in between.
    At(&'static str),
}

struct DemoLicense {
    name: &'static str,
    external_id: Option<&'static str>,
    description: &'static str,
    price: &'static str,
    currency: &'static str,
    is_default: bool,
    resources: &'static [DemoResource],
}

const LICENSES: [DemoLicense; 3] = [
    // Seed 001's free default plan.
    DemoLicense {
        name: "Plano Básico",
        external_id: None,
        description: "",
        price: "0",
        currency: "BRL",
        is_default: true,
        resources: &[
            ("webhook", None, Hard::No, None),
            ("mailbox", Some("1"), Hard::AtIncluded, None),
            ("relay_mail", Some("20"), Hard::AtIncluded, None),
            ("emails", Some("1000"), Hard::AtIncluded, None),
            ("sms", Some("100"), Hard::AtIncluded, None),
            ("whatsapp", Some("100"), Hard::AtIncluded, None),
            ("email", Some("1000"), Hard::AtIncluded, None),
            ("sage", Some("50"), Hard::AtIncluded, None),
        ],
    },
    // Seed 002's $29 plan, with each kind of overage price.
    DemoLicense {
        name: "Pro",
        external_id: Some("pro-monthly"),
        description: "Pro plan, billed monthly",
        price: "29",
        currency: "USD",
        is_default: false,
        resources: &[
            (
                "apiCalls",
                Some("100000"),
                Hard::No,
                Some(
                    r#"{"model":"graduated","tiers":[{"up_to":"50000","unit_price":"0.001"},{"up_to":null,"unit_price":"0.0005"}]}"#,
                ),
            ),
            (
                "storage",
                Some("100"),
                Hard::No,
                Some(r#"{"model":"per_unit","unit_price":"0.1"}"#),
            ),
            ("seats", Some("10"), Hard::AtIncluded, None),
            (
                "bandwidth",
                Some("1000"),
                Hard::No,
                Some(r#"{"model":"package","package_size":"100","package_price":"5"}"#),
            ),
            (
                "emails",
                Some("10000"),
                Hard::No,
                Some(r#"{"model":"per_unit","unit_price":"0.001"}"#),
            ),
            ("webhooks", None, Hard::No, None),
            (
                "sms",
                Some("500"),
                Hard::No,
                Some(r#"{"model":"per_unit","unit_price":"0.05"}"#),
            ),
            (
                "whatsapp",
                Some("500"),
                Hard::No,
                Some(r#"{"model":"per_unit","unit_price":"0.03"}"#),
            ),
            (
                "email",
                Some("10000"),
                Hard::No,
                Some(r#"{"model":"per_unit","unit_price":"0.0005"}"#),
            ),
            (
                "sage",
                Some("200"),
                Hard::No,
                Some(r#"{"model":"per_unit","unit_price":"0.1"}"#),
            ),
            ("webhook", Some("10"), Hard::AtIncluded, None),
        ],
    },
    // Seed 004's enterprise plan.
    DemoLicense {
        name: "Enterprise",
        external_id: Some("enterprise-annual"),
        description: "Enterprise plan with push subscribers and ad exchange",
        price: "499",
        currency: "USD",
        is_default: false,
        resources: &[
            ("apiCalls", None, Hard::No, None),
            (
                "storage",
                Some("1000"),
                Hard::No,
                Some(r#"{"model":"per_unit","unit_price":"0.05"}"#),
            ),
            (
                "seats",
                Some("100"),
                Hard::No,
                Some(r#"{"model":"per_unit","unit_price":"8"}"#),
            ),
            ("subscribers", Some("100000"), Hard::AtIncluded, None),
            // Overage up to a cap of twice the included amount.
            (
                "adex_requests",
                Some("1000000"),
                Hard::At("2000000"),
                Some(r#"{"model":"package","package_size":"100000","package_price":"10"}"#),
            ),
        ],
    },
];

struct DemoOrganization {
    slug: &'static str,
    name: &'static str,
    time_zone: Tz,
    currency: &'static str,
    tax_rate: &'static str,
    discount_rate: &'static str,
    license: &'static str,
    anchor_day: u8,
    /// Domain name and its accounts (address, relay).
    domains: &'static [(&'static str, &'static [(&'static str, bool)])],
    /// This period's usage per metric (decimal strings). For sums, what the whole period
    /// comes to: it is recorded evenly over the period's time, so what is used at any
    /// moment is that share of it and the projection lands on it. For gauges, the reading
    /// now. Each month before had 5 % less than the one after it.
    usage: &'static [(&'static str, &'static str)],
}

/// Between them the three organizations show every band on any day of the period, with
/// gauges, which are not projected: acme's storage (82.5 %) and seats (exactly 90 %) are
/// yellow, initech's subscribers red (98.99 %) and its storage over the limit (118 %),
/// globex's mailbox at its hard limit, and webhooks of acme and globex and initech's API
/// calls unlimited; globex has not used Sage at all. Sums grow through the period towards
/// amounts 5 % above the month before, and project below 100 % except two, by design:
/// acme's e-mails (130 %, billed as overage) and initech's ad exchange requests (125 %,
/// packages of overage under a hard limit of 200 %).
const ORGANIZATIONS: [DemoOrganization; 3] = [
    DemoOrganization {
        slug: "acme",
        name: "Acme Cloud",
        time_zone: Tz::Europe__Berlin,
        currency: "USD",
        tax_rate: "0",
        discount_rate: "0",
        license: "Pro",
        anchor_day: 1,
        domains: &[(
            "acme.example",
            &[
                ("contato@acme.example", false),
                ("no-reply@acme.example", true),
            ],
        )],
        usage: &[
            ("apiCalls", "52000"),
            ("storage", "82.5"),
            ("seats", "9"),
            ("bandwidth", "962"),
            ("emails", "13000"),
            ("webhooks", "5210"),
            ("sms", "120"),
            ("whatsapp", "310"),
            ("email", "4000"),
            ("sage", "150"),
            ("webhook", "4"),
        ],
    },
    DemoOrganization {
        slug: "globex",
        name: "Globex Mail",
        time_zone: Tz::America__Sao_Paulo,
        currency: "BRL",
        tax_rate: "0",
        discount_rate: "0",
        license: "Plano Básico",
        anchor_day: 1,
        domains: &[(
            "globex.example",
            &[
                ("contato@globex.example", false),
                ("no-reply@globex.example", true),
            ],
        )],
        usage: &[
            ("webhook", "2"),
            ("mailbox", "1"),
            ("relay_mail", "12"),
            ("emails", "640"),
            ("sms", "60"),
            ("whatsapp", "40"),
            ("email", "300"),
        ],
    },
    // Anchored on the 10th, with a discount and tax: seed 004's shape.
    DemoOrganization {
        slug: "initech",
        name: "Initech",
        time_zone: Tz::America__New_York,
        currency: "USD",
        tax_rate: "20",
        discount_rate: "10",
        license: "Enterprise",
        anchor_day: 10,
        domains: &[
            ("initech.example", &[("billing@initech.example", false)]),
            ("push.initech.example", &[]),
        ],
        usage: &[
            ("apiCalls", "2500000"),
            ("storage", "1180"),
            ("seats", "42"),
            ("subscribers", "98985"),
            ("adex_requests", "1250000"),
        ],
    },
];

/// Months of history, the current one included.
const MONTHS: u32 = 12;

/// Loads whatever part of the demo dataset is missing, in one transaction. Usage is
/// recorded as events, through ingestion's own write, relative to `now`: the current
/// period up to `now`, and the eleven before it.
pub async fn load(database: &Database, now: DateTime<Utc>) -> Result<DemoOutcome, sqlx::Error> {
    // Twelve periods back, each up to a month long, whatever their anchor day.
    let oldest = now.checked_sub_months(Months::new(13)).unwrap_or(now);
    db::events::prepare(database, db::unix_seconds(oldest), db::unix_seconds(now)).await?;
    let mut tx = database.begin_write().await?;
    let created = db::unix_seconds(now);
    let mut wrote = false;

    let mut metrics = HashMap::new();
    let existing = usage::catalogue(&mut *tx).await?;
    for (position, demo) in (0_i64..).zip(METRICS.iter()) {
        let id = match existing.iter().find(|m| m.code == demo.code) {
            Some(metric) => metric.id,
            None => {
                wrote = true;
                usage::insert_metric(
                    &mut *tx,
                    &NewMetric {
                        code: demo.code,
                        name: demo.name,
                        unit: demo.unit,
                        aggregation: demo.aggregation,
                        distinct_by: demo.distinct_by,
                        position,
                    },
                    created,
                )
                .await?
            }
        };
        metrics.insert(demo.code, (id, demo.aggregation));
    }

    let mut license_ids = HashMap::new();
    for license in &LICENSES {
        let id = match licenses::find_by_name(&mut *tx, license.name).await? {
            Some(id) => id,
            None => {
                wrote = true;
                insert_license(&mut tx, license, &metrics, created).await?
            }
        };
        license_ids.insert(license.name, id);
    }

    let mut loaded = Vec::new();
    for organization in &ORGANIZATIONS {
        if organizations::find_by_slug(&mut *tx, organization.slug)
            .await?
            .is_some()
        {
            continue;
        }
        let license_id = license_ids
            .get(organization.license)
            .copied()
            .unwrap_or_default();
        insert_organization(&mut tx, organization, license_id, &metrics, now).await?;
        loaded.push(organization.slug.to_string());
    }
    for user in &USERS {
        if db::users::id_of(&mut *tx, user.email).await?.is_some() {
            continue;
        }
        wrote = true;
        insert_user(&mut tx, user, created).await?;
    }
    if loaded.is_empty() && !wrote {
        return Ok(DemoOutcome::AlreadyLoaded);
    }
    tx.commit().await?;
    Ok(DemoOutcome::Loaded(loaded))
}

/// The password of every demo user (README lists them). Demo data only: a real instance
/// creates users with `quotaboard users create`.
pub const DEMO_PASSWORD: &str = "quotaboard-demo";

struct DemoUser {
    email: &'static str,
    /// `platform-admin`, or the role in the first membership (the organization a sign-in
    /// starts in).
    role: &'static str,
    /// `(organization slug, role)`.
    memberships: &'static [(&'static str, &'static str)],
}

/// An admin of Acme and of Globex (so the switcher shows), a member of
/// Acme, Initech's admin, and the operator.
const USERS: [DemoUser; 4] = [
    DemoUser {
        email: "admin@acme.example",
        role: "admin",
        memberships: &[("acme", "admin"), ("globex", "admin")],
    },
    DemoUser {
        email: "member@acme.example",
        role: "member",
        memberships: &[("acme", "member")],
    },
    DemoUser {
        email: "owner@initech.example",
        role: "admin",
        memberships: &[("initech", "admin")],
    },
    DemoUser {
        email: "operator@quotaboard.example",
        role: "platform-admin",
        memberships: &[],
    },
];

async fn insert_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &DemoUser,
    now: i64,
) -> Result<(), sqlx::Error> {
    let password_hash = hash_password(DEMO_PASSWORD).map_err(sqlx::Error::Protocol)?;
    let mut organization_ids = Vec::new();
    for (slug, role) in user.memberships {
        if let Some(organization) = organizations::find_by_slug(&mut **tx, slug).await? {
            organization_ids.push((organization.id, *role));
        }
    }
    let home = organization_ids.first().map(|(id, _)| *id);
    if user.role != "platform-admin" && home.is_none() {
        return Ok(());
    }
    let id = db::users::insert(
        &mut **tx,
        &NewUser {
            organization_id: home,
            email: user.email,
            password_hash: &password_hash,
            role: user.role,
        },
        now,
    )
    .await?;
    for (organization_id, role) in organization_ids {
        memberships::insert(&mut **tx, id, organization_id, role, now).await?;
    }
    Ok(())
}

type Metrics = HashMap<&'static str, (i64, &'static str)>;

async fn insert_license(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    license: &DemoLicense,
    metrics: &Metrics,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let id = licenses::insert(
        &mut **tx,
        &NewLicense {
            name: license.name,
            external_id: license.external_id,
            description: license.description,
            price: license.price,
            currency: license.currency,
            is_default: license.is_default,
        },
        now,
    )
    .await?;
    for (position, (code, included, hard, price)) in (0_i64..).zip(license.resources) {
        let Some(&(metric_id, _)) = metrics.get(code) else {
            continue;
        };
        licenses::insert_resource(
            &mut **tx,
            &NewResource {
                license_id: id,
                metric_id,
                included_micros: included.map(|amount| units(amount).micros()),
                limited: !matches!(hard, Hard::No),
                limit_micros: match hard {
                    Hard::At(amount) => Some(units(amount).micros()),
                    Hard::No | Hard::AtIncluded => None,
                },
                refuse_events: false,
                overage_price: *price,
                position,
            },
            now,
        )
        .await?;
    }
    Ok(id)
}

async fn insert_organization(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    demo: &DemoOrganization,
    license_id: i64,
    metrics: &Metrics,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let created = db::unix_seconds(now);
    let organization_id = organizations::insert(
        &mut **tx,
        &NewOrganization {
            slug: demo.slug,
            name: demo.name,
            time_zone: demo.time_zone.name(),
            currency: demo.currency,
            tax_rate: demo.tax_rate,
            discount_rate: demo.discount_rate,
        },
        created,
    )
    .await?;
    let mut accounts = Vec::new();
    let mut first_domain = None;
    for (name, domain_accounts) in demo.domains {
        let domain_id = domains::insert(&mut **tx, organization_id, name, created).await?;
        first_domain.get_or_insert(domain_id);
        for &(address, relay) in *domain_accounts {
            domains::insert_account(
                &mut **tx,
                organization_id,
                domain_id,
                (address, relay),
                created,
            )
            .await?;
            accounts.push(address);
        }
    }
    licenses::subscribe(
        &mut **tx,
        organization_id,
        license_id,
        demo.anchor_day,
        created,
    )
    .await?;

    let mail = Mail {
        accounts: &accounts,
        domain_id: first_domain.map(|id| id.to_string()),
    };
    let mut drafts = Vec::new();
    for (months_back, period) in demo.periods(now) {
        for &(code, amount) in demo.usage {
            let Some(&(_, aggregation)) = metrics.get(code) else {
                continue;
            };
            let amount = month_amount(units(amount), months_back);
            drafts.extend(events_of(
                code,
                aggregation,
                amount,
                &period,
                now,
                demo.time_zone,
                &mail,
            ));
        }
    }
    let catalogue = Catalogue::load(&mut **tx).await?;
    let accepted: Vec<Accepted> = drafts
        .into_iter()
        .filter_map(|draft| catalogue.accept(draft).ok())
        .collect();
    for batch in accepted.chunks(MAX_EVENTS_PER_BATCH) {
        ingest::write(tx, organization_id, demo.time_zone, batch, None, now)
            .await
            .map_err(|error| sqlx::Error::Protocol(error.to_string()))?;
    }
    Ok(())
}

impl DemoOrganization {
    /// The billing periods of the demo's history at `now`, oldest first, each with how
    /// many months back it is (0: the current one).
    fn periods(&self, now: DateTime<Utc>) -> Vec<(u32, BillingPeriod)> {
        let anchor = AnchorDay::new(self.anchor_day).unwrap_or(AnchorDay::FIRST);
        let current = BillingPeriod::containing(now, anchor, self.time_zone);
        (0..MONTHS)
            .rev()
            .zip(current.last(MONTHS as usize, self.time_zone))
            .collect()
    }
}

/// The usage of metric `code` that the demo records for organization `slug` in the
/// billing period holding `now`, when loaded at `now`: a sum's share of its period so far,
/// a gauge's reading. `None` for a metric the organization does not use.
pub fn usage_at(slug: &str, code: &str, now: DateTime<Utc>) -> Option<Quantity> {
    let demo = ORGANIZATIONS.iter().find(|o| o.slug == slug)?;
    let &(_, amount) = demo.usage.iter().find(|(c, _)| *c == code)?;
    let aggregation = METRICS.iter().find(|m| m.code == code)?.aggregation;
    let (_, period) = demo.periods(now).pop()?;
    let amount = units(amount);
    Some(match aggregation {
        "sum" => so_far(amount, &period, now),
        _ => amount,
    })
}

/// Where e-mail goes: 60 % of each day's through the first account, the rest through the
/// others, all in the first domain.
struct Mail<'a> {
    accounts: &'a [&'a str],
    domain_id: Option<String>,
}

/// The events that record `amount` of metric `code` in `period`, up to `now`:
/// - a sum is spread evenly over the period's time, a piece a day in the current and the
///   previous period and a piece a week before them, each piece one event in its middle
///   (e-mail split by account);
/// - a unique count names `amount` users on the period's first day;
/// - a gauge takes one reading of `amount` in the period's last piece.
fn events_of(
    code: &str,
    aggregation: &str,
    amount: Quantity,
    period: &BillingPeriod,
    now: DateTime<Utc>,
    time_zone: Tz,
    mail: &Mail<'_>,
) -> Vec<EventDraft> {
    let recent = period.end > now - Duration::days(62);
    let pieces = pieces(period, now, time_zone, if recent { 1 } else { 7 });
    let label = |at: DateTime<Utc>| at.with_timezone(&time_zone).format("%Y-%m-%d").to_string();
    let draft =
        |id: String, quantity: Quantity, (from, to): (DateTime<Utc>, DateTime<Utc>)| EventDraft {
            id,
            metric: code.to_string(),
            quantity,
            occurred_at: from + (to - from) / 2,
            account: None,
            domain_id: None,
            channel: None,
            properties: None,
        };
    let mut events = Vec::new();
    match aggregation {
        "sum" => {
            for &(from, to) in &pieces {
                let share = Quantity::from_micros(
                    so_far(amount, period, to).micros() - so_far(amount, period, from).micros(),
                )
                .unwrap_or_default();
                if share == Quantity::ZERO {
                    continue;
                }
                let id = format!("demo-{code}-{}", label(from));
                if code != MAIL_METRIC || mail.accounts.is_empty() {
                    events.push(draft(id, share, (from, to)));
                    continue;
                }
                for (account, part) in mail.accounts.iter().zip(split(share, mail.accounts.len())) {
                    if part == Quantity::ZERO {
                        continue;
                    }
                    events.push(EventDraft {
                        account: Some(account.to_string()),
                        domain_id: mail.domain_id.clone(),
                        ..draft(format!("{id}-{account}"), part, (from, to))
                    });
                }
            }
        }
        "unique_count" => {
            if let Some(&first) = pieces.first() {
                for user in 1..=amount.micros() / Quantity::ONE.micros() {
                    events.push(EventDraft {
                        properties: Some(format!(r#"{{"userId":"user-{user}"}}"#)),
                        ..draft(
                            format!("demo-{code}-{}-user-{user}", label(first.0)),
                            Quantity::ONE,
                            first,
                        )
                    });
                }
            }
        }
        _ => {
            if let Some(&last) = pieces.last() {
                events.push(draft(
                    format!("demo-{code}-{}", label(last.0)),
                    amount,
                    last,
                ));
            }
        }
    }
    events
}

/// The demo's mail metric, split by account (the `mail-metric` setting's default).
const MAIL_METRIC: &str = "emails";

/// `period` up to `now` cut at local midnights into pieces of `days` days (the last one
/// shorter), oldest first.
fn pieces(
    period: &BillingPeriod,
    now: DateTime<Utc>,
    time_zone: Tz,
    days: u32,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let end = period.end.min(now);
    let mut pieces = Vec::new();
    let mut from = period.start;
    while from < end {
        let mut to = from;
        for _ in 0..days {
            // 26 hours always lands in the next local day, whatever daylight saving does.
            to = day_start(to + Duration::hours(26), time_zone);
        }
        let to = to.min(end);
        pieces.push((from, to));
        from = to;
    }
    pieces
}

/// What a period whose sum comes to `total` has used by `at`: the elapsed share of it,
/// rounded down (to whole units when `total` is whole).
fn so_far(total: Quantity, period: &BillingPeriod, at: DateTime<Utc>) -> Quantity {
    in_steps_of(total, total.to_decimal() * period.elapsed_fraction(at))
}

/// A month's amount `months_back` months before one of `amount`: 5 % less a month.
fn month_amount(amount: Quantity, months_back: u32) -> Quantity {
    let growth = Decimal::new(105, 2);
    let value = (0..months_back).fold(amount.to_decimal(), |value, _| value / growth);
    in_steps_of(amount, value)
}

/// `value` rounded down to whole units when `like` is whole, else to micro-units.
fn in_steps_of(like: Quantity, value: Decimal) -> Quantity {
    let places = if like.micros() % Quantity::ONE.micros() == 0 {
        0
    } else {
        quantity::SCALE
    };
    Quantity::parse(value.round_dp_with_strategy(places, RoundingStrategy::ToZero))
        .unwrap_or_default()
}

/// `share` in `parts`: 60 % (rounded down like `share`) to the first, the rest evenly to
/// the others, the last taking what is left; all of it to a lone part.
fn split(share: Quantity, parts: usize) -> Vec<Quantity> {
    if parts <= 1 {
        return vec![share];
    }
    let first = in_steps_of(share, share.to_decimal() * Decimal::new(6, 1));
    let others = Decimal::from(parts - 1);
    let each = in_steps_of(share, (share.to_decimal() - first.to_decimal()) / others);
    let mut split = vec![first];
    split.extend(std::iter::repeat_n(each, parts - 2));
    let given: i64 = split.iter().map(|q| q.micros()).sum();
    split.push(Quantity::from_micros(share.micros() - given).unwrap_or_default());
    split
}

/// A demo amount; the tables above hold only valid decimals.
fn units(amount: &str) -> Quantity {
    Decimal::from_str_exact(amount)
        .ok()
        .and_then(|value| Quantity::parse(value).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        aggregation::Aggregation, projection::projected_usage, usage_level::UsageLevel,
    };

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("instant")
    }

    fn total(events: &[EventDraft]) -> i64 {
        events.iter().map(|e| e.quantity.micros()).sum()
    }

    const NO_MAIL: Mail<'static> = Mail {
        accounts: &[],
        domain_id: None,
    };

    #[test]
    fn a_sum_is_recorded_evenly_so_what_is_used_follows_the_clock() {
        let zone = Tz::Europe__Berlin;
        let period = BillingPeriod::containing(at("2027-03-20T10:00:00Z"), AnchorDay::FIRST, zone);
        for amount in ["52000", "962", "82.5", "0.000007", "0"] {
            let amount = units(amount);
            // Across the switch to summer time (28 March) and at the period's edges.
            for now in [
                period.start + Duration::seconds(1),
                at("2027-03-04T00:00:30Z"),
                at("2027-03-28T12:00:00Z"),
                period.end - Duration::seconds(1),
                period.end + Duration::days(3),
            ] {
                let events = events_of("apiCalls", "sum", amount, &period, now, zone, &NO_MAIL);
                assert_eq!(
                    total(&events),
                    so_far(amount, &period, now).micros(),
                    "{now}"
                );
                assert!(events
                    .iter()
                    .all(|e| e.occurred_at < now && e.occurred_at >= period.start));
                let ids: std::collections::BTreeSet<&str> =
                    events.iter().map(|e| e.id.as_str()).collect();
                assert_eq!(ids.len(), events.len(), "ids are unique");
            }
            let whole = events_of(
                "apiCalls", "sum", amount, &period, period.end, zone, &NO_MAIL,
            );
            assert_eq!(
                total(&whole),
                amount.micros(),
                "the whole period comes to the amount"
            );
        }
    }

    #[test]
    fn e_mail_splits_over_accounts_without_losing_any() {
        let zone = Tz::UTC;
        let period = BillingPeriod::containing(at("2027-01-20T10:00:00Z"), AnchorDay::FIRST, zone);
        for accounts in [&["a"][..], &["a", "b"], &["a", "b", "c"]] {
            let mail = Mail {
                accounts,
                domain_id: Some("7".into()),
            };
            let events = events_of(
                "emails",
                "sum",
                units("13000"),
                &period,
                period.end,
                zone,
                &mail,
            );
            assert_eq!(total(&events), 13_000_000_000, "{accounts:?}");
            assert!(events.iter().all(|e| e.quantity.micros() % 1_000_000 == 0));
            assert!(events.iter().all(|e| e.domain_id.as_deref() == Some("7")));
            let first: i64 = total(
                &events
                    .iter()
                    .filter(|e| e.account.as_deref() == Some("a"))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            if accounts.len() > 1 {
                // 60 % through the first, rounded down a day at a time.
                assert!((7_700_000_000..=7_800_000_000).contains(&first), "{first}");
            }
        }
    }

    #[test]
    fn gauges_read_their_amount_and_unique_counts_name_their_users() {
        let zone = Tz::America__New_York;
        let now = at("2027-02-11T15:00:00Z");
        let period = BillingPeriod::containing(now, AnchorDay::new(10).expect("day"), zone);
        let reading = events_of(
            "storage",
            "latest",
            units("82.5"),
            &period,
            now,
            zone,
            &NO_MAIL,
        );
        assert_eq!(reading.len(), 1);
        assert_eq!(reading[0].quantity, units("82.5"));
        let seats = events_of(
            "seats",
            "unique_count",
            units("9"),
            &period,
            now,
            zone,
            &NO_MAIL,
        );
        assert_eq!(seats.len(), 9);
        assert_eq!(
            seats[8].properties.as_deref(),
            Some(r#"{"userId":"user-9"}"#)
        );
    }

    #[test]
    fn each_month_before_had_five_percent_less() {
        assert_eq!(month_amount(units("52000"), 0), units("52000"));
        assert_eq!(month_amount(units("52000"), 1), units("49523"));
        assert_eq!(month_amount(units("82.5"), 1), units("78.571428"));
        assert_eq!(month_amount(units("9"), 2), units("8"));
    }

    /// Every demo metric at `now` as the dashboard rates it: its projection's percentage of
    /// the included amount, the projection, and what this month comes to.
    fn projections(
        now: DateTime<Utc>,
    ) -> Vec<(&'static str, &'static str, Decimal, Quantity, Quantity)> {
        let thresholds =
            crate::domain::usage_level::Thresholds::new(Decimal::from(75), Decimal::from(90))
                .expect("thresholds");
        let mut rated = Vec::new();
        for organization in &ORGANIZATIONS {
            let license = LICENSES
                .iter()
                .find(|l| l.name == organization.license)
                .expect("license");
            let (_, current) = organization.periods(now).pop().expect("period");
            for &(code, amount) in organization.usage {
                let Some(&(_, Some(included), _, _)) =
                    license.resources.iter().find(|r| r.0 == code)
                else {
                    continue;
                };
                let metric = METRICS.iter().find(|m| m.code == code).expect("metric");
                let aggregation: Aggregation = metric.aggregation.parse().expect("aggregation");
                let events = events_of(
                    code,
                    metric.aggregation,
                    units(amount),
                    &current,
                    now,
                    organization.time_zone,
                    &NO_MAIL,
                );
                let used = Quantity::from_micros(total(&events)).expect("used");
                assert_eq!(Some(used), usage_at(organization.slug, code, now));
                let projected = projected_usage(aggregation, used, &current, now);
                let level = UsageLevel::assess(
                    projected,
                    crate::domain::usage_level::Allowance::Included(units(included)),
                    &thresholds,
                );
                rated.push((
                    organization.slug,
                    code,
                    level.reported_percentage(),
                    projected,
                    units(amount),
                ));
            }
        }
        rated
    }

    #[test]
    fn on_any_day_no_metric_projects_above_150_percent_or_above_its_month() {
        // Every six hours through three months, across both switches to summer time, from
        // the first minute of a period.
        let start = at("2027-01-01T00:00:30Z");
        for step in 0..(90 * 4) {
            let now = start + Duration::hours(6 * step);
            for (slug, code, percentage, projected, month) in projections(now) {
                assert!(
                    percentage <= Decimal::from(150),
                    "{slug} {code} at {now}: {percentage} %"
                );
                // This month is 5 % above the one before (each_month_before_had_five_percent_less).
                assert!(
                    projected <= month,
                    "{slug} {code} at {now}: {projected:?} > {month:?}"
                );
            }
        }
        // Two days in, every sum of a thousand or more a month projects within 5 % of it
        // (smaller ones are recorded in whole units, and a unit is more than 5 % of them).
        for (slug, code, _, projected, month) in projections(at("2027-01-03T12:00:00Z")) {
            if month >= units("1000") {
                assert!(
                    projected.to_decimal() >= month.to_decimal() * Decimal::new(95, 2),
                    "{slug} {code}: {projected:?} of {month:?}"
                );
            }
        }
    }

    #[test]
    fn every_license_resource_and_usage_names_a_demo_metric() {
        let known = |code: &str| METRICS.iter().any(|m| m.code == code);
        for license in &LICENSES {
            for (code, _, _, price) in license.resources {
                assert!(known(code), "{code}");
                if let Some(price) = price {
                    serde_json::from_str::<crate::domain::pricing::OveragePrice>(price)
                        .expect(price);
                }
            }
        }
        for organization in &ORGANIZATIONS {
            assert!(LICENSES.iter().any(|l| l.name == organization.license));
            for (code, _) in organization.usage {
                let metric = METRICS.iter().find(|m| m.code == *code).expect(code);
                // The demo lays out sums, gauges and unique counts; it has no counts.
                assert_ne!(metric.aggregation, "count", "{code}");
            }
        }
    }
}
