//! `<UsageBar/>`: one metric's usage as an accessible, colour-banded progress bar.

use leptos::prelude::*;

use crate::{api::usage::MetricUsage, components::format, domain::usage_level::Allowance};

/// Name, used / included with unit, percentage and a bar filled to the percentage in the
/// metric's band colour. The bar is a `progressbar` named by the metric's display name, with
/// `aria-valuenow` the percentage clamped to 0–100; above 100 % it says by how much.
#[component]
pub fn UsageBar(metric: MetricUsage) -> impl IntoView {
    let level = metric.level;
    let band = level.band.as_str();
    let fill = level.fill_percent();
    let used = format::amount(metric.used);
    let unit = metric.unit;
    let (amount, percent, value_text) = match metric.allowance {
        Allowance::Unlimited => (
            format!("{used} {unit}"),
            "Unlimited".to_string(),
            format!("{used} {unit} used; unlimited"),
        ),
        Allowance::Included(included) => {
            let included = format::amount(included);
            let percent = level
                .percentage
                .map_or_else(|| "Over limit".to_string(), format::percent);
            let value_text = format!("{percent} used: {used} of {included} {unit}");
            (format!("{used} / {included} {unit}"), percent, value_text)
        }
    };
    let over = level
        .is_over()
        .then(|| format!("Over limit by {} {unit}", format::amount(level.overage)));
    let name_id = format!("metric-{}-name", metric.code);
    view! {
        <div class=format!("usage-bar band-{band}") data-metric=metric.code data-band=band>
            <div class="usage-bar__head">
                <span class="usage-bar__name" id=name_id.clone()>{metric.name}</span>
                <span class="usage-bar__amount">{amount}</span>
            </div>
            <div
                class="usage-bar__track"
                role="progressbar"
                aria-labelledby=name_id
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=fill.to_string()
                aria-valuetext=value_text
            >
                <div class="usage-bar__fill" style=format!("width: {fill}%")></div>
            </div>
            <div class="usage-bar__foot">
                <span class="usage-bar__percent">{percent}</span>
                {over.map(|text| view! { <span class="usage-bar__over">{text}</span> })}
            </div>
        </div>
    }
}
