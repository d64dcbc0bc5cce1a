//! `/usage`: the period's usage, one bar per metric, the estimated cost, usage by channel and
//! account, and the last 12 months. The date range and metric filter live in the URL query
//! (`?from=YYYY-MM-DD&to=YYYY-MM-DD&metric=a&metric=b`); the page stays current by itself:
//! the live status asks the server for the parts marked `data-live` again when usage
//! changes, and the history chart reloads its months.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::usage::{get_account_usage, get_usage_history, get_usage_summary},
    components::{
        cost_card::CostCard,
        error_template::ErrorTemplate,
        format,
        history_chart::HistoryChart,
        live::LiveStatus,
        loading::{Loading, Skeleton},
        progress_bar::UsageBar,
        usage_tables::{AccountTable, ChannelTable},
    },
    domain::{quantity::Quantity, usage_level::Band},
    i18n::{fill, use_locale},
    model::usage::UsageSummary,
};

/// The query as the page reads it: the range (blank for the current period) and the
/// metrics to show (none: all).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct UsageQuery {
    from: String,
    to: String,
    metrics: Vec<String>,
}

/// Loads everything on the server; the page is complete in the server-rendered HTML.
#[component]
pub fn UsagePage() -> impl IntoView {
    let t = use_locale().strings();
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| UsageQuery {
            from: q.get("from").unwrap_or_default(),
            to: q.get("to").unwrap_or_default(),
            metrics: q.get_all("metric").unwrap_or_default(),
        })
    });
    let summary = Resource::new(
        move || {
            let filter = filter.get();
            (filter.from, filter.to)
        },
        |(from, to)| get_usage_summary(from, to),
    );
    let accounts = Resource::new(|| (), |()| get_account_usage());
    let history = Resource::new(|| (), |()| get_usage_history());
    view! {
        <Title text=format!("{} · quotaboard", t.usage_title)/>
        <LiveStatus/>
        <Transition fallback=|| view! { <UsageSkeleton/> }>
            <ErrorBoundary fallback=move |errors| view! { <ErrorTemplate errors/> }>
                {move || {
                    // Tracked: a new metric filter re-renders without refetching.
                    let filter = filter.get();
                    Suspend::new(async move {
                        let summary = summary.await?;
                        let accounts = accounts.await?;
                        Ok::<_, crate::error::AppError>(view! {
                            <UsageOverview summary filter/>
                            <div id="usage-accounts" data-live="">
                                <AccountTable accounts/>
                            </div>
                        })
                    })
                }}
            </ErrorBoundary>
        </Transition>
        <Loading resource=history skeleton=Skeleton::Chart loaded=move |history| view! {
            <HistoryChart history live=true/>
        }/>
    }
}

/// Grey blocks in the shape of the page while it loads.
#[component]
fn UsageSkeleton() -> impl IntoView {
    let t = use_locale().strings();
    view! {
        <div class="skeleton-group" aria-busy="true" aria-label=t.loading>
            <div class="skeleton skeleton--title"></div>
            <div class="skeleton skeleton--card"></div>
            <div class="skeleton skeleton--bar"></div>
            <div class="skeleton skeleton--bar"></div>
            <div class="skeleton skeleton--bar"></div>
        </div>
    }
}

#[component]
fn UsageOverview(summary: UsageSummary, filter: UsageQuery) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    let total = summary.metrics.len();
    let wanted = |code: &str| filter.metrics.is_empty() || filter.metrics.iter().any(|m| m == code);
    let nothing_used = summary.metrics.iter().all(|m| m.used == Quantity::ZERO);
    let checkboxes = summary
        .metrics
        .iter()
        .map(|metric| {
            let id = format!("filter-{}", metric.code);
            view! {
                <label class="chip" for=id.clone()>
                    <input
                        type="checkbox"
                        id=id.clone()
                        name="metric"
                        value=metric.code.clone()
                        checked=!filter.metrics.is_empty() && wanted(&metric.code)
                    />
                    {metric.name.clone()}
                </label>
            }
        })
        .collect_view();
    let shown: Vec<_> = summary
        .metrics
        .iter()
        .filter(|metric| wanted(&metric.code))
        .cloned()
        .collect();
    let count = fill(
        t.showing_metrics,
        &[
            ("shown", &shown.len().to_string()),
            ("total", &total.to_string()),
        ],
    );
    let bars = shown
        .into_iter()
        .map(|metric| view! { <li><UsageBar metric/></li> })
        .collect_view();
    // Red: above the critical threshold, or over the allowance.
    let alarming = summary
        .metrics
        .iter()
        .filter(|metric| metric.level.band == Band::Red)
        .map(|metric| {
            let percent = metric
                .level
                .percentage
                .map_or_else(|| t.over_limit.to_string(), |p| format::percent(locale, p));
            view! { <li data-metric=metric.code.clone()>{format!("{}: {percent}", metric.name)}</li> }
        })
        .collect::<Vec<_>>();
    let banner = (!alarming.is_empty()).then(|| {
        view! {
            <section class="banner" aria-labelledby="banner-title">
                <h2 id="banner-title">{t.banner_title}</h2>
                <ul>{alarming}</ul>
            </section>
        }
    });
    let first_day = summary.period.first_day.to_string();
    let last_day = summary.period.last_day.to_string();
    // Dates still showing the current period stay out of the URL while unchanged, so a
    // metric filter does not pin the period and the link keeps following the current one
    // (`data-omit-unchanged`, honoured by the page's script).
    let current_period = (filter.from.is_empty() && filter.to.is_empty()).then_some("");
    view! {
        <section class="usage" aria-labelledby="usage-title">
            <header class="page-header">
                <p class="page-header__org">{summary.organization}</p>
                <h1 id="usage-title">
                    {fill(t.usage_for, &[("period", &format::period(locale, &summary.period))])}
                </h1>
            </header>
            <div id="usage-banner" data-live="">{banner}</div>
            <form method="get" action="/usage" class="filters" aria-label=t.filters>
                <div class="filters__dates">
                    <label for="from">{t.from}</label>
                    <input type="date" id="from" name="from" value=first_day data-omit-unchanged=current_period/>
                    <label for="to">{t.to}</label>
                    <input type="date" id="to" name="to" value=last_day data-omit-unchanged=current_period/>
                </div>
                <fieldset class="filters__metrics">
                    <legend>{t.metrics}</legend>
                    {checkboxes}
                </fieldset>
                <div class="filters__actions">
                    <button type="submit" class="button">{t.apply}</button>
                    <a class="button button--quiet" href="/usage">{t.reset}</a>
                </div>
            </form>
            <div id="usage-figures" data-live="">
                <CostCard plan=summary.plan cost=summary.estimated_cost/>
                {nothing_used.then(|| view! { <p class="empty">{t.no_usage}</p> })}
                <p class="usage__count">{count}</p>
                <ul class="usage-bars">{bars}</ul>
                <ChannelTable metrics=summary.metrics/>
            </div>
        </section>
    }
}
