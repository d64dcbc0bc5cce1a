//! The history chart's ECharts option, built on the server with charming and handed to the
//! browser as JSON text in [`HistoryMetric::chart`], so the WASM only passes it to
//! `echarts.setOption` and carries none of charming's option types or their serializers.

use charming::{
    component::{Axis, Grid, Legend},
    element::{AxisType, Tooltip, Trigger},
    series::{Bar, Line},
    Chart,
};
use rust_decimal::prelude::ToPrimitive;

use crate::{
    i18n::Locale,
    model::usage::{HistoryMetric, UsageHistory},
};

impl UsageHistory {
    /// The history with every metric's chart option written in `locale`.
    pub fn charted(mut self, locale: Locale) -> Self {
        let months: Vec<String> = self
            .months
            .iter()
            .map(|first_day| locale.month_and_year(*first_day))
            .collect();
        let costs: Vec<f64> = self.costs.iter().map(|cost| number(*cost)).collect();
        for metric in &mut self.metrics {
            metric.chart = option(locale, &months, metric, &costs, &self.currency);
        }
        self
    }
}

/// One metric's chart: its total each month as bars on the left axis, each month's whole
/// cost as a line on the right one.
fn option(
    locale: Locale,
    months: &[String],
    metric: &HistoryMetric,
    costs: &[f64],
    currency: &str,
) -> String {
    let t = locale.strings();
    let totals: Vec<f64> = metric
        .totals
        .iter()
        .map(|total| number(total.to_decimal()))
        .collect();
    let chart = Chart::new()
        .background_color("transparent")
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().bottom(0))
        .grid(
            Grid::new()
                .left(8)
                .right(8)
                .top(32)
                .bottom(40)
                .contain_label(true),
        )
        .x_axis(Axis::new().type_(AxisType::Category).data(months.to_vec()))
        .y_axis(Axis::new().type_(AxisType::Value).name(metric.unit.clone()))
        .y_axis(Axis::new().type_(AxisType::Value).name(currency))
        .series(
            Bar::new()
                .name(format!("{} ({})", t.used, metric.unit))
                .data(totals),
        )
        .series(
            Line::new()
                .name(format!("{} ({currency})", t.cost))
                .y_axis_index(1)
                .data(costs.to_vec()),
        );
    serde_json::to_string(&chart).unwrap_or_default()
}

fn number(value: rust_decimal::Decimal) -> f64 {
    value.to_f64().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::quantity::Quantity;

    fn units(whole: i64) -> Quantity {
        Quantity::from_micros(whole * 1_000_000).expect("a quantity")
    }

    fn history() -> UsageHistory {
        UsageHistory {
            months: vec![
                chrono::NaiveDate::from_ymd_opt(2026, 10, 1).expect("a day"),
                chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("a day"),
            ],
            metrics: vec![HistoryMetric {
                code: "apiCalls".into(),
                name: "API Calls".into(),
                unit: "requests".into(),
                totals: vec![units(1200), units(3400)],
                chart: String::new(),
            }],
            costs: vec![
                rust_decimal::Decimal::new(4900, 2),
                rust_decimal::Decimal::new(5250, 2),
            ],
            currency: "EUR".into(),
        }
    }

    #[test]
    fn each_metric_gets_its_months_totals_and_costs_in_the_readers_language() {
        let charted = history().charted(Locale::PtBr);
        let option: serde_json::Value =
            serde_json::from_str(&charted.metrics[0].chart).expect("the option is JSON");
        assert_eq!(
            option["xAxis"]["data"],
            serde_json::json!(["out 2026", "nov 2026"])
        );
        assert_eq!(option["series"][0]["type"], "bar");
        assert_eq!(option["series"][0]["name"], "Usado (requests)");
        assert_eq!(
            option["series"][0]["data"],
            serde_json::json!([1200.0, 3400.0])
        );
        assert_eq!(option["series"][1]["type"], "line");
        assert_eq!(option["series"][1]["yAxisIndex"], 1.0);
        assert_eq!(option["series"][1]["data"], serde_json::json!([49.0, 52.5]));
        assert_eq!(option["yAxis"][1]["name"], "EUR");
    }
}
