//! The demo dataset `make run` loads: the metrics of every seed document, three licenses
//! (a free default one), and the organizations acme, globex and initech with domains,
//! accounts and twelve months of usage; acme's current period has metrics in every band.
//! Loading is idempotent: what exists already is left as it is.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::domain::{
    aggregation::PeriodDelta,
    period::{day_start, AnchorDay, BillingPeriod},
    quantity::Quantity,
};

use super::db::{
    self, domains,
    licenses::{self, NewLicense, NewResource},
    memberships,
    organizations::{self, NewOrganization},
    usage::{self, Dimension, DistinctValue, NewMetric, RollupKey},
    users::NewUser,
    Database,
};
use super::users::hash_password;

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
    /// Usage in the current period so far, per metric (decimal strings); earlier months
    /// have 5 % less per month back.
    usage: &'static [(&'static str, &'static str)],
}

const ORGANIZATIONS: [DemoOrganization; 3] = [
    // Bars in every band: 45.23 % green, 82.5 % yellow, exactly 90 % yellow, 96.24 % red,
    // 130 % red and over the limit, and unlimited.
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
            ("apiCalls", "45230"),
            ("storage", "82.5"),
            ("seats", "9"),
            ("bandwidth", "962.4"),
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
            ("relay_mail", "1"),
            ("emails", "640"),
            ("sms", "12"),
            ("whatsapp", "40"),
            ("email", "300"),
            ("sage", "5"),
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
            ("storage", "640"),
            ("seats", "42"),
            ("subscribers", "98985"),
            ("adex_requests", "1250000"),
        ],
    },
];

/// Months of history, the current one included.
const MONTHS: u32 = 12;

/// Loads whatever part of the demo dataset is missing, in one transaction. Usage is laid
/// out relative to `now`: the current period up to today, and the eleven before it.
pub async fn load(database: &Database, now: DateTime<Utc>) -> Result<DemoOutcome, sqlx::Error> {
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

    let anchor = AnchorDay::new(demo.anchor_day).unwrap_or(AnchorDay::FIRST);
    let current = BillingPeriod::containing(now, anchor, demo.time_zone);
    let periods = current.last(MONTHS as usize, demo.time_zone);
    let mut deltas: BTreeMap<RollupKey, PeriodDelta> = BTreeMap::new();
    let mut distinct = Vec::new();
    for (salt, &(code, amount)) in (0_i64..).zip(demo.usage) {
        let Some(&(metric_id, aggregation)) = metrics.get(code) else {
            continue;
        };
        let now_amount = units(amount);
        for (months_back, period) in (0_i64..).zip(periods.iter().rev()) {
            // A year of steady growth: 45 % of this month's usage eleven months ago. Whole
            // amounts (messages, calls) stay whole.
            let amount = Quantity::from_micros(in_steps_of(
                now_amount.micros() / 100 * (100 - 5 * months_back),
                step_of(now_amount.micros()),
            ))
            .unwrap_or_default();
            let last = if months_back == 0 {
                now
            } else {
                period.end - Duration::seconds(1)
            };
            let days = local_days(period.start, last, demo.time_zone);
            match aggregation {
                "latest" => {
                    let day = days.last().copied().unwrap_or(period.start);
                    let key = rollup(metric_id, day, None);
                    deltas.insert(
                        key,
                        PeriodDelta::Latest {
                            value: amount,
                            at: last,
                        },
                    );
                }
                "unique_count" => {
                    let day = days.first().copied().unwrap_or(period.start);
                    let count = amount.micros() / 1_000_000;
                    for user in 1..=count {
                        distinct.push(DistinctValue {
                            metric_id,
                            day_start: db::unix_seconds(day),
                            value: format!("user-{user}"),
                        });
                    }
                    deltas.insert(
                        rollup(metric_id, day, None),
                        PeriodDelta::Add(units(&count.to_string())),
                    );
                }
                _ => {
                    for (day, share) in spread(amount, &days, salt) {
                        deltas.insert(rollup(metric_id, day, None), PeriodDelta::Add(share));
                        if code == "emails" && !accounts.is_empty() {
                            split_by_account(
                                &mut deltas,
                                metric_id,
                                day,
                                share,
                                &accounts,
                                first_domain,
                            );
                        }
                    }
                }
            }
        }
    }
    let deltas: Vec<(RollupKey, PeriodDelta)> = deltas.into_iter().collect();
    usage::insert_distinct_values(tx, organization_id, &distinct).await?;
    usage::apply_deltas(tx, organization_id, &deltas, created).await?;
    Ok(())
}

/// Sends 60 % of a day's e-mail through the first account and the rest through the others
/// (all of it through a lone account), all in the first domain.
fn split_by_account(
    deltas: &mut BTreeMap<RollupKey, PeriodDelta>,
    metric_id: i64,
    day: DateTime<Utc>,
    share: Quantity,
    accounts: &[&str],
    domain: Option<i64>,
) {
    let step = step_of(share.micros());
    let first = in_steps_of(share.micros() / 10 * 6, step);
    let others = accounts.len().saturating_sub(1).max(1) as i64;
    let each_other = in_steps_of((share.micros() - first) / others, step);
    let mut left = share.micros();
    for (index, account) in accounts.iter().enumerate() {
        let micros = if index + 1 == accounts.len() {
            left
        } else if index == 0 {
            first
        } else {
            each_other
        };
        left -= micros;
        let amount = Quantity::from_micros(micros).unwrap_or_default();
        let key = rollup(
            metric_id,
            day,
            Some((Dimension::Account, account.to_string())),
        );
        deltas.insert(key, PeriodDelta::Add(amount));
    }
    if let Some(domain) = domain {
        let key = rollup(
            metric_id,
            day,
            Some((Dimension::Domain, domain.to_string())),
        );
        deltas.insert(key, PeriodDelta::Add(share));
    }
}

fn rollup(metric_id: i64, day: DateTime<Utc>, breakdown: Option<(Dimension, String)>) -> RollupKey {
    RollupKey {
        metric_id,
        day_start: db::unix_seconds(day),
        breakdown,
    }
}

/// The starts of the local days from `first`'s through `last`'s.
fn local_days(first: DateTime<Utc>, last: DateTime<Utc>, time_zone: Tz) -> Vec<DateTime<Utc>> {
    let mut days = Vec::new();
    let mut day = day_start(first, time_zone);
    while day <= last {
        days.push(day);
        // 26 hours always lands in the next local day, whatever daylight saving does.
        day = day_start(day + Duration::hours(26), time_zone);
    }
    days
}

/// The granularity an amount is split in: whole units when it is whole, else micro-units.
fn step_of(micros: i64) -> i64 {
    if micros % 1_000_000 == 0 {
        1_000_000
    } else {
        1
    }
}

/// `micros` rounded down to a multiple of `step`.
fn in_steps_of(micros: i64, step: i64) -> i64 {
    micros - micros.rem_euclid(step)
}

/// Splits `total` over `days` unevenly but deterministically (weights 10–14 by day and
/// `salt`), exactly: the last day takes the remainder. A whole total splits into whole
/// amounts.
fn spread(total: Quantity, days: &[DateTime<Utc>], salt: i64) -> Vec<(DateTime<Utc>, Quantity)> {
    let weights: Vec<i64> = (0_i64..)
        .take(days.len())
        .map(|index| 10 + (index * 7 + salt * 3) % 5)
        .collect();
    let sum: i64 = weights.iter().sum::<i64>().max(1);
    let mut left = total.micros();
    let mut shares = Vec::with_capacity(days.len());
    for (position, (&day, weight)) in days.iter().zip(&weights).enumerate() {
        let share = if position + 1 == days.len() {
            left
        } else {
            let exact =
                i64::try_from(i128::from(total.micros()) * i128::from(*weight) / i128::from(sum))
                    .unwrap_or(0);
            in_steps_of(exact, step_of(total.micros()))
        };
        left -= share;
        shares.push((day, Quantity::from_micros(share).unwrap_or_default()));
    }
    shares
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

    #[test]
    fn spreading_keeps_the_total_exact() {
        let days: Vec<DateTime<Utc>> = (0..30)
            .map(|d| DateTime::from_timestamp(1_793_491_200 + d * 86_400, 0).expect("day"))
            .collect();
        for total in ["45230", "82.5", "0", "0.000007"] {
            let shares = spread(units(total), &days, 3);
            let sum: i64 = shares.iter().map(|(_, q)| q.micros()).sum();
            assert_eq!(sum, units(total).micros(), "{total}");
        }
        // Whole totals (messages, calls) split into whole days.
        let shares = spread(units("13000"), &days, 1);
        assert!(shares.iter().all(|(_, q)| q.micros() % 1_000_000 == 0));
    }

    #[test]
    fn e_mail_splits_over_accounts_in_whole_mails_without_losing_any() {
        let day = DateTime::from_timestamp(1_793_491_200, 0).expect("day");
        for accounts in [&["a"][..], &["a", "b"], &["a", "b", "c"]] {
            let mut deltas = BTreeMap::new();
            split_by_account(&mut deltas, 1, day, units("591"), accounts, Some(7));
            let by_account: Vec<i64> = deltas
                .iter()
                .filter(|(key, _)| matches!(&key.breakdown, Some((Dimension::Account, _))))
                .map(|(_, delta)| match delta {
                    PeriodDelta::Add(q) => q.micros(),
                    _ => 0,
                })
                .collect();
            assert_eq!(by_account.len(), accounts.len());
            assert_eq!(by_account.iter().sum::<i64>(), 591_000_000, "{accounts:?}");
            assert!(
                by_account.iter().all(|m| m % 1_000_000 == 0),
                "{by_account:?}"
            );
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
                assert!(known(code), "{code}");
            }
        }
    }
}
