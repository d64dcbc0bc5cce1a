//! `<HistoryChart/>`: the last 12 months of one metric as bars and the month's cost as a
//! line, drawn in the browser by ECharts (served from our own origin); the same numbers as
//! a table, which is what the server renders, screen readers read and no-JS browsers show.

use leptos::prelude::*;

use crate::{api::usage::UsageHistory, components::format, i18n::use_locale};

/// The element the chart is drawn in.
pub const CHART_ID: &str = "history-chart";

/// A metric selector, the chart and the table of the selected metric.
#[component]
pub fn HistoryChart(history: UsageHistory) -> impl IntoView {
    let locale = use_locale();
    let t = locale.strings();
    let first = history
        .metrics
        .first()
        .map(|metric| metric.code.clone())
        .unwrap_or_default();
    let selected = RwSignal::new(first);
    let history = StoredValue::new(history);
    // Months and, for the selected metric, its total per month; the month's whole cost.
    let series = move || {
        let code = selected.get();
        history.with_value(|history| {
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
        history.with_value(|h| h.metric(&code).map(|m| m.unit.clone()).unwrap_or_default())
    };
    let currency = history.with_value(|h| h.currency.clone());
    let options = history.with_value(|h| {
        h.metrics
            .iter()
            .map(|m| view! { <option value=m.code.clone()>{m.name.clone()}</option> })
            .collect_view()
    });
    #[cfg(feature = "hydrate")]
    draw(selected, series, unit, currency.clone(), t);
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

/// Draws the chart once hydrated and again whenever the metric changes; resizes it with
/// the window. Does nothing when the ECharts script did not load (the table stays).
#[cfg(feature = "hydrate")]
fn draw(
    selected: RwSignal<String>,
    series: impl Fn() -> Vec<(String, rust_decimal::Decimal, rust_decimal::Decimal)> + 'static,
    unit: impl Fn() -> String + 'static,
    currency: String,
    t: &'static crate::i18n::Strings,
) {
    use charming::{
        component::{Axis, Grid, Legend},
        element::{AxisType, Tooltip, Trigger},
        series::{Bar, Line},
        theme::Theme,
        Chart, Echarts, WasmRenderer,
    };
    use rust_decimal::prelude::ToPrimitive;
    use wasm_bindgen::{JsCast, JsValue};

    let loaded = web_sys::window()
        .and_then(|window| js_sys::Reflect::get(&window, &JsValue::from_str("echarts")).ok())
        .is_some_and(|echarts| !echarts.is_undefined());
    if !loaded {
        return;
    }
    let instance: StoredValue<Option<Echarts>, LocalStorage> = StoredValue::new_local(None);
    let dark = web_sys::window()
        .and_then(|window| {
            window
                .match_media("(prefers-color-scheme: dark)")
                .ok()
                .flatten()
        })
        .is_some_and(|query| query.matches());
    let number = |value: rust_decimal::Decimal| value.to_f64().unwrap_or_default();
    Effect::new(move |_| {
        let _ = selected.get();
        let rows = series();
        let months: Vec<String> = rows.iter().map(|(month, _, _)| month.clone()).collect();
        let totals: Vec<f64> = rows.iter().map(|(_, total, _)| number(*total)).collect();
        let costs: Vec<f64> = rows.iter().map(|(_, _, cost)| number(*cost)).collect();
        let unit = unit();
        let chart = Chart::new()
            .background_color("transparent")
            .tooltip(Tooltip::new().trigger(Trigger::Axis))
            .legend(Legend::new().bottom(0))
            .grid(
                Grid::new()
                    .left(8)
                    .right(8)
                    .top(32)
                    .bottom(40)
                    .contain_label(true),
            )
            .x_axis(Axis::new().type_(AxisType::Category).data(months))
            .y_axis(Axis::new().type_(AxisType::Value).name(unit.clone()))
            .y_axis(Axis::new().type_(AxisType::Value).name(currency.clone()))
            .series(Bar::new().name(format!("{} ({unit})", t.used)).data(totals))
            .series(
                Line::new()
                    .name(format!("{} ({currency})", t.cost))
                    .y_axis_index(1)
                    .data(costs),
            );
        let drawn = instance.with_value(|current| current.is_some());
        if drawn {
            instance.with_value(|current| {
                if let Some(echarts) = current {
                    WasmRenderer::update(echarts, &chart);
                }
            });
        } else {
            let renderer = WasmRenderer::new_opt(None, None).theme(if dark {
                Theme::Dark
            } else {
                Theme::Default
            });
            match renderer.render(CHART_ID, &chart) {
                Ok(echarts) => instance.set_value(Some(echarts)),
                Err(error) => leptos::logging::warn!("history chart not drawn: {error:?}"),
            }
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        instance.with_value(|current| {
            if let Some(echarts) = current {
                echarts.resize(JsValue::UNDEFINED);
            }
        });
    });
    on_cleanup(move || {
        resize.remove();
        // ECharts keeps every instance in a registry until it is disposed of.
        instance.with_value(|current| {
            if let Some(echarts) = current {
                let dispose = js_sys::Reflect::get(echarts, &JsValue::from_str("dispose"))
                    .ok()
                    .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
                if let Some(dispose) = dispose {
                    let _ = dispose.call0(echarts);
                }
            }
        });
    });
}
