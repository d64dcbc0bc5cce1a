//! `<UsageBar/>`: one metric's usage as an accessible, colour-banded progress bar.

use leptos::prelude::*;

use crate::{
    components::format,
    domain::usage_level::{Allowance, Band},
    i18n::{fill, use_locale},
    model::usage::MetricUsage,
};

/// Name, used / included with unit, percentage and a bar filled to the percentage in the
/// metric's band colour. The bar is a `progressbar` named by the metric's display name, with
/// `aria-valuenow` the percentage clamped to 0–100. The band is also said in words ("Warning",
/// "Critical", "Over limit by …"), never by colour alone. A metric that grows over the
/// period also shows where it is projected to end: a marker on the track and a sentence.
#[component]
pub fn UsageBar(metric: MetricUsage) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    let level = metric.level;
    // What a used-up hard limit does: the check and consume endpoints refuse more; ingestion
    // too only where the license says so.
    let refused = metric.refused().then_some(if metric.refuses_events {
        t.limit_reached_events
    } else {
        t.limit_reached
    });
    let unit = metric.unit;
    let with_unit = |quantity| format!("{} {unit}", format::amount(locale, quantity));
    // A hard limit apart from the included amount, said while it still lets usage in.
    let cap = match (metric.cap, metric.allowance) {
        (Some(cap), Allowance::Included(included)) if cap != included && refused.is_none() => {
            let refused_at = if metric.refuses_events {
                t.refused_at_events
            } else {
                t.refused_at
            };
            Some(fill(refused_at, &[("amount", &with_unit(cap))]))
        }
        _ => None,
    };
    let band = level.band.as_str();
    let width = level.fill_percent();
    let used = with_unit(metric.used);
    let status = match (metric.allowance, level.band) {
        (Allowance::Unlimited, _) | (_, Band::Green) => None,
        (_, Band::Yellow) => Some(t.warning),
        (_, Band::Red) => Some(t.critical),
    };
    let (amount, percent, value_text) = match metric.allowance {
        Allowance::Unlimited => (
            used.clone(),
            t.unlimited.to_string(),
            fill(t.used_unlimited, &[("used", &used)]),
        ),
        Allowance::Included(included) => {
            let included_text = with_unit(included);
            let percent = level
                .percentage
                .map_or_else(|| t.over_limit.to_string(), |p| format::percent(locale, p));
            let mut value_text = match level.percentage {
                Some(percentage) => fill(
                    t.used_of,
                    &[
                        ("percent", &format::percent(locale, percentage)),
                        ("used", &format::amount(locale, metric.used)),
                        ("included", &included_text),
                    ],
                ),
                None => fill(t.used_of_none, &[("used", &used)]),
            };
            if let Some(status) = status {
                value_text = format!("{value_text}; {}", status.to_lowercase());
            }
            let amount = format!("{} / {included_text}", format::amount(locale, metric.used));
            (amount, percent, value_text)
        }
    };
    let over = level
        .is_over()
        .then(|| fill(t.over_limit_by, &[("amount", &with_unit(level.overage))]));
    // Only what grows over the period is projected; a gauge stays where it is.
    let projection = (metric.projected > metric.used).then(|| {
        let marker = match metric.allowance {
            Allowance::Included(_) => Some(metric.projected_level.fill_percent()),
            Allowance::Unlimited => None,
        };
        let estimate = format!("{} {unit}", format::estimate(locale, metric.projected));
        let text = match metric.projected_level.percentage {
            Some(percentage) if matches!(metric.allowance, Allowance::Included(_)) => fill(
                t.projected_percent,
                &[
                    ("amount", &estimate),
                    ("percent", &format::percent(locale, percentage)),
                ],
            ),
            _ => fill(t.projected, &[("amount", &estimate)]),
        };
        (marker, text)
    });
    let (marker, projected_text) = match projection {
        Some((marker, text)) => (marker, Some(text)),
        None => (None, None),
    };
    let name_id = format!("metric-{}-name", id_safe(&metric.code));
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
                aria-valuenow=width.to_string()
                aria-valuetext=value_text
            >
                <div class="usage-bar__fill" style=format!("width: {width}%")></div>
                {marker.map(|left| view! {
                    <div class="usage-bar__projection" aria-hidden="true" style=format!("left: {left}%")></div>
                })}
            </div>
            <div class="usage-bar__foot">
                <span class="usage-bar__percent">
                    {percent}
                    {status.map(|status| view! { <span class="usage-bar__status">{status}</span> })}
                </span>
                {over.map(|text| view! { <span class="usage-bar__over">{text}</span> })}
            </div>
            {refused.map(|text| view! { <p class="usage-bar__refused">{text}</p> })}
            {cap.map(|text| view! { <p class="usage-bar__cap">{text}</p> })}
            {projected_text.map(|text| view! { <p class="usage-bar__projected">{text}</p> })}
        </div>
    }
}

/// A metric code made safe for an HTML id: letters and digits kept, anything else (including
/// `_`) written as `_` plus its hex code point, so distinct codes stay distinct.
fn id_safe(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_string()
            } else {
                format!("_{:x}", u32::from(c))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::id_safe;

    #[test]
    fn ids_keep_plain_codes_and_escape_everything_else_distinctly() {
        assert_eq!(id_safe("apiCalls"), "apiCalls");
        assert_eq!(id_safe("relay-mail"), "relay-mail");
        assert_eq!(id_safe("relay_mail"), "relay_5fmail");
        assert_eq!(id_safe("relay mail"), "relay_20mail");
        assert_ne!(id_safe("a b"), id_safe("a_b"));
    }
}
