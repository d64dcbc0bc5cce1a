//! What the usage pages show and the REST API answers: an organisation's usage, history,
//! breakdowns and entitlements, as the server computes them and the browser renders them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{
    period::BillingPeriod,
    pricing::Totals,
    quantity::Quantity,
    usage_level::{accepts_more, Allowance, Thresholds, UsageLevel},
};
use crate::error::AppError;

/// One organisation's usage of every metric its plan covers, in one billing period, with
/// what it is expected to cost and where it is heading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageSummary {
    /// Display name of the organisation.
    pub organization: String,
    /// The license in force; `None` when the organisation has none and there is no default.
    pub plan: Option<PlanSummary>,
    pub period: BillingPeriod,
    pub thresholds: Thresholds,
    /// The plan's resources in its display order, then any other metric used this period.
    pub metrics: Vec<MetricUsage>,
    /// Base price plus overage so far, with discount and tax.
    pub estimated_cost: EstimatedCost,
}

/// The license an organisation is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub name: String,
    /// Price per period.
    pub price: Decimal,
    /// ISO 4217, upper case.
    pub currency: String,
    pub description: String,
    /// The subscription's status (`active`, `trialing`, `past_due`); `None` on the default
    /// license without a subscription.
    pub status: Option<String>,
}

/// What a period costs, from its statement lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstimatedCost {
    #[serde(flatten)]
    pub totals: Totals,
    /// ISO 4217, upper case.
    pub currency: String,
}

/// Usage of one metric against its allowance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricUsage {
    /// Stable identifier, e.g. `apiCalls`.
    pub code: String,
    /// Display name, e.g. "API Calls".
    pub name: String,
    /// Unit of measurement, e.g. "requests".
    pub unit: String,
    pub used: Quantity,
    pub allowance: Allowance,
    /// A hard limit's cap: usage reaching it is refused by the entitlement check. Usually
    /// the included amount; above it, usage in between is overage. `None`: a soft limit.
    pub cap: Option<Quantity>,
    /// Ingestion refuses events past the cap too; otherwise only the check and consume
    /// endpoints refuse, and events sent anyway are recorded.
    #[serde(default)]
    pub refuses_events: bool,
    pub level: UsageLevel,
    /// Usage expected by the period's end, and its level against the same allowance.
    pub projected: Quantity,
    pub projected_level: UsageLevel,
}

impl MetricUsage {
    /// True once a hard limit is used up: the entitlement check refuses more.
    pub fn refused(&self) -> bool {
        !accepts_more(self.cap, self.used)
    }

    /// Rates `used` and `projected` against `allowance` with the instance's thresholds.
    pub fn new(
        (code, name, unit): (String, String, String),
        (used, projected): (Quantity, Quantity),
        (allowance, cap): (Allowance, Option<Quantity>),
        thresholds: &Thresholds,
    ) -> Self {
        MetricUsage {
            code,
            name,
            unit,
            used,
            allowance,
            cap,
            refuses_events: false,
            level: UsageLevel::assess(used, allowance, thresholds),
            projected,
            projected_level: UsageLevel::assess(projected, allowance, thresholds),
        }
    }
}

/// A `YYYY-MM-DD` date; blank is `None`.
pub fn parse_day(name: &str, text: &str) -> Result<Option<chrono::NaiveDate>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| AppError::BadRequest(format!("{name} must be a date such as 2026-11-01")))?;
    if !crate::domain::period::supported_day(day) {
        return Err(AppError::BadRequest(format!(
            "{name} must be a day from {}",
            crate::domain::period::SUPPORTED_DAYS
        )));
    }
    Ok(Some(day))
}

/// The last 12 months of the signed-in organisation as the history chart draws them: a
/// column per month, oldest first, ending with the current period. Columns rather than a
/// record per month keep it small: every page carries it, for hydration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageHistory {
    /// The first day of each month's period.
    pub months: Vec<chrono::NaiveDate>,
    /// Every metric of the plan, in its order, with its total in each month.
    pub metrics: Vec<HistoryMetric>,
    /// Everything each month's period costs: plan, overage, discount and tax.
    pub costs: Vec<Decimal>,
    /// ISO 4217 of the costs.
    pub currency: String,
}

/// One metric of the history chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryMetric {
    pub code: String,
    /// Display name, e.g. "API Calls".
    pub name: String,
    /// Unit of measurement, e.g. "requests".
    pub unit: String,
    /// One per month of [`UsageHistory::months`].
    pub totals: Vec<Quantity>,
    /// The ECharts option of this metric's chart, JSON in the reader's language, written on
    /// the server (`UsageHistory::charted`); empty until then.
    #[serde(default)]
    pub chart: String,
}

impl UsageHistory {
    /// The history chart's columns from the periods' records: `(code, name, unit)` of each
    /// metric to chart, in order; a metric a month has no record of counts zero there.
    pub fn of(months: &[HistoryMonth], metrics: &[(&str, &str, &str)], currency: &str) -> Self {
        UsageHistory {
            months: months.iter().map(|month| month.period.first_day).collect(),
            metrics: metrics
                .iter()
                .map(|&(code, name, unit)| HistoryMetric {
                    code: code.to_string(),
                    name: name.to_string(),
                    unit: unit.to_string(),
                    totals: months
                        .iter()
                        .map(|month| {
                            month
                                .metrics
                                .iter()
                                .find(|metric| metric.code == code)
                                .map_or(Quantity::ZERO, |metric| metric.total)
                        })
                        .collect(),
                    chart: String::new(),
                })
                .collect(),
            costs: months.iter().map(|month| month.cost).collect(),
            currency: currency.to_string(),
        }
    }

    /// The metric `code`, if the chart has it.
    pub fn metric(&self, code: &str) -> Option<&HistoryMetric> {
        self.metrics.iter().find(|metric| metric.code == code)
    }
}

/// Months in the history chart.
pub const HISTORY_MONTHS: usize = 12;

/// One month of an organisation's history: each metric's total and cost, and the month's
/// whole statement total.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryMonth {
    /// `MM/YYYY` of the period's first day.
    pub month: String,
    pub period: BillingPeriod,
    pub metrics: Vec<MetricMonth>,
    /// Everything the period costs: plan, overage, discount and tax.
    pub cost: Decimal,
}

/// One metric's total in one month and what its lines cost (overage after discount and tax).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricMonth {
    pub code: String,
    pub total: Quantity,
    pub cost: Decimal,
}

/// One value of a breakdown (an account, a channel or a domain) with its total per metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreakdownTotal {
    pub value: String,
    /// `(metric code, total)` in catalogue order; metrics without usage are left out.
    pub totals: Vec<(String, Quantity)>,
}

impl BreakdownTotal {
    /// The total of `metric` for the breakdown value `value`; zero when it has none.
    pub fn total_in(breakdown: &[BreakdownTotal], value: &str, metric: &str) -> Quantity {
        breakdown
            .iter()
            .find(|entry| entry.value == value)
            .and_then(|entry| entry.totals.iter().find(|(code, _)| code == metric))
            .map_or(Quantity::ZERO, |(_, total)| *total)
    }
}

/// The metrics of the messaging channels (seed 003), in the order they are shown.
pub const CHANNEL_METRICS: [&str; 4] = ["sms", "whatsapp", "email", "sage"];

/// One mailbox account's mails in the current billing period (seed 000).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountUsage {
    pub account: String,
    pub relay: bool,
    /// The domain's name.
    pub domain: String,
    /// Of the `mail-metric` setting's metric.
    pub mails: Quantity,
}

/// Whether the organisation may use more of a metric now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entitlement {
    pub metric: String,
    /// False once a hard-limited resource is used up, or when the plan lacks the metric.
    pub allowed: bool,
    pub used: Quantity,
    /// Where usage is refused under a hard limit, else the included amount; `None` when
    /// unlimited.
    pub limit: Option<Quantity>,
    /// What is left of the limit; `None` when unlimited.
    pub remaining: Option<Quantity>,
    /// The included amount; `None` when unlimited.
    pub included: Option<Quantity>,
    pub limited: bool,
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use chrono_tz::Tz;

    use super::*;

    fn qty(units: i64) -> Quantity {
        Quantity::from_micros(units * 1_000_000).expect("quantity")
    }

    fn month(month: u32, totals: &[(&str, i64)], cost: i64) -> HistoryMonth {
        let day = Utc.with_ymd_and_hms(2026, month, 10, 0, 0, 0).unwrap();
        HistoryMonth {
            month: format!("{month:02}/2026"),
            period: BillingPeriod::calendar_month_containing(day, Tz::UTC),
            metrics: totals
                .iter()
                .map(|&(code, total)| MetricMonth {
                    code: code.into(),
                    total: qty(total),
                    cost: Decimal::ZERO,
                })
                .collect(),
            cost: Decimal::from(cost),
        }
    }

    #[test]
    fn the_chart_has_a_column_per_month_and_zero_where_a_month_has_no_record() {
        let months = [
            month(10, &[("emails", 5)], 29),
            month(11, &[("emails", 7), ("sms", 2)], 31),
        ];
        let metrics = [("sms", "SMS", "messages"), ("emails", "Emails", "mails")];

        let history = UsageHistory::of(&months, &metrics, "EUR");

        assert_eq!(
            history.months,
            [
                chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
                chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
            ]
        );
        let codes: Vec<&str> = history.metrics.iter().map(|m| m.code.as_str()).collect();
        assert_eq!(codes, ["sms", "emails"], "the plan's order");
        assert_eq!(history.metric("sms").unwrap().totals, [qty(0), qty(2)]);
        assert_eq!(history.metric("emails").unwrap().totals, [qty(5), qty(7)]);
        assert_eq!(history.metric("emails").unwrap().unit, "mails");
        assert_eq!(history.metric("calls"), None);
        assert_eq!(history.costs, [Decimal::from(29), Decimal::from(31)]);
        assert_eq!(history.currency, "EUR");
    }
}
