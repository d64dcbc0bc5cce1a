//! `<CostCard/>`: what the period is expected to cost: plan, overage, discount, tax, total.

use leptos::prelude::*;

use crate::{
    components::format,
    i18n::{fill, use_locale},
    model::usage::{EstimatedCost, PlanSummary},
};

/// The plan's price plus overage, less discount, plus tax, and the total, in cents of the
/// plan's currency. Overage is red once there is any; discount and tax show when they apply.
#[component]
pub fn CostCard(plan: Option<PlanSummary>, cost: EstimatedCost) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    let totals = cost.totals;
    let currency = cost.currency;
    let money = |value| format::money(locale, value, &currency);
    let plan_label = plan.map_or_else(
        || t.plan.to_string(),
        |plan| fill(t.plan_named, &[("name", &plan.name)]),
    );
    let has_overage = !totals.overage.is_zero();
    let discount = (!totals.discount.is_zero()).then(|| format!("−{}", money(totals.discount)));
    let tax = (!totals.tax.is_zero()).then(|| money(totals.tax));
    view! {
        <section class="cost-card" aria-labelledby="cost-title">
            <h2 id="cost-title">{t.estimated_cost}</h2>
            <dl class="cost-card__lines">
                <div>
                    <dt>{plan_label}</dt>
                    <dd>{money(totals.base)}</dd>
                </div>
                <div class="cost-card__overage" class:cost-card__overage--due=has_overage>
                    <dt>{t.overage}</dt>
                    <dd>{money(totals.overage)}</dd>
                </div>
                {discount.map(|text| view! { <div><dt>{t.discount}</dt><dd>{text}</dd></div> })}
                {tax.map(|text| view! { <div><dt>{t.tax}</dt><dd>{text}</dd></div> })}
                <div class="cost-card__total">
                    <dt>{t.total}</dt>
                    <dd>{money(totals.total)}</dd>
                </div>
            </dl>
        </section>
    }
}
