//! `/embed/usage`: a portal session's usage for the operator's own product, in a frame: the
//! period's bars, the last 12 months and the limits, live, in the session's language and
//! theme, without the dashboard's navigation. Rendered from the [`EmbedView`] the server
//! put in context (`server::http::embed`); when the session can show nothing, a message
//! saying why.

use leptos::prelude::*;

use crate::{
    components::{
        format, history_chart::HistoryChart, limit_table::LimitTable, live::LiveStatus,
        progress_bar::UsageBar,
    },
    i18n::{fill, Locale},
    model::{
        embed::{EmbedContent, EmbedView, Ended},
        usage::{UsageHistory, UsageSummary},
    },
};

/// The usage, or why there is none. `<main data-access>` hands the page's script the
/// credential it keeps for its own requests; `<main data-ended>` tells it the session ended.
#[component]
pub fn EmbedUsagePage() -> impl IntoView {
    let view = use_context::<EmbedView>();
    let locale = view
        .as_ref()
        .map_or_else(Locale::default, |view| view.locale);
    provide_context(locale);
    match view.map(|view| view.content) {
        Some(EmbedContent::Usage {
            summary,
            history,
            access,
        }) => view! { <EmbedUsage summary=*summary history=*history access locale/> }.into_any(),
        Some(EmbedContent::Ended(ended)) => view! { <EmbedEnded ended locale/> }.into_any(),
        None => view! { <EmbedEnded ended=Ended::Unknown locale/> }.into_any(),
    }
}

#[component]
fn EmbedUsage(
    summary: UsageSummary,
    history: UsageHistory,
    access: Option<String>,
    locale: Locale,
) -> impl IntoView {
    let t = locale.strings();
    let bars = summary
        .metrics
        .iter()
        .cloned()
        .map(|metric| view! { <li><UsageBar metric/></li> })
        .collect_view();
    view! {
        <main id="main" class="embed" data-access=access>
            <header class="embed__header">
                <h1 id="usage-title">
                    {fill(t.usage_for, &[("period", &format::period(locale, &summary.period))])}
                </h1>
                <LiveStatus/>
            </header>
            <div id="embed-figures" data-live="">
                <ul class="usage-bars">{bars}</ul>
            </div>
            <HistoryChart history live=true/>
            <section id="embed-limits" class="embed__limits" data-live="" aria-labelledby="limits-title">
                <h2 id="limits-title">{t.embed_limits}</h2>
                <LimitTable metrics=summary.metrics/>
            </section>
        </main>
    }
}

#[component]
fn EmbedEnded(ended: Ended, locale: Locale) -> impl IntoView {
    let t = locale.strings();
    let message = match ended {
        Ended::Expired => t.embed_expired,
        Ended::Revoked => t.embed_revoked,
        Ended::Used => t.embed_used,
        Ended::Unknown => t.embed_unknown,
    };
    view! {
        <main id="main" class="embed embed--ended" data-ended=ended.as_str()>
            <section class="embed__ended" role="status">
                <h1>{message}</h1>
                <p>{t.embed_again}</p>
            </section>
        </main>
    }
}
