//! `<LimitTable/>`: each resource's limit, usage and a banded bar, as a table.

use leptos::prelude::*;

use crate::{
    components::format,
    domain::usage_level::{Allowance, Band},
    i18n::{fill, use_locale},
    model::usage::MetricUsage,
};

/// One row per metric: name, included amount ("Unlimited" when not limited, "hard limit"
/// when the check and consume endpoints refuse usage past it, "hard limit at …" when they
/// refuse it elsewhere, "events past it refused" when ingestion refuses them too), used, and
/// a bar filled to the percentage with its band in words.
#[component]
pub fn LimitTable(metrics: Vec<MetricUsage>) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    let rows = metrics
        .into_iter()
        .map(|metric| {
            let with_unit = |q| format!("{} {}", format::amount(locale, q), metric.unit);
            let events = if metric.refuses_events {
                format!(", {}", t.events_refused)
            } else {
                String::new()
            };
            let limit = match (metric.allowance, metric.cap) {
                (Allowance::Unlimited, _) => t.unlimited.to_string(),
                (Allowance::Included(included), Some(cap)) if cap == included => {
                    format!("{} ({}{events})", with_unit(included), t.hard_limit)
                }
                (Allowance::Included(included), Some(cap)) => format!(
                    "{} ({}{events})",
                    with_unit(included),
                    fill(t.hard_limit_at, &[("amount", &with_unit(cap))])
                ),
                (Allowance::Included(included), None) => with_unit(included),
            };
            let level = metric.level;
            let band = level.band.as_str();
            let percent = match (metric.allowance, level.percentage) {
                (Allowance::Unlimited, _) => t.unlimited.to_string(),
                (_, Some(p)) => format::percent(locale, p),
                (_, None) => t.over_limit.to_string(),
            };
            let band_text = match (metric.allowance, level.band) {
                (Allowance::Unlimited, _) | (_, Band::Green) => None,
                _ if level.is_over() => Some(t.over_limit),
                (_, Band::Yellow) => Some(t.warning),
                (_, Band::Red) => Some(t.critical),
            };
            let width = level.fill_percent();
            view! {
                <tr data-metric=metric.code.clone() data-band=band>
                    <th scope="row">{metric.name.clone()}</th>
                    <td>{limit}</td>
                    <td class="num">{with_unit(metric.used)}</td>
                    <td class=format!("limit-cell band-{band}")>
                        <div
                            class="meter"
                            role="progressbar"
                            aria-label=metric.name
                            aria-valuemin="0"
                            aria-valuemax="100"
                            aria-valuenow=width.to_string()
                            aria-valuetext=percent.clone()
                        >
                            <div class="meter__fill" style=format!("width: {width}%")></div>
                        </div>
                        <span class="limit-cell__text">
                            {percent}
                            {band_text.map(|text| view! { <span class="usage-bar__status">{text}</span> })}
                        </span>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="usage-table" aria-labelledby="limits-title">
            <h2 id="limits-title">{t.resource_limits}</h2>
            <table>
                <thead>
                    <tr>
                        <th scope="col">{t.resource}</th>
                        <th scope="col">{t.limit}</th>
                        <th scope="col" class="num">{t.used}</th>
                        <th scope="col">{t.usage_title}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
