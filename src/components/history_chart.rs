//! `<HistoryChart/>`: the last 12 months of one metric as bars and the month's cost as a
//! line, drawn in the browser by ECharts (served from our own origin) from the option the
//! server built with charming (`model::chart`); the same numbers as a table, which is what
//! the server renders, screen readers read and no-JS browsers show. An island: the metric
//! selector and the drawing run in the browser, and a live chart reloads its months when
//! the page's usage changes.

use leptos::prelude::*;

use crate::{components::format, i18n::use_locale, model::usage::UsageHistory};

/// The element the chart is drawn in.
pub const CHART_ID: &str = "history-chart";

/// A metric selector, the chart and the table of the selected metric; `live`: reloaded
/// (the organization's own history) whenever the live status reports a change.
#[island]
pub fn HistoryChart(history: UsageHistory, live: bool) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    let first = history
        .metrics
        .first()
        .map(|metric| metric.code.clone())
        .unwrap_or_default();
    let selected = RwSignal::new(first);
    let history = RwSignal::new(history);
    #[cfg(feature = "hydrate")]
    if live {
        reload_when_live(history);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = live;
    // Months and, for the selected metric, its total per month; the month's whole cost.
    let series = move || {
        let code = selected.get();
        history.with(|history| {
            let totals = history
                .metric(&code)
                .map_or(&[][..], |m| m.totals.as_slice());
            history
                .months
                .iter()
                .zip(&history.costs)
                .enumerate()
                .map(|(month, (first_day, cost))| {
                    let total = totals
                        .get(month)
                        .map(|t| t.to_decimal())
                        .unwrap_or_default();
                    (format::month(locale, *first_day), total, *cost)
                })
                .collect::<Vec<_>>()
        })
    };
    let unit = move || {
        let code = selected.get();
        history.with(|h| h.metric(&code).map(|m| m.unit.clone()).unwrap_or_default())
    };
    let currency = history.with_untracked(|h| h.currency.clone());
    let options = history.with_untracked(|h| {
        h.metrics
            .iter()
            .map(|m| view! { <option value=m.code.clone()>{m.name.clone()}</option> })
            .collect_view()
    });
    #[cfg(feature = "hydrate")]
    draw(selected, history);
    let table_currency = currency.clone();
    view! {
        <section class="history card" aria-labelledby="history-title">
            <div class="history__head">
                <h2 id="history-title">{t.history_title}</h2>
                <label for="history-metric">{t.history_metric}</label>
                <select
                    id="history-metric"
                    prop:value=move || selected.get()
                    on:change=move |event| selected.set(event_target_value(&event))
                >
                    {options}
                </select>
            </div>
            <div id=CHART_ID class="history__chart" aria-hidden="true"></div>
            <table class="history__table">
                <caption class="visually-hidden">{t.history_title}</caption>
                <thead>
                    <tr>
                        <th scope="col">{t.month}</th>
                        <th scope="col" class="num">{move || format!("{} ({})", t.used, unit())}</th>
                        <th scope="col" class="num">{format!("{} ({})", t.cost, currency)}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || series()
                        .into_iter()
                        .map(|(month, total, cost)| view! {
                            <tr>
                                <th scope="row">{month}</th>
                                <td class="num">{format::decimal(locale, total)}</td>
                                <td class="num">{format::money(locale, cost, &table_currency)}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// Loads the organization's history again each time the live status reports a change.
#[cfg(feature = "hydrate")]
fn reload_when_live(history: RwSignal<UsageHistory>) {
    use crate::{
        api::usage::get_usage_history,
        components::live::{on_leave, REFRESH_EVENT},
    };

    let listener = window_event_listener_untyped(REFRESH_EVENT, move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(fresh) = get_usage_history().await {
                history.set(fresh);
            }
        });
    });
    on_leave(move || listener.remove());
}

/// Draws the chart once the charts bundle has loaded (see [`load_echarts`]) and again
/// whenever the metric or the months change, from the option the server wrote
/// ([`crate::model::usage::HistoryMetric::chart`]); resizes it with the window. Until the
/// bundle runs, or if it never does, the table stands alone.
#[cfg(feature = "hydrate")]
fn draw(selected: RwSignal<String>, history: RwSignal<UsageHistory>) {
    use wasm_bindgen::JsValue;

    let loaded = RwSignal::new(echarts().is_some());
    if !loaded.get_untracked() {
        // Once the page is interactive and the browser idle: no page waits for the bundle.
        request_idle_callback(move || load_echarts(move || loaded.set(true)));
    }
    let instance: StoredValue<Option<JsValue>, LocalStorage> = StoredValue::new_local(None);
    let theme = if prefers_dark() { "dark" } else { "" };
    Effect::new(move |_| {
        let code = selected.get();
        history.track();
        if !loaded.get() {
            return;
        }
        let option = history
            .with_untracked(|h| h.metric(&code).map(|metric| metric.chart.clone()))
            .filter(|option| !option.is_empty())
            .and_then(|option| js_sys::JSON::parse(&option).ok());
        let Some(option) = option else { return };
        if instance.with_value(Option::is_none) {
            let element = document().get_element_by_id(CHART_ID);
            let created = element.zip(echarts()).and_then(|(element, echarts)| {
                call(
                    &echarts,
                    "init",
                    &[element.into(), JsValue::from_str(theme)],
                )
            });
            match created {
                Some(chart) => instance.set_value(Some(chart)),
                None => {
                    leptos::logging::warn!("history chart not drawn");
                    return;
                }
            }
        }
        instance.with_value(|chart| {
            if let Some(chart) = chart {
                // `notMerge`: the metric's option replaces the last one whole.
                call(chart, "setOption", &[option, JsValue::TRUE]);
            }
        });
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        instance.with_value(|chart| {
            if let Some(chart) = chart {
                call(chart, "resize", &[]);
            }
        });
    });
    crate::components::live::on_leave(move || {
        resize.remove();
        // ECharts keeps every instance in a registry until it is disposed of.
        instance.with_value(|chart| {
            if let Some(chart) = chart {
                call(chart, "dispose", &[]);
            }
        });
    });
}

/// The id of the charts bundle's `<script>` once a chart asked for it.
#[cfg(feature = "hydrate")]
const SCRIPT_ID: &str = "charts-script";

/// Loads the charts bundle (ECharts, from our own origin, named by the page's
/// `<meta name="charts-script">`) the first time a chart needs it, so that no page waits
/// for it to become interactive and pages without a chart never fetch it; `ready` runs once
/// it has run. A chart mounted while it is still on its way waits for the same script.
#[cfg(feature = "hydrate")]
fn load_echarts(ready: impl FnOnce() + 'static) {
    use wasm_bindgen::JsCast;

    let document = document();
    let script = document.get_element_by_id(SCRIPT_ID).or_else(|| {
        let src = document
            .query_selector("meta[name=charts-script]")
            .ok()
            .flatten()?
            .get_attribute("content")?;
        let script = document.create_element("script").ok()?;
        script.set_id(SCRIPT_ID);
        script.set_attribute("src", &src).ok()?;
        document.head()?.append_child(&script).ok()?;
        Some(script)
    });
    let Some(script) = script else {
        leptos::logging::warn!("the page names no charts script");
        return;
    };
    let on_load = wasm_bindgen::closure::Closure::once_into_js(ready);
    if script
        .add_event_listener_with_callback("load", on_load.unchecked_ref())
        .is_err()
    {
        leptos::logging::warn!("cannot wait for the charts script");
    }
}

/// The global `echarts`, when its script loaded.
#[cfg(feature = "hydrate")]
fn echarts() -> Option<wasm_bindgen::JsValue> {
    let window = web_sys::window()?;
    js_sys::Reflect::get(&window, &"echarts".into())
        .ok()
        .filter(|echarts| echarts.is_object())
}

/// Dark when the page asks for it (`<html data-theme="dark">`, an embed view's theme), or
/// unless it asks for light, when the system prefers dark.
#[cfg(feature = "hydrate")]
fn prefers_dark() -> bool {
    let theme = document()
        .document_element()
        .and_then(|html| html.get_attribute("data-theme"));
    match theme.as_deref() {
        Some("dark") => return true,
        Some("light") => return false,
        _ => {}
    }
    web_sys::window()
        .and_then(|window| {
            window
                .match_media("(prefers-color-scheme: dark)")
                .ok()
                .flatten()
        })
        .is_some_and(|query| query.matches())
}

/// `target.method(...args)`, or `None` when there is no such method or it threw.
#[cfg(feature = "hydrate")]
fn call(
    target: &wasm_bindgen::JsValue,
    method: &str,
    args: &[wasm_bindgen::JsValue],
) -> Option<wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;

    let function = js_sys::Reflect::get(target, &method.into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let args: js_sys::Array = args.iter().collect();
    function.apply(target, &args).ok()
}
