//! `<CostCard/>`: what the period is expected to cost: plan, overage, discount, tax, total.

use leptos::prelude::*;

use crate::{
    api::usage::{EstimatedCost, PlanSummary},
    components::format,
};

/// The plan's price plus overage, less discount, plus tax, and the total, in cents of the
/// plan's currency. Overage is red once there is any; discount and tax show when they apply.
#[component]
pub fn CostCard(plan: Option<PlanSummary>, cost: EstimatedCost) -> impl IntoView {
    let totals = cost.totals;
    let currency = cost.currency;
    let money = |value| format::money(value, &currency);
    let plan_label = plan.map_or_else(|| "Plan".to_string(), |plan| format!("{} plan", plan.name));
    let has_overage = !totals.overage.is_zero();
    let discount = (!totals.discount.is_zero()).then(|| format!("−{}", money(totals.discount)));
    let tax = (!totals.tax.is_zero()).then(|| money(totals.tax));
    view! {
        <section class="cost-card" aria-labelledby="cost-title">
            <h2 id="cost-title">"Estimated cost"</h2>
            <dl class="cost-card__lines">
                <div>
                    <dt>{plan_label}</dt>
                    <dd>{money(totals.base)}</dd>
                </div>
                <div class="cost-card__overage" class:cost-card__overage--due=has_overage>
                    <dt>"Overage"</dt>
                    <dd>{money(totals.overage)}</dd>
                </div>
                {discount.map(|text| view! { <div><dt>"Discount"</dt><dd>{text}</dd></div> })}
                {tax.map(|text| view! { <div><dt>"Tax"</dt><dd>{text}</dd></div> })}
                <div class="cost-card__total">
                    <dt>"Total"</dt>
                    <dd>{money(totals.total)}</dd>
                </div>
            </dl>
        </section>
    }
}
