//! `/usage`: the current period's usage, one bar per metric, with a metric filter.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::usage::{get_account_usage, get_usage_summary, UsageSummary},
    components::{
        cost_card::CostCard,
        error_template::ErrorTemplate,
        metric_filter::MetricFilter,
        progress_bar::UsageBar,
        usage_tables::{AccountTable, ChannelTable},
    },
};

/// Loads the summary on the server; the page is complete in the server-rendered HTML.
#[component]
pub fn UsagePage() -> impl IntoView {
    let summary = Resource::new(|| (), |()| get_usage_summary());
    let accounts = Resource::new(|| (), |()| get_account_usage());
    view! {
        <Title text="Usage · quotaboard"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading usage…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorTemplate errors/> }>
                {move || Suspend::new(async move {
                    summary.await.map(|summary| view! { <UsageOverview summary/> })
                })}
                {move || Suspend::new(async move {
                    accounts.await.map(|accounts| view! { <AccountTable accounts/> })
                })}
            </ErrorBoundary>
        </Suspense>
    }
}

#[component]
fn UsageOverview(summary: UsageSummary) -> impl IntoView {
    let hidden = RwSignal::new(HashSet::<String>::new());
    let choices = summary
        .metrics
        .iter()
        .map(|metric| (metric.code.clone(), metric.name.clone()))
        .collect::<Vec<_>>();
    let total = summary.metrics.len();
    let channels = summary.metrics.clone();
    let shown = move || total - hidden.with(HashSet::len);
    let bars = summary
        .metrics
        .into_iter()
        .map(|metric| {
            let code = metric.code.clone();
            let is_hidden = move || hidden.with(|hidden| hidden.contains(&code));
            view! {
                <li hidden=is_hidden>
                    <UsageBar metric/>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="usage" aria-labelledby="usage-title">
            <header class="page-header">
                <p class="page-header__org">{summary.organization}</p>
                <h1 id="usage-title">"Usage for " {summary.period.label()}</h1>
            </header>
            <CostCard plan=summary.plan cost=summary.estimated_cost/>
            <MetricFilter choices hidden/>
            <p class="usage__count" aria-live="polite">
                {move || format!("Showing {} of {total} metrics", shown())}
            </p>
            <ul class="usage-bars">{bars}</ul>
            <ChannelTable metrics=channels/>
        </section>
    }
}
