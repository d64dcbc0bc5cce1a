//! `<MetricFilter/>`: toggle buttons that show or hide metrics without a reload.

use std::collections::HashSet;

use leptos::prelude::*;

/// One toggle per `(code, display name)`; a pressed toggle means the metric is shown.
///
/// The buttons stay disabled until the page is hydrated: before that, clicking could do
/// nothing, and every metric is shown anyway.
#[component]
pub fn MetricFilter(
    choices: Vec<(String, String)>,
    hidden: RwSignal<HashSet<String>>,
) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let buttons = choices
        .into_iter()
        .map(|(code, name)| {
            let shown = {
                let code = code.clone();
                move || !hidden.with(|hidden| hidden.contains(&code))
            };
            let toggle = move |_| {
                hidden.update(|hidden| {
                    if !hidden.remove(&code) {
                        hidden.insert(code.clone());
                    }
                });
            };
            view! {
                <button
                    type="button"
                    class="chip"
                    aria-pressed=move || shown().to_string()
                    disabled=move || !hydrated.get()
                    on:click=toggle
                >
                    {name}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="metric-filter" role="group" aria-label="Show metrics">
            <span class="metric-filter__label">"Show"</span>
            {buttons}
        </div>
    }
}
