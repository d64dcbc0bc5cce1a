//! The page for unknown paths, answered with status 404.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::use_strings;

/// "Page not found", with a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::error::AppError::NotFound("Page".into()).set_response_status();
    let t = use_strings();
    view! {
        <Title text=format!("{} · quotaboard", t.not_found_title)/>
        <section class="notice" role="alert">
            <h1>{t.not_found_title}</h1>
            <p>{t.not_found_text} " " <a href="/usage">{t.go_to_usage}</a> "."</p>
        </section>
    }
}
