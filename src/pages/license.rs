//! `/license`: the plan the organization is on and its resource limits, with usage.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::usage::get_usage_summary,
    components::{
        format,
        limit_table::LimitTable,
        loading::{Loading, Skeleton},
    },
    i18n::{subscription_status, use_locale},
    model::usage::UsageSummary,
};

/// The plan (name, price, status, description) and one row per resource: its limit or
/// "Unlimited", the usage this period and a banded bar.
#[component]
pub fn LicensePage() -> impl IntoView {
    let t = use_locale().strings();
    let summary = Resource::new(|| (), |()| get_usage_summary(String::new(), String::new()));
    view! {
        <Title text=format!("{} · quotaboard", t.license_title)/>
        <h1 class="page-title">{t.license_title}</h1>
        <Loading resource=summary skeleton=Skeleton::Card loaded=move |summary| view! {
            <LicenseOverview summary/>
        }/>
    }
}

#[component]
fn LicenseOverview(summary: UsageSummary) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    let plan = match summary.plan {
        None => view! { <p class="empty">{t.no_plan}</p> }.into_any(),
        Some(plan) => {
            let status = subscription_status(locale, plan.status.as_deref());
            view! {
                <section class="card plan" aria-labelledby="plan-name">
                    <h2 id="plan-name">{plan.name}</h2>
                    <dl class="plan__facts">
                        <div>
                            <dt>{t.price}</dt>
                            <dd>{format::money(locale, plan.price, &plan.currency)} " " {t.per_period}</dd>
                        </div>
                        <div>
                            <dt>{t.status}</dt>
                            <dd><span class="badge">{status}</span></dd>
                        </div>
                        <div>
                            <dt>{t.period}</dt>
                            <dd>{format::period(locale, &summary.period)}</dd>
                        </div>
                    </dl>
                    {(!plan.description.is_empty()).then(|| view! {
                        <p class="plan__description">{plan.description}</p>
                    })}
                </section>
            }
            .into_any()
        }
    };
    view! {
        <p class="page-subtitle">{summary.organization}</p>
        {plan}
        <LimitTable metrics=summary.metrics/>
    }
}
