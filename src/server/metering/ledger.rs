//! An organization's metering ledger: its plan, periods and rollups turned into every number
//! the API and dashboard show (summaries, costs, projections, history, breakdowns,
//! entitlements), through the pure `domain` rules.

use std::{
    collections::{BTreeMap, HashMap},
    str::FromStr,
    sync::Arc,
};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::{
    domain::{
        aggregation::{Aggregation, DayTotal},
        period::{AnchorDay, BillingPeriod},
        pricing::{self, LineItem, OveragePrice, Plan, Rate, Rates, ResourceUse, Totals},
        projection::projected_usage,
        quantity::Quantity,
        usage_level::{accepts_more, hard_cap, Allowance, Thresholds},
    },
    error::AppError,
    model::usage::{
        BreakdownTotal, Entitlement, EstimatedCost, HistoryMonth, MetricMonth, MetricUsage,
        PlanSummary, UsageHistory, UsageSummary, HISTORY_MONTHS,
    },
};

use crate::server::{
    db::{
        self,
        licenses::{self, PlanRow, ResourceRow},
        organizations::{self, OrganizationRow},
        usage::{BreakdownRow, DayRow, Dimension, MetricRow},
    },
    platform::cache::Read,
    platform::Platform,
};

/// A metric as the ledger rates it: how it aggregates and what the plan grants of it.
#[derive(Clone, Debug)]
pub struct Resource {
    pub metric: MetricRow,
    pub aggregation: Aggregation,
    pub allowance: Allowance,
    pub limited: bool,
    /// Where a hard limit refuses more usage; `None` for a soft limit.
    pub cap: Option<Quantity>,
    pub overage_price: Option<OveragePrice>,
    /// The plan's row for it; `None` for a metric used without being in the plan.
    pub stored: Option<ResourceRow>,
}

impl Resource {
    /// Part of the plan, rather than used without being in it.
    pub fn in_plan(&self) -> bool {
        self.stored.is_some()
    }

    /// Ingestion refuses events past its hard limit (the license says so); otherwise only
    /// the check and consume endpoints refuse, and ingestion records what happened.
    pub fn refuses_events(&self) -> bool {
        self.cap.is_some()
            && self
                .stored
                .as_ref()
                .is_some_and(|row| row.refuse_events != 0)
    }
}

/// Everything needed to rate one organization's usage, loaded once per request.
#[derive(Clone, Debug)]
pub struct Ledger {
    pub organization: OrganizationRow,
    pub time_zone: Tz,
    pub rates: Rates,
    pub plan: Option<PlanRow>,
    pub anchor: AnchorDay,
    /// The plan's resources first, in its order, then every other metric of the catalogue.
    pub resources: Vec<Resource>,
}

impl Ledger {
    /// The organization's ledger through the read cache: what `load` gives, shared until
    /// the organization's next announced change (or `read-cache-ms`). For reads shown to a
    /// user; limits and entitlements enforcement loads afresh.
    pub async fn cached(state: &Platform, organization_id: i64) -> Result<Arc<Ledger>, AppError> {
        state
            .cache
            .get(&state.live, (organization_id, Read::Ledger), || {
                Ledger::load(state, organization_id)
            })
            .await
    }

    /// Loads the organization, its plan and the catalogue. 404 when the organization does
    /// not exist. Bad stored values (time zone, rates, prices) are logged and read as the
    /// safe default rather than failing every page.
    pub async fn load(state: &Platform, organization_id: i64) -> Result<Ledger, AppError> {
        let pool = state.db.pool();
        let organization = organizations::find(pool, organization_id)
            .await?
            .ok_or_else(|| AppError::NotFound("Organization".into()))?;
        let time_zone = Tz::from_str(&organization.time_zone).unwrap_or_else(|_| {
            tracing::warn!(
                organization = organization.id,
                time_zone = organization.time_zone,
                "unknown time zone; using the default"
            );
            state.settings.default_time_zone
        });
        let rates = Rates {
            discount: stored_rate(&organization.discount_rate, organization.id),
            tax: stored_rate(&organization.tax_rate, organization.id),
        };
        let plan = licenses::plan_of(pool, organization.id).await?;
        let anchor = plan
            .as_ref()
            .and_then(|plan| plan.anchor_day)
            .and_then(|day| u8::try_from(day).ok())
            .and_then(|day| AnchorDay::new(day).ok())
            .unwrap_or(AnchorDay::FIRST);
        let catalogue = db::usage::catalogue(pool).await?;
        let stored_resources = match &plan {
            Some(plan) => licenses::resources_of(pool, plan.license.id).await?,
            None => Vec::new(),
        };
        let mut resources = Vec::with_capacity(catalogue.len());
        for stored in &stored_resources {
            let Some(metric) = catalogue.iter().find(|m| m.id == stored.metric_id) else {
                continue;
            };
            let allowance = match stored.included_micros {
                Some(micros) => Allowance::Included(stored_quantity(micros)?),
                None => Allowance::Unlimited,
            };
            let overage_price = stored.overage_price.as_deref().and_then(|json| {
                serde_json::from_str::<OveragePrice>(json)
                    .map_err(|error| {
                        tracing::error!(resource = stored.id, %error, "unreadable overage price; overage left free");
                    })
                    .ok()
            });
            let limited = stored.limited != 0;
            let limit = stored.limit_micros.map(stored_quantity).transpose()?;
            resources.push(Resource {
                metric: metric.clone(),
                aggregation: aggregation_of(metric),
                allowance,
                limited,
                cap: hard_cap(allowance, limited, limit),
                overage_price,
                stored: Some(stored.clone()),
            });
        }
        for metric in catalogue {
            if !stored_resources.iter().any(|r| r.metric_id == metric.id) {
                resources.push(Resource {
                    aggregation: aggregation_of(&metric),
                    metric,
                    allowance: Allowance::Unlimited,
                    limited: false,
                    cap: None,
                    overage_price: None,
                    stored: None,
                });
            }
        }
        Ok(Ledger {
            organization,
            time_zone,
            rates,
            plan,
            anchor,
            resources,
        })
    }

    /// The catalogue metric a client names: by its exact code, else ignoring case, `_` and
    /// `-` (so seed 002's `api_calls` finds `apiCalls`).
    pub fn resource_named(&self, name: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.metric.code == name)
            .or_else(|| {
                let wanted = loose_code(name);
                self.resources
                    .iter()
                    .find(|r| loose_code(&r.metric.code) == wanted)
            })
    }

    /// The billing period containing `instant`.
    pub fn period_at(&self, instant: DateTime<Utc>) -> BillingPeriod {
        BillingPeriod::containing(instant, self.anchor, self.time_zone)
    }

    /// Each metric's total over `period`, by metric id; metrics without usage are absent.
    pub async fn totals(
        &self,
        state: &Platform,
        period: &BillingPeriod,
    ) -> Result<HashMap<i64, Quantity>, AppError> {
        let span = span_of(period);
        let pool = state.reader(self.organization.id);
        let days = db::usage::days_between(pool, self.organization.id, span).await?;
        let mut totals = self.combine(&days)?;
        if self
            .resources
            .iter()
            .any(|r| r.aggregation == Aggregation::UniqueCount)
        {
            for (metric_id, count) in
                db::usage::distinct_counts_between(pool, self.organization.id, span).await?
            {
                totals.insert(metric_id, stored_quantity(count.saturating_mul(1_000_000))?);
            }
        }
        Ok(totals)
    }

    /// [`Ledger::totals`] through the read cache: for what pages and read endpoints show,
    /// never for limits, alerts or statements.
    async fn shown_totals(
        &self,
        state: &Platform,
        period: &BillingPeriod,
    ) -> Result<Arc<HashMap<i64, Quantity>>, AppError> {
        let (from, to) = span_of(period);
        state
            .cache
            .get(
                &state.live,
                (self.organization.id, Read::Totals(from, to)),
                || self.totals(state, period),
            )
            .await
    }

    /// Combines day rows (of one span) into per-metric totals by each metric's rule.
    fn combine(&self, days: &[DayRow]) -> Result<HashMap<i64, Quantity>, AppError> {
        let mut by_metric: BTreeMap<i64, Vec<DayTotal>> = BTreeMap::new();
        for day in days {
            by_metric
                .entry(day.metric_id)
                .or_default()
                .push(day_total(day.used_micros, day.latest_at)?);
        }
        let mut totals = HashMap::with_capacity(by_metric.len());
        for (metric_id, days) in by_metric {
            let Some(resource) = self.resources.iter().find(|r| r.metric.id == metric_id) else {
                continue;
            };
            if let Some(total) = resource.aggregation.combine(days) {
                totals.insert(metric_id, total);
            }
        }
        Ok(totals)
    }

    /// The resources that count in a summary: the plan's, then others that were used.
    fn shown<'a>(
        &'a self,
        totals: &'a HashMap<i64, Quantity>,
    ) -> impl Iterator<Item = (&'a Resource, Quantity)> + 'a {
        self.resources.iter().filter_map(|resource| {
            let used = totals.get(&resource.metric.id).copied();
            (resource.in_plan() || used.is_some_and(|u| u > Quantity::ZERO))
                .then(|| (resource, used.unwrap_or(Quantity::ZERO)))
        })
    }

    /// The statement lines of a period with these totals.
    pub fn statement_lines(&self, totals: &HashMap<i64, Quantity>) -> Vec<LineItem> {
        let uses: Vec<ResourceUse<'_>> = self
            .shown(totals)
            .map(|(resource, used)| resource_use(resource, used))
            .collect();
        match &self.plan {
            Some(plan) => pricing::statement_lines(
                Plan {
                    name: &plan.license.name,
                    description: &plan.license.description,
                    price: stored_price(&plan.license.price, plan.license.id),
                },
                &uses,
                self.rates,
            ),
            None => uses
                .iter()
                .flat_map(|resource| resource.line_items(self.rates))
                .collect(),
        }
    }

    /// The currency the plan is priced in (the organization's when there is no plan).
    pub fn currency(&self) -> &str {
        self.plan
            .as_ref()
            .map_or(&self.organization.currency, |plan| &plan.license.currency)
    }

    /// Usage in the period containing `now`: each metric rated and projected, and the cost.
    pub async fn summary(
        &self,
        state: &Platform,
        now: DateTime<Utc>,
    ) -> Result<UsageSummary, AppError> {
        self.summary_of(state, self.period_at(now), now).await
    }

    /// Usage in `period` (a billing period or any span of whole days) rated against one
    /// period's allowances and price, projected to its end as seen at `now`.
    pub async fn summary_of(
        &self,
        state: &Platform,
        period: BillingPeriod,
        now: DateTime<Utc>,
    ) -> Result<UsageSummary, AppError> {
        let totals = self.shown_totals(state, &period).await?;
        let thresholds = state.settings.thresholds;
        let metrics = self
            .shown(&totals)
            .map(|(resource, used)| usage_of(resource, used, (&period, now), &thresholds))
            .collect();
        let lines = self.statement_lines(&totals);
        Ok(UsageSummary {
            organization: self.organization.name.clone(),
            plan: self.plan.as_ref().map(|plan| PlanSummary {
                name: plan.license.name.clone(),
                price: stored_price(&plan.license.price, plan.license.id),
                currency: plan.license.currency.clone(),
                description: plan.license.description.clone(),
                status: plan.status.clone(),
            }),
            period,
            thresholds,
            metrics,
            estimated_cost: EstimatedCost {
                totals: Totals::of(&lines),
                currency: self.currency().to_string(),
            },
        })
    }

    /// The last [`HISTORY_MONTHS`] periods and the plan's metrics, for the history chart.
    pub async fn usage_history(
        &self,
        state: &Platform,
        now: DateTime<Utc>,
    ) -> Result<UsageHistory, AppError> {
        let current = db::unix_seconds(self.period_at(now).start);
        let history = state
            .cache
            .get(
                &state.live,
                (self.organization.id, Read::History(current)),
                || async {
                    let months = self.history(state, now, HISTORY_MONTHS).await?;
                    let metrics: Vec<(&str, &str, &str)> = self
                        .resources
                        .iter()
                        .filter(|resource| resource.in_plan())
                        .map(|resource| {
                            let metric = &resource.metric;
                            (
                                metric.code.as_str(),
                                metric.name.as_str(),
                                metric.unit.as_str(),
                            )
                        })
                        .collect();
                    Ok(UsageHistory::of(&months, &metrics, self.currency()))
                },
            )
            .await?;
        Ok(history.as_ref().clone())
    }

    /// The `months` periods up to and including the one containing `now`, oldest first,
    /// each with every metric's total and cost. One query for the days, and one per month
    /// for distinct counts when a unique-count metric exists.
    pub async fn history(
        &self,
        state: &Platform,
        now: DateTime<Utc>,
        months: usize,
    ) -> Result<Vec<HistoryMonth>, AppError> {
        let periods = self.period_at(now).last(months, self.time_zone);
        let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
            return Ok(Vec::new());
        };
        let pool = state.reader(self.organization.id);
        let span = (db::unix_seconds(first.start), db::unix_seconds(last.end));
        let days = db::usage::days_between(pool, self.organization.id, span).await?;
        let has_distinct = self
            .resources
            .iter()
            .any(|r| r.aggregation == Aggregation::UniqueCount);
        let mut history = Vec::with_capacity(periods.len());
        for period in periods {
            let (start, end) = span_of(&period);
            let in_period: Vec<DayRow> = days
                .iter()
                .filter(|day| start <= day.day_start && day.day_start < end)
                .cloned()
                .collect();
            let mut totals = self.combine(&in_period)?;
            if has_distinct {
                for (metric_id, count) in
                    db::usage::distinct_counts_between(pool, self.organization.id, (start, end))
                        .await?
                {
                    totals.insert(metric_id, stored_quantity(count.saturating_mul(1_000_000))?);
                }
            }
            let lines = self.statement_lines(&totals);
            let metrics = self
                .shown(&totals)
                .map(|(resource, total)| MetricMonth {
                    code: resource.metric.code.clone(),
                    total,
                    cost: lines
                        .iter()
                        .filter(|line| line.name == resource.metric.code)
                        .map(|line| line.amount)
                        .sum::<Decimal>()
                        .normalize(),
                })
                .collect();
            history.push(HistoryMonth {
                month: period.month_label(),
                period,
                metrics,
                cost: Totals::of(&lines).total,
            });
        }
        Ok(history)
    }

    /// Totals per account, channel or domain over `period`, by value.
    pub async fn breakdown(
        &self,
        state: &Platform,
        dimension: Dimension,
        period: &BillingPeriod,
    ) -> Result<Vec<BreakdownTotal>, AppError> {
        let rows = db::usage::breakdown_between(
            state.reader(self.organization.id),
            self.organization.id,
            dimension,
            span_of(period),
        )
        .await?;
        let mut by_value: BTreeMap<&str, Vec<&BreakdownRow>> = BTreeMap::new();
        for row in &rows {
            by_value.entry(&row.value).or_default().push(row);
        }
        let mut breakdown = Vec::with_capacity(by_value.len());
        for (value, rows) in by_value {
            let days: Vec<DayRow> = rows
                .iter()
                .map(|row| DayRow {
                    metric_id: row.metric_id,
                    day_start: row.day_start,
                    used_micros: row.used_micros,
                    latest_at: row.latest_at,
                })
                .collect();
            let totals = self.combine(&days)?;
            breakdown.push(BreakdownTotal {
                value: value.to_string(),
                totals: self
                    .resources
                    .iter()
                    .filter_map(|r| Some((r.metric.code.clone(), *totals.get(&r.metric.id)?)))
                    .collect(),
            });
        }
        Ok(breakdown)
    }

    /// Whether more of `metric` may be used now. 404 when the catalogue has no such metric.
    pub async fn entitlement(
        &self,
        state: &Platform,
        metric: &str,
        now: DateTime<Utc>,
    ) -> Result<Entitlement, AppError> {
        let resource = self
            .resource_named(metric)
            .ok_or_else(|| AppError::NotFound(format!("Metric {metric:?}")))?;
        let period = self.period_at(now);
        let used = self
            .totals(state, &period)
            .await?
            .get(&resource.metric.id)
            .copied()
            .unwrap_or(Quantity::ZERO);
        Ok(entitlement_of(resource, used))
    }
}

/// A metric's usage rated against its allowance, projected to the period's end as seen at
/// `now`.
pub fn usage_of(
    resource: &Resource,
    used: Quantity,
    (period, now): (&BillingPeriod, DateTime<Utc>),
    thresholds: &Thresholds,
) -> MetricUsage {
    let metric = &resource.metric;
    MetricUsage {
        refuses_events: resource.refuses_events(),
        ..MetricUsage::new(
            (
                metric.code.clone(),
                metric.name.clone(),
                metric.unit.clone(),
            ),
            (
                used,
                projected_usage(resource.aggregation, used, period, now),
            ),
            (resource.allowance, resource.cap),
            thresholds,
        )
    }
}

/// A metric code compared loosely: lower case without `_` and `-`.
fn loose_code(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The entitlement rule: a metric outside the plan is not allowed; a hard-limited one is
/// allowed while usage is below its cap; anything else always is. `limit` is where usage
/// is refused under a hard limit, else the included amount.
pub fn entitlement_of(resource: &Resource, used: Quantity) -> Entitlement {
    let code = resource.metric.code.clone();
    if !resource.in_plan() {
        return Entitlement {
            metric: code,
            allowed: false,
            used,
            limit: Some(Quantity::ZERO),
            remaining: Some(Quantity::ZERO),
            included: Some(Quantity::ZERO),
            limited: true,
        };
    }
    let included = match resource.allowance {
        Allowance::Included(included) => Some(included),
        Allowance::Unlimited => None,
    };
    let limit = resource.cap.or(included);
    Entitlement {
        metric: code,
        allowed: accepts_more(resource.cap, used),
        used,
        limit,
        remaining: limit.map(|limit| limit.saturating_sub(used)),
        included,
        limited: resource.limited,
    }
}

fn resource_use(resource: &Resource, used: Quantity) -> ResourceUse<'_> {
    ResourceUse {
        code: &resource.metric.code,
        name: &resource.metric.name,
        unit: &resource.metric.unit,
        used,
        allowance: resource.allowance,
        cap: resource.cap,
        overage_price: resource.overage_price.as_ref(),
    }
}

/// `[start, end)` of a period in unix seconds, as the rollups key days.
pub fn span_of(period: &BillingPeriod) -> (i64, i64) {
    (db::unix_seconds(period.start), db::unix_seconds(period.end))
}

fn aggregation_of(metric: &MetricRow) -> Aggregation {
    Aggregation::from_str(&metric.aggregation).unwrap_or_else(|error| {
        tracing::error!(metric = metric.code, error, "unknown aggregation; summing");
        Aggregation::Sum
    })
}

fn day_total(used_micros: i64, latest_at: Option<i64>) -> Result<DayTotal, AppError> {
    Ok(DayTotal {
        used: stored_quantity(used_micros)?,
        latest_at: latest_at.and_then(|seconds| DateTime::from_timestamp(seconds, 0)),
    })
}

/// Storage guarantees non-negative amounts by a check constraint; a violation is our fault.
pub fn stored_quantity(micros: i64) -> Result<Quantity, AppError> {
    Quantity::from_micros(micros).map_err(|error| {
        tracing::error!(micros, %error, "negative quantity in storage");
        AppError::Internal
    })
}

fn stored_rate(text: &str, organization: i64) -> Rate {
    Decimal::from_str(text)
        .map_err(|error| error.to_string())
        .and_then(Rate::new)
        .unwrap_or_else(|error| {
            tracing::error!(
                organization,
                rate = text,
                error,
                "unreadable rate; using 0 %"
            );
            Rate::ZERO
        })
}

pub fn stored_price(text: &str, license: i64) -> Decimal {
    Decimal::from_str(text)
        .map_err(|error| error.to_string())
        .and_then(|price| pricing::check_price("price", price))
        .unwrap_or_else(|error| {
            tracing::error!(
                license,
                price = text,
                error,
                "unreadable license price; using 0"
            );
            Decimal::ZERO
        })
}
